//! The emulator over real HTTP on 127.0.0.1: listing, paging, every error
//! and auth failure, SDK-style signing, faults and hardening.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, Dataset, Emulator, EmulatorConfig,
    ExecutionRecord, FaultConfig, FaultKind, Latency, Limits,
};
use cos_ci_proto::{CiTimestamp, ExecutionState};
use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};

const SEED: u64 = 20_260_105;
const VIRTUAL_HOST: &str = "examplebucket-1250000000.ci.ap-beijing.myqcloud.com";

fn config(executions: usize) -> EmulatorConfig {
    EmulatorConfig {
        dataset: Dataset::generate(executions, SEED),
        log_requests: false,
        ..EmulatorConfig::default()
    }
}

async fn start(executions: usize) -> Emulator {
    Emulator::start(config(executions)).await.expect("start")
}

/// Run ids of `dataset` passing `keep`, newest first (or oldest first).
fn expected(
    dataset: &Dataset,
    keep: impl Fn(&ExecutionRecord) -> bool,
    ascending: bool,
) -> Vec<String> {
    let mut records: Vec<&ExecutionRecord> = dataset.records().iter().filter(|r| keep(r)).collect();
    records.sort_by(|a, b| {
        (a.create_time.unix_seconds(), &a.run_id).cmp(&(b.create_time.unix_seconds(), &b.run_id))
    });
    if !ascending {
        records.reverse();
    }
    records.into_iter().map(|r| r.run_id.clone()).collect()
}

/// `GET /workflowexecution` with `headers`, the answer as raw bytes (it
/// may be cut short, or none).
async fn listing_raw(addr: SocketAddr, headers: &[(&str, &str)]) -> Vec<u8> {
    send_raw(
        addr,
        request_text("GET", "/workflowexecution", headers).as_bytes(),
    )
    .await
}

/// Follow every page; returns the run ids and the number of pages.
async fn list_all(addr: SocketAddr, query: &[(&str, &str)]) -> (Vec<String>, usize) {
    let mut run_ids = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        if let Some(token) = &token {
            pairs.push(("nextToken", token));
        }
        let reply = signed_list(addr, &pairs).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        pages += 1;
        run_ids.extend(reply.elements("RunId"));
        token = reply.element("NextToken");
        if token.is_none() {
            break;
        }
        assert!(pages < 10_000, "paging does not end");
    }
    (run_ids, pages)
}

