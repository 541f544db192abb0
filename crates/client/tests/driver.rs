//! The operation driver on virtual time: no sleeps, no sockets.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use cos_ci_client::{
    Backoff, Client, Error, RetryDecision, RetryPolicy, Step, TransportError, TransportErrorKind,
};
use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput, PageSize};
use proptest::prelude::*;

type Op = cos_ci_client::Operation<ListWorkflowExecutions>;

fn expect_send(op: &mut Op, now: SystemTime) -> http::Request<bytes::Bytes> {
    match op.poll(now) {
        Step::Send(request) => request,
        other => panic!("expected Send, got {other:?}"),
    }
}

/// A listing under `policy` whose first attempt was sent at [`t0`].
fn sent_at_t0(policy: RetryPolicy) -> Op {
    let mut op = client_with(policy).operation(ListWorkflowExecutions::default());
    expect_send(&mut op, t0());
    op
}

fn expect_wait(op: &mut Op, now: SystemTime) -> Duration {
    match op.poll(now) {
        Step::Wait(delay) => delay,
        other => panic!("expected Wait, got {other:?}"),
    }
}

fn expect_done(op: &mut Op, now: SystemTime) -> Result<ListWorkflowExecutionsOutput, Error> {
    match op.poll(now) {
        Step::Done(result) => result,
        other => panic!("expected Done, got {other:?}"),
    }
}

