//! Where credentials come from, and keeping temporary ones fresh.
//!
//! A [`CredentialProvider`] is either fixed credentials (given in code,
//! flags, the environment or a file) or a source of temporary credentials
//! fetched over HTTP and refreshed before they expire: a CVM **instance
//! role** (the metadata service) or **TKE OIDC** (`AssumeRoleWithWebIdentity`
//! on STS). [`CredentialChain::resolve`] picks one the way Tencent Cloud
//! deployments have them (flags, environment, tccli profile, the SDKs'
//! credentials file, TKE OIDC, instance role); `docs/credentials.md` has the
//! whole chain and how it compares with tccli and the official SDKs.
//!
//! Fetching stays sans-IO like the rest of the crate: a [`CredentialFetch`]
//! hands out [`CredentialRequest`]s (the HTTP request to make to the
//! metadata or STS endpoint, with the short timeout to give it) and parses
//! the responses back. An [`crate::Operation`] whose client has a
//! refreshing provider returns them as [`crate::Step::FetchCredentials`]
//! when (and only when) a refresh is due; one refresh is in flight per
//! [`crate::Client`] (its clones included), other operations keep using
//! still-valid credentials or wait for it. Reading the environment and files
//! goes through what the caller passes in (an env lookup, a [`ReadFiles`]);
//! nothing here touches the file system (`cos_ci_hyper::SystemFiles` is the
//! real one).

mod cache;
mod chain;
mod fetch;
mod files;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cos_ci_sign::Credentials;

use crate::{Endpoint, TransportError};

pub(crate) use cache::{Acquire, CredentialCache, Current};
pub use chain::{CredentialChain, ProfileRegion};
pub use fetch::{CredentialFetch, CredentialRequest, FetchStep};

/// Base URL of the CVM instance metadata service.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://metadata.tencentyun.com";
/// Base URL of STS (`AssumeRoleWithWebIdentity`).
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.tencentcloudapi.com";
/// The variable that replaces [`DEFAULT_METADATA_ENDPOINT`] (an emulator,
/// an offline setup).
pub const METADATA_ENDPOINT_VAR: &str = "TENCENTCLOUD_METADATA_ENDPOINT";
/// The variable that replaces [`DEFAULT_STS_ENDPOINT`].
pub const STS_ENDPOINT_VAR: &str = "TENCENTCLOUD_STS_ENDPOINT";
/// The metadata path listing the instance's role (`GET` it for the name,
/// append the name for its credentials).
pub const METADATA_CREDENTIALS_PATH: &str = "/latest/meta-data/cam/security-credentials/";

/// Which kind of source credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// Given in code (`Config::new(…, Credentials::new(…))`).
    Given,
    /// Command-line flags (`--secret-id`, `--secret-key`, `--session-token`).
    Flags,
    /// Environment variables (`TENCENTCLOUD_SECRET_ID`, …).
    Environment,
    /// A tccli profile (`~/.tccli/<profile>.credential`).
    TccliProfile,
    /// The API SDKs' INI file (`~/.tencentcloud/credentials`).
    CredentialsFile,
    /// TKE OIDC: `AssumeRoleWithWebIdentity` with the pod's token.
    TkeOidc,
    /// The CVM instance role, from the metadata service.
    CvmRole,
}

impl SourceKind {
    /// Every kind a chain can be limited to, in chain order.
    pub const CHAIN: [SourceKind; 6] = [
        SourceKind::Flags,
        SourceKind::Environment,
        SourceKind::TccliProfile,
        SourceKind::CredentialsFile,
        SourceKind::TkeOidc,
        SourceKind::CvmRole,
    ];

