//! The library and wire half of the bad-input catalogue (the CLI half is in
//! `crates/cli/tests`). Each case asserts the typed error and snapshots the
//! exact message a user sees; none may panic.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use cos_ci_client::{Config, ConfigError, CredentialPart, Credentials, Error};
use cos_ci_proto::{CiTimestamp, ListWorkflowExecutions, PageSize, StateFilter};

fn creds() -> Credentials {
    Credentials::new("AKIDexample", SECRET_KEY)
}

fn config() -> Config {
    example_config(creds())
}

/// (case name, the message a user sees, whether the typed error is the
/// expected one)
type Case = (&'static str, String, bool);

fn config_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add =
        |name, result: Result<Config, ConfigError>, check: &dyn Fn(&ConfigError) -> bool| {
            let error = result.unwrap_err();
            let ok = check(&error);
            cases.push((name, Error::Config(error).to_string(), ok));
        };
    let long_bucket = format!("{}-1250000000", "b".repeat(51));
    for (name, bucket) in [
        ("bucket without appid", "examplebucket"),
        ("bucket with upper case", "Example-1250000000"),
        ("bucket appid not numeric", "example-12a"),
        ("bucket name too long", &long_bucket),
    ] {
        add(name, Config::new(bucket, "ap-beijing", creds()), &|e| {
            matches!(e, ConfigError::InvalidBucket { .. })
        });
    }
    for (name, region) in [
        ("empty region", ""),
        ("region with space", "ap beijing"),
        ("region without dash", "beijing"),
    ] {
        add(
            name,
            Config::new("examplebucket-1250000000", region, creds()),
            &|e| matches!(e, ConfigError::InvalidRegion { .. }),
        );
    }
    let with = |id: &str, key: &str, token: Option<&str>| {
        let credentials = Credentials::new(id, key);
        let credentials = match token {
            Some(token) => credentials.with_session_token(token),
            None => credentials,
        };
        Config::new("examplebucket-1250000000", "ap-beijing", credentials)
    };
    for (name, config) in [
        ("empty secret id", with("", "k", None)),
        ("empty secret key", with("id", "", None)),
        (
            "empty session token",
            with("AKIDexample", SECRET_KEY, Some("")),
        ),
    ] {
        add(name, config, &|e| {
            matches!(e, ConfigError::MissingCredentials(_))
        });
    }
    for (name, url) in [
        ("endpoint without scheme", "127.0.0.1:8080"),
        ("endpoint ftp", "ftp://example.com"),
        ("endpoint with path", "http://127.0.0.1:8080/ci"),
        ("endpoint not a url", "http://exa mple.com"),
    ] {
        add(name, config().with_endpoint(url), &|e| {
            matches!(e, ConfigError::InvalidEndpoint { .. })
        });
    }
    for (name, url) in [
        ("endpoint port 65536", "http://127.0.0.1:65536"),
        ("endpoint port 99999999999", "http://127.0.0.1:99999999999"),
        ("endpoint port 0", "http://127.0.0.1:0"),
        ("endpoint port empty", "http://127.0.0.1:"),
    ] {
        add(
            name,
            config().with_endpoint(url),
            &|e| matches!(e, ConfigError::InvalidEndpoint { reason, .. } if reason.contains("1 to 65535")),
        );
    }
    // The part named, and what the message must say ("" for anything).
    let secret_key_with_line_feed = format!("{SECRET_KEY}\n");
    for (name, config, expected_part, says) in [
        (
            "secret id from a CRLF file",
            with("AKIDexample\r", SECRET_KEY, None),
            CredentialPart::SecretId,
            "carriage return",
        ),
        (
            "secret key with a line feed",
            with("AKIDexample", &secret_key_with_line_feed, None),
            CredentialPart::SecretKey,
            "",
        ),
        (
            "session token with a control character",
            with("AKIDexample", SECRET_KEY, Some("tok\u{1b}[31men")),
            CredentialPart::SessionToken,
            "",
        ),
        (
            "non-ASCII secret id",
            with("AKIDé", SECRET_KEY, None),
            CredentialPart::SecretId,
            "non-ASCII",
        ),
        (
            "session token ending in a space",
            with("AKIDexample", SECRET_KEY, Some("token ")),
            CredentialPart::SessionToken,
            "",
        ),
    ] {
        add(
            name,
            config,
            &|e| matches!(e, ConfigError::InvalidCredentials { part, reason } if *part == expected_part && reason.contains(says)),
        );
    }
    for (name, deadline) in [
        ("deadline zero", Duration::ZERO),
        ("deadline over a day", Duration::from_secs(86_401)),
    ] {
        add(name, config().with_deadline(deadline), &|e| {
            matches!(e, ConfigError::InvalidDeadline(_))
        });
    }
    add(
        "signature lifetime zero",
        config().with_signature_lifetime(Duration::ZERO),
        &|e| matches!(e, ConfigError::InvalidSignatureLifetime(_)),
    );
    add(
        "user agent with newline",
        config().with_user_agent("cos-ci\nx: y"),
        &|e| matches!(e, ConfigError::InvalidUserAgent),
    );
    cases
}

