//! The provider chain: flags → environment → tccli profile → the SDKs'
//! credentials file → TKE OIDC → CVM instance role.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cos_ci_sign::{Credentials, SecretString};
use zeroize::Zeroizing;

use super::files::{
    FileKeys, INI_KEYS, KeyNames, TCCLI_KEYS, parse_ini_default, parse_tccli_credential,
    parse_tccli_region,
};
use super::{
    CredentialError, CredentialPolicy, CredentialProvider, CredentialSource,
    DEFAULT_METADATA_ENDPOINT, DEFAULT_STS_ENDPOINT, LookedAt, METADATA_ENDPOINT_VAR, ReadFiles,
    RemoteKind, STS_ENDPOINT_VAR, SourceKind, TkeOidc, check_credential_text,
};
use crate::Endpoint;

/// Secret id variables, in order.
pub(crate) const SECRET_ID_VARS: [&str; 2] = ["TENCENTCLOUD_SECRET_ID", "COS_SECRET_ID"];
/// Secret key variables, in order.
pub(crate) const SECRET_KEY_VARS: [&str; 2] = ["TENCENTCLOUD_SECRET_KEY", "COS_SECRET_KEY"];
/// Session token variables, in order.
pub(crate) const TOKEN_VARS: [&str; 3] = [
    "TENCENTCLOUD_TOKEN",
    "TENCENTCLOUD_SESSION_TOKEN",
    "TENCENTCLOUD_SECURITY_TOKEN",
];
/// The four TKE OIDC variables (the pod identity webhook sets them).
pub(crate) const TKE_VARS: [&str; 4] = [
    "TKE_REGION",
    "TKE_PROVIDER_ID",
    "TKE_WEB_IDENTITY_TOKEN_FILE",
    "TKE_ROLE_ARN",
];
/// tccli's profile selector.
pub(crate) const TCCLI_PROFILE_VAR: &str = "TCCLI_PROFILE";
/// The SDKs' credentials-file override.
pub(crate) const CREDENTIALS_FILE_VAR: &str = "TENCENTCLOUD_CREDENTIALS_FILE";

/// Which credentials to use, resolved in this order (the first source that
/// has credentials wins; a source that is there but broken is an error, not
/// skipped):
///
/// 1. **flags** — [`secret_id`](Self::secret_id),
///    [`secret_key`](Self::secret_key), [`session_token`](Self::session_token)
///    (the CLI's `--secret-id`, `--secret-key`, `--session-token`);
/// 2. **environment** — `TENCENTCLOUD_SECRET_ID` (else `COS_SECRET_ID`),
///    `TENCENTCLOUD_SECRET_KEY` (else `COS_SECRET_KEY`), the token from
///    `TENCENTCLOUD_TOKEN`, else `TENCENTCLOUD_SESSION_TOKEN`, else
///    `TENCENTCLOUD_SECURITY_TOKEN`. A flag replaces its variable part by
///    part. Skipped when [`profile`](Self::profile) is set, as tccli skips
///    the environment for an explicit `--profile`;
/// 3. **tccli profile** — `~/.tccli/<profile>.credential` (JSON), the
///    profile from [`profile`](Self::profile), else `TCCLI_PROFILE`, else
///    `default`; `"None"` counts as unset, `"type": "cvm-role"` means the
///    instance role;
/// 4. **credentials file** — `TENCENTCLOUD_CREDENTIALS_FILE`, else
///    `~/.tencentcloud/credentials` (INI, `[default]`: `secret_id`,
///    `secret_key`, optional `token`);
/// 5. **TKE OIDC** — when `TKE_REGION`, `TKE_PROVIDER_ID`,
///    `TKE_WEB_IDENTITY_TOKEN_FILE` and `TKE_ROLE_ARN` are set: STS
///    `AssumeRoleWithWebIdentity` at `TENCENTCLOUD_STS_ENDPOINT` (default
///    [`DEFAULT_STS_ENDPOINT`]);
/// 6. **CVM instance role** — the metadata service at
///    `TENCENTCLOUD_METADATA_ENDPOINT` (default
///    [`DEFAULT_METADATA_ENDPOINT`]), with a short timeout. If it does not
///    answer, the error is [`CredentialError::NotFound`], listing every
///    place looked at.
///
/// `~` is `HOME` (`USERPROFILE` if `HOME` is unset). [`only`](Self::only)
/// limits the chain to one source.
#[derive(Debug, Clone, Default)]
pub struct CredentialChain {
    /// `--secret-id`.
    pub secret_id: Option<String>,
    /// `--secret-key`.
    pub secret_key: Option<SecretString>,
    /// `--session-token`.
    pub session_token: Option<SecretString>,
    /// `--profile`: this tccli profile, which must then have credentials;
    /// the environment is not consulted.
    pub profile: Option<String>,
    /// Use only this source.
    pub only: Option<SourceKind>,
    /// How fetched credentials are fetched and refreshed.
    pub policy: CredentialPolicy,
}