    /// The short name (`--credential-source` values): `given`, `flags`,
    /// `env`, `profile`, `file`, `tke-oidc`, `cvm-role`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Given => "given",
            SourceKind::Flags => "flags",
            SourceKind::Environment => "env",
            SourceKind::TccliProfile => "profile",
            SourceKind::CredentialsFile => "file",
            SourceKind::TkeOidc => "tke-oidc",
            SourceKind::CvmRole => "cvm-role",
        }
    }

    /// Parse a short name of a chain source (not `given`).
    pub fn parse(text: &str) -> Option<SourceKind> {
        SourceKind::CHAIN
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Exactly where credentials came from (for `cos-ci credentials show` and
/// logs). Names places, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Given in code.
    Given,
    /// Command-line flags; the flags used.
    Flags {
        /// e.g. `["--secret-id", "--secret-key"]`.
        names: Vec<&'static str>,
    },
    /// Environment variables (and flags, if some parts came from flags);
    /// the names used.
    Environment {
        /// e.g. `["TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"]`.
        names: Vec<&'static str>,
    },
    /// A tccli profile.
    TccliProfile {
        /// The profile name.
        profile: String,
        /// Its `.credential` file.
        path: PathBuf,
    },
    /// The SDKs' INI credentials file.
    CredentialsFile {
        /// Which file.
        path: PathBuf,
    },
    /// TKE OIDC.
    TkeOidc {
        /// `TKE_ROLE_ARN`.
        role_arn: String,
        /// The STS base URL.
        endpoint: String,
    },
    /// A CVM instance role.
    CvmRole {
        /// The role name, once known.
        role: Option<String>,
        /// The metadata base URL.
        endpoint: String,
    },
}

impl CredentialSource {
    /// The kind of source.
    pub fn kind(&self) -> SourceKind {
        match self {
            CredentialSource::Given => SourceKind::Given,
            CredentialSource::Flags { .. } => SourceKind::Flags,
            CredentialSource::Environment { .. } => SourceKind::Environment,
            CredentialSource::TccliProfile { .. } => SourceKind::TccliProfile,
            CredentialSource::CredentialsFile { .. } => SourceKind::CredentialsFile,
            CredentialSource::TkeOidc { .. } => SourceKind::TkeOidc,
            CredentialSource::CvmRole { .. } => SourceKind::CvmRole,
        }
    }
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Given => f.write_str("given in code"),
            CredentialSource::Flags { names } => write!(f, "flags ({})", names.join(", ")),
            CredentialSource::Environment { names } => {
                write!(f, "environment ({})", names.join(", "))
            }
            CredentialSource::TccliProfile { profile, path } => {
                write!(f, "tccli profile `{profile}` ({})", path.display())
            }
            CredentialSource::CredentialsFile { path } => {
                write!(f, "credentials file ({})", path.display())
            }
            CredentialSource::TkeOidc { role_arn, endpoint } => {
                write!(f, "TKE OIDC, role {role_arn} (STS at {endpoint})")
            }
            CredentialSource::CvmRole {
                role: Some(role),
                endpoint,
            } => write!(f, "CVM instance role `{role}` (metadata at {endpoint})"),
            CredentialSource::CvmRole {
                role: None,
                endpoint,
            } => write!(f, "CVM instance role (metadata at {endpoint})"),
        }
    }
}

/// Credentials with where they came from and, for temporary ones, when they
/// expire. `Debug` is redacted like [`Credentials`]'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvidedCredentials {
    credentials: Credentials,
    source: CredentialSource,
    expires_at: Option<SystemTime>,
    obtained_at: Option<SystemTime>,
}

impl ProvidedCredentials {
    /// `credentials` from `source`, with no known expiry.
    pub fn new(credentials: Credentials, source: CredentialSource) -> Self {
        Self {
            credentials,
            source,
            expires_at: None,
            obtained_at: None,
        }
    }

    /// The same, expiring at `expires_at`.
    pub fn expiring_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The same, obtained at `obtained_at` (fetched credentials).
    pub fn obtained_at(mut self, obtained_at: SystemTime) -> Self {
        self.obtained_at = Some(obtained_at);
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Where they came from.
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// When they expire, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// When they were fetched (fetched credentials only).
    pub fn fetched_at(&self) -> Option<SystemTime> {
        self.obtained_at
    }

    /// Whether they have expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// When a refresh is due under `policy`: `refresh_margin` before expiry,
    /// or a quarter of the lifetime before it for credentials that live
    /// less than four margins. `None` for credentials without an expiry.
    pub fn refresh_due_at(&self, policy: &CredentialPolicy) -> Option<SystemTime> {
        let expires_at = self.expires_at?;
        let lifetime = self
            .obtained_at
            .and_then(|at| expires_at.duration_since(at).ok())
            .unwrap_or(policy.refresh_margin.saturating_mul(4));
        let margin = policy.refresh_margin.min(lifetime / 4);
        Some(expires_at.checked_sub(margin).unwrap_or(expires_at))
    }
}

/// How temporary credentials are fetched and refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialPolicy {
    /// Refresh this long before expiry: 300 s, as the Go, Python and Java
    /// API SDKs do for instance roles. Credentials that live less than four
    /// margins are refreshed a quarter of their lifetime before expiry.
    /// Until they expire, other calls keep using them while one refreshes.
    pub refresh_margin: Duration,
    /// Whole time allowed for one metadata request (connect included): 2 s,
    /// so that a machine that is not a CVM gives up quickly.
    pub metadata_timeout: Duration,
    /// Whole time allowed for one STS request: 10 s.
    pub sts_timeout: Duration,
    /// `DurationSeconds` asked of STS: 7200 s (the SDKs' default; at most
    /// 43200).
    pub sts_duration: Duration,
    /// Attempts per fetch step, the first included: 3. Transport failures,
    /// 5xx and 429 are retried after 100 ms, then 200 ms.
    pub fetch_attempts: u32,
    /// How often an operation waiting for another one's refresh looks
    /// again: 20 ms.
    pub wait_interval: Duration,
    /// After a failed refresh while the old credentials still work, the
    /// next refresh waits this long (or half their remaining life, if
    /// shorter): 10 s.
    pub retry_refresh_after: Duration,
}

