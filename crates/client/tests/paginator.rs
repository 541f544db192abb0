//! The paginator on replayed pages.

mod common;

use common::*;
use cos_ci_client::{Error, Paginator, PagingError, PagingOptions};
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
        Err(Error::Paging(PagingError::RepeatedCursor { cursor })) => {
            assert_eq!(cursor, "NextToken `t1`")
        }
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
    assert!(matches!(
        ids,
        Err(Error::Paging(PagingError::RepeatedCursor { .. }))
    ));
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

#[test]
fn a_run_of_empty_pages_with_new_tokens_stops_with_an_error() {
    let pages: Vec<_> = (0..50)
        .map(|i| page(0..0, Some(&format!("fresh-{i}"))))
        .collect();
    let (ids, tokens) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    assert_eq!(tokens.len(), 10, "stops after the default run of 10");
    match ids {
        Err(Error::Paging(PagingError::EmptyPages { pages })) => assert_eq!(pages, 10),
        other => panic!("{other:?}"),
    }
    // A non-empty page resets the run.
    let mut pages: Vec<_> = (0..9).map(|i| page(0..0, Some(&format!("a{i}")))).collect();
    pages.push(page(0..1, Some("b")));
    pages.extend((0..9).map(|i| page(0..0, Some(&format!("c{i}")))));
    pages.push(page(1..2, None));
    let (ids, _) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    assert_eq!(ids.unwrap().len(), 2);
}

#[test]
fn max_pages_stops_a_listing_that_never_ends() {
    let options = PagingOptions {
        max_pages: Some(3),
        ..PagingOptions::default()
    };
    let pages: Vec<_> = (0..10)
        .map(|i| page(i..i + 1, Some(&format!("t{i}"))))
        .collect();
    let (ids, tokens) = drain(
        Paginator::with_options(ListWorkflowExecutions::default(), options),
        &pages,
    );
    assert_eq!(tokens.len(), 3);
    assert!(matches!(
        ids,
        Err(Error::Paging(PagingError::MaxPages { pages: 3 }))
    ));
}

#[test]
fn a_token_too_long_to_send_back_is_an_error() {
    let huge = "x".repeat(cos_ci_client::MAX_CURSOR_BYTES + 1);
    let pages = [page(0..1, Some(&huge))];
    let (ids, _) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
    assert!(matches!(
        ids,
        Err(Error::Paging(PagingError::CursorTooLong { .. }))
    ));
}

#[test]
fn the_largest_page_is_asked_for_unless_set() {
    let mut paginator = Paginator::new(ListWorkflowExecutions::default());
    let request = paginator.next_request().unwrap().unwrap();
    assert_eq!(request.size.map(PageSize::get), Some(100));
    let options = PagingOptions {
        page_size: Some(7),
        ..PagingOptions::default()
    };
    let mut paginator = Paginator::with_options(ListWorkflowExecutions::default(), options);
    let request = paginator.next_request().unwrap().unwrap();
    assert_eq!(request.size.map(PageSize::get), Some(7));
}

/// A page-number listing, declared here as a user of the macros would.
mod numbered {
    use cos_ci_proto::{PageSize, ci_action, ci_response};

    ci_response! {
        pub struct ThingsOutput {
            pub total: Option<u64> = "TotalCount",
            pub things: Vec<String> = "Thing",
        }
    }

    ci_action! {
        GET "/things" as "ListThings" -> ThingsOutput {
            paging: page_number {
                page: page_number,
                size: page_size: PageSize,
                total: total,
                items: things: String,
            },
        }
        /// A listing with hand-declared page-number fields.
        pub struct ListThings {
            pub page_number: Option<u32> = query "pageNumber",
            pub page_size: Option<PageSize> = query "pageSize",
        }
    }
}

fn numbered_page(range: std::ops::Range<usize>, total: Option<u64>) -> numbered::ThingsOutput {
    numbered::ThingsOutput {
        request_id: None,
        total,
        things: range.map(|n| format!("thing-{n}")).collect(),
    }
}

#[test]
fn page_number_listings_stop_at_total_count_or_a_short_page() {
    let request = numbered::ListThings {
        page_size: Some(PageSize::new(3).unwrap()),
        ..Default::default()
    };
    let mut paginator = Paginator::new(request.clone());
    let mut asked = Vec::new();
    let mut got = Vec::new();
    let answers = [
        numbered_page(0..3, Some(7)),
        numbered_page(3..6, Some(7)),
        numbered_page(6..7, Some(7)),
    ];
    let mut answers = answers.into_iter();
    while let Some(next) = paginator.next_request() {
        let next = next.unwrap();
        asked.push(next.page_number);
        got.extend(paginator.on_page(answers.next().unwrap()));
    }
    assert_eq!(asked, [None, Some(2), Some(3)]);
    assert_eq!(got.len(), 7);

    // Without TotalCount, a full page continues and a short one ends.
    let mut paginator = Paginator::new(request.clone());
    paginator.next_request().unwrap().unwrap();
    paginator.on_page(numbered_page(0..3, None));
    assert!(!paginator.is_done());
    paginator.next_request().unwrap().unwrap();
    paginator.on_page(numbered_page(3..4, None));
    assert!(paginator.is_done());

    // A server that keeps sending full pages past TotalCount is stopped by it;
    // one that never says TotalCount is stopped by the page limit.
    let options = PagingOptions {
        max_pages: Some(5),
        ..PagingOptions::default()
    };
    let mut paginator = Paginator::with_options(request, options);
    let mut pages = 0;
    let error = loop {
        match paginator.next_request() {
            Some(Ok(_)) => {
                pages += 1;
                paginator.on_page(numbered_page(0..3, None));
            }
            Some(Err(error)) => break error,
            None => panic!("ended"),
        }
    };
    assert_eq!(pages, 5);
    assert!(matches!(
        error,
        Error::Paging(PagingError::MaxPages { pages: 5 })
    ));
}

/// Token pages of `sizes` executions each, numbered on from 0, and how
/// many executions they hold.
fn token_pages(sizes: &[usize]) -> (Vec<ListWorkflowExecutionsOutput>, usize) {
    let mut start = 0;
    let pages = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let token = (i + 1 < sizes.len()).then(|| format!("token-{i}"));
            let p = page(start..start + n, token.as_deref());
            start += n;
            p
        })
        .collect();
    (pages, start)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn yields_exactly_the_concatenation_of_pages(sizes in proptest::collection::vec(0usize..20, 1..12)) {
        let (pages, start) = token_pages(&sizes);
        let (ids, tokens) = drain(Paginator::new(ListWorkflowExecutions::default()), &pages);
        let expected: Vec<String> = (0..start).map(|n| execution(n).run_id).collect();
        prop_assert_eq!(ids.unwrap(), expected);
        prop_assert_eq!(tokens.len(), sizes.len());
    }

    #[test]
    fn limit_yields_a_prefix(sizes in proptest::collection::vec(1usize..20, 1..8), limit in 0u64..100) {
        let (pages, start) = token_pages(&sizes);
        let (ids, _) = drain(Paginator::new(ListWorkflowExecutions::default()).with_limit(limit), &pages);
        let expected: Vec<String> = (0..start.min(limit as usize)).map(|n| execution(n).run_id).collect();
        prop_assert_eq!(ids.unwrap(), expected);
    }
}
