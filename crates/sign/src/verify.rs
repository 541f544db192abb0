//! Server side: parse an `Authorization` value and check it against the
//! request as received.

use crate::{KeyTime, SignableRequest};

/// An `Authorization` value split into its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// `q-ak`
    pub secret_id: String,
    /// `q-sign-time`
    pub sign_time: KeyTime,
    /// `q-key-time`
    pub key_time: KeyTime,
    /// `q-header-list`, split on `;` (lower-case names as signed).
    pub header_list: Vec<String>,
    /// `q-url-param-list`, split on `;` (encoded, lower-cased keys).
    pub url_param_list: Vec<String>,
    /// `q-signature`, 40 lower-case hex digits.
    pub signature: String,
}

impl ParsedAuthorization {
    /// Parse an `Authorization` value. Requires `q-sign-algorithm=sha1`, each
    /// of the seven fields exactly once, valid key times and a 40-hex signature.
    pub fn parse(value: &str) -> Result<Self, AuthorizationParseError> {
        let _ = value;
        todo!()
    }
}

/// Why an `Authorization` value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationParseError {
    /// A field is absent.
    #[error("authorization is missing `{0}`")]
    MissingField(&'static str),
    /// A field appears twice.
    #[error("authorization has `{0}` more than once")]
    DuplicateField(String),
    /// A `key=value` part without `=` or with an unknown key.
    #[error("authorization has an unknown or malformed part `{0}`")]
    BadPart(String),
    /// `q-sign-algorithm` is not `sha1`.
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// `q-sign-time` / `q-key-time` malformed.
    #[error("bad `{field}`: {source}")]
    BadTime {
        /// Which field.
        field: &'static str,
        /// Why.
        source: crate::KeyTimeError,
    },
    /// `q-signature` is not 40 lower-case hex digits.
    #[error("`q-signature` must be 40 hex digits")]
    BadSignature,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The secret id that signed.
    pub secret_id: String,
    /// The window it was valid in.
    pub key_time: KeyTime,
    /// The header names that were signed.
    pub signed_headers: Vec<String>,
}

/// Which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The value could not be parsed.
    #[error("malformed authorization: {0}")]
    Malformed(#[from] AuthorizationParseError),
    /// No secret key is known for this secret id.
    #[error("unknown secret id")]
    UnknownKey,
    /// `now` is after the end of the key time.
    #[error("signature expired at {end} (now {now})")]
    Expired {
        /// End of the window.
        end: u64,
        /// The time checked against.
        now: u64,
    },
    /// `now` is before the start of the key time.
    #[error("signature not valid before {start} (now {now})")]
    NotYetValid {
        /// Start of the window.
        start: u64,
        /// The time checked against.
        now: u64,
    },
    /// A header that must be signed (always `host`, plus the caller's
    /// `required_headers`) is not in `q-header-list`.
    #[error("header `{0}` is not signed")]
    HeaderNotSigned(String),
    /// A header in `q-header-list` is absent from the request.
    #[error("signed header `{0}` is missing from the request")]
    SignedHeaderMissing(String),
    /// A query parameter of the request is not in `q-url-param-list`, or a
    /// listed parameter is not in the request.
    #[error("query parameter `{0}` is not signed")]
    ParamNotSigned(String),
    /// Everything parsed but the recomputed signature differs.
    #[error("signature does not match")]
    Mismatch,
}

/// Verify `authorization` for `request` as received.
///
/// `lookup_secret_key` maps a secret id to its secret key. `now` is Unix
/// seconds. `required_headers` are lower-case header names that must be in
/// `q-header-list` in addition to `host`. The signature is compared in
/// constant time. Checks run in this order: parse, key known, time window,
/// required headers, params all signed, signature.
pub fn verify<'k>(
    authorization: &str,
    request: &SignableRequest<'_>,
    lookup_secret_key: impl FnOnce(&str) -> Option<&'k str>,
    now: u64,
    required_headers: &[&str],
) -> Result<Verified, VerifyError> {
    let _ = (
        authorization,
        request,
        lookup_secret_key,
        now,
        required_headers,
    );
    todo!()
}
