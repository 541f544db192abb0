//! `cos-ci-client`: the transport-agnostic, sans-IO Cloud Infinite client.
//!
//! ```toml
//! [dependencies]
//! cos-ci-client = "0.1"
//! ```
//!
//! That one line is enough: the crate re-exports [`http`] and [`bytes`]
//! (its requests are `http::Request<Bytes>`), the wire model
//! ([`cos_ci_proto`], with the common request and error types at the root)
//! and the signer ([`cos_ci_sign`], with [`Credentials`] at the root).
//!
//! What it is for: everything about a CI call except moving bytes — the
//! [`Config`] (bucket, region, endpoint, credentials), building signed
//! `http::Request`s ([`Client::prepare`]), reading `http::Response`s into
//! typed outputs or a typed [`Error`] ([`Client::read`]), and the decisions a
//! robust caller needs as plain data: the [`Operation`] driver (send this /
//! wait this long / done, with retries, backoff, `Retry-After`, deadlines and
//! clock-skew correction) and the [`Paginator`].
//!
//! What it never does: IO of any kind — no sockets, no files, no spawning —
//! nor decide anything from the clock or randomness by itself. The caller
//! passes `now` in and acts on each [`Step`]; the credential chain reads
//! only what the caller's env lookup and [`credentials::ReadFiles`] give it
//! (`cos_ci_hyper::SystemFiles` reads the real file system). It never
//! sleeps or reads the clock either, not even in the opt-in [`blocking`]
//! module: that one asks its transport for the time and to wait
//! ([`BlockingTransport::now`] and [`BlockingTransport::sleep`], which a
//! real transport implements with `SystemTime::now()` and
//! `std::thread::sleep`). [`RetryPolicy::random_jitter_seed`] is the one
//! place that draws a random number. `cos-ci-hyper` is a ready tokio/hyper
//! transport; `examples/std_transport.rs` (hand-written HTTP/1.1 over
//! `std::net`) and `examples/ureq_transport.rs` (ureq) are blocking ones.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use cos_ci_client::{Client, Config, Credentials, ListWorkflowExecutions, Step};
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
//!
//! # Credentials and sharing
//!
//! [`Config::new`] takes fixed [`Credentials`] or any
//! [`CredentialProvider`]. Temporary credentials (STS) are the temporary
//! pair plus a session token:
//! `Credentials::new(tmp_secret_id, tmp_secret_key).with_session_token(token)`.
//! The token is sent as the signed `x-ci-security-token` header; `Debug` of
//! [`Credentials`] and [`Config`] never shows the key or the token, which
//! are [`SecretString`]s (zeroed when dropped).
//!
//! [`CredentialChain`] finds credentials the way Tencent Cloud deployments
//! have them — flags, environment, tccli profile, the SDKs' credentials
//! file, TKE OIDC, CVM instance role — and the last two are fetched and
//! refreshed by the client itself: before expiry (300 s, or a quarter of a
//! short lifetime), one refresh at a time per client, with one refresh and
//! one retry when the service refuses a token. Fetching is data like the
//! rest: a [`Step::FetchCredentials`] is the request to make to the
//! metadata service or STS, with its own short timeout (see
//! [`credentials`]).
//!
//! A [`Client`] is `Clone + Send + Sync`: clone it into every thread or task
//! (clones share the learned clock offset). An [`Operation`] or a
//! [`Paginator`] is one call's state, owned by whoever drives it.
//!
//! # Writing a transport
//!
//! A transport turns each [`Step::Send`] (and
//! [`Step::FetchCredentials`]) request into a response. With the
//! [`blocking`] helper it implements only [`BlockingTransport::send`] and
//! the two one-line clock methods `now` and `sleep`
//! (`examples/ureq_transport.rs` does it in about 30 lines); an async one
//! writes the loop of [`Operation`]'s example with its own timer, as
//! `cos-ci-hyper` does. Either way, the contract is:
//!
//! - **Send the request as it is.** The URI is absolute
//!   (`https://<bucket>.ci.<region>.myqcloud.com/workflowexecution?…`) and
//!   already encoded with the signature's encoder: do not re-encode,
//!   normalise or reorder it. Connect to its authority and send its path and
//!   query as the request target. `Host`, `Authorization`, `User-Agent` and,
//!   with temporary credentials, `x-ci-security-token` are already set and
//!   `Host` is signed: send them byte for byte and never a second `Host`.
//!   Adding unsigned headers (`Accept`) is harmless.
//! - **Every HTTP status is `Ok(response)`**, with its headers and whole
//!   body. The client reads CI's error body into [`Error::Service`] (Code,
//!   Message, RequestId) and decides what to retry: a 403 `AccessDenied` is
//!   final, a 503 is retried. Many HTTP clients turn 4xx/5xx into their own
//!   error by default (ureq's `http_status_as_error`); mapped to a
//!   [`TransportError`], the Code is lost and a final 403 is retried for
//!   nothing. Keep the response headers: `Date` corrects clock skew,
//!   `Retry-After` sets waits, `x-ci-request-id` identifies the call.
//! - **Never follow redirects.** Return the 3xx itself (it becomes a
//!   service error); following it would send the signed request, and any
//!   session token, to another host.
//! - **Credential requests get their own timeout.** A
//!   [`Step::FetchCredentials`] goes to the metadata service or STS, not
//!   to CI: give it [`CredentialRequest::timeout`] (2 s for the metadata
//!   service, connect included, so a machine that is not a CVM does not
//!   hang), report it like any response, and never log its path (the role
//!   name), body (the web-identity token) or answer (the credentials).
//! - **Honour the deadline.** `deadline` ([`Operation::deadline`]) is when
//!   the whole operation gives up: cap each attempt's timeout at what
//!   remains of it (and at your own per-attempt limit), and once it has
//!   passed return [`TransportErrorKind::Timeout`] without sending
//!   ([`attempt_timeout`] computes both).
//! - **Use real time.** Pass the current time to [`Operation::poll`],
//!   [`Operation::on_response`] and [`Operation::on_transport_error`], and
//!   wait exactly each [`Step::Wait`] before polling again.
//! - **Seed the jitter per client.** Set [`RetryPolicy::jitter_seed`] to
//!   [`RetryPolicy::random_jitter_seed`] (as [`BlockingClient::new`] and
//!   `HyperClient::new` do) so that many processes do not retry in
//!   lockstep.
//! - **Report failures by kind**, with no secret in the message (never
//!   format the request or its headers):
//!
//! | what happened | [`TransportErrorKind`] | retried |
//! |---|---|---|
//! | DNS failure, connection refused, TLS handshake failed | `Connect` | yes |
//! | connect or attempt timeout, or the deadline has passed | `Timeout` | yes |
//! | connection closed or reset before the whole response, body shorter than its `Content-Length` | `ConnectionClosed` | yes |
//! | body larger than your cap (bound what you buffer) | `ResponseTooLarge` | no |
//! | anything else: malformed HTTP, other IO errors | `Io` | yes |
//!
//! Transport failures are retried only for idempotent methods (a
//! `POST /triggerworkflow` is never sent twice), within
//! [`RetryPolicy::max_attempts`] and the deadline.

