//! Server side: parse an `Authorization` value and check it against the
//! request as received.

use std::time::SystemTime;

use subtle::ConstantTimeEq;

use crate::encode::encode_into;
use crate::key_time::unix_secs;
use crate::{
    KeyTime, SignableRequest, UrlDecodeError, canonicalize, decode, decode_query, http_string,
    sign_key, signature, string_to_sign,
};

/// The seven fields of an `Authorization` value, in the order the signers
/// write them; as query parameters they make a pre-signed URL.
pub const AUTHORIZATION_FIELDS: [&str; 7] = [
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
];

/// Where temporary credentials' token travels: the CI name and the COS name
/// (CI hosts accept both).
pub const SECURITY_TOKEN_NAMES: [&str; 2] = ["x-ci-security-token", "x-cos-security-token"];

/// An `Authorization` value split into its fields. Only
/// [`ParsedAuthorization::parse`] makes one, so what it checked (the
/// algorithm, valid key times, a 40-hex signature) holds for every value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    secret_id: String,
    sign_time: KeyTime,
    key_time: KeyTime,
    header_list: Vec<String>,
    url_param_list: Vec<String>,
    signature: String,
}

impl ParsedAuthorization {
    /// Parse an `Authorization` value. Requires `q-sign-algorithm=sha1`, each
    /// of the seven fields exactly once, valid key times and a 40-hex signature.
    ///
    /// Field names are matched exactly (lower-case); the order of the parts
    /// does not matter. Nothing is trimmed.
    pub fn parse(value: &str) -> Result<Self, AuthorizationParseError> {
        let mut fields: [Option<&str>; 7] = [None; 7];
        for part in value.split('&') {
            let (name, field_value) = part
                .split_once('=')
                .ok_or_else(|| AuthorizationParseError::BadPart(part.to_owned()))?;
            let slot = AUTHORIZATION_FIELDS
                .iter()
                .position(|f| *f == name)
                .and_then(|i| fields.get_mut(i))
                .ok_or_else(|| AuthorizationParseError::BadPart(part.to_owned()))?;
            if slot.is_some() {
                return Err(AuthorizationParseError::DuplicateField(name.to_owned()));
            }
            *slot = Some(field_value);
        }
        let [
            algorithm,
            ak,
            sign_time,
            key_time,
            header_list,
            url_param_list,
            sig,
        ] = fields;
        let algorithm =
            algorithm.ok_or(AuthorizationParseError::MissingField("q-sign-algorithm"))?;
        let ak = ak.ok_or(AuthorizationParseError::MissingField("q-ak"))?;
        let sign_time = sign_time.ok_or(AuthorizationParseError::MissingField("q-sign-time"))?;
        let key_time = key_time.ok_or(AuthorizationParseError::MissingField("q-key-time"))?;
        let header_list =
            header_list.ok_or(AuthorizationParseError::MissingField("q-header-list"))?;
        let url_param_list =
            url_param_list.ok_or(AuthorizationParseError::MissingField("q-url-param-list"))?;
        let sig = sig.ok_or(AuthorizationParseError::MissingField("q-signature"))?;
        if algorithm != "sha1" {
            return Err(AuthorizationParseError::UnsupportedAlgorithm(
                algorithm.to_owned(),
            ));
        }
        let time = |field: &'static str, text: &str| {
            text.parse::<KeyTime>()
                .map_err(|source| AuthorizationParseError::BadTime { field, source })
        };
        let sign_time = time("q-sign-time", sign_time)?;
        let key_time = time("q-key-time", key_time)?;
        if sig.len() != 40 || !sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(AuthorizationParseError::BadSignature);
        }
        Ok(Self {
            secret_id: ak.to_owned(),
            sign_time,
            key_time,
            header_list: split_list(header_list),
            url_param_list: split_list(url_param_list),
            signature: sig.to_owned(),
        })
    }

    /// `q-ak`.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// `q-sign-time`.
    pub fn sign_time(&self) -> KeyTime {
        self.sign_time
    }

    /// `q-key-time` (the one that is signed).
    pub fn key_time(&self) -> KeyTime {
        self.key_time
    }

    /// `q-header-list`, split on `;` (lower-case names as signed).
    pub fn header_list(&self) -> &[String] {
        &self.header_list
    }

    /// `q-url-param-list`, split on `;` (encoded, lower-cased keys).
    pub fn url_param_list(&self) -> &[String] {
        &self.url_param_list
    }

    /// `q-signature`, 40 lower-case hex digits.
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