/// The default region of the tccli profile in use (`_sys_param.region`
/// of `~/.tccli/<profile>.configure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRegion {
    /// The region.
    pub region: String,
    /// The `.configure` file it came from.
    pub path: PathBuf,
}

/// Looking things up: the caller's environment and files.
struct Lookup<'a> {
    env: &'a dyn Fn(&str) -> Option<OsString>,
    files: &'a dyn ReadFiles,
}

impl Lookup<'_> {
    /// A variable; empty counts as unset; not UTF-8 is an error naming it.
    fn var(&self, name: &str) -> Result<Option<String>, CredentialError> {
        match (self.env)(name) {
            None => Ok(None),
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|_| invalid(name, "is set but not valid UTF-8")),
        }
    }

    /// `HOME`, else `USERPROFILE`.
    fn home(&self) -> Result<Option<PathBuf>, CredentialError> {
        Ok(match self.var("HOME")? {
            Some(home) => Some(PathBuf::from(home)),
            None => self.var("USERPROFILE")?.map(PathBuf::from),
        })
    }

    /// A file's bytes (zeroed when dropped), `None` if it does not exist.
    fn read(&self, path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, CredentialError> {
        match self.files.read(path) {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(invalid(
                path.display().to_string(),
                format!("cannot be read: {}", io_reason(&error)),
            )),
        }
    }

    /// [`Lookup::read`], a missing file being the error `must_exist` when
    /// given, else noted as looked at (at `looked_place`).
    fn read_noted(
        &self,
        path: &Path,
        looked_place: &str,
        must_exist: Option<String>,
        looked_at: &mut Vec<LookedAt>,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, CredentialError> {
        let read = self.read(path)?;
        if read.is_none() {
            if let Some(reason) = must_exist {
                return Err(invalid(path.display().to_string(), reason));
            }
            looked_at.push(LookedAt::new(looked_place, "no such file"));
        }
        Ok(read)
    }
}

fn invalid(place: impl Into<String>, reason: impl Into<String>) -> CredentialError {
    CredentialError::Invalid {
        place: place.into(),
        reason: reason.into(),
    }
}

fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => error.to_string(),
    }
}

/// For lookups that read no file.
#[derive(Debug)]
struct NoFiles;

impl ReadFiles for NoFiles {
    fn read(&self, _path: &Path) -> io::Result<Vec<u8>> {
        Err(io::ErrorKind::NotFound.into())
    }
}

/// One credential part found somewhere: its value and the name it came
/// under (a flag or a variable).
struct Part {
    value: String,
    name: &'static str,
    from_env: bool,
}