fn request_cases() -> Vec<Case> {
    let client = client();
    let mut cases = Vec::new();
    let mut add = |name, request: ListWorkflowExecutions, parameter: &'static str| {
        let error = client.prepare(&request, t0()).unwrap_err();
        let ok = matches!(&error, Error::InvalidRequest(e) if e.parameter == parameter);
        cases.push((name, error.to_string(), ok));
    };
    let empty = ListWorkflowExecutions::default;
    add(
        "empty workflow id",
        ListWorkflowExecutions {
            workflow_id: Some(String::new()),
            ..empty()
        },
        "workflowId",
    );
    add(
        "empty object name",
        ListWorkflowExecutions {
            name: Some(String::new()),
            ..empty()
        },
        "name",
    );
    add(
        "empty job id",
        ListWorkflowExecutions {
            job_id: Some(String::new()),
            ..empty()
        },
        "jobId",
    );
    add(
        "empty next token",
        ListWorkflowExecutions {
            next_token: Some(String::new()),
            ..empty()
        },
        "nextToken",
    );
    // Values too long for any URL: refused by name before anything is built.
    add(
        "66 KB object name",
        ListWorkflowExecutions {
            name: Some("n".repeat(66_000)),
            ..empty()
        },
        "name",
    );
    add(
        "66 KB workflow id",
        ListWorkflowExecutions {
            workflow_id: Some("w".repeat(66_000)),
            ..empty()
        },
        "workflowId",
    );
    add(
        "66 KB next token",
        ListWorkflowExecutions {
            next_token: Some("t".repeat(66_000)),
            ..empty()
        },
        "nextToken",
    );
    add(
        "empty states set",
        ListWorkflowExecutions {
            states: Some(Default::default()),
            ..empty()
        },
        "states",
    );
    add(
        "start after end",
        ListWorkflowExecutions {
            start_creation_time: Some(CiTimestamp::parse("2022-08-10T00:00:00+08:00").unwrap()),
            end_creation_time: Some(CiTimestamp::parse("2022-08-09T00:00:00+08:00").unwrap()),
            ..empty()
        },
        "startCreationTime",
    );
    for (name, size) in [("size 0", 0), ("size 101", 101)] {
        let error = PageSize::new(size).unwrap_err();
        let ok = error.parameter == "size";
        cases.push((name, Error::InvalidRequest(error).to_string(), ok));
    }
    let state_error = "Done".parse::<StateFilter>().unwrap_err();
    cases.push((
        "unknown state",
        state_error.to_string(),
        state_error.parameter == "states",
    ));
    for (name, text) in [
        ("time without offset", "2022-08-09T14:00:00"),
        ("time garbage", "yesterday"),
        ("time month 13", "2022-13-09T14:00:00+0800"),
    ] {
        let error = CiTimestamp::parse(text).unwrap_err();
        let ok = error.text == text;
        cases.push((name, error.to_string(), ok));
    }
    cases
}

fn response(status: u16, content_type: &str, body: impl Into<Bytes>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-ci-request-id", "hdr-request-id")
        .body(body.into())
        .unwrap()
}

