//! A minimal HTTP/1.1 client for the emulator's tests: raw bytes on a
//! `TcpStream`, so every test controls exactly what goes on the wire.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cos_ci_emulator::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Emulator, EmulatorConfig};
use cos_ci_proto::ServiceError;
use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The text of the first `<name>` element of the body.
    pub fn element(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body.get(start..)?.find(&close)? + start;
        Some(self.body.get(start..end)?.to_owned())
    }

    pub fn elements(&self, name: &str) -> Vec<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let mut found = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            found.push(after[..end].to_owned());
            rest = &after[end + close.len()..];
        }
        found
    }

    pub fn code(&self) -> Option<String> {
        self.element("Code")
    }

    /// Assert that the error's `<Message>` mentions `text`.
    #[track_caller]
    pub fn assert_message_mentions(&self, text: &str) {
        assert!(
            self.element("Message").is_some_and(|m| m.contains(text)),
            "`{text}` not in the message: {}",
            self.body
        );
    }
}

/// An emulator serving `config`, without its request log (the tests'
/// output stays readable).
pub async fn start_quiet(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        log_requests: false,
        ..config
    })
    .await
    .expect("start")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

pub fn valid_key_time() -> KeyTime {
    KeyTime::starting_at(now() - 60, 3600)
}

pub fn default_credentials() -> Credentials {
    Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
}

/// The `Authorization` for a request, signing exactly `signed_headers` and
/// every pair of `query`.
pub fn authorization(
    credentials: &Credentials,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    signed_headers: &[(&str, &str)],
    key_time: KeyTime,
) -> String {
    let signer = Signer::new(credentials.clone(), HeaderPolicy::All);
    let request = SignableRequest {
        method,
        path,
        query,
        headers: signed_headers,
    };
    signer.authorization(&request, key_time).as_str().to_owned()
}

/// The wire form of `pairs`, each key and value encoded like the signer.
pub fn wire_query(pairs: &[(&str, &str)]) -> String {
    cos_ci_proto::query::encode_query(pairs)
}

/// A full request; `target` is the wire path and query.
pub fn request_text(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut text = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("connection: close\r\n\r\n");
    text
}

/// Send raw bytes, read until the server closes.
pub async fn send_raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut received = Vec::new();
    // A reset after a cut-short body still leaves what was received.
    let _ = stream.read_to_end(&mut received).await;
    received
}

pub fn parse(bytes: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

pub async fn send(addr: SocketAddr, request: &str) -> Reply {
    let bytes = send_raw(addr, request.as_bytes()).await;
    parse(&bytes)
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(&bytes)))
}

/// The `Authorization` the official SDKs send: the default credentials,
/// valid now, signing `host` (as given, which need not be the `Host` sent)
/// and every pair of `query`.
pub fn sdk_authorization(method: &str, path: &str, query: &[(&str, &str)], host: &str) -> String {
    authorization(
        &default_credentials(),
        method,
        path,
        query,
        &[("host", host)],
        valid_key_time(),
    )
}

/// `method target` with `Host: host`, `Authorization: auth` and then
/// `extra` headers.
pub async fn send_authorized(
    addr: SocketAddr,
    method: &str,
    target: &str,
    host: &str,
    auth: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers = vec![("Host", host), ("Authorization", auth)];
    headers.extend_from_slice(extra);
    send(addr, &request_text(method, target, &headers)).await
}

/// A GET of `/workflowexecution` signed like the official SDKs sign it:
/// host plus every query parameter, with the default credentials.
pub async fn signed_list(addr: SocketAddr, query: &[(&str, &str)]) -> Reply {
    let host = addr.to_string();
    let auth = sdk_authorization("GET", "/workflowexecution", query, &host);
    let target = format!("/workflowexecution?{}", wire_query(query));
    send_authorized(addr, "GET", &target, &host, &auth, &[]).await
}

/// `method` on the decoded `path` (sent encoded segment by segment), signed
/// like the official SDKs sign: host plus every query parameter. A pair
/// with an empty value goes as a bare sub-resource (`?active`), as the
/// client sends it.
pub async fn signed(addr: SocketAddr, method: &str, path: &str, query: &[(&str, &str)]) -> Reply {
    let host = addr.to_string();
    let auth = sdk_authorization(method, path, query, &host);
    let wire_path = path
        .split('/')
        .map(cos_ci_sign::encode)
        .collect::<Vec<_>>()
        .join("/");
    let target = if query.is_empty() {
        wire_path
    } else {
        let parts: Vec<String> = query
            .iter()
            .map(|&(key, value)| {
                if value.is_empty() {
                    cos_ci_sign::encode(key)
                } else {
                    wire_query(&[(key, value)])
                }
            })
            .collect();
        format!("{wire_path}?{}", parts.join("&"))
    };
    send_authorized(
        addr,
        method,
        &target,
        &host,
        &auth,
        &[("Content-Length", "0")],
    )
    .await
}

/// Assert that `reply` is CI's error with this status and `Code`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_error_for("", reply, status, code);
}

/// [`assert_error`], naming the case (`context`) when it fails.
#[track_caller]
pub fn assert_error_for(context: impl std::fmt::Display, reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        (reply.status, reply.code().as_deref()),
        (status, Some(code)),
        "{context}: {}",
        reply.body
    );
}

/// CI's error in an in-process answer (`RequestHandler`), which must have
/// this status and `Code` (`context` names the case when it has not).
#[track_caller]
pub fn refusal(
    context: impl std::fmt::Display,
    response: &http::Response<Bytes>,
    status: u16,
    code: &str,
) -> ServiceError {
    let error = ServiceError::from_response(response.status(), response.headers(), response.body());
    assert_eq!(
        (error.status, error.code.as_deref()),
        (status, Some(code)),
        "{context}: {error:?}"
    );
    error
}

/// Assert that CI's error mentions `text` in its message.
#[track_caller]
pub fn assert_mentions(error: &ServiceError, text: &str) {
    assert!(
        error.message.as_deref().is_some_and(|m| m.contains(text)),
        "`{text}` not in the message: {error:?}"
    );
}
