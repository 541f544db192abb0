//! Error bodies: CI's `<Error>` XML, and whatever else comes back.
//!
//! Shared by every action: [`check_status`] is the first step of each
//! `parse_response`, and [`MalformedResponse::new`] is how each one reports a
//! 2xx body it cannot read.

use std::fmt;

use crate::xml::{self, XmlReader};

/// Longest body excerpt kept in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// Longest `Message` kept in a [`ServiceError`], in characters. A longer one
/// is cut and ends with a marker saying how many bytes were dropped, so a
/// hostile or broken server cannot flood a terminal or a log with one error.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// Longest `Code`, `RequestId` or `TraceId` kept in an error, in characters
/// (cut the same way as the message). Real ones are under 64.
pub const MAX_ID_CHARS: usize = 128;

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

impl ServiceError {
    /// Build from any non-success response (or a 2xx whose body is `<Error>`).
    ///
    /// Reads CI's `<Error>` XML (every child optional, `<Resource>` and
    /// unknown children ignored), else a JSON error object (see below), else
    /// keeps an excerpt of the body. Request and trace ids fall back to the
    /// `x-ci-*`, then `x-cos-*` headers.
    ///
    /// JSON: a flat `{"code","message","request_id"}` object (either
    /// spelling convention; code may be a number), or the nested
    /// `{"Error":{"Code","Message"},"RequestId"}` shape, also inside a
    /// top-level `"Response"` (Tencent Cloud API 3.0).
    ///
    /// Every string taken from the response is cut to [`MAX_MESSAGE_CHARS`]
    /// (message) or [`MAX_ID_CHARS`] (code and ids), with a marker of what
    /// was cut.
    pub fn from_response(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Self {
        let fields = parse_error_xml(body)
            .or_else(|| parse_error_json(body))
            .unwrap_or_else(|| ErrorFields {
                body_excerpt: body_excerpt(body),
                ..Default::default()
            });
        Self::from_fields(status, headers, fields)
    }

    /// Build from a response whose body was cut short, e.g. by a transport's
    /// size cap: `prefix` is the start of the body. The `<Error>` children
    /// complete within the prefix are kept (CI writes `Code` first), the
    /// rest falls back as in [`ServiceError::from_response`].
    pub fn from_partial_response(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        prefix: &[u8],
    ) -> Self {
        let fields = parse_partial_error_xml(prefix)
            .filter(|fields| fields.code.is_some() || fields.message.is_some())
            .unwrap_or_else(|| ErrorFields {
                body_excerpt: body_excerpt(prefix),
                ..Default::default()
            });
        Self::from_fields(status, headers, fields)
    }

    fn from_fields(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        fields: ErrorFields,
    ) -> Self {
        let id = |value: Option<String>| value.map(|text| cap_text(text, MAX_ID_CHARS));
        ServiceError {
            status: status.as_u16(),
            code: id(fields.code),
            message: fields.message.map(|text| cap_text(text, MAX_MESSAGE_CHARS)),
            request_id: id(fields
                .request_id
                .or_else(|| header_value(headers, "x-ci-request-id"))
                .or_else(|| header_value(headers, "x-cos-request-id"))),
            trace_id: id(fields
                .trace_id
                .or_else(|| header_value(headers, "x-ci-trace-id"))
                .or_else(|| header_value(headers, "x-cos-trace-id"))),
            body_excerpt: fields.body_excerpt,
        }
    }

    /// The `<Error>` document the service would send for this error (the
    /// emulator's side). Absent fields are left out.
    pub fn write_xml(&self) -> String {
        let mut out = String::from("<?xml version='1.0' encoding='utf-8' ?>\n");
        xml::open_element(&mut out, "Error");
        let fields = [
            ("Code", &self.code),
            ("Message", &self.message),
            ("RequestId", &self.request_id),
            ("TraceId", &self.trace_id),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                xml::write_text_element(&mut out, name, value);
            }
        }
        xml::close_element(&mut out, "Error");
        out
    }
}

impl fmt::Display for ServiceError {
    /// One line: `HTTP 403 AccessDenied: <message> (RequestId: <id>)`, leaving
    /// out what is absent; without a code, the status's reason phrase; without
    /// a message, the body excerpt on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        match &self.code {
            // Code and request id come from the body too: keep the line whole.
            Some(code) => write!(f, " {}", one_line(code))?,
            None => {
                let reason = http::StatusCode::from_u16(self.status)
                    .ok()
                    .and_then(|status| status.canonical_reason());
                if let Some(reason) = reason {
                    write!(f, " {reason}")?;
                }
            }
        }
        if let Some(message) = &self.message {
            write!(f, ": {}", one_line(message))?;
        } else if let Some(excerpt) = &self.body_excerpt {
            write!(f, ": {}", one_line(excerpt))?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (RequestId: {})", one_line(request_id))?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// What an error body said; every part optional.
#[derive(Debug, Default)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    trace_id: Option<String>,
    body_excerpt: Option<String>,
}

/// CI's `<Error>` document, or `None` if the body is not one (then the
/// caller keeps an excerpt instead of half-read fields).
fn parse_error_xml(body: &[u8]) -> Option<ErrorFields> {
    let mut fields = ErrorFields::default();
    let mut reader = XmlReader::open(body, "Error").ok()?;
    read_error_children(&mut reader, &mut fields).ok()?;
    reader.finish().ok()?;
    Some(fields)
}