fn wire_cases() -> Vec<Case> {
    let client = client();
    let mut cases = Vec::new();
    let mut add = |name, response: http::Response<Bytes>, check: fn(&Error) -> bool| {
        let error = client
            .read::<ListWorkflowExecutions>(&response)
            .unwrap_err();
        let ok = check(&error);
        cases.push((name, error.to_string(), ok));
    };
    let malformed = |e: &Error| matches!(e, Error::MalformedResponse(_));
    let service = |e: &Error| matches!(e, Error::Service(_));
    add(
        "malformed xml",
        response(
            200,
            "application/xml",
            "<Response><RequestId>x</Request></Response>",
        ),
        malformed,
    );
    add(
        "truncated xml",
        response(
            200,
            "application/xml",
            "<Response><WorkflowExecutionList><RunId>i1</RunId>",
        ),
        malformed,
    );
    add(
        "wrong root element",
        response(
            200,
            "application/xml",
            "<ListBucketResult></ListBucketResult>",
        ),
        malformed,
    );
    add(
        "invalid utf-8",
        response(
            200,
            "application/xml",
            &b"<Response><RequestId>\xff\xfe</RequestId></Response>"[..],
        ),
        malformed,
    );
    add(
        "empty 200 body",
        response(200, "application/xml", ""),
        malformed,
    );
    add(
        "not xml at all",
        response(200, "text/plain", "OK"),
        malformed,
    );
    add(
        "huge element",
        response(
            200,
            "application/xml",
            format!(
                "<Response><RequestId>{}</Request></Response>",
                "x".repeat(1 << 20)
            ),
        ),
        malformed,
    );
    add(
        "html 502 from a proxy",
        response(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        ),
        service,
    );
    add(
        "empty body 503",
        response(503, "application/xml", ""),
        service,
    );
    add(
        "json error",
        response(
            400,
            "application/json",
            r#"{"code":400,"message":"bad things","request_id":"json-req"}"#,
        ),
        service,
    );
    add(
        "ci error xml",
        response(
            403,
            "application/xml",
            "<?xml version='1.0' encoding='utf-8' ?><Error><Code>AccessDenied</Code><Message>access denied</Message><RequestId>body-req</RequestId><TraceId>trace</TraceId></Error>",
        ),
        service,
    );
    add(
        "json error nested under Error",
        response(
            400,
            "application/json",
            r#"{"Error":{"Code":"InvalidParameter","Message":"size is bad"},"RequestId":"json-req"}"#,
        ),
        |e| matches!(e, Error::Service(s) if s.code.as_deref() == Some("InvalidParameter") && s.message.as_deref() == Some("size is bad")),
    );
    add(
        "10 MB error message",
        response(
            400,
            "application/xml",
            format!(
                "<Error><Code>InvalidArgument</Code><Message>{}</Message></Error>",
                "m".repeat(10_000_000)
            ),
        ),
        |e| matches!(e, Error::Service(s) if s.message.as_ref().is_some_and(|m| m.len() < 1100)),
    );
    add(
        "200 whose body is an error",
        response(
            200,
            "application/xml",
            "<Error><Code>InternalError</Code><Message>oops</Message></Error>",
        ),
        service,
    );
    cases
}

#[test]
fn every_bad_input_gives_the_expected_typed_error_and_message() {
    let mut table = String::new();
    let all: Vec<Case> = [config_cases(), request_cases(), wire_cases()].concat();
    assert!(
        all.len() >= 30,
        "the catalogue has {} library/wire cases",
        all.len()
    );
    for (name, message, variant_ok) in &all {
        assert!(variant_ok, "{name}: unexpected typed error: {message}");
        assert!(!message.contains(SECRET_KEY), "{name}: secret in message");
        assert!(
            !message.contains('\n'),
            "{name}: a message is one line: {message:?}"
        );
        assert!(
            message.len() < 1200,
            "{name}: message too long ({} bytes)",
            message.len()
        );
        table.push_str(&format!("{name}: {message}\n"));
    }
    insta::assert_snapshot!(table);
}
