//! Error bodies: CI's `<Error>` XML, and whatever else comes back.

/// An error answered by the service (or something in front of it).
///
/// Keeps the HTTP status, the service's Code, Message, RequestId and TraceId
/// (from the body, else from the `x-ci-request-id` / `x-ci-trace-id` headers)
/// and, when the body was not CI's XML, a short excerpt of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceError {
    /// HTTP status code.
    pub status: u16,
    /// `<Code>`, or `code` of a JSON body.
    pub code: Option<String>,
    /// `<Message>`.
    pub message: Option<String>,
    /// `<RequestId>`, else `x-ci-request-id`, else `x-cos-request-id`.
    pub request_id: Option<String>,
    /// `<TraceId>`, else `x-ci-trace-id`, else `x-cos-trace-id`.
    pub trace_id: Option<String>,
    /// First ≤ 200 chars of a body that was not CI error XML (lossy UTF-8).
    pub body_excerpt: Option<String>,
}

// Display: `<status> <Code>: <Message> (RequestId: <id>)` leaving out what is absent.

impl ServiceError {
    /// Build from any non-success response (or a 2xx whose body is `<Error>`).
    pub fn from_response(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Self {
        let _ = (status, headers, body);
        todo!()
    }
}

/// A 2xx response whose body is not the expected document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("malformed {expected} response (status {status}): {reason}")]
pub struct MalformedResponse {
    /// HTTP status.
    pub status: u16,
    /// What root element was expected, e.g. `<Response>`.
    pub expected: &'static str,
    /// What was wrong (XML error with position, wrong root, truncated, …).
    pub reason: String,
    /// `x-ci-request-id` if the headers had one.
    pub request_id: Option<String>,
    /// First ≤ 200 chars of the body.
    pub body_excerpt: String,
}

/// Why a response did not yield an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The service said no.
    #[error("{0}")]
    Service(ServiceError),
    /// The service said yes but the body is unreadable.
    #[error(transparent)]
    Malformed(MalformedResponse),
}

/// Shared first step of every `parse_response`: non-2xx, or 2xx with an
/// `<Error>` root, becomes `Err(ResponseError::Service)`.
pub fn check_status(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<(), ResponseError> {
    let _ = (status, headers, body);
    todo!()
}
