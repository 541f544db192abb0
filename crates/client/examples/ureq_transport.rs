//! A blocking transport on a real HTTP client, ureq 3, in under 50 lines:
//! the [`BlockingTransport`] contract (every status is a response, no
//! redirects, the deadline caps each attempt, failures mapped to kinds) and
//! `BlockingClient` for the retry and paging loops.
//!
//! ```text
//! cargo run -p cos-ci-client --example ureq_transport -- \
//!     --endpoint http://127.0.0.1:8080 --bucket examplebucket-1250000000 --region ap-beijing
//! ```
//! Credentials come from `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`
//! and optionally `TENCENTCLOUD_SESSION_TOKEN`. This build of ureq has no
//! TLS (the dev-dependency keeps its default features off), so plain
//! `http://` only; enable ureq's `rustls` feature for `https`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use cos_ci_client::bytes::Bytes;
use cos_ci_client::{
    BlockingClient, BlockingTransport, Config, Credentials, Error, ListWorkflowExecutions,
    PageSize, PagingOptions, TransportError, TransportErrorKind as Kind, attempt_timeout, http,
};

/// One attempt never takes longer than this, nor past the deadline.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Responses larger than this are refused rather than buffered.
const MAX_BODY: u64 = 8 * 1024 * 1024;

/// ureq's pooled agent, configured for the transport contract.
#[derive(Debug)]
pub struct UreqTransport(ureq::Agent);

impl Default for UreqTransport {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false) // a 403 is a response: the client reads its Code
            .max_redirects(0) // a 3xx is returned, never followed
            .proxy(None)
            .build();
        Self(config.into())
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &mut self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let timeout = attempt_timeout(deadline, SystemTime::now(), ATTEMPT_TIMEOUT)?;
        let request = self.0.configure_request(request.map(Vec::from));
        let request = request.timeout_global(Some(timeout)).build();
        let (parts, body) = self.0.run(request).map_err(by_kind)?.into_parts();
        let body = body.into_with_config().limit(MAX_BODY);
        let body = body.read_to_vec().map_err(by_kind)?;
        Ok(http::Response::from_parts(parts, body.into()))
    }
}

/// The contract's table of failure kinds, for ureq's errors.
fn by_kind(error: ureq::Error) -> TransportError {
    use std::io::ErrorKind as Io;
    let kind = match &error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => Kind::Connect,
        ureq::Error::Io(e) if e.kind() == Io::ConnectionRefused => Kind::Connect,
        ureq::Error::Io(e) if matches!(e.kind(), Io::UnexpectedEof | Io::ConnectionReset) => {
            Kind::ConnectionClosed
        }
        ureq::Error::Timeout(_) => Kind::Timeout,
        ureq::Error::BodyExceedsLimit(_) => Kind::ResponseTooLarge,
        _ => Kind::Io,
    };
    TransportError::new(kind, error.to_string())
}

/// Every execution's run id, following every page: the whole loop.
pub fn list_run_ids(client: &mut BlockingClient<UreqTransport>) -> Result<Vec<String>, Error> {
    let request = ListWorkflowExecutions {
        size: PageSize::new(100).ok(),
        ..Default::default()
    };
    client
        .items(request, PagingOptions::all())
        .map(|execution| execution.map(|execution| execution.run_id))
        .collect()
}

fn main() -> ExitCode {
    match run() {
        Ok(count) => {
            println!("{count} executions");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<usize, String> {
    let mut endpoint = None;
    let mut bucket = None;
    let mut region = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--endpoint" => endpoint = Some(value),
            "--bucket" => bucket = Some(value),
            "--region" => region = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    let secret_id = env("TENCENTCLOUD_SECRET_ID").ok_or("set TENCENTCLOUD_SECRET_ID")?;
    let secret_key = env("TENCENTCLOUD_SECRET_KEY").ok_or("set TENCENTCLOUD_SECRET_KEY")?;
    let mut credentials = Credentials::new(secret_id, secret_key);
    if let Some(token) = env("TENCENTCLOUD_SESSION_TOKEN") {
        credentials = credentials.with_session_token(token);
    }
    let mut config = Config::new(
        bucket.as_deref().ok_or("--bucket is required")?,
        region.as_deref().ok_or("--region is required")?,
        credentials,
    )
    .map_err(|e| e.to_string())?;
    if let Some(url) = endpoint {
        config = config.with_endpoint(&url).map_err(|e| e.to_string())?;
    }
    let mut client = BlockingClient::new(config, UreqTransport::default());
    let run_ids = list_run_ids(&mut client).map_err(|e| e.to_string())?;
    Ok(run_ids.len())
}