impl Default for CredentialPolicy {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            metadata_timeout: Duration::from_secs(2),
            sts_timeout: Duration::from_secs(10),
            sts_duration: Duration::from_secs(7200),
            fetch_attempts: 3,
            wait_interval: Duration::from_millis(20),
            retry_refresh_after: Duration::from_secs(10),
        }
    }
}

impl CredentialPolicy {
    /// Longest a refresh can take (every attempt and wait): after this, a
    /// refresh whose operation vanished no longer blocks others.
    pub(crate) fn max_fetch_time(&self) -> Duration {
        let per_attempt = self.metadata_timeout.max(self.sts_timeout);
        // Two steps (role name, then credentials), each with its attempts
        // and backoff, plus slack.
        per_attempt
            .saturating_mul(self.fetch_attempts.max(1))
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1))
    }
}

/// One place the chain looked at and what it found there (for the "no
/// credentials" error). Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookedAt {
    /// The place: a flag, variables, a file, an endpoint.
    pub place: String,
    /// What was there, e.g. "not set", "no such file".
    pub found: String,
}

impl LookedAt {
    pub(crate) fn new(place: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for LookedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.found)
    }
}

/// Why no credentials could be had. Names places and variables, never a
/// secret or the body of an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// No source had credentials: every place looked at, in order.
    #[error("no credentials found; looked at: {}", join_looked_at(.looked_at))]
    NotFound {
        /// Each place and what was found there.
        looked_at: Vec<LookedAt>,
    },
    /// Half a pair among the flags and variables: a secret id without its
    /// key, or a key without its id.
    #[error("missing credentials: {reason}")]
    Incomplete {
        /// The flag or variable that was found, e.g. `TENCENTCLOUD_SECRET_ID`.
        found: &'static str,
        /// What is missing and where it could come from.
        reason: String,
    },
    /// A source is there but cannot be used: a file that does not parse, a
    /// variable that is not UTF-8, a key without its secret id.
    #[error("{place}: {reason}")]
    Invalid {
        /// The flag, variable or file.
        place: String,
        /// What is wrong (never the value).
        reason: String,
    },
    /// The metadata service or STS did not answer.
    #[error("{kind} credentials: no answer from {endpoint}: {error}")]
    Unreachable {
        /// Instance role or TKE OIDC.
        kind: SourceKind,
        /// The base URL.
        endpoint: String,
        /// What the transport reported.
        error: TransportError,
    },
    /// The metadata service or STS refused, or answered something unusable.
    #[error("{kind} credentials: {endpoint} answered {}{}{}", .status.map(|s| format!("HTTP {s}: ")).unwrap_or_default(), .code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(), .message)]
    Refused {
        /// Instance role or TKE OIDC.
        kind: SourceKind,
        /// The base URL.
        endpoint: String,
        /// The HTTP status, when it was not 200.
        status: Option<u16>,
        /// The service's error code (STS `Error.Code`, metadata `Code`).
        code: Option<String>,
        /// What was wrong (the service's message, shortened, or ours).
        message: String,
        /// STS's `RequestId`.
        request_id: Option<String>,
    },
    /// [`crate::Client::prepare`] was called before a refreshing provider
    /// had fetched anything: drive an [`crate::Operation`] (or a
    /// [`CredentialFetch`]) first.
    #[error("temporary credentials have not been fetched yet")]
    NotFetched,
}

