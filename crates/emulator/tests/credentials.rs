//! The emulator standing in for the instance metadata service and STS,
//! and the CI API taking the temporary credentials they issue until they
//! expire: socket-free with a fixed clock, and once over HTTP.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig, RequestHandler};
use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};
use serde_json::Value;

const NOW: u64 = 1_767_600_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn handler(role: Option<&str>, sts: bool, lifetime: Duration) -> RequestHandler {
    RequestHandler::new(EmulatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        dataset: Dataset::generate(20, 5),
        metadata_role: role.map(str::to_owned),
        sts,
        credential_lifetime: lifetime,
        log_requests: false,
        ..EmulatorConfig::default()
    })
}

fn get(path: &str) -> http::Request<Bytes> {
    http::Request::get(path)
        .header("host", "127.0.0.1:8080")
        .body(Bytes::new())
        .unwrap()
}

fn json(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).unwrap()
}

fn assume_role(headers: &[(&str, &str)], body: &str) -> http::Request<Bytes> {
    let mut builder = http::Request::post("/").header("host", "127.0.0.1:8080");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

const STS_HEADERS: [(&str, &str); 5] = [
    ("authorization", "SKIP"),
    ("x-tc-action", "AssumeRoleWithWebIdentity"),
    ("x-tc-version", "2018-08-13"),
    ("x-tc-region", "ap-guangzhou"),
    ("content-type", "application/json"),
];

const STS_BODY: &str = r#"{"ProviderId":"any-provider","WebIdentityToken":"eyJhbGciOi.token","RoleArn":"qcs::cam::uin/100:roleName/r","RoleSessionName":"cos-ci-1","DurationSeconds":7200}"#;

/// A signed `GET /workflowexecution` with temporary credentials.
fn list_with(credentials: &Credentials, signed_at: u64) -> http::Request<Bytes> {
    let token = credentials
        .expose_session_token()
        .unwrap_or_default()
        .to_owned();
    let headers = [
        ("host", "127.0.0.1:8080"),
        ("x-ci-security-token", token.as_str()),
    ];
    let signable = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: &[],
        headers: &headers,
    };
    let authorization = Signer::new(credentials.clone(), HeaderPolicy::All)
        .authorization(&signable, KeyTime::starting_at(signed_at - 60, 3600));
    let mut builder =
        http::Request::get("/workflowexecution").header("authorization", authorization.as_str());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(Bytes::new()).unwrap()
}

fn credentials_from(body: &Value) -> Credentials {
    let text = |name: &str| body[name].as_str().unwrap().to_owned();
    Credentials::new(text("TmpSecretId"), text("TmpSecretKey")).with_session_token(text("Token"))
}

#[test]
fn the_metadata_stand_in_lists_its_role_and_issues_credentials() {
    let handler = handler(Some("cos-ci-role"), false, Duration::from_secs(600));
    let list = handler
        .handle_credentials_at(&get("/latest/meta-data/cam/security-credentials/"), at(NOW))
        .unwrap();
    assert_eq!(list.status(), 200);
    assert_eq!(list.body(), "cos-ci-role");

    let answer = handler
        .handle_credentials_at(
            &get("/latest/meta-data/cam/security-credentials/cos-ci-role"),
            at(NOW),
        )
        .unwrap();
    let body = json(&answer);
    assert_eq!(body["Code"], "Success");
    assert_eq!(body["ExpiredTime"], NOW + 600);
    assert_eq!(body["Expiration"], "2026-01-05T08:10:00Z");
    assert!(body["TmpSecretId"].as_str().unwrap().starts_with("AKIDtmp"));

    // The form without /latest (coscli, the Java COS SDK) works too.
    let again = handler
        .handle_credentials_at(
            &get("/meta-data/cam/security-credentials/cos-ci-role"),
            at(NOW),
        )
        .unwrap();
    assert_ne!(
        json(&again)["Token"],
        body["Token"],
        "a fresh set each time"
    );

    let wrong = handler
        .handle_credentials_at(
            &get("/latest/meta-data/cam/security-credentials/other"),
            at(NOW),
        )
        .unwrap();
    assert_eq!(wrong.status(), 404);

    // Without --metadata-role the path is the CI API's unknown URL.
    let plain = self::handler(None, false, Duration::from_secs(600));
    assert!(
        plain
            .handle_credentials_at(&get("/latest/meta-data/cam/security-credentials/"), at(NOW))
            .is_none()
    );
    assert_eq!(
        plain
            .handle_at(&get("/latest/meta-data/cam/security-credentials/"), at(NOW))
            .status(),
        404
    );
}

