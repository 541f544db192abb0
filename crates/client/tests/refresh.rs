//! Temporary credentials in the operation driver, on virtual time: the
//! first fetch, early refresh, one refresh in flight, waiting for it, its
//! failure, and one refresh + retry when the service refuses a token.

mod common;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::creds::{Issuer, issued, text};
use common::{VirtualTransport, error_response, example_config, ok_response, page, policy, t0};
use cos_ci_client::blocking::BlockingClient;
use cos_ci_client::credentials::{CredentialPolicy, CredentialProvider, SourceKind};
use cos_ci_client::{
    Client, CredentialError, CredentialRequest, Credentials, Endpoint, Error,
    ListWorkflowExecutions, ListWorkflowExecutionsOutput, RetryDecision, Step, TransportError,
    TransportErrorKind,
};

type Op = cos_ci_client::Operation<ListWorkflowExecutions>;

/// A metadata service and a CI service that accepts each issued token
/// until it expires.
struct World {
    lifetime: Duration,
    issued: u32,
    valid_until: HashMap<String, SystemTime>,
    metadata_requests: u32,
    ci_requests: u32,
    tokens_used: Vec<String>,
    /// Refuse every token, even one just issued.
    refuse_all: bool,
}

impl World {
    fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            issued: 0,
            valid_until: HashMap::new(),
            metadata_requests: 0,
            ci_requests: 0,
            tokens_used: Vec::new(),
            refuse_all: false,
        }
    }

    fn metadata(
        &mut self,
        request: &http::Request<Bytes>,
        now: SystemTime,
    ) -> http::Response<Bytes> {
        self.metadata_requests += 1;
        assert!(
            request
                .uri()
                .to_string()
                .starts_with("http://127.0.0.1:9/latest/meta-data/")
        );
        if request.uri().path().ends_with('/') {
            return text(200, "cos-role");
        }
        self.issued += 1;
        let token = format!("token-{}", self.issued);
        let expires = now + self.lifetime;
        self.valid_until.insert(token.clone(), expires);
        let expired_time = expires.duration_since(UNIX_EPOCH).unwrap().as_secs();
        issued(
            Issuer::Metadata,
            &format!("AKIDtmp{}", self.issued),
            "tmp-key",
            &token,
            expired_time,
        )
    }

    fn ci(&mut self, request: &http::Request<Bytes>, now: SystemTime) -> http::Response<Bytes> {
        self.ci_requests += 1;
        let token = request.headers()["x-ci-security-token"]
            .to_str()
            .unwrap()
            .to_owned();
        self.tokens_used.push(token.clone());
        if self.refuse_all {
            return error_response(403, "AccessDenied", "denied");
        }
        match self.valid_until.get(&token) {
            Some(until) if now < *until => ok_response(&page(0..2, None)),
            _ => error_response(403, "AccessDenied", "The security token has expired."),
        }
    }
}

fn metadata_endpoint() -> Endpoint {
    Endpoint::parse("http://127.0.0.1:9").unwrap()
}

fn role_client_with(credential_policy: CredentialPolicy) -> Client {
    let provider =
        CredentialProvider::cvm_role(metadata_endpoint(), None).with_policy(credential_policy);
    let config = example_config(provider).with_retry_policy(policy());
    Client::new(config)
}

fn role_client() -> Client {
    role_client_with(CredentialPolicy::default())
}

fn role_client_and_hour_long_credentials() -> (Client, World) {
    (role_client(), World::new(Duration::from_secs(3600)))
}

/// One listing by `client` against `world` from `now`, which it advances.
fn call(client: &Client, now: &mut SystemTime, world: &mut World) {
    run(
        &mut client.operation(ListWorkflowExecutions::default()),
        now,
        world,
    )
    .unwrap();
}