impl CredentialChain {
    /// Resolve the chain with `env` (e.g. `std::env::var_os`) and `files`
    /// (e.g. `cos_ci_hyper::SystemFiles`). Files and variables are read now;
    /// fetching sources (TKE OIDC, instance role) fetch when first used,
    /// and TKE re-reads its token file through `files` at every refresh.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        files: Arc<dyn ReadFiles>,
    ) -> Result<CredentialProvider, CredentialError> {
        let lookup = Lookup {
            env,
            files: &*files,
        };
        let flags_given =
            self.secret_id.is_some() || self.secret_key.is_some() || self.session_token.is_some();
        if let Some(only) = self.only {
            if flags_given && only != SourceKind::Flags {
                return Err(invalid(
                    "--credential-source",
                    format!(
                        "`{only}` conflicts with --secret-id/--secret-key/--session-token \
                         (they are the `flags` source)"
                    ),
                ));
            }
            if self.profile.is_some() && only != SourceKind::TccliProfile {
                return Err(invalid(
                    "--credential-source",
                    format!("`{only}` conflicts with --profile (the `profile` source)"),
                ));
            }
        }
        let wants = |kind: SourceKind| self.only.is_none_or(|only| only == kind);
        let mut looked_at = Vec::new();

        if wants(SourceKind::Flags) || wants(SourceKind::Environment) {
            let use_flags = wants(SourceKind::Flags);
            let use_env = wants(SourceKind::Environment) && self.profile.is_none();
            if let Some(provider) = self.explicit(&lookup, use_flags, use_env, &mut looked_at)? {
                return Ok(provider.with_policy(self.policy.clone()));
            }
        }
        if wants(SourceKind::TccliProfile)
            && let Some(provider) = self.tccli(&lookup, &mut looked_at)?
        {
            return Ok(provider.with_policy(self.policy.clone()));
        }
        if wants(SourceKind::CredentialsFile)
            && let Some(provider) = credentials_file(&lookup, &mut looked_at)?
        {
            return Ok(provider);
        }
        if wants(SourceKind::TkeOidc)
            && let Some(provider) = tke_oidc(&lookup, &files, &mut looked_at)?
        {
            return Ok(provider.with_policy(self.policy.clone()));
        }
        if wants(SourceKind::CvmRole) {
            let endpoint =
                endpoint_from(&lookup, METADATA_ENDPOINT_VAR, DEFAULT_METADATA_ENDPOINT)?;
            // Only an instance role asked for (`--credential-source
            // cvm-role`) reports its own errors; as the last resort, a
            // metadata service that is not there means "nothing anywhere".
            let fallback = (self.only != Some(SourceKind::CvmRole)).then_some(looked_at);
            return Ok(CredentialProvider::remote(
                RemoteKind::Cvm {
                    endpoint,
                    role: None,
                },
                fallback,
            )
            .with_policy(self.policy.clone()));
        }
        Err(CredentialError::NotFound { looked_at })
    }

    /// The tccli profile in use: [`profile`](Self::profile), else
    /// `TCCLI_PROFILE`, else `default`.
    pub fn profile_name(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<String, CredentialError> {
        let lookup = Lookup {
            env,
            files: &NoFiles,
        };
        Ok(self.profile_choice(&lookup)?.0)
    }

    fn profile_choice(
        &self,
        lookup: &Lookup<'_>,
    ) -> Result<(String, Option<&'static str>), CredentialError> {
        let (name, place) = match &self.profile {
            Some(name) => (name.clone(), Some("--profile")),
            None => match lookup.var(TCCLI_PROFILE_VAR)? {
                Some(name) => (name, Some(TCCLI_PROFILE_VAR)),
                None => ("default".to_owned(), None),
            },
        };
        let valid = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid {
            return Err(invalid(
                place.unwrap_or("profile"),
                "a profile name is 1 to 128 letters, digits, `_`, `-` or `.`, not starting with `.`",
            ));
        }
        Ok((name, place))
    }

    /// The default region of the tccli profile in use, from its
    /// `.configure` file, if it has one.
    pub fn profile_region(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        files: &dyn ReadFiles,
    ) -> Result<Option<ProfileRegion>, CredentialError> {
        let lookup = Lookup { env, files };
        let (profile, _) = self.profile_choice(&lookup)?;
        let Some(home) = lookup.home()? else {
            return Ok(None);
        };
        let path = home.join(".tccli").join(format!("{profile}.configure"));
        let Some(bytes) = lookup.read(&path)? else {
            return Ok(None);
        };
        let region = parse_tccli_region(&bytes)
            .map_err(|reason| invalid(path.display().to_string(), reason))?;
        Ok(region.map(|region| ProfileRegion { region, path }))
    }

    /// Flags, then (unless `--profile`) the environment, part by part.
    fn explicit(
        &self,
        lookup: &Lookup<'_>,
        use_flags: bool,
        use_env: bool,
        looked_at: &mut Vec<LookedAt>,
    ) -> Result<Option<CredentialProvider>, CredentialError> {
        let flag =
            |value: Option<&str>, name: &'static str| -> Result<Option<Part>, CredentialError> {
                match value.filter(|_| use_flags) {
                    None => Ok(None),
                    Some(value) => {
                        check_credential_text(value).map_err(|reason| invalid(name, reason))?;
                        Ok(Some(Part {
                            value: value.to_owned(),
                            name,
                            from_env: false,
                        }))
                    }
                }
            };
        let var = |names: &[&'static str]| -> Result<Option<Part>, CredentialError> {
            if !use_env {
                return Ok(None);
            }
            for &name in names {
                if let Some(value) = lookup.var(name)? {
                    check_credential_text(&value).map_err(|reason| invalid(name, reason))?;
                    return Ok(Some(Part {
                        value,
                        name,
                        from_env: true,
                    }));
                }
            }
            Ok(None)
        };
        let part = |value: Option<&str>, name, vars: &[&'static str]| match flag(value, name)? {
            Some(part) => Ok(Some(part)),
            None => var(vars),
        };
        let id = part(self.secret_id.as_deref(), "--secret-id", &SECRET_ID_VARS)?;
        let key = part(
            self.secret_key.as_ref().map(SecretString::expose),
            "--secret-key",
            &SECRET_KEY_VARS,
        )?;
        let token = part(
            self.session_token.as_ref().map(SecretString::expose),
            "--session-token",
            &TOKEN_VARS,
        )?;
        let (id, key) = match (id, key) {
            (Some(id), Some(key)) => (id, key),
            (None, None) => {
                if use_flags {
                    looked_at.push(LookedAt::new(
                        "flags (--secret-id, --secret-key)",
                        "not given",
                    ));
                }
                if use_env {
                    looked_at.push(LookedAt::new(
                        "environment (TENCENTCLOUD_SECRET_ID or COS_SECRET_ID, \
                         TENCENTCLOUD_SECRET_KEY or COS_SECRET_KEY)",
                        match &token {
                            Some(token) => format!("not set ({} is set, but no key)", token.name),
                            None => "not set".to_owned(),
                        },
                    ));
                } else if self.profile.is_some() && self.only.is_none() {
                    looked_at.push(LookedAt::new(
                        "environment",
                        "not consulted (--profile given)",
                    ));
                }
                return Ok(None);
            }
            (Some(id), None) => return Err(incomplete(&id, use_flags, use_env)),
            (None, Some(key)) => return Err(incomplete(&key, use_flags, use_env)),
        };
        let parts = [Some(&id), Some(&key), token.as_ref()];
        let names: Vec<&'static str> = parts.iter().flatten().map(|part| part.name).collect();
        let source = if parts.iter().flatten().any(|part| part.from_env) {
            CredentialSource::Environment { names }
        } else {
            CredentialSource::Flags { names }
        };
        let mut credentials = Credentials::new(id.value, key.value);
        if let Some(token) = token {
            credentials = credentials.with_session_token(token.value);
        }
        Ok(Some(CredentialProvider::fixed(
            super::ProvidedCredentials::new(credentials, source),
        )))
    }

    /// `~/.tccli/<profile>.credential`.
    fn tccli(
        &self,
        lookup: &Lookup<'_>,
        looked_at: &mut Vec<LookedAt>,
    ) -> Result<Option<CredentialProvider>, CredentialError> {
        let (profile, chosen_by) = self.profile_choice(lookup)?;
        // Only `--profile` makes a missing profile an error: TCCLI_PROFILE
        // may be set for tccli's sake in a shell where cos-ci is meant to
        // use another source.
        let required =
            chosen_by == Some("--profile") || self.only == Some(SourceKind::TccliProfile);
        let Some(home) = lookup.home()? else {
            if required {
                return Err(invalid(
                    "--profile",
                    "HOME is not set, so ~/.tccli cannot be found",
                ));
            }
            looked_at.push(LookedAt::new(
                format!("tccli profile `{profile}` (~/.tccli)"),
                "HOME not set",
            ));
            return Ok(None);
        };
        let path = home.join(".tccli").join(format!("{profile}.credential"));
        let place = path.display().to_string();
        let looked_place = format!("tccli profile `{profile}` ({place})");
        let must_exist = required
            .then(|| format!("no such file (`tccli configure --profile {profile}` creates it)"));
        let Some(bytes) = lookup.read_noted(&path, &looked_place, must_exist, looked_at)? else {
            return Ok(None);
        };
        let parsed = parse_tccli_credential(&bytes).map_err(|reason| invalid(&place, reason))?;
        if parsed.kind.as_deref() == Some("cvm-role") {
            let endpoint = endpoint_from(lookup, METADATA_ENDPOINT_VAR, DEFAULT_METADATA_ENDPOINT)?;
            return Ok(Some(CredentialProvider::remote(
                RemoteKind::Cvm {
                    endpoint,
                    role: None,
                },
                None,
            )));
        }
        if parsed.role_arn.is_some() {
            return Err(invalid(
                place,
                "has `role-arn`: tccli would assume that role with these keys (STS AssumeRole), \
                 which cos-ci does not do; remove `role-arn` to use the keys themselves",
            ));
        }
        let Some(credentials) = parsed.keys.credentials(&place, &TCCLI_KEYS)? else {
            if required {
                return Err(invalid(place, "has no `secretId` and `secretKey`"));
            }
            looked_at.push(LookedAt::new(looked_place, "no secretId/secretKey"));
            return Ok(None);
        };
        let mut provided = super::ProvidedCredentials::new(
            credentials,
            CredentialSource::TccliProfile { profile, path },
        );
        if let Some(expires_at) = parsed.expires_at {
            provided = provided
                .expiring_at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(expires_at));
        }
        Ok(Some(CredentialProvider::fixed(provided)))
    }
}