impl CredentialError {
    /// Whether the machine or the network is at fault (4 in the CLI), as
    /// opposed to missing or bad configuration (2) or a refusal (3).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, CredentialError::Unreachable { .. })
    }
}

fn join_looked_at(looked_at: &[LookedAt]) -> String {
    looked_at
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads the files the chain looks at. This crate has no implementation
/// that touches the file system: `cos_ci_hyper::SystemFiles` reads the real
/// one; tests pass their own.
pub trait ReadFiles: Send + Sync + fmt::Debug {
    /// The whole file, or the IO error (`NotFound` when it does not exist).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// Fixed credentials or a refreshing source of temporary ones. Cheap to
/// clone (clones share a discovered role name). `Debug` never shows a
/// secret.
///
/// ```
/// use cos_ci_client::credentials::{CredentialProvider, SourceKind};
/// use cos_ci_client::{Credentials, Endpoint};
///
/// let fixed = CredentialProvider::from(Credentials::new("AKID", "key"));
/// assert!(!fixed.is_refreshing());
/// let role = CredentialProvider::cvm_role(Endpoint::parse("http://127.0.0.1:9")?, None);
/// assert_eq!(role.kind(), SourceKind::CvmRole);
/// assert!(role.is_refreshing());
/// # Ok::<(), cos_ci_client::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CredentialProvider {
    inner: ProviderInner,
}

#[derive(Debug, Clone)]
enum ProviderInner {
    Fixed(Arc<ProvidedCredentials>),
    Remote(Arc<Remote>),
}

/// A refreshing source: what to ask, how, and what the chain saw before it.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) kind: RemoteKind,
    pub(crate) policy: CredentialPolicy,
    /// Reached by falling through the whole chain: a first fetch that finds
    /// no metadata service means "no credentials anywhere".
    pub(crate) fallback: Option<Vec<LookedAt>>,
    /// The instance role's name once discovered (kept across refreshes).
    pub(crate) discovered_role: Mutex<Option<String>>,
    /// A fetch has succeeded: later failures are errors of this source,
    /// never "no credentials anywhere".
    pub(crate) established: AtomicBool,
}

#[derive(Debug, Clone)]
pub(crate) enum RemoteKind {
    Cvm {
        endpoint: Endpoint,
        role: Option<String>,
    },
    Tke(TkeOidc),
}

/// The TKE OIDC settings (the four `TKE_*` variables the pod identity
/// webhook injects) and where STS is.
#[derive(Debug, Clone)]
pub struct TkeOidc {
    /// `TKE_REGION`, sent as `X-TC-Region`.
    pub region: String,
    /// `TKE_PROVIDER_ID`.
    pub provider_id: String,
    /// `TKE_WEB_IDENTITY_TOKEN_FILE`: read again at every refresh (the
    /// kubelet rotates it).
    pub token_file: PathBuf,
    /// `TKE_ROLE_ARN`.
    pub role_arn: String,
    /// STS's base URL ([`DEFAULT_STS_ENDPOINT`] unless
    /// `TENCENTCLOUD_STS_ENDPOINT` says otherwise).
    pub endpoint: Endpoint,
    /// Where the token file is read from.
    pub files: Arc<dyn ReadFiles>,
}

impl CredentialProvider {
    /// Fixed credentials from `source`.
    pub fn fixed(credentials: ProvidedCredentials) -> Self {
        Self {
            inner: ProviderInner::Fixed(Arc::new(credentials)),
        }
    }

    /// The instance role of this CVM, from the metadata service at
    /// `endpoint` ([`DEFAULT_METADATA_ENDPOINT`] on a real CVM); `role` if
    /// known, else discovered.
    pub fn cvm_role(endpoint: Endpoint, role: Option<String>) -> Self {
        Self::remote(RemoteKind::Cvm { endpoint, role }, None)
    }

    /// TKE OIDC: `AssumeRoleWithWebIdentity` with the pod's token.
    pub fn tke_oidc(settings: TkeOidc) -> Self {
        Self::remote(RemoteKind::Tke(settings), None)
    }

    pub(crate) fn remote(kind: RemoteKind, fallback: Option<Vec<LookedAt>>) -> Self {
        Self {
            inner: ProviderInner::Remote(Arc::new(Remote {
                kind,
                policy: CredentialPolicy::default(),
                fallback,
                discovered_role: Mutex::new(None),
                established: AtomicBool::new(false),
            })),
        }
    }