#![warn(missing_docs)]

// Re-exported so that one dependency line is enough: the public API takes
// and returns `http` and `bytes` types, the proto crate's requests, outputs
// and errors, and the sign crate's credentials.
pub use bytes;
pub use cos_ci_proto;
pub use cos_ci_proto::{
    CiAction, CiTimestamp, ExecutionState, ListWorkflowExecutions, ListWorkflowExecutionsOutput,
    MalformedResponse, Order, PageSize, PaginatedAction, ServiceError, StateFilter,
    ValidationError, WorkflowExecution,
};
pub use cos_ci_sign;
pub use cos_ci_sign::{Credentials, SecretString};
pub use http;

pub mod blocking;
mod client;
mod config;
pub mod credentials;
mod error;
mod operation;
mod paginator;
pub mod parallel;
mod retry;
mod waiter;

pub use blocking::{BlockingClient, BlockingTransport};
pub use client::Client;
pub use config::{Bucket, Config, ConfigError, CredentialPart, Endpoint, Region};
pub use credentials::{
    CredentialChain, CredentialError, CredentialProvider, CredentialRequest, CredentialSource,
    ProvidedCredentials,
};
pub use error::{Error, TransportError, TransportErrorKind};
pub use operation::{Operation, Step, attempt_timeout};
pub use paginator::{MAX_CURSOR_BYTES, Paginator, PagingError, PagingOptions};
pub use parallel::{
    FetchId, ListingStats, ListingStep, MAX_WORKERS, ParallelListing, ParallelOptions, TimeWindowed,
};
pub use retry::{Backoff, RetryDecision, RetryPolicy};
pub use waiter::{
    ExecutionWait, JobWait, Terminal, WaitEvent, WaitOutcome, WaitOutput, WaitPolicy, WaitStep,
    WaitTarget, Waiter, failed_task,
};

/// The header that carries a session token (temporary credentials) to CI,
/// signed with the request. CI hosts also accept `x-cos-security-token`;
/// this is the one the CI documentation names.
pub const SESSION_TOKEN_HEADER: &str = "x-ci-security-token";

/// The `User-Agent` this crate sends unless configured otherwise.
pub const USER_AGENT: &str = concat!("cos-ci/", env!("CARGO_PKG_VERSION"));
