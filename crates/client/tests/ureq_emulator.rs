//! `examples/ureq_transport.rs` against the emulator on 127.0.0.1 (paging,
//! retries through injected faults, typed auth errors, temporary
//! credentials) and against a bare socket for the contract's edge cases
//! (error statuses and redirects come back as responses, the deadline,
//! the body cap).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, SystemTime};

use cos_ci_client::bytes::Bytes;
use cos_ci_client::{
    BlockingClient, BlockingTransport, Config, Credentials, Error, ListWorkflowExecutions,
    PagingOptions, RetryPolicy, TransportErrorKind, http,
};
use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig, FaultConfig, FaultKind,
};

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/ureq_transport.rs"]
mod ureq_transport;

use ureq_transport::{UreqTransport, list_run_ids};

fn emulator(config: EmulatorConfig) -> BackgroundEmulator {
    BackgroundEmulator::start(EmulatorConfig {
        log_requests: false,
        ..config
    })
    .unwrap()
}

fn client_for(
    emulator: &BackgroundEmulator,
    credentials: Credentials,
) -> BlockingClient<UreqTransport> {
    let config = Config::new(DEFAULT_BUCKET, DEFAULT_REGION, credentials)
        .unwrap()
        .with_endpoint(&emulator.base_url())
        .unwrap()
        .with_retry_policy(RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        });
    BlockingClient::new(config, UreqTransport::default())
}

fn default_credentials() -> Credentials {
    Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
}

fn sorted_run_ids(dataset: &Dataset) -> Vec<String> {
    let mut ids: Vec<String> = dataset.records().iter().map(|r| r.run_id.clone()).collect();
    ids.sort();
    ids
}

#[test]
fn every_page_through_thirty_percent_faults_exactly_once() {
    let dataset = Dataset::generate(1_000, 7);
    let emu = emulator(EmulatorConfig {
        dataset: dataset.clone(),
        faults: FaultConfig {
            rate: 0.3,
            // 429 asks for a whole second's wait; the others cover every
            // transport-error kind the emulator can cause.
            kinds: vec![
                FaultKind::ServiceUnavailable503,
                FaultKind::InternalError500,
                FaultKind::CloseConnection,
                FaultKind::TruncateBody,
            ],
        },
        seed: 3,
        ..Default::default()
    });
    let mut client = client_for(&emu, default_credentials());
    let mut ids = list_run_ids(&mut client).unwrap();
    ids.sort();
    assert_eq!(ids, sorted_run_ids(&dataset));
}

#[test]
fn a_limit_stops_early_and_says_where_to_resume() {
    let dataset = Dataset::generate(250, 8);
    let emu = emulator(EmulatorConfig {
        dataset: dataset.clone(),
        ..Default::default()
    });
    let mut client = client_for(&emu, default_credentials());
    let mut pages = client.pages(ListWorkflowExecutions::default(), PagingOptions::limit(15));
    let first: Vec<_> = pages.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(first.iter().map(Vec::len).sum::<usize>(), 15);
    let token = pages.resume_token().expect("more pages").to_owned();
    let rest = ListWorkflowExecutions {
        next_token: Some(token),
        ..Default::default()
    };
    let rest: Vec<_> = client
        .items(rest, PagingOptions::all())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first.concat().len() + rest.len(), 250);
}

#[test]
fn a_wrong_key_is_a_typed_service_error_after_one_attempt() {
    let emu = emulator(EmulatorConfig::default());
    let mut client = client_for(&emu, Credentials::new(DEFAULT_SECRET_ID, "wrong-key"));
    let mut operation = client.client().operation(ListWorkflowExecutions::default());
    let error = cos_ci_client::blocking::drive(&mut operation, client.transport_mut()).unwrap_err();
    let service = error
        .service_error()
        .expect("the service's answer, not an IO error");
    assert_eq!(service.status, 403);
    assert_eq!(service.code.as_deref(), Some("AccessDenied"));
    assert!(error.request_id().is_some());
    assert_eq!(operation.attempts(), 1, "a final 403 must not be retried");
}

#[test]
fn temporary_credentials_are_accepted_and_required() {
    let emu = emulator(EmulatorConfig {
        dataset: Dataset::generate(30, 9),
        session_token: Some("sts-token".into()),
        ..Default::default()
    });
    let with_token = default_credentials().with_session_token("sts-token");
    let page = client_for(&emu, with_token)
        .execute(ListWorkflowExecutions::default())
        .unwrap();
    assert!(!page.executions.is_empty());
    let error = client_for(&emu, default_credentials())
        .execute(ListWorkflowExecutions::default())
        .unwrap_err();
    assert!(
        matches!(error, Error::Service(ref e) if e.status == 403),
        "{error:?}"
    );
}

/// A server on 127.0.0.1 that answers one connection with `response`.
fn answer_once(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{address}/workflowexecution")
}

fn get(url: &str) -> http::Request<Bytes> {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

fn in_a_minute() -> Option<SystemTime> {
    SystemTime::now().checked_add(Duration::from_secs(60))
}

#[test]
fn error_statuses_and_redirects_are_responses() {
    let url = answer_once(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 5\r\n\r\nnope!".to_vec());
    let response = UreqTransport::default()
        .send(get(&url), in_a_minute())
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.body().as_ref(), b"nope!");

    let elsewhere = answer_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec());
    let redirect =
        format!("HTTP/1.1 302 Found\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\n\r\n");
    let url = answer_once(redirect.into_bytes());
    let response = UreqTransport::default()
        .send(get(&url), in_a_minute())
        .unwrap();
    assert_eq!(response.status(), 302, "the redirect must not be followed");
}

#[test]
fn a_passed_deadline_is_a_timeout_without_sending() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "http://{}/workflowexecution",
        listener.local_addr().unwrap()
    );
    let past = SystemTime::now() - Duration::from_secs(1);
    let error = UreqTransport::default()
        .send(get(&url), Some(past))
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout);
    assert!(
        listener.accept().is_err(),
        "nothing may be sent after the deadline"
    );
}

#[test]
fn a_slow_answer_is_cut_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/workflowexecution",
        listener.local_addr().unwrap()
    );
    let _silent = std::thread::spawn(move || {
        let connection = listener.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(connection);
    });
    let deadline = SystemTime::now() + Duration::from_millis(300);
    let error = UreqTransport::default()
        .send(get(&url), Some(deadline))
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout);
    assert!(SystemTime::now() < deadline + Duration::from_secs(2));
}

#[test]
fn an_oversized_body_is_refused() {
    let body_len = 8 * 1024 * 1024 + 1;
    let mut response =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\n\r\n").into_bytes();
    response.resize(response.len() + body_len, b'x');
    let url = answer_once(response);
    let error = UreqTransport::default()
        .send(get(&url), in_a_minute())
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::ResponseTooLarge);
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let url = format!("{}/workflowexecution", cos_ci_testkit::closed_port_url());
    let error = UreqTransport::default()
        .send(get(&url), in_a_minute())
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Connect);
}