/// Drive `op` to the end against `world`, advancing `now` on waits.
fn run(
    op: &mut Op,
    now: &mut SystemTime,
    world: &mut World,
) -> Result<ListWorkflowExecutionsOutput, Error> {
    loop {
        match op.poll(*now) {
            Step::Send(request) => {
                let response = world.ci(&request, *now);
                op.on_response(response, *now);
            }
            Step::FetchCredentials(fetch) => {
                assert_eq!(fetch.kind(), SourceKind::CvmRole);
                let response = world.metadata(fetch.request(), *now);
                op.on_response(response, *now);
            }
            Step::Wait(delay) => *now += delay,
            Step::Done(result) => return result,
        }
    }
}

#[test]
fn fetched_once_then_reused_then_refreshed_before_expiry() {
    let (client, mut world) = role_client_and_hour_long_credentials();
    let mut now = t0();

    call(&client, &mut now, &mut world);
    assert_eq!(
        world.metadata_requests, 2,
        "role name, then its credentials"
    );
    assert_eq!(now, t0(), "no waiting");
    let provided = client.credentials().unwrap();
    assert_eq!(
        provided.source().to_string(),
        "CVM instance role `cos-role` (metadata at http://127.0.0.1:9)"
    );
    assert_eq!(
        provided.expires_at(),
        Some(t0() + Duration::from_secs(3600))
    );

    // Reused until the refresh margin (300 s before expiry).
    now = t0() + Duration::from_secs(3299);
    call(&client, &mut now, &mut world);
    assert_eq!(world.metadata_requests, 2);

    now = t0() + Duration::from_secs(3300);
    call(&client, &mut now, &mut world);
    assert_eq!(
        world.metadata_requests, 3,
        "one request: the role name is remembered"
    );
    assert_eq!(world.tokens_used, ["token-1", "token-1", "token-2"]);

    // Clones share the credentials.
    let clone = client.clone();
    call(&clone, &mut now, &mut world);
    assert_eq!(world.metadata_requests, 3);
}

/// Two listings at [`t0`] on a client that has no credentials yet: `a`
/// fetches them (its first request is returned) and `b`, with nothing to
/// sign with while `a` fetches, waits (the returned delay).
fn a_fetches_b_waits(client: &Client) -> (Op, Op, CredentialRequest, Duration) {
    let mut a = client.operation(ListWorkflowExecutions::default());
    let mut b = client.operation(ListWorkflowExecutions::default());
    let Step::FetchCredentials(first) = a.poll(t0()) else {
        panic!("a fetches")
    };
    let Step::Wait(delay) = b.poll(t0()) else {
        panic!("b waits")
    };
    (a, b, first, delay)
}

#[test]
fn one_refresh_in_flight_others_wait_for_it() {
    let (client, mut world) = role_client_and_hour_long_credentials();
    let now = t0();
    let (mut a, mut b, first, delay) = a_fetches_b_waits(&client);
    assert_eq!(delay, Duration::from_millis(20));
    let response = world.metadata(first.request(), now);
    a.on_response(response, now);
    let Step::FetchCredentials(second) = a.poll(now) else {
        panic!("a fetches the role's credentials")
    };
    let later = now + Duration::from_millis(5);
    assert!(matches!(b.poll(later), Step::Wait(_)), "still fetching");
    let response = world.metadata(second.request(), later);
    a.on_response(response, later);
    assert!(matches!(a.poll(later), Step::Send(_)));
    // b looks again after its wait and signs with what a fetched.
    let Step::Send(request) = b.poll(now + delay) else {
        panic!("b sends")
    };
    assert_eq!(request.headers()["x-ci-security-token"], "token-1");
    assert_eq!(world.metadata_requests, 2);
}

#[test]
fn an_early_refresh_does_not_hold_up_the_others() {
    let (client, mut world) = role_client_and_hour_long_credentials();
    let mut now = t0();
    call(&client, &mut now, &mut world);

    now = t0() + Duration::from_secs(3400);
    let mut a = client.operation(ListWorkflowExecutions::default());
    let mut b = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(a.poll(now), Step::FetchCredentials(_)));
    let Step::Send(request) = b.poll(now) else {
        panic!("b uses the still-valid credentials")
    };
    assert_eq!(request.headers()["x-ci-security-token"], "token-1");
}

