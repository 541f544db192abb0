//! The one error type of a CI call.

use std::time::Duration;

use cos_ci_proto::{MalformedResponse, ServiceError, ValidationError};

use crate::ConfigError;

/// What the transport reports when no response arrived. The crate docs'
/// transport contract says which failure maps to which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// The connect or request timeout fired.
    Timeout,
    /// The connection closed before a whole response arrived (including a
    /// body shorter than its `Content-Length`).
    ConnectionClosed,
    /// Any other IO failure.
    Io,
    /// The response body exceeded the transport's size cap. Not retried:
    /// the same request would get the same body. A transport that still has
    /// the response's head should report it with
    /// [`crate::Operation::on_oversized_response`] instead, so that the
    /// caller learns the status and request id ([`Error::ResponseTooLarge`]).
    ResponseTooLarge,
}

/// A failure below HTTP: no (complete) response was received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct TransportError {
    /// Which kind.
    pub kind: TransportErrorKind,
    /// Human-readable detail. Transports must not put secrets here.
    pub message: String,
}

impl TransportError {
    /// A transport error of `kind`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Whether sending again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind != TransportErrorKind::ResponseTooLarge
    }
}

/// Why a CI call failed. Never contains the secret key or session token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request breaks a parameter rule; nothing was sent.
    #[error(transparent)]
    InvalidRequest(#[from] ValidationError),
    /// The service answered with an error.
    #[error("service error: {0}")]
    Service(ServiceError),
    /// The service answered 2xx but the body is unreadable.
    #[error(transparent)]
    MalformedResponse(MalformedResponse),
    /// No response arrived.
    #[error("transport error: {0}")]
    Transport(TransportError),
    /// The service answered, but with a body over the transport's size cap.
    /// What could be read is kept: status, request id, and the `<Error>`
    /// fields complete before the cap. Not retried: the same request would
    /// get the same body.
    #[error("the service answered with a body over the {cap}-byte cap: {answer}")]
    ResponseTooLarge {
        /// The cap, in bytes.
        cap: usize,
        /// The answer, as far as it was read.
        answer: ServiceError,
    },
    /// The operation's overall deadline ([`crate::RetryPolicy::total_deadline`])
    /// passed, or left no time for another attempt.
    #[error("gave up after {attempts} attempt(s) in {:?} at the overall deadline of {deadline:?}{}", to_millis(.elapsed), last_error_suffix(.last_error))]
    DeadlineExceeded {
        /// Attempts made.
        attempts: u32,
        /// Time since the first attempt.
        elapsed: Duration,
        /// The configured deadline.
        deadline: Duration,
        /// The last attempt's error, if an attempt finished.
        last_error: Option<Box<Error>>,
    },
    /// A listing was stopped by one of its guards (repeated cursor, empty
    /// pages, page limit).
    #[error(transparent)]
    Paging(#[from] crate::PagingError),
    /// No credentials could be had: none found, a source that is broken, or
    /// a metadata/STS fetch that failed.
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialError),
    /// The service asked to wait longer than
    /// [`crate::RetryPolicy::max_retry_after`] before retrying; its answer
    /// is `last_error`.
    #[error("{last_error}; not retried: Retry-After {retry_after:?} is over the {limit:?} limit")]
    RetryAfterTooLong {
        /// What the service asked for.
        retry_after: Duration,
        /// The policy's `max_retry_after`.
        limit: Duration,
        /// The answer that carried the `Retry-After`.
        last_error: Box<Error>,
    },
    /// A non-idempotent action (a trigger, a job submission) failed below
    /// HTTP after its request may have reached the service. It was not
    /// retried: sending it again could do it twice.
    #[error(
        "{action}: the connection failed after the request may have reached the service ({source}); \
         it was not retried because it is not idempotent: check whether it took effect before sending it again"
    )]
    MaybeApplied {
        /// The action's name, e.g. `TriggerMediaWorkflow`.
        action: &'static str,
        /// What the transport reported.
        source: TransportError,
    },
    /// The driver was used out of order (a bug in the calling transport).
    #[error("operation driver misuse: {0}")]
    Usage(&'static str),
}

/// Whole milliseconds: finer is noise in a message.
fn to_millis(duration: &Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

fn last_error_suffix(last: &Option<Box<Error>>) -> String {
    match last {
        Some(error) => format!("; last error: {error}"),
        None => String::new(),
    }
}

impl Error {
    /// Whether the same request may succeed if sent again: 5xx, 429,
    /// `SlowDown`, and transport failures other than an oversized body.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => service_error_is_retryable(e),
            Error::Transport(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// The service error, if the service answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            Error::ResponseTooLarge { answer, .. } if !(200..300).contains(&answer.status) => {
                Some(answer)
            }
            Error::DeadlineExceeded {
                last_error: Some(last),
                ..
            }
            | Error::RetryAfterTooLong {
                last_error: last, ..
            } => last.service_error(),
            _ => None,
        }
    }

    /// The request id of the failed response, if any (from the body or the
    /// `x-ci-request-id` header).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::MalformedResponse(e) => e.request_id.as_deref(),
            Error::ResponseTooLarge { answer, .. } => answer.request_id.as_deref(),
            Error::DeadlineExceeded {
                last_error: Some(last),
                ..
            }
            | Error::RetryAfterTooLong {
                last_error: last, ..
            } => last.request_id(),
            _ => self.service_error().and_then(|e| e.request_id.as_deref()),
        }
    }

    /// Whether the service (or something in front of it) answered: the
    /// error, or the last attempt's error for an operation that gave up,
    /// carries a response's status. `false` for network failures and
    /// timeouts, and for errors found before anything was sent.
    pub fn is_answer(&self) -> bool {
        match self {
            Error::Service(_)
            | Error::MalformedResponse(_)
            | Error::ResponseTooLarge { .. }
            | Error::Paging(_) => true,
            // A response arrived; only its size was refused.
            Error::Transport(e) => e.kind == TransportErrorKind::ResponseTooLarge,
            Error::DeadlineExceeded {
                last_error: Some(last),
                ..
            }
            | Error::RetryAfterTooLong {
                last_error: last, ..
            } => last.is_answer(),
            Error::DeadlineExceeded {
                last_error: None, ..
            }
            | Error::Config(_)
            | Error::InvalidRequest(_)
            | Error::Credentials(_)
            | Error::MaybeApplied { .. }
            | Error::Usage(_) => false,
        }
    }
}

pub(crate) fn service_error_is_retryable(error: &ServiceError) -> bool {
    error.status >= 500
        || error.status == 429
        || matches!(
            error.code.as_deref(),
            Some("SlowDown" | "ServiceUnavailable" | "InternalError" | "RequestTimeout")
        )
}
