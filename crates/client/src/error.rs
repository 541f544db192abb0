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
    /// the same request would get the same body.
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
    /// The operation's total deadline passed before it could finish.
    #[error("gave up after {attempts} attempt(s) in {elapsed:?} (deadline {deadline:?}){}", last_error_suffix(.last_error))]
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
    /// The driver was used out of order (a bug in the calling transport).
    #[error("operation driver misuse: {0}")]
    Usage(&'static str),
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
            Error::DeadlineExceeded {
                last_error: Some(last),
                ..
            } => last.service_error(),
            _ => None,
        }
    }

    /// The request id of the failed response, if any (from the body or the
    /// `x-ci-request-id` header).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::MalformedResponse(e) => e.request_id.as_deref(),
            _ => self.service_error().and_then(|e| e.request_id.as_deref()),
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