/// The `<Error>` children that are complete in a body cut short; `None` if
/// it does not even start as an `<Error>` document.
fn parse_partial_error_xml(prefix: &[u8]) -> Option<ErrorFields> {
    // The cut may split a multi-byte character; the reader needs UTF-8.
    let prefix = match std::str::from_utf8(prefix) {
        Ok(_) => prefix,
        Err(error) => prefix.get(..error.valid_up_to()).unwrap_or_default(),
    };
    let mut fields = ErrorFields::default();
    let mut reader = XmlReader::open(prefix, "Error").ok()?;
    // The cut makes the reader fail somewhere; what was read before stays.
    let _ = read_error_children(&mut reader, &mut fields);
    Some(fields)
}

fn read_error_children(
    reader: &mut XmlReader<'_>,
    fields: &mut ErrorFields,
) -> Result<(), xml::XmlError> {
    while let Some(child) = reader.next_child()? {
        let slot = match child.name() {
            b"Code" => &mut fields.code,
            b"Message" => &mut fields.message,
            b"RequestId" => &mut fields.request_id,
            b"TraceId" => &mut fields.trace_id,
            _ => {
                reader.skip(child)?;
                continue;
            }
        };
        let text = reader.read_text(child)?;
        if slot.is_none() && !text.trim().is_empty() {
            *slot = Some(text.into_owned());
        }
    }
    Ok(())
}

/// A JSON error object: the flat shape with at least one of the keys Go's
/// SDK reads (`code`, `message`, `request_id`, in either spelling
/// convention), or `{"Error":{"Code","Message"},"RequestId"}`, optionally
/// wrapped in `{"Response": …}`.
fn parse_error_json(body: &[u8]) -> Option<ErrorFields> {
    type Object = serde_json::Map<String, serde_json::Value>;
    let mut object: Object = serde_json::from_slice(body).ok()?;
    if let Some(serde_json::Value::Object(inner)) = object.remove("Response") {
        object = inner;
    }
    let field = |object: &Object, names: &[&str]| {
        names.iter().find_map(|name| match object.get(*name)? {
            serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
    };
    let nested = ["Error", "error"]
        .iter()
        .find_map(|name| match object.get(*name) {
            Some(serde_json::Value::Object(error)) => Some(error),
            _ => None,
        });
    // Keys inside the nested error win; the request id usually sits beside it.
    let pick = |names: &[&str]| {
        nested
            .and_then(|error| field(error, names))
            .or_else(|| field(&object, names))
    };
    let fields = ErrorFields {
        code: pick(&["code", "Code", "error_code", "errorCode"]),
        message: pick(&["message", "Message", "msg", "error_message", "errorMessage"]),
        request_id: pick(&["request_id", "RequestId", "requestId"]),
        trace_id: pick(&["trace_id", "TraceId", "traceId"]),
        body_excerpt: None,
    };
    let understood =
        fields.code.is_some() || fields.message.is_some() || fields.request_id.is_some();
    understood.then_some(fields)
}

/// `text` cut to `max_chars` characters, ending with `… [N more bytes cut]`
/// when something was cut (so a reader knows the value is incomplete and by
/// how much).
pub(crate) fn cap_text(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        let dropped = text.len() - cut;
        text.truncate(cut);
        text.push_str(&format!("… [{dropped} more bytes cut]"));
    }
    text
}

/// The first ≤ 200 characters of a body (lossy UTF-8, surrounding
/// whitespace trimmed), or `None` for an empty body.
pub(crate) fn body_excerpt(body: &[u8]) -> Option<String> {
    // Four bytes per character at most: no need to decode a huge page.
    let head = body
        .get(..body.len().min(EXCERPT_CHARS * 4 + 8))
        .unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(EXCERPT_CHARS).collect())
}

/// Every run of whitespace (line breaks of any kind included) as one space:
/// the bodies and headers come from the network, the Display is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A header's value if present and visible ASCII.
pub(crate) fn header_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The request id a response's headers carry (`x-ci-request-id`, else
/// `x-cos-request-id`).
pub fn request_id_from_headers(headers: &http::HeaderMap) -> Option<String> {
    header_value(headers, "x-ci-request-id").or_else(|| header_value(headers, "x-cos-request-id"))
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

impl MalformedResponse {
    /// Describe a 2xx `body` that is not the `expected` document (e.g.
    /// `<Response>`) for `reason`.
    pub fn new(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        expected: &'static str,
        reason: impl Into<String>,
        body: &[u8],
    ) -> Self {
        MalformedResponse {
            status: status.as_u16(),
            expected,
            // The reason may quote the body (a run id, an element name).
            reason: cap_text(reason.into(), MAX_MESSAGE_CHARS),
            request_id: request_id_from_headers(headers).map(|id| cap_text(id, MAX_ID_CHARS)),
            body_excerpt: body_excerpt(body).unwrap_or_default(),
        }
    }
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
#[allow(clippy::result_large_err)] // Cold path; see `CiAction::parse_response`.
pub fn check_status(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<(), ResponseError> {
    if status.is_success() && !xml::root_is(body, "Error") {
        return Ok(());
    }
    Err(ResponseError::Service(ServiceError::from_response(
        status, headers, body,
    )))
}

impl ResponseError {
    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        match self {
            ResponseError::Service(error) => error.status,
            ResponseError::Malformed(error) => error.status,
        }
    }

    /// The request id, from the body or the headers, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ResponseError::Service(error) => error.request_id.as_deref(),
            ResponseError::Malformed(error) => error.request_id.as_deref(),
        }
    }
}
