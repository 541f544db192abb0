//! Shared fixtures: a client at a fixed time and canned responses.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cos_ci_client::{Client, Config, Credentials, RetryPolicy};
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

pub fn client_with(policy: RetryPolicy) -> Client {
    let config = Config::new(
        "examplebucket-1250000000",
        "ap-beijing",
        Credentials::new(SECRET_ID, SECRET_KEY),
    )
    .unwrap()
    .with_retry_policy(policy);
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