#[tokio::test]
async fn first_page_has_the_ci_shape() {
    let emulator = start(200).await;
    let reply = signed_list(emulator.local_addr(), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("server"), Some("tencent-ci"));
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    assert!(reply.header("date").is_some_and(|d| d.ends_with("GMT")));
    let request_id = reply
        .header("x-ci-request-id")
        .expect("request id")
        .to_owned();
    assert_eq!(reply.element("RequestId"), Some(request_id));
    assert!(
        reply.header("x-ci-trace-id").is_none(),
        "trace id only on errors"
    );
    assert!(reply.body.starts_with("<Response>") || reply.body.contains("<Response>"));
    let run_ids = reply.elements("RunId");
    assert_eq!(run_ids.len(), 10, "default size");
    let dataset = Dataset::generate(200, SEED);
    assert_eq!(run_ids, expected(&dataset, |_| true, false)[..10].to_vec());
    assert!(reply.element("NextToken").is_some());
    for created in reply.elements("CreateTime") {
        assert!(created.ends_with("+08:00"), "{created}");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn pages_through_every_filter() {
    let emulator = start(400).await;
    let addr = emulator.local_addr();
    let dataset = Dataset::generate(400, SEED);
    let sample = &dataset.records()[7];
    let with_job = dataset
        .records()
        .iter()
        .find(|r| r.job_id.is_some())
        .expect("a record with a job");
    let job = with_job.job_id.clone().unwrap_or_default();
    let start =
        CiTimestamp::from_unix(sample.create_time.unix_seconds() - 5 * 86_400, 8 * 3600).unwrap();
    let end = CiTimestamp::from_unix(sample.create_time.unix_seconds(), 28_800).unwrap();
    let start_api = start.to_api_string();
    let end_colon = end.as_str().to_owned();
    let (lo, hi) = (start.unix_seconds(), end.unix_seconds());

    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Box<dyn Fn(&ExecutionRecord) -> bool + 'a>,
        bool,
    );
    let cases: Vec<Case<'_>> = vec![
        (vec![("size", "7")], Box::new(|_| true), false),
        (
            vec![("size", "100"), ("orderByTime", "Asc")],
            Box::new(|_| true),
            true,
        ),
        (
            vec![("workflowId", &sample.workflow_id), ("size", "9")],
            Box::new(|r| r.workflow_id == sample.workflow_id),
            false,
        ),
        (
            vec![("name", &sample.object), ("size", "2")],
            Box::new(|r| r.object == sample.object),
            false,
        ),
        (
            vec![("jobId", &job), ("size", "5"), ("orderByTime", "Asc")],
            Box::new(|r| r.job_id.as_deref() == Some(job.as_str())),
            true,
        ),
        (
            vec![("states", "Failed,Cancel"), ("size", "11")],
            Box::new(|r| matches!(r.state, ExecutionState::Failed | ExecutionState::Cancel)),
            false,
        ),
        (vec![("states", "All")], Box::new(|_| true), false),
        (
            vec![
                ("startCreationTime", &start_api),
                ("endCreationTime", &end_colon),
                ("size", "4"),
            ],
            Box::new(move |r| (lo..=hi).contains(&r.create_time.unix_seconds())),
            false,
        ),
        (
            vec![
                ("workflowId", &sample.workflow_id),
                ("states", "Success"),
                ("startCreationTime", &start_api),
                ("orderByTime", "Asc"),
                ("size", "3"),
            ],
            Box::new(move |r| {
                r.workflow_id == sample.workflow_id
                    && r.state == ExecutionState::Success
                    && r.create_time.unix_seconds() >= lo
            }),
            true,
        ),
        (vec![("workflowId", "w-nobody")], Box::new(|_| false), false),
    ];
    for (query, keep, ascending) in cases {
        let want = expected(&dataset, keep, ascending);
        let (got, pages) = list_all(addr, &query).await;
        assert_eq!(got, want, "{query:?}");
        let size: usize = query
            .iter()
            .find(|(k, _)| *k == "size")
            .map_or(10, |(_, v)| v.parse().unwrap());
        assert_eq!(
            pages,
            want.len().div_ceil(size).max(1),
            "no empty trailing page: {query:?}"
        );
    }
    // The inclusive end: a record exactly at the end time is listed.
    let (got, _) = list_all(
        addr,
        &[
            ("endCreationTime", &end_colon),
            ("startCreationTime", end.as_str()),
        ],
    )
    .await;
    assert!(got.contains(&sample.run_id));
    emulator.shutdown().await;
}

#[tokio::test]
async fn python_style_empty_parameters_are_unset() {
    let emulator = start(30).await;
    // The Python SDK always sends these, empty or default, and signs them.
    let query = [
        ("workflowId", ""),
        ("name", ""),
        ("orderByTime", "Desc"),
        ("states", "All"),
        ("size", "10"),
        ("nextToken", ""),
    ];
    let reply = signed_list(emulator.local_addr(), &query).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.elements("RunId").len(), 10);
}

