//! Building the signature from a request description.

use crate::{Credentials, KeyTime};

/// What is signed: the parts of an HTTP request, all decoded.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, any case (`GET`); lower-cased in the http string.
    pub method: &'a str,
    /// The percent-DECODED path, e.g. `/exampleobject(腾讯云)`. Used as is
    /// (an empty path signs as `/`).
    pub path: &'a str,
    /// Query pairs with raw (decoded) keys and values. A key without a value
    /// is `("acl", "")`.
    pub query: &'a [(&'a str, &'a str)],
    /// Request headers (name, value) as they will be sent. Must include
    /// `host` for the default policy to sign it.
    pub headers: &'a [(&'a str, &'a str)],
}

/// Which headers are signed. `host` is always signed when present; every
/// query parameter is always signed (COS strict signature mode requires it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeaderPolicy {
    /// The official SDKs' set: `host`, `cache-control`, `content-disposition`,
    /// `content-encoding`, `content-length`, `content-md5`, `content-type`,
    /// `expect`, `expires`, `if-match`, `if-modified-since`, `if-none-match`,
    /// `if-unmodified-since`, `origin`, `range`, `transfer-encoding`,
    /// `pic-operations`, `access-control-request-method`,
    /// `access-control-request-headers`, and every `x-cos-*` and `x-ci-*`.
    #[default]
    OfficialDefault,
    /// Exactly these header names (case-insensitive), plus `host`.
    Explicit(Vec<String>),
    /// Every header given in the request (used by `cos-ci sign` and by the
    /// verifier, which signs exactly the names in `q-header-list`).
    All,
}

/// Every intermediate value of one signature, for debugging and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages {
    /// `start;end`
    pub key_time: String,
    /// HMAC-SHA1(secret key, key time), lower-case hex.
    pub sign_key: String,
    /// `q-url-param-list` and HttpParameters.
    pub params: crate::Canonical,
    /// `q-header-list` and HttpHeaders.
    pub headers: crate::Canonical,
    /// `method\npath\nparams\nheaders\n`
    pub http_string: String,
    /// SHA1(http string), lower-case hex.
    pub http_string_sha1: String,
    /// `sha1\nkeytime\nsha1(httpstring)\n`
    pub string_to_sign: String,
    /// HMAC-SHA1(sign key as hex text, string to sign), lower-case hex.
    pub signature: String,
    /// The full `Authorization` value.
    pub authorization: String,
}

/// The `Authorization` header value. Not secret (it is sent in clear) but
/// kept as its own type so it is never confused with other strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization(pub String);

impl Authorization {
    /// The value to put in the `Authorization` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Query pairs (raw, not yet encoded) to append for a pre-signed URL: the
/// seven `q-*` fields and, with temporary credentials,
/// `x-cos-security-token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedQuery {
    /// `(name, value)` in the order they should be appended.
    pub pairs: Vec<(String, String)>,
}

/// HMAC-SHA1(secret key, key time) as lower-case hex.
pub fn sign_key(secret_key: &str, key_time: &KeyTime) -> String {
    let _ = (secret_key, key_time);
    todo!()
}

/// `lower(method)\npath\nparams.pairs\nheaders.pairs\n`.
pub fn http_string(
    method: &str,
    path: &str,
    params: &crate::Canonical,
    headers: &crate::Canonical,
) -> String {
    let _ = (method, path, params, headers);
    todo!()
}

/// `sha1\n<key time>\n<sha1(http string) hex>\n`.
pub fn string_to_sign(key_time: &KeyTime, http_string: &str) -> String {
    let _ = (key_time, http_string);
    todo!()
}

/// HMAC-SHA1 keyed with the sign key's hex TEXT over the string to sign.
pub fn signature(sign_key_hex: &str, string_to_sign: &str) -> String {
    let _ = (sign_key_hex, string_to_sign);
    todo!()
}

/// Compute every stage for `request`.
pub fn sign_stages(
    credentials: &Credentials,
    request: &SignableRequest<'_>,
    key_time: KeyTime,
    policy: &HeaderPolicy,
) -> Stages {
    let _ = (credentials, request, key_time, policy);
    todo!()
}

/// Signs requests with one set of credentials and one header policy.
/// Cheap to clone; caches nothing that depends on time.
#[derive(Debug, Clone)]
pub struct Signer {
    credentials: Credentials,
    policy: HeaderPolicy,
}

impl Signer {
    /// A signer with the given credentials and policy.
    pub fn new(credentials: Credentials, policy: HeaderPolicy) -> Self {
        Self {
            credentials,
            policy,
        }
    }
    /// The credentials this signer uses.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// The `Authorization` value for `request` in the window `key_time`
    /// (the fast path: same bytes as `sign_stages(..).authorization`).
    pub fn authorization(&self, request: &SignableRequest<'_>, key_time: KeyTime) -> Authorization {
        let _ = (request, key_time);
        todo!()
    }
    /// Query pairs that make `request` a pre-signed URL.
    pub fn presign(&self, request: &SignableRequest<'_>, key_time: KeyTime) -> PresignedQuery {
        let _ = (request, key_time);
        todo!()
    }
}