impl FileKeys {
    /// The credentials these keys of the file at `place` give, each
    /// checked; `None` when there is neither an id nor a key, an error
    /// (naming the keys as `names` does) when there is one without the
    /// other or a value is unusable.
    fn credentials(
        self,
        place: &str,
        names: &KeyNames,
    ) -> Result<Option<Credentials>, CredentialError> {
        let KeyNames {
            section,
            id: id_name,
            key: key_name,
            token: token_name,
        } = names;
        let (id, key) = match (self.secret_id, self.secret_key) {
            (Some(id), Some(key)) => (id, key),
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(invalid(
                    place,
                    format!("{section}has `{id_name}` but no `{key_name}`"),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    place,
                    format!("{section}has `{key_name}` but no `{id_name}`"),
                ));
            }
        };
        let part = |name: &str, value: &str| {
            check_credential_text(value)
                .map_err(|reason| invalid(format!("{place}: `{name}`"), reason))
        };
        part(id_name, &id)?;
        part(key_name, key.expose())?;
        let mut credentials = Credentials::new(id, key);
        if let Some(token) = self.token {
            part(token_name, token.expose())?;
            credentials = credentials.with_session_token(token);
        }
        Ok(Some(credentials))
    }
}

/// A secret id without its key, or the other way round.
fn incomplete(found: &Part, use_flags: bool, use_env: bool) -> CredentialError {
    let found_id = SECRET_ID_VARS.contains(&found.name) || found.name == "--secret-id";
    let (missing, flag, vars) = if found_id {
        (
            "secret key",
            "--secret-key",
            "TENCENTCLOUD_SECRET_KEY (or COS_SECRET_KEY)",
        )
    } else {
        (
            "secret id",
            "--secret-id",
            "TENCENTCLOUD_SECRET_ID (or COS_SECRET_ID)",
        )
    };
    let how = match (use_flags, use_env) {
        (true, true) => format!("pass {flag} or set {vars}"),
        (true, false) => format!("pass {flag}"),
        (false, _) => format!("set {vars}"),
    };
    CredentialError::Incomplete {
        found: found.name,
        reason: format!(
            "no {missing} (the {} comes from {}); {how}",
            if found_id { "secret id" } else { "secret key" },
            found.name
        ),
    }
}