/// For a pre-signed URL: split the query into the `Authorization` value
/// (rebuilt from the seven `q-*` fields, in the order they appear) and the
/// query pairs that were signed, to pass both to [`verify`].
///
/// Pairs are raw (decoded). A security token (`x-cos-security-token`,
/// `x-ci-security-token`) counts as signed only when `q-url-param-list`
/// lists it: signers usually append it after signing (see
/// [`Signer::presign`](crate::Signer::presign)). Returns `None` when the
/// query carries none of the seven fields (not a pre-signed URL). Malformed
/// fields are reported by [`verify`].
///
/// ```
/// let query = [("q-sign-algorithm", "sha1"), ("acl", ""), ("q-ak", "AKID")];
/// let (auth, rest) = cos_ci_sign::split_presigned(&query).unwrap();
/// assert_eq!(auth, "q-sign-algorithm=sha1&q-ak=AKID");
/// assert_eq!(rest, [("acl", "")]);
/// ```
pub fn split_presigned<'a>(
    query: &[(&'a str, &'a str)],
) -> Option<(String, Vec<(&'a str, &'a str)>)> {
    let listed = query
        .iter()
        .find(|(k, _)| *k == "q-url-param-list")
        .map_or("", |(_, v)| *v);
    let mut auth = String::new();
    let mut rest = Vec::with_capacity(query.len());
    let mut found = false;
    for &(k, v) in query {
        if AUTHORIZATION_FIELDS.contains(&k) {
            if found {
                auth.push('&');
            }
            found = true;
            auth.push_str(k);
            auth.push('=');
            auth.push_str(v);
        } else if !SECURITY_TOKEN_NAMES.contains(&k) || listed.split(';').any(|name| name == k) {
            rest.push((k, v));
        }
    }
    found.then_some((auth, rest))
}

/// Why an `Authorization` value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// The URL given to [`verify_presigned_url`] carries none of the seven
    /// `q-*` fields.
    #[error("the URL is not pre-signed (it has no q-sign-algorithm … q-signature parameters)")]
    NotPresigned,
    /// The path or query of the URL given to [`verify_presigned_url`] is
    /// not validly percent-encoded.
    #[error("the URL's {0}")]
    BadUrlEncoding(UrlDecodeError),
}