#[test]
fn a_failed_refresh_fails_the_waiters_too_but_keeps_valid_credentials() {
    let (client, mut world) = role_client_and_hour_long_credentials();
    let now = t0();
    let (mut a, mut b, _, delay) = a_fetches_b_waits(&client);
    // The metadata service answers 404 for the role: no retry.
    a.on_response(text(404, ""), now);
    let Step::Done(Err(error)) = a.poll(now) else {
        panic!("a fails")
    };
    assert!(
        matches!(error, Error::Credentials(CredentialError::Refused { .. })),
        "{error}"
    );
    let Step::Done(Err(Error::Credentials(same))) = b.poll(now + delay) else {
        panic!("b fails with a's error")
    };
    assert_eq!(Error::Credentials(same).to_string(), error.to_string());

    // A later operation tries again on its own.
    let mut later = now + Duration::from_secs(1);
    call(&client, &mut later, &mut world);

    // An early refresh that fails leaves the working credentials in use,
    // and the next attempt waits a little (10 s here).
    let mut now = later + Duration::from_secs(3400);
    let mut c = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(c.poll(now), Step::FetchCredentials(_)));
    c.on_response(text(404, ""), now);
    let Step::Send(request) = c.poll(now) else {
        panic!("c goes on with the old credentials")
    };
    assert_eq!(request.headers()["x-ci-security-token"], "token-1");
    let mut d = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(
        d.poll(now + Duration::from_secs(9)),
        Step::Send(_)
    ));
    let mut e = client.operation(ListWorkflowExecutions::default());
    now += Duration::from_secs(10);
    assert!(matches!(e.poll(now), Step::FetchCredentials(_)));
}

#[test]
fn a_refused_token_gets_one_refresh_and_one_retry() {
    let (client, mut world) = role_client_and_hour_long_credentials();
    let mut now = t0();
    call(&client, &mut now, &mut world);

    // The service stops taking token-1 early (revoked, or its clock is ahead).
    world.valid_until.clear();
    let mut op = client.operation(ListWorkflowExecutions::default());
    run(&mut op, &mut now, &mut world).unwrap();
    assert_eq!(world.tokens_used, ["token-1", "token-1", "token-2"]);
    assert_eq!(op.attempts(), 2);
    assert_eq!(
        op.last_decision(),
        Some(RetryDecision::RetryWithRefreshedCredentials)
    );

    // Refused again after the refresh: that is the answer, once.
    world.refuse_all = true;
    let fetched = world.metadata_requests;
    let mut op = client.operation(ListWorkflowExecutions::default());
    // Its own refresh issues token-3, which the service refuses as well.
    let error = run(&mut op, &mut now, &mut world).unwrap_err();
    assert_eq!(
        error.service_error().unwrap().code.as_deref(),
        Some("AccessDenied")
    );
    assert_eq!(op.attempts(), 2);
    assert_eq!(world.metadata_requests - fetched, 1);
}

#[test]
fn fixed_credentials_are_never_refreshed() {
    let client = common::client();
    let mut op = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(op.poll(t0()), Step::Send(_)));
    op.on_response(error_response(403, "AccessDenied", "denied"), t0());
    assert!(matches!(op.poll(t0()), Step::Done(Err(_))));
    assert_eq!(op.last_decision(), Some(RetryDecision::DoNotRetry));
}

#[test]
fn a_dropped_or_stuck_refresh_is_taken_over() {
    let client = role_client();
    let now = t0();
    let mut a = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(a.poll(now), Step::FetchCredentials(_)));
    drop(a);
    let mut b = client.operation(ListWorkflowExecutions::default());
    assert!(
        matches!(b.poll(now), Step::FetchCredentials(_)),
        "a's claim went with it"
    );

    // b never reports; after the longest a fetch can take, c takes over.
    let mut c = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(
        c.poll(now + Duration::from_secs(1)),
        Step::Wait(_)
    ));
    let max = CredentialPolicy::default().sts_timeout * 6 + Duration::from_secs(1);
    let mut c = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(c.poll(now + max), Step::FetchCredentials(_)));
}