/// `TENCENTCLOUD_CREDENTIALS_FILE`, else `~/.tencentcloud/credentials`.
fn credentials_file(
    lookup: &Lookup<'_>,
    looked_at: &mut Vec<LookedAt>,
) -> Result<Option<CredentialProvider>, CredentialError> {
    let (path, named) = match lookup.var(CREDENTIALS_FILE_VAR)? {
        Some(path) => (PathBuf::from(path), true),
        None => match lookup.home()? {
            Some(home) => (home.join(".tencentcloud").join("credentials"), false),
            None => {
                looked_at.push(LookedAt::new(
                    "credentials file (~/.tencentcloud/credentials)",
                    "HOME not set",
                ));
                return Ok(None);
            }
        },
    };
    let place = path.display().to_string();
    let looked_place = format!("credentials file ({place})");
    let must_exist = named.then(|| format!("no such file (named by {CREDENTIALS_FILE_VAR})"));
    let Some(bytes) = lookup.read_noted(&path, &looked_place, must_exist, looked_at)? else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid(&place, "is not UTF-8 text"))?;
    let Some(section) = parse_ini_default(text).map_err(|reason| invalid(&place, reason))? else {
        looked_at.push(LookedAt::new(looked_place, "no [default] section"));
        return Ok(None);
    };
    let Some(credentials) = section.credentials(&place, &INI_KEYS)? else {
        looked_at.push(LookedAt::new(
            looked_place,
            "no secret_id/secret_key in [default]",
        ));
        return Ok(None);
    };
    Ok(Some(CredentialProvider::fixed(
        super::ProvidedCredentials::new(credentials, CredentialSource::CredentialsFile { path }),
    )))
}