#[test]
fn the_sts_stand_in_assumes_any_role_with_a_token() {
    let handler = handler(None, true, Duration::from_secs(3600));
    let answer = handler
        .handle_credentials_at(&assume_role(&STS_HEADERS, STS_BODY), at(NOW))
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body = json(&answer);
    let response = &body["Response"];
    assert_eq!(response["ExpiredTime"], NOW + 3600);
    assert!(
        response["Credentials"]["Token"]
            .as_str()
            .unwrap()
            .starts_with("emulator-token-")
    );
    assert!(response["RequestId"].is_string());

    // Headers, body, the error code.
    type Case = (Vec<(&'static str, &'static str)>, String, &'static str);
    let cases: Vec<Case> = vec![
        (
            STS_HEADERS[1..].to_vec(),
            STS_BODY.to_owned(),
            "AuthFailure.InvalidAuthorization",
        ),
        (
            STS_HEADERS.to_vec(),
            STS_BODY.replace("eyJhbGciOi.token", ""),
            "InvalidParameter.WebIdentityTokenError",
        ),
        (
            STS_HEADERS.to_vec(),
            STS_BODY.replace("any-provider", ""),
            "MissingParameter",
        ),
        (
            STS_HEADERS.to_vec(),
            STS_BODY.replace("7200", "99999"),
            "InvalidParameter.DurationSeconds",
        ),
        (
            STS_HEADERS.to_vec(),
            "not json".to_owned(),
            "InvalidParameter",
        ),
        (
            vec![("authorization", "SKIP"), ("x-tc-action", "AssumeRole")],
            STS_BODY.to_owned(),
            "InvalidAction",
        ),
    ];
    for (headers, body, code) in cases {
        let answer = handler
            .handle_credentials_at(&assume_role(&headers, &body), at(NOW))
            .unwrap();
        assert_eq!(answer.status(), 200, "STS answers errors with 200");
        assert_eq!(json(&answer)["Response"]["Error"]["Code"], code, "{body}");
    }
}

#[test]
fn the_api_takes_issued_credentials_until_they_expire() {
    let handler = handler(Some("r"), true, Duration::from_secs(60));
    let answer = handler
        .handle_credentials_at(
            &get("/latest/meta-data/cam/security-credentials/r"),
            at(NOW),
        )
        .unwrap();
    let credentials = credentials_from(&json(&answer));

    let response = handler.handle_at(&list_with(&credentials, NOW), at(NOW + 59));
    assert_eq!(response.status(), 200);

    let expired = handler.handle_at(&list_with(&credentials, NOW + 60), at(NOW + 60));
    let error = common::refusal("expired", &expired, 403, "AccessDenied");
    common::assert_mentions(&error, "expired");

    // The issued key with another token, or with none: refused.
    let wrong = Credentials::new(credentials.secret_id(), credentials.expose_secret_key())
        .with_session_token("not-the-token");
    let answer = handler.handle_at(&list_with(&wrong, NOW), at(NOW));
    let error = common::refusal("another token", &answer, 403, "AccessDenied");
    assert_eq!(
        error.message.as_deref(),
        Some("The security token is invalid.")
    );

    // STS-issued sets work the same way; unknown ids are unknown.
    let sts = handler
        .handle_credentials_at(&assume_role(&STS_HEADERS, STS_BODY), at(NOW))
        .unwrap();
    let sts = credentials_from(&json(&sts)["Response"]["Credentials"]);
    assert_eq!(
        handler.handle_at(&list_with(&sts, NOW), at(NOW)).status(),
        200
    );
    let unknown = Credentials::new("AKIDtmp999999", "k").with_session_token("t");
    let answer = handler.handle_at(&list_with(&unknown, NOW), at(NOW));
    common::refusal("unknown id", &answer, 401, "SecretidNotExist");
}

#[tokio::test]
async fn over_http_both_stand_ins_answer_on_the_same_port() {
    let emulator = Emulator::start(EmulatorConfig {
        metadata_role: Some("http-role".into()),
        sts: true,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let reply = common::send(
        addr,
        &common::request_text(
            "GET",
            "/latest/meta-data/cam/security-credentials/",
            &[("Host", &host)],
        ),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "http-role"));

    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\ncontent-length: {}\r\nconnection: close\r\n",
        STS_BODY.len()
    );
    for (name, value) in STS_HEADERS {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(STS_BODY);
    let reply = common::send(addr, &request).await;
    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert!(
        body["Response"]["Credentials"]["TmpSecretId"].is_string(),
        "{body}"
    );
    emulator.shutdown().await;
}
