//! The credential files: tccli's JSON profiles and the API SDKs' INI file.
//! Parsing only; reading goes through [`super::ReadFiles`]. Errors describe
//! what is wrong and where, never a value.

use cos_ci_sign::SecretString;
use serde_json::{Map, Value};

/// The secret id, key and session token a credentials file holds, each
/// if set.
#[derive(Debug, Default)]
pub(crate) struct FileKeys {
    pub(crate) secret_id: Option<String>,
    pub(crate) secret_key: Option<SecretString>,
    pub(crate) token: Option<SecretString>,
}

/// What a file calls its keys, for errors that name them.
#[derive(Debug)]
pub(crate) struct KeyNames {
    /// Where in the file they are, put before the names: `""` or
    /// `"[default] "`.
    pub(crate) section: &'static str,
    pub(crate) id: &'static str,
    pub(crate) key: &'static str,
    pub(crate) token: &'static str,
}

/// tccli's `.credential` JSON.
pub(crate) const TCCLI_KEYS: KeyNames = KeyNames {
    section: "",
    id: "secretId",
    key: "secretKey",
    token: "token",
};

/// The SDKs' INI file.
pub(crate) const INI_KEYS: KeyNames = KeyNames {
    section: "[default] ",
    id: "secret_id",
    key: "secret_key",
    token: "token",
};

/// What a tccli `<profile>.credential` holds (the parts cos-ci uses).
#[derive(Debug, Default)]
pub(crate) struct TccliCredential {
    pub(crate) keys: FileKeys,
    /// `type`: `cvm-role`, `oauth`, `sso`, `default` or absent.
    pub(crate) kind: Option<String>,
    /// `expiresAt` (Unix seconds) of `oauth`/`sso` logins.
    pub(crate) expires_at: Option<u64>,
    /// `role-arn`: tccli assumes this role with the keys (not supported).
    pub(crate) role_arn: Option<String>,
}

/// Parse a `.credential` file. `"None"` (what an interactive `tccli
/// configure` saves for a skipped value) and `""` count as unset.
pub(crate) fn parse_tccli_credential(bytes: &[u8]) -> Result<TccliCredential, String> {
    let mut object = json_object(bytes)?;
    Ok(TccliCredential {
        keys: FileKeys {
            secret_id: take_string(&mut object, TCCLI_KEYS.id)?,
            secret_key: take_string(&mut object, TCCLI_KEYS.key)?.map(SecretString::from),
            token: take_string(&mut object, TCCLI_KEYS.token)?.map(SecretString::from),
        },
        kind: take_string(&mut object, "type")?,
        expires_at: match object.remove("expiresAt") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Some(Value::String(text)) if is_unset(&text) => None,
            Some(Value::String(text)) => Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| "`expiresAt` is not a number of seconds".to_owned())?,
            ),
            Some(_) => return Err("`expiresAt` is not a number of seconds".to_owned()),
        },
        role_arn: take_string(&mut object, "role-arn")?,
    })
}

/// The default region of a tccli `<profile>.configure`: `_sys_param.region`.
pub(crate) fn parse_tccli_region(bytes: &[u8]) -> Result<Option<String>, String> {
    let mut object = json_object(bytes)?;
    let Some(sys) = object.remove("_sys_param") else {
        return Ok(None);
    };
    let Value::Object(mut sys) = sys else {
        return Err("`_sys_param` is not an object".to_owned());
    };
    take_string(&mut sys, "region").map_err(|error| format!("`_sys_param`.{error}"))
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Only the position of a syntax error: serde's messages for type errors
    // quote the value, which may be a secret.
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("is JSON but not an object".to_owned()),
        Err(error) => Err(format!(
            "is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        )),
    }
}

fn take_string(object: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if is_unset(&text) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn is_unset(text: &str) -> bool {
    text.is_empty() || text == "None"
}

/// Parse `~/.tencentcloud/credentials` as the Go SDK's parser does: lines
/// trimmed, `#` and `;` comments, `[section]` headers, `key = value` (the
/// first `=` splits). Only `[default]` is read (every API SDK reads only
/// it): `secret_id`, `secret_key`, and `token` as the Node.js SDK reads it.
/// `None` when there is no `[default]` section.
pub(crate) fn parse_ini_default(text: &str) -> Result<Option<FileKeys>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut section: Option<&str> = None;
    let mut found: Option<FileKeys> = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: a section header without `]`", number + 1))?
                .trim();
            section = Some(name);
            if name == "default" && found.is_none() {
                found = Some(FileKeys::default());
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "line {}: expected `key = value` or `[section]`",
                number + 1
            ));
        };
        if section != Some("default") {
            continue;
        }
        let Some(entry) = found.as_mut() else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            name if name == INI_KEYS.id => entry.secret_id = Some(value.to_owned()),
            name if name == INI_KEYS.key => entry.secret_key = Some(SecretString::from(value)),
            name if name == INI_KEYS.token => entry.token = Some(SecretString::from(value)),
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tccli_credential() {
        let parsed = parse_tccli_credential(
            br#"{"secretId": "AKID1", "secretKey": "k", "token": "None", "type": "oauth", "expiresAt": 1700000000, "role-arn": ""}"#,
        )
        .unwrap();
        assert_eq!(parsed.keys.secret_id.as_deref(), Some("AKID1"));
        assert_eq!(parsed.keys.secret_key.unwrap().expose(), "k");
        assert!(parsed.keys.token.is_none());
        assert_eq!(parsed.kind.as_deref(), Some("oauth"));
        assert_eq!(parsed.expires_at, Some(1_700_000_000));
        assert!(parsed.role_arn.is_none());

        let none = parse_tccli_credential(br#"{"secretId": "None", "secretKey": "None"}"#).unwrap();
        assert!(none.keys.secret_id.is_none() && none.keys.secret_key.is_none());

        let error =
            parse_tccli_credential(br#"{"secretId": "AKID", "secretKey": 12345}"#).unwrap_err();
        assert_eq!(error, "`secretKey` is not a string");
        let error = parse_tccli_credential(b"{\"secretKey\": \"s3cr3t\"").unwrap_err();
        assert!(error.starts_with("is not valid JSON (line 1"), "{error}");
        assert!(!error.contains("s3cr3t"));
    }

    #[test]
    fn tccli_region() {
        let configure =
            br#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "cvm": {}}"#;
        assert_eq!(
            parse_tccli_region(configure).unwrap().as_deref(),
            Some("ap-shanghai")
        );
        assert_eq!(parse_tccli_region(b"{}").unwrap(), None);
        assert!(parse_tccli_region(br#"{"_sys_param": 3}"#).is_err());
    }

    #[test]
    fn ini() {
        let text = "\u{feff}# comment\r\n[other]\r\nsecret_id = X\r\n[default]\r\n; note\r\nsecret_id = AKID2 \r\nsecret_key=key=with=equals\r\ntoken =\r\n";
        let parsed = parse_ini_default(text).unwrap().unwrap();
        assert_eq!(parsed.secret_id.as_deref(), Some("AKID2"));
        assert_eq!(parsed.secret_key.unwrap().expose(), "key=with=equals");
        assert!(parsed.token.is_none());
        assert!(
            parse_ini_default("[other]\nsecret_id = X\n")
                .unwrap()
                .is_none()
        );
        assert!(parse_ini_default("[default\n").is_err());
        assert!(parse_ini_default("[default]\njunk\n").is_err());
    }
}
