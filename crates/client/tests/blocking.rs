//! The blocking helper on virtual time with replayed responses: retries
//! sleep through the transport, each attempt gets the deadline, listings
//! follow tokens and stop at the first error.

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use cos_ci_client::{
    BlockingClient, Config, Credentials, Error, ListWorkflowExecutions, PagingOptions, RetryPolicy,
    TransportError, TransportErrorKind,
};

/// Replays canned outcomes, each taking 10 ms.
type Replay = VirtualTransport<VecDeque<Result<http::Response<Bytes>, TransportError>>>;

fn replay(
    outcomes: impl IntoIterator<Item = Result<http::Response<Bytes>, TransportError>>,
) -> Replay {
    VirtualTransport::new(
        outcomes.into_iter().collect(),
        Duration::from_millis(10),
        |outcomes, _, _| {
            outcomes
                .pop_front()
                .expect("more requests than replayed outcomes")
        },
    )
}

/// The `nextToken` each request asked for.
fn tokens(replay: &Replay) -> Vec<Option<String>> {
    let token = |uri: &http::Uri| {
        uri.query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("nextToken=").map(str::to_owned))
    };
    replay.sent.iter().map(|(uri, _)| token(uri)).collect()
}

fn client(replay: Replay) -> BlockingClient<Replay> {
    BlockingClient::from_client(common::client(), replay)
}

fn client_with_replay(
    outcomes: impl IntoIterator<Item = Result<http::Response<Bytes>, TransportError>>,
) -> BlockingClient<Replay> {
    client(replay(outcomes))
}

#[test]
fn execute_retries_on_virtual_time_with_the_deadline_on_every_attempt() {
    let mut client = client(replay([
        Ok(error_response(503, "ServiceUnavailable", "busy")),
        Err(TransportError::new(
            TransportErrorKind::ConnectionClosed,
            "reset",
        )),
        Ok(ok_response(&page(0..3, None))),
    ]));
    let output = client.execute(ListWorkflowExecutions::default()).unwrap();
    assert_eq!(output.executions.len(), 3);
    let replay = client.transport();
    assert_eq!(replay.slept.len(), 2, "one wait before each retry");
    let deadline = t0() + RetryPolicy::default().total_deadline;
    assert_eq!(replay.sent.len(), 3);
    assert!(replay.sent.iter().all(|(_, d)| *d == Some(deadline)));
}

#[test]
fn a_final_error_is_returned_without_sleeping() {
    let mut client = client(replay([Ok(error_response(403, "AccessDenied", "no"))]));
    let error = client
        .execute(ListWorkflowExecutions::default())
        .unwrap_err();
    assert_eq!(
        error.service_error().unwrap().code.as_deref(),
        Some("AccessDenied")
    );
    assert!(client.transport().slept.is_empty());
}

#[test]
fn pages_and_items_follow_tokens_to_the_end() {
    let responses = || {
        [
            Ok(ok_response(&page(0..2, Some("t1")))),
            Ok(ok_response(&page(2..4, Some("t2")))),
            Ok(ok_response(&page(4..5, None))),
        ]
    };
    let mut client = client(replay(responses()));
    let mut pages = client.pages(ListWorkflowExecutions::default(), PagingOptions::all());
    let sizes: Vec<usize> = pages.by_ref().map(|page| page.unwrap().len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(pages.resume_token(), None);
    assert_eq!(pages.paginator().items(), 5);
    assert_eq!(
        tokens(client.transport()),
        [None, Some("t1".into()), Some("t2".into())]
    );

    let mut client = client_with_replay(responses());
    let ids: Vec<String> = client
        .items(ListWorkflowExecutions::default(), PagingOptions::all())
        .map(|item| item.unwrap().run_id)
        .collect();
    assert_eq!(ids, (0..5).map(|n| execution(n).run_id).collect::<Vec<_>>());
}

#[test]
fn a_limit_stops_early_and_leaves_a_resume_token() {
    let replayed = || {
        [
            Ok(ok_response(&page(0..2, Some("t1")))),
            Ok(ok_response(&page(2..4, Some("t2")))),
        ]
    };
    let mut client = client_with_replay(replayed());
    let mut pages = client.pages(ListWorkflowExecutions::default(), PagingOptions::limit(3));
    let sizes: Vec<usize> = pages.by_ref().map(|page| page.unwrap().len()).collect();
    assert_eq!(sizes, [2, 1]);
    assert_eq!(pages.resume_token(), Some("t2"));

    let mut client = client_with_replay(replayed());
    let mut items = client.items(ListWorkflowExecutions::default(), PagingOptions::limit(3));
    assert_eq!(items.by_ref().count(), 3);
    assert!(items.next().is_none());
    assert!(
        client
            .pages(ListWorkflowExecutions::default(), PagingOptions::limit(0))
            .next()
            .is_none()
    );
}

#[test]
fn an_error_ends_the_listing_and_says_where_it_failed() {
    let mut client = client_with_replay([
        Ok(ok_response(&page(0..2, Some("t1")))),
        Ok(error_response(403, "AccessDenied", "no")),
    ]);
    let mut pages = client.pages(ListWorkflowExecutions::default(), PagingOptions::all());
    assert_eq!(pages.next().unwrap().unwrap().len(), 2);
    assert!(matches!(pages.next(), Some(Err(Error::Service(_)))));
    assert!(pages.next().is_none(), "nothing after an error");
    assert_eq!(pages.resume_token(), Some("t1"), "the page that failed");

    let mut client = client_with_replay([
        Ok(ok_response(&page(0..2, Some("t1")))),
        Ok(ok_response(&page(2..4, Some("t1")))),
    ]);
    let outcomes: Vec<_> = client
        .items(ListWorkflowExecutions::default(), PagingOptions::all())
        .collect();
    assert_eq!(outcomes.len(), 5);
    // A repeated token is the paginator's error, and the end.
    let last = outcomes.last().unwrap().as_ref().unwrap_err();
    assert!(last.to_string().contains("t1"), "{last}");
}

#[test]
fn new_seeds_the_jitter_at_random_unless_a_seed_was_chosen() {
    let config = || example_config(Credentials::new(SECRET_ID, SECRET_KEY));
    let default_seed = RetryPolicy::default().jitter_seed;
    let seeded = |config: Config| {
        BlockingClient::new(config, replay([]))
            .client()
            .config()
            .retry_policy()
            .jitter_seed
    };
    let (a, b) = (seeded(config()), seeded(config()));
    assert_ne!(a, default_seed);
    assert_ne!(a, b, "each client draws its own seed");
    let chosen = config().with_retry_policy(RetryPolicy {
        jitter_seed: 7,
        ..RetryPolicy::default()
    });
    assert_eq!(seeded(chosen), 7);
}
