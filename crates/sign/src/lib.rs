//! `cos-ci-sign`: the COS `q-sign-algorithm=sha1` request signature used by
//! Tencent Cloud Infinite (CI), exact to the byte, with every stage visible.
//!
//! ```toml
//! [dependencies]
//! cos-ci-sign = "0.1"
//! ```
//!
//! What it is for: turning a request (method, decoded path, decoded query
//! pairs, headers), a pair of [`Credentials`] and a [`KeyTime`] into an
//! `Authorization` value or a pre-signed URL ([`Signer::presigned_url`]),
//! and, for servers, checking either with [`verify`] /
//! [`verify_presigned_url`].
//!
//! What it never does: read the clock, do IO, use randomness or mutate a
//! request. Time is always a parameter, as Unix seconds (`u64`) or as a
//! `SystemTime` ([`KeyTime::starting_at_time`], [`verify_presigned_url`],
//! and [`unix_secs`] for the rest); the signer
//! returns what to add.
//!
//! The stages, in order (see `docs/signing.md`):
//! [`encode`] → [`KeyTime`] → [`sign_key`] → [`canonicalize`] (params and
//! headers) → [`http_string`] → [`string_to_sign`] → [`signature`] →
//! [`Authorization`]. [`sign_stages`] returns all of them at once.
//!
//! Temporary credentials are long-term ones plus a session token:
//! `Credentials::new(id, key).with_session_token(token)`. A pre-signed URL
//! then carries the token as `x-cos-security-token`; `Debug` never shows
//! the key or the token.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};
//!
//! let credentials = Credentials::new("AKIDexample", "secret").with_session_token("token");
//! let signer = Signer::new(credentials, HeaderPolicy::OfficialDefault);
//! let headers = [("host", "examplebucket-1250000000.ci.ap-beijing.myqcloud.com")];
//! let request = SignableRequest { method: "GET", path: "/workflowexecution", query: &[], headers: &headers };
//! let key_time = KeyTime::starting_at_time(SystemTime::now(), Duration::from_secs(600));
//!
//! // A header value…
//! let authorization = signer.authorization(&request, key_time);
//! assert!(authorization.as_str().starts_with("q-sign-algorithm=sha1&q-ak=AKIDexample&"));
//! // …or a URL anyone can open for ten minutes.
//! let url = signer.presigned_url("https", &request, key_time)?;
//! assert!(url.ends_with("&x-cos-security-token=token"));
//! # Ok::<(), cos_ci_sign::PresignError>(())
//! ```

#![warn(missing_docs)]

mod canonical;
mod credentials;
mod encode;
mod key_time;
mod secret;
mod signer;
mod verify;

pub use canonical::{Canonical, canonicalize};
pub use credentials::Credentials;
pub use encode::{
    DecodeError, UrlDecodeError, decode, decode_query, encode, encode_into, encode_path,
    encode_query,
};
pub use key_time::{KeyTime, KeyTimeError, unix_secs};
pub use secret::SecretString;
pub use signer::{
    Authorization, HeaderPolicy, OFFICIAL_SIGNED_HEADERS, PresignError, PresignedQuery,
    SignableRequest, Signer, Stages, http_string, sign_key, sign_stages, signature, string_to_sign,
};
pub use verify::{
    AUTHORIZATION_FIELDS, AuthorizationParseError, ParsedAuthorization, SECURITY_TOKEN_NAMES,
    Verified, VerifyError, split_presigned, verify, verify_presigned_url,
};
