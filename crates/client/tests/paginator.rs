//! The paginator on replayed pages.

mod common;

use common::*;
use cos_ci_client::{Error, Paginator};
use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput, PageSize};
use proptest::prelude::*;

/// Drive a paginator over canned pages; returns the run ids and the tokens
/// each request carried.
fn drain(
    mut paginator: Paginator<ListWorkflowExecutions>,
    pages: &[ListWorkflowExecutionsOutput],
) -> (Result<Vec<String>, Error>, Vec<Option<String>>) {
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    let mut pages = pages.iter();
    while let Some(request) = paginator.next_request() {
        let request = match request {
            Ok(request) => request,
            Err(error) => return (Err(error), tokens),
        };
        tokens.push(request.next_token.clone());
        let page = pages
            .next()
            .expect("paginator asked for more pages than exist")
            .clone();
        ids.extend(paginator.on_page(page).into_iter().map(|e| e.run_id));
    }
    (Ok(ids), tokens)
}

#[test]
fn follows_tokens_until_absent() {
    let pages = [
        page(0..2, Some("t1")),
        page(2..4, Some("t2")),
        page(4..5, None),
    ];
    let (ids, tokens) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    assert_eq!(ids.unwrap().len(), 5);
    assert_eq!(tokens, [None, Some("t1".into()), Some("t2".into())]);
}

#[test]
fn no_resume_token_after_the_last_page() {
    let mut paginator = Paginator::new(ListWorkflowExecutions::default());
    paginator.next_request().unwrap().unwrap();
    paginator.on_page(page(0..2, Some("t1")));
    assert_eq!(paginator.resume_token(), Some("t1"));
    paginator.next_request().unwrap().unwrap();
    paginator.on_page(page(2..3, None));
    assert_eq!(paginator.resume_token(), None);
    assert!(paginator.is_done());
}

#[test]
fn empty_token_means_last_page() {
    let pages = [page(0..2, Some(""))];
    let (ids, tokens) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    assert_eq!(ids.unwrap().len(), 2);
    assert_eq!(tokens.len(), 1);
}

#[test]
fn a_repeated_token_is_an_error_not_an_endless_loop() {
    let pages = [
        page(0..2, Some("t1")),
        page(2..4, Some("t2")),
        page(4..6, Some("t1")),
    ];
    let (ids, _) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    match ids {
        Err(Error::RepeatedNextToken { token }) => assert_eq!(token, "t1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_starting_token_counts_as_seen() {
    let start = ListWorkflowExecutions {
        next_token: Some("t0".into()),
        ..Default::default()
    };
    let pages = [page(0..2, Some("t0"))];
    let (ids, tokens) = drain(Paginator::new(start), &pages);
    assert_eq!(tokens, [Some("t0".to_owned())]);
    assert!(matches!(ids, Err(Error::RepeatedNextToken { .. })));
}

#[test]
fn limit_stops_early_and_shrinks_the_last_page() {
    let request = ListWorkflowExecutions {
        size: Some(PageSize::new(4).unwrap()),
        ..Default::default()
    };
    let mut paginator = Paginator::new(request).with_limit(6);
    let first = paginator.next_request().unwrap().unwrap();
    assert_eq!(first.size.unwrap().get(), 4);
    assert_eq!(paginator.on_page(page(0..4, Some("t1"))).len(), 4);
    let second = paginator.next_request().unwrap().unwrap();
    assert_eq!(
        second.size.unwrap().get(),
        2,
        "only what the limit still needs"
    );
    // A server that ignores size is cut to the limit.
    assert_eq!(paginator.on_page(page(4..8, Some("t2"))).len(), 2);
    assert!(paginator.next_request().is_none());
    assert_eq!(
        paginator.resume_token(),
        Some("t2"),
        "where to resume after the limit"
    );
    assert_eq!(paginator.items(), 6);
    assert_eq!(paginator.pages(), 2);
}

#[test]
fn zero_limit_sends_nothing() {
    let mut paginator = Paginator::new(ListWorkflowExecutions::default()).with_limit(0);
    assert!(paginator.next_request().is_none());
}

#[test]
fn next_request_twice_without_a_page_is_misuse() {
    let mut paginator = Paginator::new(ListWorkflowExecutions::default());
    assert!(paginator.next_request().unwrap().is_ok());
    assert!(matches!(
        paginator.next_request(),
        Some(Err(Error::Usage(_)))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn yields_exactly_the_concatenation_of_pages(sizes in proptest::collection::vec(0usize..20, 1..12)) {
        let mut start = 0;
        let pages: Vec<_> = sizes.iter().enumerate().map(|(i, &n)| {
            let token = (i + 1 < sizes.len()).then(|| format!("token-{i}"));
            let p = page(start..start + n, token.as_deref());
            start += n;
            p
        }).collect();
        let (ids, tokens) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
        let expected: Vec<String> = (0..start).map(|n| execution(n).run_id).collect();
        prop_assert_eq!(ids.unwrap(), expected);
        prop_assert_eq!(tokens.len(), sizes.len());
    }

    #[test]
    fn limit_yields_a_prefix(sizes in proptest::collection::vec(1usize..20, 1..8), limit in 0u64..100) {
        let mut start = 0;
        let pages: Vec<_> = sizes.iter().enumerate().map(|(i, &n)| {
            let token = (i + 1 < sizes.len()).then(|| format!("token-{i}"));
            let p = page(start..start + n, token.as_deref());
            start += n;
            p
        }).collect();
        let (ids, _) = drain(Paginator::new(ListWorkflowExecutions::default()).with_limit(limit), &pages);
        let expected: Vec<String> = (0..start.min(limit as usize)).map(|n| execution(n).run_id).collect();
        prop_assert_eq!(ids.unwrap(), expected);
    }
}
