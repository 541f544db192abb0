//! Response building: CI's error shape, the common headers, and a body type
//! that can also be cut short on purpose.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, DATE, HeaderValue, RETRY_AFTER, SERVER};
use http::{Response, StatusCode};
use hyper::body::{Body, Frame, SizeHint};

use cos_ci_proto::ServiceError;

/// An error answer: status, CI code and a message for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl CiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        CiError {
            status,
            code,
            message: message.into(),
        }
    }
}

/// The response body: all of it, or (fault injection) a prefix followed by
/// an error, which makes hyper abort the connection mid-body.
#[derive(Debug)]
pub(crate) struct EmulatorBody {
    data: Option<Bytes>,
    then_fail: bool,
    paused: bool,
}

impl EmulatorBody {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        EmulatorBody {
            data: Some(data.into()),
            then_fail: false,
            paused: false,
        }
    }

    pub(crate) fn cut_short(prefix: Bytes) -> Self {
        EmulatorBody {
            data: Some(prefix),
            then_fail: true,
            paused: false,
        }
    }
}

/// Raised by a cut-short body after its prefix; hyper then closes the
/// connection without finishing the response.
#[derive(Debug, thiserror::Error)]
#[error("response body deliberately cut short (fault injection)")]
pub(crate) struct BodyCut;

impl Body for EmulatorBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take().filter(|data| !data.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if this.then_fail && !this.paused {
            // Yield once so hyper flushes the head and the prefix before the
            // error makes it drop the connection.
            this.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if this.then_fail {
            this.then_fail = false;
            return Poll::Ready(Some(Err(BodyCut)));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        !self.then_fail && self.data.as_ref().is_none_or(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, self.then_fail) {
            (_, true) => SizeHint::default(),
            (Some(data), false) => SizeHint::with_exact(data.len() as u64),
            (None, false) => SizeHint::with_exact(0),
        }
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Headers every CI response has: `Server`, `Date`, `x-ci-request-id`.
fn common(status: StatusCode, request_id: &str, body: Bytes, now: SystemTime) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("tencent-ci"));
    headers.insert(DATE, header(&httpdate::fmt_http_date(now)));
    headers.insert("x-ci-request-id", header(request_id));
    response
}

/// A 200 with an XML document.
pub(crate) fn xml_ok(request_id: &str, xml: String, now: SystemTime) -> Response<Bytes> {
    let mut response = common(StatusCode::OK, request_id, Bytes::from(xml), now);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

/// An empty 200 (pause, activate, cancel), as CI answers them.
pub(crate) fn empty_ok(request_id: &str, now: SystemTime) -> Response<Bytes> {
    let mut response = common(StatusCode::OK, request_id, Bytes::new(), now);
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(0));
    response
}

/// CI's error document with its headers (`x-ci-trace-id` only on errors).
pub(crate) fn error(
    error: &CiError,
    request_id: &str,
    trace_id: &str,
    now: SystemTime,
) -> Response<Bytes> {
    let body = ServiceError {
        status: error.status.as_u16(),
        code: Some(error.code.to_owned()),
        message: Some(error.message.clone()),
        request_id: Some(request_id.to_owned()),
        trace_id: Some(trace_id.to_owned()),
        body_excerpt: None,
    }
    .write_xml();
    let mut response = common(error.status, request_id, Bytes::from(body), now);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    headers.insert("x-ci-trace-id", header(trace_id));
    if error.status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The same response, but announcing its full length and sending only the
/// first half of the body before the connection drops.
pub(crate) fn truncate(response: Response<Bytes>) -> Response<EmulatorBody> {
    let (mut parts, full) = response.into_parts();
    let prefix = full.slice(..full.len() / 2);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(full.len()));
    Response::from_parts(parts, EmulatorBody::cut_short(prefix))
}
