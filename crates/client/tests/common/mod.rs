//! Shared fixtures: a client at a fixed time and canned responses.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cos_ci_client::{
    BlockingTransport, Client, Config, CredentialProvider, Credentials, RetryPolicy, TransportError,
};
use cos_ci_proto::{CiTimestamp, ExecutionState, ListWorkflowExecutionsOutput, WorkflowExecution};

pub const SECRET_ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
pub const SECRET_KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";
pub const SESSION_TOKEN: &str = "session-token-must-never-leak";

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub fn policy() -> RetryPolicy {
    RetryPolicy {
        jitter_seed: 1,
        ..RetryPolicy::default()
    }
}

/// The example bucket and region with `credentials`.
pub fn example_config(credentials: impl Into<CredentialProvider>) -> Config {
    Config::new("examplebucket-1250000000", "ap-beijing", credentials).unwrap()
}

pub fn client_with(policy: RetryPolicy) -> Client {
    let config = example_config(Credentials::new(SECRET_ID, SECRET_KEY)).with_retry_policy(policy);
    Client::new(config)
}

pub fn client() -> Client {
    client_with(policy())
}

pub fn execution(n: usize) -> WorkflowExecution {
    WorkflowExecution {
        run_id: format!("i{n:032x}"),
        workflow_id: "web6ac56c1ef54dbfa44d7f4103203be9".to_owned(),
        object: format!("input/video {n}.mp4"),
        create_time: Some(CiTimestamp::from_unix(1_660_000_000 + n as i64, 8 * 3600).unwrap()),
        state: ExecutionState::Success,
    }
}

pub fn page(
    items: std::ops::Range<usize>,
    next_token: Option<&str>,
) -> ListWorkflowExecutionsOutput {
    ListWorkflowExecutionsOutput {
        request_id: Some("req-1".to_owned()),
        executions: items.map(execution).collect(),
        next_token: next_token.map(str::to_owned),
    }
}

pub fn ok_response(output: &ListWorkflowExecutionsOutput) -> http::Response<Bytes> {
    cos_ci_testkit::ok_response(cos_ci_proto::XmlDocument::to_xml(output))
}

#[allow(unused_imports)]
pub use cos_ci_testkit::error_response;

pub fn error_response_with(
    status: u16,
    code: &str,
    message: &str,
    headers: &[(&str, &str)],
) -> http::Response<Bytes> {
    let mut builder = http::Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .header("server", "tencent-ci")
        .header("x-ci-request-id", "req-err");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>req-err</RequestId><TraceId>trace-1</TraceId></Error>"
    );
    builder.body(Bytes::from(body)).unwrap()
}

// ---- a blocking transport on virtual time ----

/// How a [`VirtualTransport`]'s service answers: given its state, the
/// request and the virtual time.
pub type Answer<S> =
    fn(&mut S, http::Request<Bytes>, SystemTime) -> Result<http::Response<Bytes>, TransportError>;

/// A [`BlockingTransport`] on a virtual clock, starting at [`t0`]: each
/// exchange takes `latency`, a wait only moves the clock on, and both are
/// recorded.
pub struct VirtualTransport<S> {
    /// The service's state, for `answer` (and the test) to look at.
    pub state: S,
    answer: Answer<S>,
    latency: Duration,
    pub now: SystemTime,
    /// Each request's URI and the deadline it was sent with, in order.
    pub sent: Vec<(http::Uri, Option<SystemTime>)>,
    /// Each wait, in order.
    pub slept: Vec<Duration>,
}

impl<S> VirtualTransport<S> {
    pub fn new(state: S, latency: Duration, answer: Answer<S>) -> Self {
        Self {
            state,
            answer,
            latency,
            now: t0(),
            sent: Vec::new(),
            slept: Vec::new(),
        }
    }
}

impl<S> BlockingTransport for VirtualTransport<S> {
    fn send(
        &mut self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        self.sent.push((request.uri().clone(), deadline));
        let answer = (self.answer)(&mut self.state, request, self.now);
        self.now += self.latency;
        answer
    }

    fn now(&self) -> SystemTime {
        self.now
    }

    fn sleep(&mut self, delay: Duration) {
        self.slept.push(delay);
        self.now += delay;
    }
}

// ---- credentials: an environment and a file system in memory ----

pub mod creds {
    use std::collections::HashMap;
    use std::ffi::OsString;
    use std::io;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use cos_ci_client::credentials::ReadFiles;

    /// Files in memory; `set` replaces one (e.g. a rotated token).
    #[derive(Debug, Default)]
    pub struct MemoryFiles(Mutex<HashMap<PathBuf, Vec<u8>>>);

    impl MemoryFiles {
        pub fn new(files: &[(&str, &str)]) -> Arc<Self> {
            let this = Self::default();
            for (path, text) in files {
                this.set(path, text);
            }
            Arc::new(this)
        }

        pub fn set(&self, path: &str, text: &str) {
            self.0
                .lock()
                .unwrap()
                .insert(PathBuf::from(path), text.as_bytes().to_vec());
        }
    }

    impl ReadFiles for MemoryFiles {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.0
                .lock()
                .unwrap()
                .get(path)
                .cloned()
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        }
    }

    /// An env lookup over fixed pairs.
    pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(*v)))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    pub const HOME: &str = "/home/u";

    /// Who hands out temporary credentials: the CVM metadata service or
    /// STS (AssumeRoleWithWebIdentity), each with its own JSON.
    #[derive(Debug, Clone, Copy)]
    pub enum Issuer {
        Metadata,
        Sts,
    }

    /// `issuer`'s answer handing out these credentials.
    pub fn issued(
        issuer: Issuer,
        id: &str,
        key: &str,
        token: &str,
        expired_time: u64,
    ) -> http::Response<Bytes> {
        let body = match issuer {
            Issuer::Metadata => format!(
                r#"{{"TmpSecretId":"{id}","TmpSecretKey":"{key}","ExpiredTime":{expired_time},"Expiration":"2030-01-01T00:00:00Z","Token":"{token}","Code":"Success"}}"#
            ),
            Issuer::Sts => format!(
                r#"{{"Response":{{"Credentials":{{"Token":"{token}","TmpSecretId":"{id}","TmpSecretKey":"{key}"}},"ExpiredTime":{expired_time},"Expiration":"2030-01-01T00:00:00Z","RequestId":"sts-req-1"}}}}"#
            ),
        };
        text(200, &body)
    }

    pub fn text(status: u16, body: &str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }
}
