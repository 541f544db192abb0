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
//! (or `COS_SECRET_ID` / `COS_SECRET_KEY`) and optionally
//! `TENCENTCLOUD_SESSION_TOKEN` (`common/mod.rs` reads them and the flags).
//! This build of ureq has no
//! TLS (the dev-dependency keeps its default features off), so plain
//! `http://` only; enable ureq's `rustls` feature for `https`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use cos_ci_client::bytes::Bytes;
use cos_ci_client::{
    BlockingClient, BlockingTransport, Error, ListWorkflowExecutions, PageSize, PagingOptions,
    TransportError, TransportErrorKind as Kind, attempt_timeout, http,
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
        let timeout = attempt_timeout(deadline, self.now(), ATTEMPT_TIMEOUT)?;
        let request = self.0.configure_request(request.map(Vec::from));
        let request = request.timeout_global(Some(timeout)).build();
        let (parts, body) = self.0.run(request).map_err(by_kind)?.into_parts();
        let body = body.into_with_config().limit(MAX_BODY);
        let body = body.read_to_vec().map_err(by_kind)?;
        Ok(http::Response::from_parts(parts, body.into()))
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&mut self, delay: Duration) {
        std::thread::sleep(delay);
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

mod common;

fn main() -> ExitCode {
    common::main(|config| {
        let mut client = BlockingClient::new(config, UreqTransport::default());
        let run_ids = list_run_ids(&mut client).map_err(|e| e.to_string())?;
        Ok(run_ids.len())
    })
}
