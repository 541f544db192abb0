//! Prepared requests: exact URL, headers and signature at a fixed time.

mod common;

use common::*;
use cos_ci_client::{Client, Config, Credentials, Error};
use cos_ci_proto::ListWorkflowExecutions;
use cos_ci_testkit::list_request_with_every_parameter;

fn describe(request: &http::Request<bytes::Bytes>) -> String {
    let mut out = format!("{} {}\n", request.method(), request.uri());
    let mut headers: Vec<_> = request.headers().iter().collect();
    headers.sort_by_key(|(name, _)| name.as_str().to_owned());
    for (name, value) in headers {
        let value = value.to_str().unwrap();
        let value = if value == SESSION_TOKEN {
            "<session token>"
        } else {
            value
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    out
}

#[test]
fn prepared_list_request_snapshot() {
    let request = client()
        .prepare(&list_request_with_every_parameter(), t0())
        .unwrap();
    insta::assert_snapshot!(describe(&request));
}

#[test]
fn prepared_request_with_session_token_signs_it() {
    let config =
        example_config(Credentials::new(SECRET_ID, SECRET_KEY).with_session_token(SESSION_TOKEN));
    let request = Client::new(config)
        .prepare(&ListWorkflowExecutions::default(), t0())
        .unwrap();
    assert_eq!(request.headers()["x-ci-security-token"], SESSION_TOKEN);
    let auth = request.headers()["authorization"].to_str().unwrap();
    assert!(
        auth.contains("q-header-list=host;x-ci-security-token&"),
        "{auth}"
    );
    insta::assert_snapshot!(describe(&request));
}

#[test]
fn custom_endpoint_is_used_and_signed_as_host() {
    let config = example_config(Credentials::new("id", "key"))
        .with_endpoint("http://127.0.0.1:9000")
        .unwrap();
    let request = Client::new(config)
        .prepare(&ListWorkflowExecutions::default(), t0())
        .unwrap();
    assert_eq!(
        request.uri().to_string(),
        "http://127.0.0.1:9000/workflowexecution"
    );
    assert_eq!(request.headers()["host"], "127.0.0.1:9000");
}

#[test]
fn secrets_never_in_debug_of_config_client_or_errors() {
    let config =
        example_config(Credentials::new(SECRET_ID, SECRET_KEY).with_session_token(SESSION_TOKEN));
    let client = Client::new(config.clone());
    let op = client.operation(ListWorkflowExecutions::default());
    for text in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{op:?}"),
    ] {
        assert!(!text.contains(SECRET_KEY), "{text}");
        assert!(!text.contains(SESSION_TOKEN), "{text}");
    }
    let error = Config::new("bad", "ap-beijing", Credentials::new("id", SECRET_KEY)).unwrap_err();
    assert!(!format!("{error:?} {error}").contains(SECRET_KEY));
}

#[test]
fn config_errors_are_clear() {
    let creds = || Credentials::new("id", "key");
    let cases: &[(&str, &str, &str)] = &[
        (
            "examplebucket",
            "ap-beijing",
            "invalid bucket `examplebucket`: expected <name>-<appid>, e.g. examplebucket-1250000000",
        ),
        (
            "Bucket-125",
            "ap-beijing",
            "invalid bucket `Bucket-125`: the name may contain only lower-case letters, digits and '-'",
        ),
        (
            "examplebucket-1250000000",
            "Beijing",
            "invalid region `Beijing`: may contain only lower-case letters, digits and '-', e.g. ap-beijing",
        ),
        (
            "examplebucket-1250000000",
            "",
            "invalid region ``: must be 1 to 40 characters, e.g. ap-beijing",
        ),
    ];
    for (bucket, region, message) in cases {
        let error = Config::new(bucket, region, creds()).unwrap_err();
        assert_eq!(error.to_string(), *message);
    }
    let error = Config::new(
        "examplebucket-1250000000",
        "ap-beijing",
        Credentials::new("", "k"),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "missing credentials: the secret id is empty"
    );
    let error = example_config(creds())
        .with_endpoint("127.0.0.1:8080")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("invalid endpoint `127.0.0.1:8080`"),
        "{error}"
    );
    let _: Error = error.into();
}