/// TKE OIDC when all four `TKE_*` variables are set.
fn tke_oidc(
    lookup: &Lookup<'_>,
    files: &Arc<dyn ReadFiles>,
    looked_at: &mut Vec<LookedAt>,
) -> Result<Option<CredentialProvider>, CredentialError> {
    let mut values = Vec::with_capacity(TKE_VARS.len());
    for name in TKE_VARS {
        values.push(lookup.var(name)?);
    }
    let missing: Vec<&str> = TKE_VARS
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    if missing.len() == TKE_VARS.len() {
        looked_at.push(LookedAt::new(
            "TKE OIDC (TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN)",
            "not set",
        ));
        return Ok(None);
    }
    if !missing.is_empty() {
        return Err(invalid(
            "TKE OIDC",
            format!(
                "{} not set (the four TKE_* variables go together)",
                if missing.len() == 1 {
                    format!("{} is", missing[0])
                } else {
                    format!("{} are", missing.join(", "))
                }
            ),
        ));
    }
    let mut values = values.into_iter().flatten();
    let (Some(region), Some(provider_id), Some(token_file), Some(role_arn)) =
        (values.next(), values.next(), values.next(), values.next())
    else {
        return Ok(None);
    };
    check_credential_text(&region).map_err(|reason| invalid("TKE_REGION", reason))?;
    let endpoint = endpoint_from(lookup, STS_ENDPOINT_VAR, DEFAULT_STS_ENDPOINT)?;
    Ok(Some(CredentialProvider::tke_oidc(TkeOidc {
        region,
        provider_id,
        token_file: PathBuf::from(token_file),
        role_arn,
        endpoint,
        files: Arc::clone(files),
    })))
}

/// A base URL from `var`, else `default`.
fn endpoint_from(
    lookup: &Lookup<'_>,
    var: &'static str,
    default: &str,
) -> Result<Endpoint, CredentialError> {
    match lookup.var(var)? {
        Some(url) => Endpoint::parse(&url).map_err(|error| invalid(var, error.to_string())),
        None => Endpoint::parse(default).map_err(|error| invalid(var, error.to_string())),
    }
}
