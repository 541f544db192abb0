//! `cos-ci-testkit`: what cos-ci's own tests share, so a test per action
//! stays a few lines.
//!
//! What it is for: XML fixtures per action ([`fixture`], files in
//! `crates/testkit/fixtures/`), canned responses ([`ok_response`],
//! [`error_response`]), requests several crates' tests build alike
//! ([`transcode_job`], [`list_request_with_every_parameter`]), and a
//! signed call of any action to an emulator on 127.0.0.1 over a real
//! socket ([`call`], [`send`]) through the real `cos-ci-client` signing
//! path, with a hand-written HTTP/1.1 exchange so the test sees exactly
//! what went over the wire.
//!
//! What it never does: ship in a published crate, talk to anything but the
//! address it is given, or hide a failure (it panics with the reason; it is
//! test code).

use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use cos_ci_client::{Client, Config, Credentials};
use cos_ci_proto::{CiAction, ResponseError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bucket and region the emulator serves by default.
pub const BUCKET: &str = "examplebucket-1250000000";
/// See [`BUCKET`].
pub const REGION: &str = "ap-beijing";

/// The text of `crates/testkit/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("fixture {}: {error}", path.display()))
}

/// A 200 with `xml` as body, as the service sends it.
pub fn ok_response(xml: impl Into<String>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/xml")
        .header("x-ci-request-id", "req-1")
        .body(Bytes::from(xml.into()))
        .expect("a static response")
}

/// CI's `<Error>` answer with this status, Code and Message.
pub fn error_response(status: u16, code: &str, message: &str) -> http::Response<Bytes> {
    let body = format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>req-err</RequestId><TraceId>trace-1</TraceId></Error>"
    );
    http::Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .header("x-ci-request-id", "req-err")
        .body(Bytes::from(body))
        .expect("a static response")
}

/// A client for the emulator at `addr` (its default bucket and region).
pub fn emulator_client(addr: SocketAddr, credentials: Credentials) -> Client {
    let config = Config::new(BUCKET, REGION, credentials)
        .and_then(|config| config.with_endpoint(&format!("http://{addr}")))
        .expect("a valid emulator config");
    Client::new(config)
}

/// Send one request over a fresh connection (`connection: close`) and read
/// the whole answer.
pub async fn send(addr: SocketAddr, request: http::Request<Bytes>) -> http::Response<Bytes> {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str())
        .to_owned();
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method());
    for (name, value) in request.headers() {
        let value = value.to_str().expect("ASCII header");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        request.body().len()
    ));
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(request.body()).await.expect("write body");
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.expect("read");
    parse_response(&received)
}

/// Sign `action` with `credentials` as `cos-ci-client` does, send it to the
/// emulator at `addr`, and read the answer as the action's output.
#[allow(clippy::result_large_err)]
pub async fn call<A: CiAction>(
    addr: SocketAddr,
    credentials: Credentials,
    action: &A,
) -> Result<A::Output, ResponseError> {
    let client = emulator_client(addr, credentials);
    let request = client
        .prepare(action, SystemTime::now())
        .expect("a valid action");
    let response = send(addr, request).await;
    A::parse_response(response.status(), response.headers(), response.body())
}

/// An HTTP/1.1 response read whole (a `content-length` body, or everything
/// up to the close).
fn parse_response(bytes: &[u8]) -> http::Response<Bytes> {
    let split = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let mut builder = http::Response::builder().status(status);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    builder
        .body(Bytes::copy_from_slice(&bytes[split + 4..]))
        .expect("a parsed response")
}

mod ports;
mod requests;

pub use ports::closed_port_url;
pub use requests::{list_request_with_every_parameter, transcode_job};
