//! `cos-ci-sign`: the COS `q-sign-algorithm=sha1` request signature used by
//! Tencent Cloud Infinite (CI), exact to the byte, with every stage visible.
//!
//! What it is for: turning a request (method, decoded path, decoded query
//! pairs, headers), a pair of [`Credentials`] and a [`KeyTime`] into an
//! `Authorization` value (or pre-signed query pairs), and, for servers,
//! checking such a value with [`verify`].
//!
//! What it never does: read the clock, do IO, use randomness or mutate a
//! request. Time is always a parameter; the signer returns what to add.
//!
//! The stages, in order (see `docs/signing.md`):
//! [`encode`] → [`KeyTime`] → [`sign_key`] → [`canonicalize`] (params and
//! headers) → [`http_string`] → [`string_to_sign`] → [`signature`] →
//! [`Authorization`]. [`sign_stages`] returns all of them at once.

mod canonical;
mod credentials;
mod encode;
mod key_time;
mod signer;
mod verify;

pub use canonical::{Canonical, canonicalize};
pub use credentials::Credentials;
pub use encode::{DecodeError, decode, encode, encode_into};
pub use key_time::{KeyTime, KeyTimeError};
pub use signer::{
    Authorization, HeaderPolicy, OFFICIAL_SIGNED_HEADERS, PresignedQuery, SignableRequest, Signer,
    Stages, http_string, sign_key, sign_stages, signature, string_to_sign,
};
pub use verify::{
    AUTHORIZATION_FIELDS, AuthorizationParseError, ParsedAuthorization, SECURITY_TOKEN_NAMES,
    Verified, VerifyError, split_presigned, verify,
};