/// Verify `authorization` for `request` as received.
///
/// `lookup_secret_key` maps a secret id to its secret key. `now` is Unix
/// seconds. `required_headers` are lower-case header names that must be in
/// `q-header-list` in addition to `host`. The signature is compared in
/// constant time. Checks run in this order: parse, key known, time window
/// (`q-key-time`, which is signed, and `q-sign-time`, both inclusive),
/// `host` and required headers listed, listed headers present, params all
/// signed (both ways), signature. Header names are matched
/// case-insensitively; the listed headers, and only those, are signed
/// again. Never panics, whatever the input.
pub fn verify<'k>(
    authorization: &str,
    request: &SignableRequest<'_>,
    lookup_secret_key: impl FnOnce(&str) -> Option<&'k str>,
    now: u64,
    required_headers: &[&str],
) -> Result<Verified, VerifyError> {
    let parsed = ParsedAuthorization::parse(authorization)?;
    let secret_key = lookup_secret_key(&parsed.secret_id).ok_or(VerifyError::UnknownKey)?;

    // Both windows must hold; the key time is the one that is signed.
    for window in [parsed.key_time, parsed.sign_time] {
        if now < window.start() {
            return Err(VerifyError::NotYetValid {
                start: window.start(),
                now,
            });
        }
        if now > window.end() {
            return Err(VerifyError::Expired {
                end: window.end(),
                now,
            });
        }
    }

    for name in std::iter::once("host").chain(required_headers.iter().copied()) {
        let wanted = canonical_name(name);
        if !parsed.header_list.contains(&wanted) {
            return Err(VerifyError::HeaderNotSigned(wanted));
        }
    }

    // The request's headers that are listed, by canonical name.
    let request_headers: Vec<(String, (&str, &str))> = request
        .headers
        .iter()
        .map(|&(name, value)| (canonical_name(name), (name, value)))
        .collect();
    for listed in &parsed.header_list {
        if !request_headers.iter().any(|(c, _)| c == listed) {
            return Err(VerifyError::SignedHeaderMissing(listed.clone()));
        }
    }

    let request_params: Vec<String> = request
        .query
        .iter()
        .map(|(k, _)| canonical_name(k))
        .collect();
    // `q-url-param-list=` reads as no names, but it is also what a signer
    // writes for a lone parameter with an empty name (`?=v`); the signature
    // below still binds that parameter and its value.
    let listed = |k: &String| {
        parsed.url_param_list.contains(k) || (k.is_empty() && parsed.url_param_list.is_empty())
    };
    if let Some(unsigned) = request_params.iter().find(|k| !listed(k)) {
        return Err(VerifyError::ParamNotSigned(unsigned.clone()));
    }
    if let Some(absent) = parsed
        .url_param_list
        .iter()
        .find(|k| !request_params.contains(k))
    {
        return Err(VerifyError::ParamNotSigned(absent.clone()));
    }

    let params = canonicalize(request.query.iter().copied());
    let headers = canonicalize(
        request_headers
            .iter()
            .filter(|(c, _)| parsed.header_list.contains(c))
            .map(|&(_, pair)| pair),
    );
    let http = http_string(request.method, request.path, &params, &headers);
    let sts = string_to_sign(&parsed.key_time, &http);
    let expected = signature(&sign_key(secret_key, &parsed.key_time), &sts);
    if bool::from(expected.as_bytes().ct_eq(parsed.signature.as_bytes())) {
        Ok(Verified {
            secret_id: parsed.secret_id,
            key_time: parsed.key_time,
            signed_headers: parsed.header_list,
        })
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// Verify a pre-signed URL as received, e.g. one built by
/// [`Signer::presigned_url`](crate::Signer::presigned_url).
///
/// `url` is absolute (`https://host/path?query`) or just the request target
/// (`/path?query`); a `#fragment` is ignored. Its path and query are decoded
/// strictly ([`decode`], [`decode_query`]), the `q-*` fields are split off
/// ([`split_presigned`]) and the rest is checked like [`verify`] does, with
/// `headers` (as received, including `host`) and `now` as a `SystemTime`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer, VerifyError};
///
/// let signer = Signer::new(Credentials::new("AKIDexample", "secret"), HeaderPolicy::OfficialDefault);
/// let headers = [("host", "examplebucket-1250000000.ci.ap-beijing.myqcloud.com")];
/// let request = SignableRequest { method: "GET", path: "/workflowexecution", query: &[("size", "10")], headers: &headers };
/// let now = SystemTime::now();
/// let url = signer.presigned_url("https", &request, KeyTime::starting_at_time(now, Duration::from_secs(600)))?;
///
/// let lookup = |id: &str| (id == "AKIDexample").then_some("secret");
/// let verified = cos_ci_sign::verify_presigned_url("GET", &url, &headers, lookup, now, &[])?;
/// assert_eq!(verified.secret_id, "AKIDexample");
///
/// let tampered = url.replace("size=10", "size=99");
/// assert_eq!(
///     cos_ci_sign::verify_presigned_url("GET", &tampered, &headers, lookup, now, &[]),
///     Err(VerifyError::Mismatch)
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_presigned_url<'k>(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    lookup_secret_key: impl FnOnce(&str) -> Option<&'k str>,
    now: SystemTime,
    required_headers: &[&str],
) -> Result<Verified, VerifyError> {
    let target = match url.split_once("://") {
        Some((_, after_scheme)) => after_scheme
            .find(['/', '?', '#'])
            .and_then(|start| after_scheme.get(start..))
            .unwrap_or(""),
        None => url,
    };
    let target = target.split_once('#').map_or(target, |(before, _)| before);
    let (wire_path, wire_query) = target.split_once('?').unwrap_or((target, ""));
    let path = decode(wire_path)
        .map_err(|reason| VerifyError::BadUrlEncoding(UrlDecodeError::new(wire_path, reason)))?;
    let pairs = decode_query(wire_query).map_err(VerifyError::BadUrlEncoding)?;
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let (authorization, signed_query) = split_presigned(&pairs).ok_or(VerifyError::NotPresigned)?;
    verify(
        &authorization,
        &SignableRequest {
            method,
            path: &path,
            query: &signed_query,
            headers,
        },
        lookup_secret_key,
        unix_secs(now),
        required_headers,
    )
}

/// A header name or query key as it appears in the lists: encoded, then
/// ASCII lower-cased.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    encode_into(&mut out, name.as_bytes());
    out.make_ascii_lowercase();
    out
}

/// `a;b;c` to its names; the empty list has none.
fn split_list(list: &str) -> Vec<String> {
    if list.is_empty() {
        Vec::new()
    } else {
        list.split(';').map(str::to_owned).collect()
    }
}