fn authorization(request: &http::Request<bytes::Bytes>) -> String {
    request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn key_time(request: &http::Request<bytes::Bytes>) -> String {
    let auth = authorization(request);
    auth.split('&')
        .find_map(|part| part.strip_prefix("q-key-time="))
        .unwrap()
        .to_owned()
}

#[test]
fn success_on_first_attempt() {
    let mut op = sent_at_t0(policy());
    op.on_response(ok_response(&page(0..3, None)), t0());
    let output = expect_done(&mut op, t0()).unwrap();
    assert_eq!(output.executions.len(), 3);
    assert_eq!(op.attempts(), 1);
}

#[test]
fn retries_503_after_a_jittered_backoff_and_resigns() {
    let mut op = client().operation(ListWorkflowExecutions::default());
    let first = expect_send(&mut op, t0());
    op.on_response(error_response(503, "ServiceUnavailable", "busy"), t0());
    let delay = expect_wait(&mut op, t0());
    assert!(delay <= Duration::from_millis(200), "{delay:?}");
    assert!(matches!(
        op.last_decision(),
        Some(RetryDecision::RetryAfter(_))
    ));
    // Polling early only shortens the wait.
    let later = t0() + delay + Duration::from_secs(5);
    let second = expect_send(&mut op, later);
    assert_ne!(
        key_time(&first),
        key_time(&second),
        "each attempt is signed afresh"
    );
    op.on_response(ok_response(&page(0..1, None)), later);
    assert!(expect_done(&mut op, later).is_ok());
    assert_eq!(op.attempts(), 2);
}

#[test]
fn early_poll_waits_for_the_remainder() {
    let backoff = Backoff::with_source(|| u64::MAX);
    let mut op = client()
        .operation(ListWorkflowExecutions::default())
        .with_backoff(backoff);
    expect_send(&mut op, t0());
    op.on_response(error_response(500, "InternalError", "oops"), t0());
    assert_eq!(expect_wait(&mut op, t0()), Duration::from_millis(200));
    assert_eq!(
        expect_wait(&mut op, t0() + Duration::from_millis(150)),
        Duration::from_millis(50)
    );
    expect_send(&mut op, t0() + Duration::from_millis(200));
}

#[test]
fn backoff_grows_exponentially_with_full_jitter() {
    let policy = RetryPolicy {
        max_attempts: 6,
        ..policy()
    };
    let mut op = client_with(policy)
        .operation(ListWorkflowExecutions::default())
        .with_backoff(Backoff::with_source(|| u64::MAX));
    let mut now = t0();
    let mut waits = Vec::new();
    for _ in 0..5 {
        expect_send(&mut op, now);
        op.on_response(error_response(503, "ServiceUnavailable", "busy"), now);
        let wait = expect_wait(&mut op, now);
        waits.push(wait.as_millis());
        now += wait;
    }
    assert_eq!(waits, [200, 400, 800, 1600, 3200]);
}

#[test]
fn honours_retry_after_on_429() {
    let mut op = sent_at_t0(policy());
    op.on_response(
        error_response_with(429, "SlowDown", "slow down", &[("retry-after", "3")]),
        t0(),
    );
    assert!(expect_wait(&mut op, t0()) >= Duration::from_secs(3));
}

#[test]
fn client_errors_are_not_retried() {
    for (status, code) in [
        (400, "InvalidArgument"),
        (403, "AccessDenied"),
        (404, "InvalidUrl"),
    ] {
        let mut op = sent_at_t0(policy());
        op.on_response(error_response(status, code, "no"), t0());
        let error = expect_done(&mut op, t0()).unwrap_err();
        let service = error.service_error().unwrap();
        assert_eq!(service.status, status);
        assert_eq!(service.code.as_deref(), Some(code));
        assert_eq!(error.request_id(), Some("req-err"));
        assert_eq!(op.last_decision(), Some(RetryDecision::DoNotRetry));
        assert!(!error.is_retryable());
    }
}

#[test]
fn transport_errors_are_retried_except_oversized_bodies() {
    let mut op = sent_at_t0(policy());
    op.on_transport_error(
        TransportError::new(TransportErrorKind::ConnectionClosed, "eof"),
        t0(),
    );
    let wait = expect_wait(&mut op, t0());
    expect_send(&mut op, t0() + wait);
    op.on_transport_error(
        TransportError::new(TransportErrorKind::ResponseTooLarge, "cap"),
        t0() + wait,
    );
    match expect_done(&mut op, t0() + wait) {
        Err(Error::Transport(e)) => assert_eq!(e.kind, TransportErrorKind::ResponseTooLarge),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stops_at_the_attempt_limit_with_the_last_error() {
    let mut op = client_with(RetryPolicy {
        max_attempts: 3,
        ..policy()
    })
    .operation(ListWorkflowExecutions::default());
    let mut now = t0();
    loop {
        match op.poll(now) {
            Step::Send(_) => op.on_response(error_response(503, "ServiceUnavailable", "busy"), now),
            Step::Wait(delay) => now += delay,
            Step::FetchCredentials(_) => panic!("fixed credentials are never fetched"),
            Step::Done(result) => {
                let error = result.unwrap_err();
                assert_eq!(error.service_error().unwrap().status, 503);
                break;
            }
        }
    }
    assert_eq!(op.attempts(), 3);
    assert_eq!(op.last_decision(), Some(RetryDecision::AttemptsExhausted));
}

#[test]
fn gives_up_when_the_wait_would_pass_the_deadline() {
    let mut op = sent_at_t0(RetryPolicy {
        total_deadline: Duration::from_secs(2),
        ..policy()
    });
    op.on_response(
        error_response_with(429, "SlowDown", "slow", &[("retry-after", "5")]),
        t0(),
    );
    match expect_done(&mut op, t0()) {
        Err(Error::DeadlineExceeded {
            attempts: 1,
            last_error: Some(last),
            ..
        }) => {
            assert_eq!(
                last.service_error().unwrap().code.as_deref(),
                Some("SlowDown")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gives_up_on_a_retry_after_beyond_the_maximum() {
    let mut op = sent_at_t0(policy());
    op.on_response(
        error_response_with(
            503,
            "ServiceUnavailable",
            "later",
            &[("retry-after", "3600")],
        ),
        t0(),
    );
    // The service answered: its status, Code and RequestId are kept, and
    // the error names the limit that stopped the retries.
    let error = expect_done(&mut op, t0()).unwrap_err();
    match &error {
        Error::RetryAfterTooLong {
            retry_after,
            limit,
            last_error,
        } => {
            assert_eq!(*retry_after, Duration::from_secs(3600));
            assert_eq!(*limit, Duration::from_secs(60));
            assert!(matches!(**last_error, Error::Service(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(op.last_decision(), Some(RetryDecision::RetryAfterTooLong));
    assert_eq!(error.service_error().map(|e| e.status), Some(503));
    assert_eq!(error.request_id(), Some("req-err"));
    assert!(error.is_answer());
    assert_eq!(
        error.to_string(),
        "service error: HTTP 503 ServiceUnavailable: later (RequestId: req-err); not retried: \
         Retry-After 3600s is over the 60s limit"
    );
}

/// A 503 that keeps asking for `Retry-After: 59` runs into the deadline;
/// the error still carries the service's answer (an answer, not a network
/// failure).
#[test]
fn repeated_retry_after_runs_into_the_deadline_keeping_the_answer() {
    let mut op = client().operation(ListWorkflowExecutions::default());
    let mut now = t0();
    let error = loop {
        match op.poll(now) {
            Step::Send(_) => op.on_response(
                error_response_with(503, "ServiceUnavailable", "busy", &[("retry-after", "59")]),
                now,
            ),
            Step::Wait(delay) => now += delay,
            Step::FetchCredentials(_) => panic!("fixed credentials are never fetched"),
            Step::Done(result) => break result.unwrap_err(),
        }
    };
    assert_eq!(
        op.attempts(),
        4,
        "at 0, 59, 118 and 177 s; 236 s is past 180 s"
    );
    assert!(
        matches!(error, Error::DeadlineExceeded { attempts: 4, .. }),
        "{error:?}"
    );
    assert!(error.is_answer());
    assert_eq!(error.service_error().map(|e| e.status), Some(503));
    assert_eq!(error.request_id(), Some("req-err"));
}

/// A transport that honours [`Operation::deadline`]: a silent server costs
/// each attempt its whole timeout, or what is left of the deadline.
fn against_a_silent_server(
    policy: RetryPolicy,
    attempt_timeout: Duration,
) -> (Op, Error, Duration) {
    let mut op = client_with(policy).operation(ListWorkflowExecutions::default());
    let mut now = t0();
    let error = loop {
        match op.poll(now) {
            Step::Send(_) => {
                let deadline = op.deadline().expect("started");
                let left = deadline.duration_since(now).unwrap_or(Duration::ZERO);
                now += attempt_timeout.min(left);
                op.on_transport_error(
                    TransportError::new(TransportErrorKind::Timeout, "silent"),
                    now,
                );
            }
            Step::Wait(delay) => now += delay,
            Step::FetchCredentials(_) => panic!("fixed credentials are never fetched"),
            Step::Done(result) => break result.unwrap_err(),
        }
    };
    let elapsed = now.duration_since(t0()).unwrap();
    (op, error, elapsed)
}

/// With the defaults (5 attempts, hyper's 30 s request timeout) every
/// attempt happens: the default deadline used to end the call during the
/// fifth attempt.
#[test]
fn default_deadline_leaves_room_for_every_attempt_of_30_seconds() {
    let (op, error, elapsed) = against_a_silent_server(policy(), Duration::from_secs(30));
    assert_eq!(op.attempts(), 5);
    assert_eq!(op.last_decision(), Some(RetryDecision::AttemptsExhausted));
    assert!(
        matches!(error, Error::Transport(ref e) if e.kind == TransportErrorKind::Timeout),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(150) && elapsed < RetryPolicy::DEFAULT_TOTAL_DEADLINE,
        "{elapsed:?}"
    );
    assert!(
        RetryPolicy::default().deadline_for(Duration::from_secs(30))
            <= RetryPolicy::DEFAULT_TOTAL_DEADLINE
    );
}

/// `--timeout 300 --max-attempts 1`: with the deadline fitted to the
/// timeout, the one attempt gets its whole 300 s.
#[test]
fn deadline_fitted_to_the_timeout_never_cuts_an_attempt_short() {
    let one = RetryPolicy {
        max_attempts: 1,
        ..policy()
    };
    let fitted = one.deadline_for(Duration::from_secs(300));
    assert_eq!(fitted, Duration::from_secs(301));
    assert_eq!(
        policy().deadline_for(Duration::from_secs(30)),
        Duration::from_secs(154)
    );
    let (op, error, elapsed) = against_a_silent_server(
        RetryPolicy {
            total_deadline: fitted,
            ..one
        },
        Duration::from_secs(300),
    );
    assert_eq!(elapsed, Duration::from_secs(300));
    assert_eq!(op.attempts(), 1);
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
}

/// When the deadline is what cut an attempt short, the error says so, even
/// on the last attempt.
#[test]
fn an_attempt_cut_short_by_the_deadline_is_reported_as_the_deadline() {
    let (op, error, elapsed) = against_a_silent_server(
        RetryPolicy {
            max_attempts: 1,
            total_deadline: Duration::from_secs(120),
            ..policy()
        },
        Duration::from_secs(300),
    );
    assert_eq!(elapsed, Duration::from_secs(120));
    assert_eq!(op.last_decision(), Some(RetryDecision::DeadlineExceeded));
    match &error {
        Error::DeadlineExceeded {
            attempts: 1,
            deadline,
            last_error: Some(last),
            ..
        } => {
            assert_eq!(*deadline, Duration::from_secs(120));
            assert!(matches!(**last, Error::Transport(_)));
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_answer());
    assert!(
        error
            .to_string()
            .contains("at the overall deadline of 120s"),
        "{error}"
    );
}

/// A body over the transport's cap is an answer: status, Code and
/// RequestId survive, and it is not retried.
#[test]
fn an_oversized_answer_keeps_its_status_code_and_request_id() {
    let mut op = sent_at_t0(policy());
    let head = http::Response::builder()
        .status(503)
        .header("x-ci-request-id", "big-req")
        .body(bytes::Bytes::from_static(
            b"<Error><Code>ServiceUnavailable</Code><Message>xxxxxxxx",
        ))
        .unwrap();
    op.on_oversized_response(head, 2048, t0());
    let error = expect_done(&mut op, t0()).unwrap_err();
    assert_eq!(op.attempts(), 1);
    assert_eq!(op.last_decision(), Some(RetryDecision::DoNotRetry));
    match &error {
        Error::ResponseTooLarge { cap: 2048, answer } => {
            assert_eq!(answer.status, 503);
            assert_eq!(answer.code.as_deref(), Some("ServiceUnavailable"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.request_id(), Some("big-req"));
    assert!(error.is_answer());
    assert_eq!(
        error.to_string(),
        "the service answered with a body over the 2048-byte cap: HTTP 503 ServiceUnavailable (RequestId: big-req)"
    );
}

#[test]
fn deadline_checked_again_when_the_caller_polls_late() {
    let mut op = sent_at_t0(RetryPolicy {
        total_deadline: Duration::from_secs(10),
        ..policy()
    });
    op.on_transport_error(
        TransportError::new(TransportErrorKind::Timeout, "slow"),
        t0(),
    );
    // The caller overslept past the deadline.
    assert!(matches!(
        expect_done(&mut op, t0() + Duration::from_secs(11)),
        Err(Error::DeadlineExceeded { attempts: 1, .. })
    ));
}

#[test]
fn corrects_a_skewed_clock_once_and_keeps_the_offset() {
    let client = client();
    let mut op = client.operation(ListWorkflowExecutions::default());
    let first = expect_send(&mut op, t0());
    let server_now = t0() + Duration::from_secs(3600);
    op.on_response(
        error_response_with(
            401,
            "SignatureExpired",
            "expired",
            &[("date", &httpdate::fmt_http_date(server_now))],
        ),
        t0(),
    );
    assert_eq!(
        op.last_decision(),
        Some(RetryDecision::RetryWithCorrectedClock)
    );
    let second = expect_send(&mut op, t0());
    assert_eq!(client.clock_offset_secs(), 3600);
    let start = |r: &http::Request<bytes::Bytes>| -> u64 {
        key_time(r).split(';').next().unwrap().parse().unwrap()
    };
    assert_eq!(start(&second) - start(&first), 3600);

    // A second expiry in the same operation is final.
    op.on_response(
        error_response_with(
            401,
            "SignatureExpired",
            "expired",
            &[("date", "Thu, 01 Jan 2099 00:00:00 GMT")],
        ),
        t0(),
    );
    assert!(expect_done(&mut op, t0()).is_err());

    // Later operations start from the corrected clock.
    let mut later = client.operation(ListWorkflowExecutions::default());
    assert_eq!(start(&expect_send(&mut later, t0())), start(&second));
}

#[test]
fn small_skew_is_not_what_failed_so_no_retry() {
    let mut op = sent_at_t0(policy());
    let date = httpdate::fmt_http_date(t0() + Duration::from_secs(5));
    op.on_response(
        error_response_with(401, "SignatureExpired", "expired", &[("date", &date)]),
        t0(),
    );
    assert!(expect_done(&mut op, t0()).is_err());
    assert_eq!(op.last_decision(), Some(RetryDecision::DoNotRetry));
}

#[test]
fn access_denied_request_expired_counts_as_skew() {
    let client = client();
    let mut op = client.operation(ListWorkflowExecutions::default());
    expect_send(&mut op, t0());
    let date = httpdate::fmt_http_date(t0() - Duration::from_secs(7200));
    op.on_response(
        error_response_with(
            403,
            "AccessDenied",
            "Request has expired",
            &[("date", &date)],
        ),
        t0(),
    );
    expect_send(&mut op, t0());
    assert_eq!(client.clock_offset_secs(), -7200);
}

#[test]
fn invalid_requests_are_never_sent() {
    let request = ListWorkflowExecutions {
        workflow_id: Some(String::new()),
        ..Default::default()
    };
    let mut op = client().operation(request);
    match expect_done(&mut op, t0()) {
        Err(Error::InvalidRequest(e)) => assert_eq!(e.parameter, "workflowId"),
        other => panic!("{other:?}"),
    }
    assert_eq!(op.attempts(), 0);
}

#[test]
fn misuse_is_reported_not_panicked() {
    let mut op = sent_at_t0(policy());
    assert!(matches!(expect_done(&mut op, t0()), Err(Error::Usage(_))));

    let mut op = client().operation(ListWorkflowExecutions::default());
    op.on_response(ok_response(&page(0..1, None)), t0());
    assert!(matches!(expect_done(&mut op, t0()), Err(Error::Usage(_))));
}

#[test]
fn malformed_success_body_is_an_error_not_retried() {
    let mut op = sent_at_t0(policy());
    let response = http::Response::builder()
        .status(200)
        .body(bytes::Bytes::from_static(
            b"<Response><WorkflowExecutionList><RunId>x",
        ))
        .unwrap();
    op.on_response(response, t0());
    assert!(matches!(
        expect_done(&mut op, t0()),
        Err(Error::MalformedResponse(_))
    ));
}

#[derive(Debug, Clone)]
enum Failure {
    Status(u16, &'static str),
    Transport(TransportErrorKind),
}

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![
        Just(Failure::Status(500, "InternalError")),
        Just(Failure::Status(502, "BadGateway")),
        Just(Failure::Status(503, "ServiceUnavailable")),
        Just(Failure::Status(429, "SlowDown")),
        Just(Failure::Transport(TransportErrorKind::ConnectionClosed)),
        Just(Failure::Transport(TransportErrorKind::Timeout)),
        Just(Failure::Transport(TransportErrorKind::Connect)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_failures_below_the_attempt_limit_end_in_success(
        failures in proptest::collection::vec(failure(), 0..7),
        seed in any::<u64>(),
    ) {
        let policy = RetryPolicy {
            max_attempts: 8,
            total_deadline: Duration::from_secs(3600),
            jitter_seed: seed,
            ..RetryPolicy::default()
        };
        let client: Client = client_with(policy);
        let mut op = client.operation(ListWorkflowExecutions {
            size: Some(PageSize::new(5).unwrap()),
            ..Default::default()
        });
        let mut now = t0();
        let mut remaining = failures.clone().into_iter();
        let result = loop {
            match op.poll(now) {
                Step::Send(_) => match remaining.next() {
                    Some(Failure::Status(status, code)) => op.on_response(error_response(status, code, "x"), now),
                    Some(Failure::Transport(kind)) => op.on_transport_error(TransportError::new(kind, "x"), now),
                    None => op.on_response(ok_response(&page(0..5, None)), now),
                },
                Step::Wait(delay) => now += delay,
                Step::FetchCredentials(_) => panic!("fixed credentials are never fetched"),
                Step::Done(result) => break result,
            }
        };
        prop_assert_eq!(result.unwrap().executions.len(), 5);
        prop_assert_eq!(op.attempts() as usize, failures.len() + 1);
    }
}

/// A trigger is not idempotent: once its request may have reached the
/// service, a transport failure is reported (saying so), never retried; a
/// connection that was never made carried nothing and is retried.
#[test]
fn a_trigger_is_never_sent_twice_after_it_may_have_arrived() {
    use cos_ci_proto::TriggerWorkflow;
    let trigger = || TriggerWorkflow {
        workflow_id: "w1".to_owned(),
        object: "a.mp4".to_owned(),
        name: None,
    };
    let client = client();
    let now = t0();
    for kind in [
        TransportErrorKind::ConnectionClosed,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
    ] {
        let mut op = client.operation(trigger());
        let Step::Send(request) = op.poll(now) else {
            panic!("expected a request");
        };
        assert_eq!(request.method(), http::Method::POST);
        op.on_transport_error(TransportError::new(kind, "reset"), now);
        match op.poll(now) {
            Step::Done(Err(Error::MaybeApplied { action, source })) => {
                assert_eq!(action, "TriggerMediaWorkflow");
                assert_eq!(source.kind, kind);
                let shown = Error::MaybeApplied { action, source }.to_string();
                assert!(shown.contains("check whether it took effect"), "{shown}");
            }
            other => panic!("{kind:?}: {other:?}"),
        }
        assert_eq!(op.attempts(), 1);
    }
    let mut op = client.operation(trigger());
    assert!(matches!(op.poll(now), Step::Send(_)));
    op.on_transport_error(
        TransportError::new(TransportErrorKind::Connect, "refused"),
        now,
    );
    assert!(
        matches!(op.poll(now), Step::Wait(_)),
        "a refused connection sent nothing: retried"
    );
}