#[test]
fn the_deadline_covers_waiting_for_credentials() {
    let provider = CredentialProvider::cvm_role(metadata_endpoint(), None);
    let config = example_config(provider).with_retry_policy(cos_ci_client::RetryPolicy {
        total_deadline: Duration::from_secs(30),
        ..policy()
    });
    let client = Client::new(config);
    let mut a = client.operation(ListWorkflowExecutions::default());
    assert!(matches!(a.poll(t0()), Step::FetchCredentials(_)));
    let mut b = client.operation(ListWorkflowExecutions::default());
    let mut now = t0();
    let result = loop {
        match b.poll(now) {
            Step::Wait(delay) => now += delay * 500,
            Step::Done(result) => break result,
            other => panic!("{other:?}"),
        }
    };
    assert!(
        matches!(result, Err(Error::DeadlineExceeded { .. })),
        "{result:?}"
    );
}

#[test]
fn prepare_needs_fetched_credentials() {
    let client = role_client();
    let error = client
        .prepare(&ListWorkflowExecutions::default(), t0())
        .unwrap_err();
    assert_eq!(error, Error::Credentials(CredentialError::NotFetched));
}

#[test]
fn credentials_that_live_seconds_are_refreshed_a_quarter_before_expiry() {
    let client = role_client();
    let mut world = World::new(Duration::from_secs(4));
    let mut now = t0();
    for _ in 0..40 {
        call(&client, &mut now, &mut world);
        now += Duration::from_millis(250);
    }
    // 10 s of calls with 4 s credentials refreshed at 3 s: 4 sets.
    assert_eq!(world.issued, 4);
    assert!(
        world.ci_requests == 40,
        "no call was refused: {}",
        world.ci_requests
    );
}

/// The blocking helper sends credential requests through the transport's
/// `fetch_credentials`, whose default gives them their own deadline. The
/// first metadata request times out.
fn fake_transport(lifetime: Duration) -> VirtualTransport<World> {
    VirtualTransport::new(
        World::new(lifetime),
        Duration::ZERO,
        |world, request, now| {
            if request.uri().port_u16() == Some(9) {
                if world.metadata_requests == 0 {
                    world.metadata_requests += 1;
                    return Err(TransportError::new(TransportErrorKind::Timeout, "slow"));
                }
                Ok(world.metadata(&request, now))
            } else {
                Ok(world.ci(&request, now))
            }
        },
    )
}

#[test]
fn the_blocking_client_fetches_through_its_transport() {
    let provider = CredentialProvider::cvm_role(metadata_endpoint(), None);
    let config = example_config(provider.clone());
    let transport = fake_transport(Duration::from_secs(3600));
    let mut client = BlockingClient::new(config, transport);
    let page = client.execute(ListWorkflowExecutions::default()).unwrap();
    assert_eq!(page.executions.len(), 2);
    let transport = client.transport();
    // A timeout, a retry 100 ms later, the role's credentials, then CI.
    assert_eq!(transport.state.metadata_requests, 3);
    assert_eq!(transport.sent[0].1, Some(t0() + Duration::from_secs(2)));
    assert_eq!(
        transport.sent[1].1,
        Some(t0() + Duration::from_millis(2100))
    );
    assert_ne!(
        transport.sent[3].1, transport.sent[0].1,
        "CI gets the operation's deadline"
    );

    let mut transport = fake_transport(Duration::from_secs(60));
    transport.state.metadata_requests = 1;
    let provided = cos_ci_client::blocking::fetch_credentials(&provider, &mut transport).unwrap();
    assert_eq!(provided.expires_at(), Some(t0() + Duration::from_secs(60)));
    let fixed = CredentialProvider::from(Credentials::new("AKID", "key"));
    assert!(cos_ci_client::blocking::fetch_credentials(&fixed, &mut transport).is_ok());
}
