//! `RequestHandler`: the emulator's request handling without a socket, with
//! a fixed clock so the signatures are reproducible.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{assert_mentions, refusal};
use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig, RequestHandler,
};
use cos_ci_proto::{CiAction, ListWorkflowExecutions, ListWorkflowExecutionsOutput};
use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};

const NOW: u64 = 1_767_600_000;
const TOKEN: &str = "temporary-session-token";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn handler(session_token: Option<&str>) -> RequestHandler {
    RequestHandler::new(EmulatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        dataset: Dataset::generate(30, 5),
        session_token: session_token.map(Into::into),
        log_requests: false,
        ..EmulatorConfig::default()
    })
}

/// `GET /workflowexecution?<query>` with `headers`, signed at `NOW` with the
/// default credentials over every header it carries.
fn signed(query: &[(&str, &str)], headers: &[(&str, &str)]) -> http::Request<()> {
    let signable = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query,
        headers,
    };
    let authorization = Signer::new(
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
        HeaderPolicy::All,
    )
    .authorization(&signable, KeyTime::starting_at(NOW - 60, 3600));
    let target = if query.is_empty() {
        "/workflowexecution".to_owned()
    } else {
        let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("/workflowexecution?{}", pairs.join("&"))
    };
    let mut builder = http::Request::get(target).header("authorization", authorization.as_str());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("a valid request")
}

/// The page in a `200` answer, in CI's shape.
#[track_caller]
fn page(response: &http::Response<bytes::Bytes>) -> ListWorkflowExecutionsOutput {
    assert_eq!(response.status(), 200);
    ListWorkflowExecutions::parse_response(response.status(), response.headers(), response.body())
        .expect("the body is CI's XML")
}

#[test]
fn a_signed_request_gets_a_page_in_ci_shape() {
    let handler = handler(None);
    let request = signed(&[("size", "7")], &[("host", handler.virtual_host())]);
    let response = handler.handle_at(&request, now());
    let output = page(&response);
    assert_eq!(response.headers()["content-type"], "application/xml");
    assert_eq!(response.headers()["server"], "tencent-ci");
    assert_eq!(
        response.headers()["date"],
        httpdate::fmt_http_date(now()).as_str()
    );
    assert_eq!(output.executions.len(), 7);
    assert!(output.next_token.is_some());
    let request_id = response.headers()["x-ci-request-id"].to_str().ok();
    assert_eq!(output.request_id.as_deref(), request_id);
}

#[test]
fn the_listen_address_is_a_valid_host_too() {
    let handler = handler(None);
    let request = signed(&[], &[("host", "127.0.0.1:8080")]);
    assert_eq!(handler.handle_at(&request, now()).status(), 200);
    let request = signed(&[], &[("host", "localhost:8080")]);
    assert_eq!(handler.handle_at(&request, now()).status(), 200);
}

#[test]
fn a_foreign_host_is_refused_before_the_signature() {
    let handler = handler(None);
    for host in [
        "127.0.0.1:8081",
        "127.0.0.2:8080",
        "[::1]:8080",
        "example.com",
        "otherbucket-1.ci.ap-beijing.myqcloud.com",
    ] {
        let request = signed(&[], &[("host", host)]);
        let response = handler.handle_at(&request, now());
        let error = refusal(host, &response, 400, "InvalidHost");
        assert!(response.headers().contains_key("x-ci-trace-id"));
        assert_eq!(
            error.request_id.as_deref(),
            response.headers()["x-ci-request-id"].to_str().ok()
        );
    }
}

#[test]
fn the_session_token_is_required_when_configured() {
    let handler = handler(Some(TOKEN));
    let host = handler.virtual_host().to_owned();

    let missing = handler.handle_at(&signed(&[], &[("host", &host)]), now());
    let error = refusal("no token", &missing, 403, "AccessDenied");
    assert_mentions(&error, "x-ci-security-token");

    let wrong = signed(&[], &[("host", &host), ("x-cos-security-token", "nope")]);
    assert_eq!(handler.handle_at(&wrong, now()).status(), 403);

    for name in ["x-ci-security-token", "x-cos-security-token"] {
        let right = signed(&[], &[("host", &host), (name, TOKEN)]);
        assert_eq!(handler.handle_at(&right, now()).status(), 200, "{name}");
    }
}

#[test]
fn the_clock_decides_expiry() {
    let handler = handler(None);
    let request = signed(&[], &[("host", handler.virtual_host())]);
    let later = now() + Duration::from_secs(7200);
    refusal(
        "two hours later",
        &handler.handle_at(&request, later),
        401,
        "SignatureExpired",
    );
    // `handle` uses the real clock, long after NOW.
    assert_eq!(handler.handle(&request).status(), 401);
}

#[test]
fn inserted_executions_are_served() {
    let handler = handler(None);
    let before = handler.len();
    let record = Dataset::generate(1, 99).records()[0].clone();
    handler.insert(record.clone());
    assert_eq!(handler.len(), before + 1);
    let request = signed(
        &[("workflowId", record.workflow_id.as_str())],
        &[("host", handler.virtual_host())],
    );
    let output = page(&handler.handle_at(&request, now()));
    assert!(output.executions.iter().any(|e| e.run_id == record.run_id));
}