    /// The same source with `policy` for fetching and refreshing.
    pub fn with_policy(self, policy: CredentialPolicy) -> Self {
        match self.inner {
            ProviderInner::Fixed(_) => self,
            ProviderInner::Remote(remote) => Self {
                inner: ProviderInner::Remote(Arc::new(Remote {
                    kind: remote.kind.clone(),
                    policy,
                    fallback: remote.fallback.clone(),
                    discovered_role: Mutex::new(remote.role_name()),
                    established: AtomicBool::new(remote.established.load(Ordering::Relaxed)),
                })),
            },
        }
    }

    /// The policy in force (the default for fixed credentials).
    pub fn policy(&self) -> CredentialPolicy {
        match &self.inner {
            ProviderInner::Fixed(_) => CredentialPolicy::default(),
            ProviderInner::Remote(remote) => remote.policy.clone(),
        }
    }

    /// The kind of source.
    pub fn kind(&self) -> SourceKind {
        match &self.inner {
            ProviderInner::Fixed(provided) => provided.source.kind(),
            ProviderInner::Remote(remote) => match remote.kind {
                RemoteKind::Cvm { .. } => SourceKind::CvmRole,
                RemoteKind::Tke(_) => SourceKind::TkeOidc,
            },
        }
    }

    /// Whether credentials are fetched (and refreshed) over HTTP.
    pub fn is_refreshing(&self) -> bool {
        matches!(self.inner, ProviderInner::Remote(_))
    }

    /// The fixed credentials, if that is what this is.
    pub fn fixed_credentials(&self) -> Option<&ProvidedCredentials> {
        match &self.inner {
            ProviderInner::Fixed(provided) => Some(provided),
            ProviderInner::Remote(_) => None,
        }
    }

    /// Where credentials come from (for a refreshing source, before the
    /// first fetch: without the role name).
    pub fn source(&self) -> CredentialSource {
        match &self.inner {
            ProviderInner::Fixed(provided) => provided.source.clone(),
            ProviderInner::Remote(remote) => remote.source(None),
        }
    }

    /// A fetch of fresh credentials, to drive to its end (fixed
    /// credentials: done at once).
    pub fn fetch(&self, now: SystemTime) -> CredentialFetch {
        match &self.inner {
            ProviderInner::Fixed(provided) => CredentialFetch::ready(Ok((**provided).clone())),
            ProviderInner::Remote(remote) => CredentialFetch::start(Arc::clone(remote), now),
        }
    }
}

impl From<Credentials> for CredentialProvider {
    fn from(credentials: Credentials) -> Self {
        Self::fixed(ProvidedCredentials::new(
            credentials,
            CredentialSource::Given,
        ))
    }
}

impl From<ProvidedCredentials> for CredentialProvider {
    fn from(credentials: ProvidedCredentials) -> Self {
        Self::fixed(credentials)
    }
}

impl Remote {
    pub(crate) fn role_name(&self) -> Option<String> {
        match &self.kind {
            RemoteKind::Cvm {
                role: Some(role), ..
            } => Some(role.clone()),
            _ => self
                .discovered_role
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        match &self.kind {
            RemoteKind::Cvm { endpoint, .. } => endpoint,
            RemoteKind::Tke(settings) => &settings.endpoint,
        }
    }

    pub(crate) fn source_kind(&self) -> SourceKind {
        match self.kind {
            RemoteKind::Cvm { .. } => SourceKind::CvmRole,
            RemoteKind::Tke(_) => SourceKind::TkeOidc,
        }
    }

    pub(crate) fn source(&self, role: Option<String>) -> CredentialSource {
        match &self.kind {
            RemoteKind::Cvm { endpoint, .. } => CredentialSource::CvmRole {
                role: role.or_else(|| self.role_name()),
                endpoint: endpoint.to_string(),
            },
            RemoteKind::Tke(settings) => CredentialSource::TkeOidc {
                role_arn: settings.role_arn.clone(),
                endpoint: settings.endpoint.to_string(),
            },
        }
    }
}

/// Check one fetched or configured credential part: non-empty, and what
/// [`crate::CredentialPart::check`] allows (printable ASCII without
/// surrounding spaces: it goes into a header and a key). The error says
/// what is wrong, never the value.
pub(crate) fn check_credential_text(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("is empty".to_owned());
    }
    crate::CredentialPart::SecretId
        .check(value)
        .map_err(|error| match error {
            crate::ConfigError::InvalidCredentials { reason, .. } => reason,
            other => other.to_string(),
        })
}