#[tokio::test]
async fn plus_on_the_wire_is_a_space() {
    let mut config = config(0);
    let record = ExecutionRecord {
        run_id: "i00000000000000000000000000000001".into(),
        workflow_id: "w1".into(),
        object: "input/my video 01.mp4".into(),
        create_time: CiTimestamp::from_unix(1_767_542_400, 28_800).unwrap(),
        state: ExecutionState::Success,
        job_id: None,
        details: None,
    };
    config.dataset = Dataset::new(vec![record.clone()]).unwrap();
    let emulator = Emulator::start(config).await.unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();
    // Go and Python send a space as `+` and sign it as a space.
    let auth = sdk_authorization(
        "GET",
        "/workflowexecution",
        &[("name", "input/my video 01.mp4")],
        &host,
    );
    let target = "/workflowexecution?name=input%2Fmy+video+01.mp4";
    let reply = send_authorized(addr, "GET", target, &host, &auth, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.elements("RunId"), vec![record.run_id.clone()]);
    assert_eq!(
        reply.element("Object").as_deref(),
        Some("input/my video 01.mp4")
    );
}

#[tokio::test]
async fn every_auth_failure_has_its_status_and_code() {
    let emulator = start(20).await;
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let query = [("size", "5"), ("states", "Success")];
    let target = format!("/workflowexecution?{}", wire_query(&query));
    let host_only = [("host", host.as_str())];
    let sign = |credentials: &Credentials,
                query: &[(&str, &str)],
                headers: &[(&str, &str)],
                key_time: KeyTime| {
        authorization(
            credentials,
            "GET",
            "/workflowexecution",
            query,
            headers,
            key_time,
        )
    };
    let good = sign(&default_credentials(), &query, &host_only, valid_key_time());
    let with = |auth: &str| {
        vec![
            ("Host".to_owned(), host.clone()),
            ("Authorization".to_owned(), auth.to_owned()),
        ]
    };
    // Signed for the whole query and the host, by these credentials at this time.
    let signed_by = |credentials: &Credentials, key_time: KeyTime| {
        with(&sign(credentials, &query, &host_only, key_time))
    };
    let on_host = |host: &str| {
        vec![
            ("Host".to_owned(), host.to_owned()),
            ("Authorization".to_owned(), good.clone()),
        ]
    };
    let now = now();
    let tampered_value = format!(
        "/workflowexecution?{}",
        wire_query(&[("size", "6"), ("states", "Success")])
    );
    let tampered_path = format!("/workflowexecution/?{}", wire_query(&query));
    type AuthCase<'a> = (&'a str, Vec<(String, String)>, &'a str, u16, &'a str);
    let cases: Vec<AuthCase<'_>> = vec![
        (
            "missing",
            vec![("Host".into(), host.clone())],
            &target,
            401,
            "MissingAuthorization",
        ),
        (
            "malformed",
            with("q-sign-algorithm=sha1&q-ak=x"),
            &target,
            401,
            "InvalidAuthorization",
        ),
        (
            "garbage",
            with("Bearer abc"),
            &target,
            401,
            "InvalidAuthorization",
        ),
        (
            "unknown secret id",
            signed_by(&Credentials::new("AKIDnobody", "x"), valid_key_time()),
            &target,
            401,
            "SecretidNotExist",
        ),
        (
            "expired",
            signed_by(
                &default_credentials(),
                KeyTime::new(now - 7200, now - 3600).unwrap(),
            ),
            &target,
            401,
            "SignatureExpired",
        ),
        (
            "not yet valid",
            signed_by(
                &default_credentials(),
                KeyTime::new(now + 3600, now + 7200).unwrap(),
            ),
            &target,
            401,
            "SignatureExpired",
        ),
        (
            "wrong key",
            signed_by(
                &Credentials::new(cos_ci_emulator::DEFAULT_SECRET_ID, "wrong"),
                valid_key_time(),
            ),
            &target,
            403,
            "AccessDenied",
        ),
        (
            "host not signed",
            with(&sign(&default_credentials(), &query, &[], valid_key_time())),
            &target,
            403,
            "AccessDenied",
        ),
        (
            "param not signed",
            with(&sign(
                &default_credentials(),
                &query[..1],
                &host_only,
                valid_key_time(),
            )),
            &target,
            403,
            "AccessDenied",
        ),
        (
            "param value tampered",
            with(&good),
            &tampered_value,
            403,
            "AccessDenied",
        ),
        (
            "signed for another host",
            on_host(VIRTUAL_HOST),
            &target,
            403,
            "AccessDenied",
        ),
        (
            "path tampered",
            with(&good),
            &tampered_path,
            404,
            "InvalidUrl",
        ),
        (
            "foreign host",
            on_host("evil.example.com"),
            &target,
            400,
            "InvalidHost",
        ),
    ];
    for (name, headers, target, status, code) in cases {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = send(addr, &request_text("GET", target, &headers)).await;
        assert_error_for(name, &reply, status, code);
        assert!(reply.header("x-ci-request-id").is_some(), "{name}");
        assert!(reply.header("x-ci-trace-id").is_some(), "{name}");
        assert_eq!(
            reply.element("RequestId").as_deref(),
            reply.header("x-ci-request-id"),
            "{name}"
        );
        assert!(reply.element("TraceId").is_some(), "{name}");
        assert_eq!(reply.header("server"), Some("tencent-ci"));
    }
    // The untampered request passes.
    let reply = send_authorized(addr, "GET", &target, &host, &good, &[]).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn virtual_host_is_accepted() {
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    for host in [
        VIRTUAL_HOST.to_owned(),
        format!("{VIRTUAL_HOST}:{}", addr.port()),
        format!("localhost:{}", addr.port()),
    ] {
        let auth = sdk_authorization("GET", "/workflowexecution", &[], &host);
        let reply = send_authorized(addr, "GET", "/workflowexecution", &host, &auth, &[]).await;
        assert_eq!(reply.status, 200, "{host}: {}", reply.body);
    }
    assert_eq!(
        emulator.virtual_host(),
        format!("{DEFAULT_BUCKET}.ci.{DEFAULT_REGION}.myqcloud.com")
    );
}

