//! `cos-ci-client`: the transport-agnostic, sans-IO Cloud Infinite client.
//!
//! What it is for: everything about a CI call except moving bytes — the
//! [`Config`] (bucket, region, endpoint, credentials), building signed
//! `http::Request`s ([`Client::prepare`]), reading `http::Response`s into
//! typed outputs or a typed [`Error`] ([`Client::read`]), and the decisions a
//! robust caller needs as plain data: the [`Operation`] driver (send this /
//! wait this long / done, with retries, backoff, `Retry-After`, deadlines and
//! clock-skew correction) and the [`Paginator`].
//!
//! What it never does: open a socket, sleep, spawn, or read the clock or an
//! entropy source. The caller passes `now` in and acts on each [`Step`]; see
//! `cos-ci-hyper` for a tokio/hyper loop and `examples/std_transport.rs` for a
//! blocking `std::net` one.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use cos_ci_client::{Client, Config, Step, Credentials};
//! use cos_ci_proto::ListWorkflowExecutions;
//!
//! let config = Config::new("examplebucket-1250000000", "ap-beijing", Credentials::new("AKID", "key"))?;
//! let client = Client::new(config);
//! let mut op = client.operation(ListWorkflowExecutions::default());
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! match op.poll(now) {
//!     Step::Send(request) => assert_eq!(request.uri().path(), "/workflowexecution"),
//!     other => panic!("expected a request, got {other:?}"),
//! }
//! # Ok::<(), cos_ci_client::Error>(())
//! ```

mod client;
mod config;
mod error;
mod operation;
mod paginator;
mod retry;

pub use client::Client;
pub use config::{Bucket, Config, ConfigError, CredentialPart, Endpoint, Region};
pub use cos_ci_sign::Credentials;
pub use error::{Error, TransportError, TransportErrorKind};
pub use operation::{Operation, Step};
pub use paginator::Paginator;
pub use retry::{Backoff, RetryDecision, RetryPolicy};

/// The header that carries a session token (temporary credentials) to CI,
/// signed with the request. CI hosts also accept `x-cos-security-token`;
/// this is the one the CI documentation names.
pub const SESSION_TOKEN_HEADER: &str = "x-ci-security-token";

/// The `User-Agent` this crate sends unless configured otherwise.
pub const USER_AGENT: &str = concat!("cos-ci/", env!("CARGO_PKG_VERSION"));
