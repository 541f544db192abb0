//! Driving the sans-IO client over a plain blocking `std::net::TcpStream`,
//! with HTTP/1.1 written by hand and no async runtime: proof that the client
//! embeds in any transport. The retry and paging loops are
//! `BlockingClient`'s; this file only moves bytes.
//!
//! ```text
//! cargo run -p cos-ci-client --example std_transport -- \
//!     --endpoint http://127.0.0.1:8080 --bucket examplebucket-1250000000 --region ap-beijing
//! ```
//! Credentials come from `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`
//! (or `COS_SECRET_ID` / `COS_SECRET_KEY`) and optionally
//! `TENCENTCLOUD_SESSION_TOKEN` (`common/mod.rs` reads them and the flags).
//! Plain `http://` only: TLS is the job of a
//! real transport such as `cos-ci-hyper`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use cos_ci_client::bytes::Bytes;
use cos_ci_client::{
    BlockingClient, BlockingTransport, ListWorkflowExecutions, PageSize, PagingOptions,
    TransportError, TransportErrorKind, attempt_timeout, http,
};

/// Responses larger than this are refused rather than buffered.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// One attempt never waits longer than this for the server, nor past the
/// operation's deadline.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

mod common;

fn main() -> ExitCode {
    common::main(|config| {
        if config.endpoint().is_https() {
            return Err("this example speaks plain http only; use cos-ci-hyper for https".into());
        }
        let transport = Transport {
            address: config.endpoint().authority().to_string(),
            stream: None,
        };
        let mut client = BlockingClient::new(config, transport);
        let request = ListWorkflowExecutions {
            size: PageSize::new(100).ok(),
            ..Default::default()
        };
        let mut count = 0;
        for page in client.pages(request, PagingOptions::all()) {
            count += page.map_err(|e| e.to_string())?.len();
        }
        Ok(count)
    })
}

/// One keep-alive connection, reopened after any failure.
struct Transport {
    address: String,
    stream: Option<BufReader<TcpStream>>,
}

impl BlockingTransport for Transport {
    fn send(
        &mut self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let result = self.try_send(&request, deadline);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&mut self, delay: Duration) {
        std::thread::sleep(delay);
    }
}

impl Transport {
    fn try_send(
        &mut self,
        request: &http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let io = |kind| move |e: std::io::Error| TransportError::new(kind, e.to_string());
        let timeout = attempt_timeout(deadline, self.now(), ATTEMPT_TIMEOUT)?;
        if self.stream.is_none() {
            let stream =
                TcpStream::connect(&self.address).map_err(io(TransportErrorKind::Connect))?;
            self.stream = Some(BufReader::new(stream));
        }
        let Some(reader) = self.stream.as_mut() else {
            return Err(TransportError::new(TransportErrorKind::Io, "no connection"));
        };
        // A read timeout bounds each wait for the server, not the whole
        // exchange: a hand-written transport's approximation of the deadline.
        reader
            .get_ref()
            .set_read_timeout(Some(timeout))
            .map_err(io(TransportErrorKind::Io))?;

        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method(), target);
        for (name, value) in request.headers() {
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(value.to_str().unwrap_or_default());
            head.push_str("\r\n");
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", request.body().len()));
        let stream = reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .map_err(io(TransportErrorKind::Io))?;
        stream
            .write_all(request.body())
            .map_err(io(TransportErrorKind::Io))?;

        // The read timeout expiring is the contract's `Timeout`.
        let read_failed = |e: std::io::Error| {
            let kind = match e.kind() {
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    TransportErrorKind::Timeout
                }
                _ => TransportErrorKind::Io,
            };
            TransportError::new(kind, e.to_string())
        };
        let closed = || {
            TransportError::new(
                TransportErrorKind::ConnectionClosed,
                "connection closed mid-response",
            )
        };
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(read_failed)? == 0 {
            return Err(closed());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| TransportError::new(TransportErrorKind::Io, "bad status line"))?;
        let mut builder = http::Response::builder().status(status);
        let mut content_length = None;
        let mut chunked = false;
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(read_failed)? == 0 {
                return Err(closed());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                }
                builder = builder.header(name, value);
            }
        }
        let body = if chunked {
            read_chunked(reader).map_err(|_| closed())?
        } else {
            let length = content_length.unwrap_or(0);
            if length > MAX_BODY {
                return Err(TransportError::new(
                    TransportErrorKind::ResponseTooLarge,
                    "body over 8 MiB",
                ));
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).map_err(|_| closed())?;
            body
        };
        builder
            .body(Bytes::from(body))
            .map_err(|e| TransportError::new(TransportErrorKind::Io, e.to_string()))
    }
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size_text = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            line.clear();
            reader.read_line(&mut line)?;
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(std::io::Error::other("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}