#[tokio::test]
async fn host_signed_without_its_port_is_accepted_as_the_python_sdk_signs_it() {
    // cos-python-sdk-v5 signs `urlparse(url).hostname` (no port) but sends
    // `Host: 127.0.0.1:PORT`; see docs/emulator.md.
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    let sent_host = addr.to_string();
    let query = [("name", ""), ("nextToken", ""), ("size", "10")];
    let auth = sdk_authorization("GET", "/workflowexecution", &query, "127.0.0.1");
    let target = "/workflowexecution?name=&nextToken=&size=10";
    let reply = send_authorized(addr, "GET", target, &sent_host, &auth, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Any other host in the signature is still refused.
    let auth = sdk_authorization("GET", "/workflowexecution", &[], "127.0.0.2");
    let reply = send_authorized(addr, "GET", "/workflowexecution", &sent_host, &auth, &[]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}

#[tokio::test]
async fn bad_parameters_are_invalid_argument_naming_them() {
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    let cases: [(&[(&str, &str)], &str); 9] = [
        (&[("size", "0")], "size"),
        (&[("size", "101")], "size"),
        (&[("size", "ten")], "size"),
        (&[("states", "Done")], "states"),
        (&[("orderByTime", "Sideways")], "orderByTime"),
        (&[("startCreationTime", "yesterday")], "startCreationTime"),
        (&[("bogus", "1")], "bogus"),
        (&[("nextToken", "115716")], "nextToken"),
        (&[("nextToken", "v1.a.1.YQ")], "nextToken"),
    ];
    for (query, parameter) in cases {
        let reply = signed_list(addr, query).await;
        assert_error_for(format!("{query:?}"), &reply, 400, "InvalidArgument");
        reply.assert_message_mentions(parameter);
    }
    for size in ["1", "100"] {
        let reply = signed_list(addr, &[("size", size)]).await;
        assert_eq!(reply.status, 200, "{size}");
    }
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    let reply = signed(addr, "GET", "/workflows", &[]).await;
    assert_error(&reply, 404, "InvalidUrl");
    let reply = signed(addr, "POST", "/workflowexecution", &[]).await;
    assert_error(&reply, 405, "MethodNotAllowed");
}

#[tokio::test]
async fn session_tokens_signed_or_not() {
    const TOKEN: &str = "tok en+/=";
    let mut config = config(10);
    config.session_token = Some(TOKEN.into());
    let emulator = Emulator::start(config).await.unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let key_time = valid_key_time();
    let sign = |headers: &[(&str, &str)]| {
        authorization(
            &default_credentials(),
            "GET",
            "/workflowexecution",
            &[],
            headers,
            key_time,
        )
    };
    let host_signed = sign(&[("host", &host)]);
    let token_signed = sign(&[("host", &host), ("x-ci-security-token", TOKEN)]);
    // (case, the token header sent, the Authorization, the status)
    type TokenCase<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str, u16);
    let cases: [TokenCase<'_>; 5] = [
        // Java and Go before 2025: x-cos-security-token, not signed.
        (
            "cos unsigned",
            Some(("x-cos-security-token", TOKEN)),
            &host_signed,
            200,
        ),
        // Python and C++: x-ci-security-token, signed.
        (
            "ci signed",
            Some(("x-ci-security-token", TOKEN)),
            &token_signed,
            200,
        ),
        // Node: x-ci-security-token, not signed.
        (
            "ci unsigned",
            Some(("x-ci-security-token", TOKEN)),
            &host_signed,
            200,
        ),
        ("missing", None, &host_signed, 403),
        (
            "wrong",
            Some(("x-cos-security-token", "other")),
            &host_signed,
            403,
        ),
    ];
    for (name, token, auth, status) in cases {
        let mut headers = vec![("Host", host.as_str())];
        headers.extend(token);
        headers.push(("Authorization", auth));
        let reply = send(addr, &request_text("GET", "/workflowexecution", &headers)).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        if status == 403 {
            assert_eq!(reply.code().as_deref(), Some("AccessDenied"), "{name}");
            assert!(
                !reply.body.contains("tok en"),
                "the token never appears in errors"
            );
        }
    }
}

#[tokio::test]
async fn presigned_urls_are_accepted() {
    let mut config = config(10);
    config.session_token = Some("sessiontoken".into());
    let emulator = Emulator::start(config).await.unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let signer = Signer::new(
        default_credentials().with_session_token("sessiontoken"),
        HeaderPolicy::OfficialDefault,
    );
    let query = [("size", "3")];
    let presigned = signer.presign(
        &SignableRequest {
            method: "GET",
            path: "/workflowexecution",
            query: &query,
            headers: &[("host", &host)],
        },
        valid_key_time(),
    );
    let mut pairs: Vec<(&str, &str)> = query.to_vec();
    pairs.extend(
        presigned
            .pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let target = format!("/workflowexecution?{}", wire_query(&pairs));
    let reply = send(addr, &request_text("GET", &target, &[("Host", &host)])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.elements("RunId").len(), 3);
    // Tampering with a pre-signed URL is refused.
    let tampered = target.replace("size=3", "size=4");
    let reply = send(addr, &request_text("GET", &tampered, &[("Host", &host)])).await;
    assert_error(&reply, 403, "AccessDenied");
}

/// `latency` delays every response, errors too, by at least its base; the
/// answers are the same as without it. (A lower bound only: how fast the
/// emulator is is for benchmarks.)
#[tokio::test]
async fn latency_delays_every_response() {
    let mut config = config(30);
    config.latency = Latency {
        base: Duration::from_millis(80),
        jitter: Duration::from_millis(20),
    };
    let emulator = Emulator::start(config).await.unwrap();
    let plain = start(30).await;
    for query in [&[][..], &[("size", "5"), ("orderByTime", "Asc")]] {
        let started = Instant::now();
        let reply = signed_list(emulator.local_addr(), query).await;
        assert!(started.elapsed() >= Duration::from_millis(80));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let undelayed = signed_list(plain.local_addr(), query).await;
        assert_eq!(reply.elements("RunId"), undelayed.elements("RunId"));
    }
    let started = Instant::now();
    let reply = send(
        emulator.local_addr(),
        &request_text(
            "GET",
            "/workflowexecution",
            &[("Host", &emulator.local_addr().to_string())],
        ),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(started.elapsed() >= Duration::from_millis(80));
}

async fn with_fault(kind: FaultKind) -> Emulator {
    let mut config = config(30);
    config.faults = FaultConfig {
        rate: 1.0,
        kinds: vec![kind],
    };
    config.limits = Limits {
        slow_response_delay: Duration::from_millis(60),
        ..Limits::default()
    };
    Emulator::start(config).await.unwrap()
}

#[tokio::test]
async fn injected_error_statuses() {
    for (kind, status, code) in [
        (FaultKind::ServiceUnavailable503, 503, "ServiceUnavailable"),
        (FaultKind::SlowDown429, 429, "SlowDown"),
        (FaultKind::InternalError500, 500, "InternalError"),
    ] {
        let emulator = with_fault(kind).await;
        let reply = signed_list(emulator.local_addr(), &[]).await;
        assert_error(&reply, status, code);
        assert_eq!(reply.header("retry-after"), (status == 429).then_some("1"));
        assert!(reply.header("x-ci-request-id").is_some());
    }
}

#[tokio::test]
async fn injected_connection_faults() {
    let emulator = with_fault(FaultKind::CloseConnection).await;
    let addr = emulator.local_addr();
    let received = listing_raw(addr, &[("Host", &addr.to_string())]).await;
    assert!(
        received.is_empty(),
        "closed without a response: {received:?}"
    );

    let emulator = with_fault(FaultKind::TruncateBody).await;
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let auth = sdk_authorization("GET", "/workflowexecution", &[], &host);
    let received = listing_raw(addr, &[("Host", &host), ("Authorization", &auth)]).await;
    let reply = parse(&received).expect("a response head");
    assert_eq!(reply.status, 200);
    let announced: usize = reply.header("content-length").unwrap().parse().unwrap();
    assert!(
        reply.body.len() < announced,
        "{} < {announced}",
        reply.body.len()
    );
    assert!(!reply.body.contains("</Response>"));

    let emulator = with_fault(FaultKind::SlowResponse).await;
    let started = Instant::now();
    let reply = signed_list(emulator.local_addr(), &[]).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(60));
}

#[tokio::test]
async fn faults_are_deterministic_for_the_seed() {
    let run = || async {
        let mut config = config(30);
        config.faults = FaultConfig {
            rate: 0.5,
            kinds: vec![FaultKind::ServiceUnavailable503, FaultKind::SlowDown429],
        };
        config.seed = 77;
        let emulator = Emulator::start(config).await.unwrap();
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(signed_list(emulator.local_addr(), &[]).await.status);
        }
        statuses
    };
    let first = run().await;
    assert_eq!(first, run().await);
    assert!(
        first.contains(&200) && first.iter().any(|s| *s != 200),
        "{first:?}"
    );
}

#[tokio::test]
async fn paging_is_stable_while_inserting() {
    let emulator = start(120).await;
    let addr = emulator.local_addr();
    let before: HashSet<String> = Dataset::generate(120, SEED)
        .records()
        .iter()
        .map(|r| r.run_id.clone())
        .collect();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut inserted = 0u64;
    loop {
        let mut pairs = vec![("size", "7")];
        if let Some(token) = &token {
            pairs.push(("nextToken", token));
        }
        let reply = signed_list(addr, &pairs).await;
        seen.extend(reply.elements("RunId"));
        // New executions, some newer (ahead) and some older (behind) than the cursor.
        for _ in 0..3 {
            inserted += 1;
            emulator.insert(ExecutionRecord {
                run_id: format!("inew{inserted:029}"),
                workflow_id: "wnew".into(),
                object: "new.mp4".into(),
                create_time: CiTimestamp::from_unix(
                    1_760_000_000 + (inserted as i64 * 7_919) % 9_000_000,
                    28_800,
                )
                .unwrap(),
                state: ExecutionState::Running,
                job_id: None,
                details: None,
            });
        }
        token = reply.element("NextToken");
        if token.is_none() {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no execution twice");
    assert!(
        before.iter().all(|id| unique.contains(id)),
        "every original execution once"
    );
    assert_eq!(emulator.len(), 120 + inserted as usize);
}

#[tokio::test]
async fn hardening_limits() {
    let mut config = config(5);
    config.limits = Limits {
        header_read_timeout: Duration::from_millis(200),
        max_uri_bytes: 2048,
        ..Limits::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();

    let long = format!("/workflowexecution?name={}", "a".repeat(3000));
    let reply = send(addr, &request_text("GET", &long, &[("Host", &host)])).await;
    assert_error(&reply, 414, "InvalidUrl");

    let huge = "x".repeat(40_000);
    let received = listing_raw(addr, &[("Host", &host), ("x-big", &huge)]).await;
    let status = parse(&received).map(|reply| reply.status);
    assert!(matches!(status, None | Some(431)), "{status:?}");

    // A client that never finishes its head is cut off.
    let started = Instant::now();
    let received = send_raw(addr, b"GET /workflowexecution HTTP/1.1\r\nHost: x").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let status = parse(&received).map(|reply| reply.status);
    assert!(matches!(status, None | Some(408)), "{status:?}");

    // Still serving.
    assert_eq!(signed_list(addr, &[]).await.status, 200);
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    assert_eq!(signed_list(addr, &[]).await.status, 200);
    emulator.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn background_emulator_serves_sync_callers_and_stops_on_drop() {
    let emulator = BackgroundEmulator::start(config(25)).unwrap();
    let addr = emulator.local_addr();
    assert_eq!(emulator.base_url(), format!("http://{addr}"));
    assert_eq!(emulator.len(), 25);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(signed_list(addr, &[("size", "100")]));
    assert_eq!(reply.elements("RunId").len(), 25);
    drop(emulator);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_their_turn() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = config(5);
    config.limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();

    // The first connection holds the only slot, idle.
    let holder = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut waiting = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = request_text("GET", "/workflowexecution", &[("Host", &host)]);
    waiting.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    let early =
        tokio::time::timeout(Duration::from_millis(300), waiting.read_to_end(&mut buffer)).await;
    assert!(
        early.is_err(),
        "served while the cap was reached: {buffer:?}"
    );

    drop(holder);
    tokio::time::timeout(Duration::from_secs(5), waiting.read_to_end(&mut buffer))
        .await
        .expect("served once the slot is free")
        .unwrap();
    let reply = parse(&buffer).expect("a response");
    assert_eq!(reply.code().as_deref(), Some("MissingAuthorization"));
}

#[tokio::test]
async fn shutdown_lets_open_requests_finish() {
    let emulator = with_fault(FaultKind::SlowResponse).await;
    let addr = emulator.local_addr();
    let in_flight = tokio::spawn(async move { signed_list(addr, &[]).await });
    // Let the request reach the server and start its (60 ms) delay.
    tokio::time::sleep(Duration::from_millis(20)).await;
    emulator.shutdown().await;
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn debug_output_redacts_the_key_and_token() {
    let config = EmulatorConfig {
        secret_key: "topSecretKeyValue".into(),
        session_token: Some("topSecretTokenValue".into()),
        ..EmulatorConfig::default()
    };
    let text = format!("{config:?}");
    assert!(text.contains(cos_ci_emulator::DEFAULT_SECRET_ID));
    assert!(
        !text.contains("topSecretKeyValue") && !text.contains("topSecretTokenValue"),
        "{text}"
    );
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        log_requests: false,
        ..config
    })
    .unwrap();
    let text = format!("{emulator:?}");
    assert!(!text.contains("topSecret"), "{text}");
}

/// A client that half-closes its side right after the request (as
/// `printf ... | nc -N` does) still gets its answer. On the multi-threaded
/// runtime the binary uses, about 7% of such requests used to get none.
#[test]
fn a_client_that_half_closes_after_its_request_is_answered() {
    use std::io::{Read, Write};
    let emulator = BackgroundEmulator::start(config(5)).unwrap();
    let addr = emulator.local_addr();
    let host = addr.to_string();
    let auth = sdk_authorization("GET", "/workflowexecution", &[], &host);
    // Keep-alive (no `connection: close`): the half-close is the only sign
    // that the client sends nothing more.
    let request =
        format!("GET /workflowexecution HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n");
    let tries = 1000;
    let mut unanswered = 0;
    for _ in 0..tries {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received);
        if parse(&received).map(|reply| reply.status) != Some(200) {
            unanswered += 1;
        }
    }
    assert_eq!(unanswered, 0, "of {tries} half-closed requests");
}

/// `Host` (and the authority of an absolute-form target) must be exactly
/// what docs/emulator.md says is served; two `Host` or two `Authorization`
/// headers are a 400, not "first one wins".
#[tokio::test]
async fn hosts_are_matched_exactly_and_repeated_headers_refused() {
    let emulator = start(5).await;
    let addr = emulator.local_addr();
    let port = addr.port();
    let host = addr.to_string();
    let signed_for = |host: &str| sdk_authorization("GET", "/workflowexecution", &[], host);
    // Each correctly signed for the Host it sends.
    for foreign in [
        format!("127.0.0.2:{port}"),
        format!("127.1.2.3:{port}"),
        format!("[::1]:{port}"),
        format!("0.0.0.0:{port}"),
    ] {
        let auth = signed_for(&foreign);
        let reply = send_authorized(addr, "GET", "/workflowexecution", &foreign, &auth, &[]).await;
        assert_error_for(&foreign, &reply, 400, "InvalidHost");
    }
    // An absolute-form target naming another host, with a served Host.
    let auth = signed_for(&host);
    for target in [
        "http://evil.example.com/workflowexecution".to_owned(),
        format!("http://127.0.0.2:{port}/workflowexecution"),
    ] {
        let reply = send_authorized(addr, "GET", &target, &host, &auth, &[]).await;
        assert_error_for(&target, &reply, 400, "InvalidHost");
    }
    // Absolute form naming a served host is fine.
    let target = format!("http://{host}/workflowexecution");
    let reply = send_authorized(addr, "GET", &target, &host, &auth, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Two Host headers: one served, one not, in either order.
    for hosts in [
        [host.as_str(), "evil.example.com"],
        ["evil.example.com", host.as_str()],
    ] {
        let reply = send_authorized(
            addr,
            "GET",
            "/workflowexecution",
            hosts[0],
            &auth,
            &[("Host", hosts[1])],
        )
        .await;
        assert_error_for(format!("{hosts:?}"), &reply, 400, "InvalidHost");
    }
    // Two Authorization headers, even the same valid one twice.
    let reply = send_authorized(
        addr,
        "GET",
        "/workflowexecution",
        &host,
        &auth,
        &[("Authorization", &auth)],
    )
    .await;
    assert_error(&reply, 400, "InvalidAuthorization");
    // And the plain request is still served.
    assert_eq!(signed_list(addr, &[]).await.status, 200);
}

/// The library refuses a bucket or region the client would refuse, too.
#[tokio::test]
async fn a_library_emulator_with_an_unusable_bucket_does_not_start() {
    for (bucket, region) in [("Example", DEFAULT_REGION), (DEFAULT_BUCKET, "beijing")] {
        let error = Emulator::start(EmulatorConfig {
            bucket: bucket.to_owned(),
            region: region.to_owned(),
            ..config(1)
        })
        .await
        .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    }
}
