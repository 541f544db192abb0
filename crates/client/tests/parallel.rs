//! The parallel (time-window) listing on virtual data, without sockets: a
//! virtual service pages an in-memory set of executions; its bound
//! semantics (inclusive or exclusive on each side), its order of
//! executions created in the same second and whether it sends a token
//! before an empty last page are all parameters. The windowed listing must
//! give exactly what the sequential `Paginator` gives against the same
//! service, whatever order its requests complete in.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashSet};

use cos_ci_client::{
    Error, ListingStats, ListingStep, Paginator, PagingError, PagingOptions, ParallelListing,
    ParallelOptions, TransportError, TransportErrorKind,
};
use cos_ci_proto::{
    CiTimestamp, ExecutionState, ListWorkflowExecutions, ListWorkflowExecutionsOutput, Order,
    PageSize, StateFilter, WorkflowExecution,
};
use proptest::prelude::*;

const BASE: i64 = 1_767_542_400;
const STATES: [&str; 4] = ["Success", "Failed", "Running", "Cancel"];
const WORKFLOWS: [&str; 2] = ["wA", "wB"];

/// How the virtual service orders executions created in the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ties {
    /// As the emulator: by RunId, ascending for Asc and descending for Desc
    /// (one total order, reversed).
    Emulator,
    /// By RunId ascending in both orders.
    AlwaysAscending,
    /// By a hidden rank (a hash of the RunId), the same in both orders.
    Hidden,
}

#[derive(Debug, Clone)]
struct Service {
    /// (create time, run id, state, workflow)
    items: Vec<(i64, String, usize, usize)>,
    ties: Ties,
    start_inclusive: bool,
    end_inclusive: bool,
    /// Send a token whenever a page is full, even when nothing follows
    /// (then an empty last page), instead of looking one item ahead.
    token_on_full_page: bool,
    asc: OnceCell<Vec<(SortKey, usize)>>,
    desc: OnceCell<Vec<(SortKey, usize)>>,
}

/// (time in the listing's direction, hidden rank, tie text): smaller first.
type SortKey = (i64, i64, String);

fn hidden_rank(run_id: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in run_id.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash >> 2) as i64
}

impl Service {
    /// The sort key of an item in `order`: smaller comes first.
    fn sort_key(&self, order: Order, time: i64, run_id: &str) -> SortKey {
        let descending = order == Order::Desc;
        let time_key = if descending { -time } else { time };
        match self.ties {
            Ties::Emulator if descending => (time_key, 0, invert(run_id)),
            Ties::Emulator | Ties::AlwaysAscending => (time_key, 0, run_id.to_owned()),
            Ties::Hidden => (time_key, hidden_rank(run_id), run_id.to_owned()),
        }
    }

    /// Every item's sort key in `order`, sorted (computed once per order).
    fn sorted(&self, order: Order) -> &[(SortKey, usize)] {
        let cell = if order == Order::Desc {
            &self.desc
        } else {
            &self.asc
        };
        cell.get_or_init(|| {
            let mut keys: Vec<_> = self
                .items
                .iter()
                .enumerate()
                .map(|(index, (time, run_id, ..))| (self.sort_key(order, *time, run_id), index))
                .collect();
            keys.sort();
            keys
        })
    }

    /// One page, as a service would: the bounds (with this service's
    /// semantics) and filters applied, strictly after the token's position.
    fn answer(&self, request: &ListWorkflowExecutions) -> ListWorkflowExecutionsOutput {
        let order = request.order.unwrap_or_default();
        let size = request.size.map_or(10, |size| size.get()) as usize;
        // Bounds as the first and last time included.
        let first_time = request
            .start_creation_time
            .as_ref()
            .map(|start| start.unix_seconds() + i64::from(!self.start_inclusive));
        let last_time = request
            .end_creation_time
            .as_ref()
            .map(|end| end.unix_seconds() - i64::from(!self.end_inclusive));
        // The same as time keys in `order` (smaller first).
        let (low_key, high_key) = if order == Order::Desc {
            (last_time.map(|t| -t), first_time.map(|t| -t))
        } else {
            (first_time, last_time)
        };
        let states: Option<Vec<&str>> = request.states.as_ref().map(|states| {
            states
                .iter()
                .map(|state| match state {
                    StateFilter::Success => "Success",
                    StateFilter::Failed => "Failed",
                    StateFilter::Running => "Running",
                    StateFilter::Cancel => "Cancel",
                    StateFilter::All => "All",
                })
                .collect()
        });
        let sorted = self.sorted(order);
        let mut from = match request.next_token.as_deref().map(decode_token) {
            Some(after) => sorted.partition_point(|(key, _)| *key <= after),
            None => 0,
        };
        if let Some(low) = low_key {
            from = from.max(sorted.partition_point(|(key, _)| key.0 < low));
        }
        let mut matching = Vec::with_capacity(size + 1);
        for (key, index) in &sorted[from..] {
            if high_key.is_some_and(|high| key.0 > high) || matching.len() > size {
                break;
            }
            let (_, _, state, workflow) = &self.items[*index];
            let keep = request
                .workflow_id
                .as_deref()
                .is_none_or(|id| id == WORKFLOWS[*workflow])
                && states.as_ref().is_none_or(|states| {
                    states.contains(&"All") || states.contains(&STATES[*state])
                });
            if keep {
                matching.push((key, &self.items[*index]));
            }
        }
        let page: Vec<_> = matching.iter().take(size).collect();
        let more = if self.token_on_full_page {
            page.len() == size
        } else {
            matching.len() > size
        };
        ListWorkflowExecutionsOutput {
            request_id: None,
            next_token: more
                .then(|| page.last().map(|(key, _)| encode_token(key)))
                .flatten(),
            executions: page
                .iter()
                .map(|(_, (time, run_id, state, workflow))| WorkflowExecution {
                    run_id: run_id.clone(),
                    workflow_id: WORKFLOWS[*workflow].to_owned(),
                    object: format!("o/{run_id}"),
                    create_time: Some(CiTimestamp::from_unix(*time, 8 * 3600).unwrap()),
                    state: ExecutionState::from(STATES[*state]),
                })
                .collect(),
        }
    }
}

/// A string that sorts in the reverse order of `text` among run ids of one
/// length.
fn invert(text: &str) -> String {
    text.bytes().map(|b| char::from(255 - b)).collect()
}

fn encode_token((time, rank, tie): &SortKey) -> String {
    let hex: String = tie.chars().map(|c| format!("{:02x}", c as u32)).collect();
    format!("v.{time}.{rank}.{hex}")
}

fn decode_token(token: &str) -> SortKey {
    let mut parts = token.split('.').skip(1);
    let time = parts.next().unwrap().parse().unwrap();
    let rank = parts.next().unwrap().parse().unwrap();
    let hex = parts.next().unwrap();
    let tie = (0..hex.len())
        .step_by(2)
        .map(|i| char::from_u32(u32::from_str_radix(&hex[i..i + 2], 16).unwrap()).unwrap())
        .collect();
    (time, rank, tie)
}

/// A small deterministic generator for completion orders and faults.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sequential(
    service: &Service,
    request: &ListWorkflowExecutions,
    paging: &PagingOptions,
) -> (Vec<String>, Result<(), Error>) {
    let mut paginator = Paginator::with_options(request.clone(), paging.clone());
    let mut ids = Vec::new();
    while let Some(next) = paginator.next_request() {
        match next {
            Ok(request) => ids.extend(
                paginator
                    .on_page(service.answer(&request))
                    .into_iter()
                    .map(|e| e.run_id),
            ),
            Err(error) => return (ids, Err(error)),
        }
    }
    (ids, Ok(()))
}

/// Drive a parallel listing answering its requests in the order sent, each
/// answer passed through `tamper` first.
fn first_in_first_out(
    service: &Service,
    request: ListWorkflowExecutions,
    options: ParallelOptions,
    mut tamper: impl FnMut(&ListWorkflowExecutions, &mut ListWorkflowExecutionsOutput),
) -> (Vec<String>, Result<(), Error>, ListingStats) {
    let mut listing = ParallelListing::new(request, options);
    let mut ids = Vec::new();
    let mut in_flight = Vec::new();
    let result = loop {
        match listing.poll() {
            ListingStep::Send(id, request) => in_flight.push((id, request)),
            ListingStep::Items(items) => ids.extend(items.into_iter().map(|e| e.run_id)),
            ListingStep::Wait => {
                let (id, request) = in_flight.remove(0);
                let mut output = service.answer(&request);
                tamper(&request, &mut output);
                listing.on_page(id, output);
            }
            ListingStep::Done(result) => break result,
        }
    };
    (ids, result, listing.stats())
}

struct Run {
    ids: Vec<String>,
    result: Result<(), Error>,
    stats: ListingStats,
    /// Virtual time when finished, each request taking 1 unit (so, with
    /// requests in flight together, the number of round trips waited).
    rounds: u64,
    /// Most requests in flight at once.
    peak_in_flight: usize,
}

/// Drive a parallel listing: requests complete in an order drawn from
/// `seed`; each failing with probability `fault_rate`.
fn parallel(
    service: &Service,
    request: &ListWorkflowExecutions,
    options: ParallelOptions,
    seed: u64,
    fault_rate: f64,
) -> Run {
    let mut rng = Rng(seed);
    let mut listing = ParallelListing::new(request.clone(), options);
    // (completion time, id, request)
    let mut in_flight: Vec<(u64, cos_ci_client::FetchId, ListWorkflowExecutions)> = Vec::new();
    let mut ids = Vec::new();
    let mut now = 0u64;
    let mut peak_in_flight = 0;
    let result = loop {
        match listing.poll() {
            ListingStep::Send(id, request) => {
                // Each request takes one unit (1000) and up to 5% more, so
                // that completions interleave differently per seed.
                let jitter = rng.below(50) as u64;
                in_flight.push((now + 1000 + jitter, id, request));
                peak_in_flight = peak_in_flight.max(in_flight.len());
            }
            ListingStep::Items(items) => {
                assert!(!items.is_empty(), "Items is never empty");
                ids.extend(items.into_iter().map(|e| e.run_id));
            }
            ListingStep::Wait => {
                assert!(!in_flight.is_empty(), "Wait with nothing in flight");
                let earliest = in_flight.iter().map(|(t, ..)| *t).min().unwrap();
                let ready: Vec<usize> = (0..in_flight.len())
                    .filter(|&i| in_flight[i].0 == earliest)
                    .collect();
                let index = ready[rng.below(ready.len())];
                let (done_at, id, request) = in_flight.swap_remove(index);
                now = now.max(done_at);
                if (rng.next() % 10_000) as f64 / 10_000.0 < fault_rate {
                    listing.on_error(
                        id,
                        Error::Transport(TransportError::new(
                            TransportErrorKind::ConnectionClosed,
                            "injected",
                        )),
                    );
                } else {
                    listing.on_page(id, service.answer(&request));
                }
            }
            ListingStep::Done(result) => break result,
        }
        assert!(ids.len() <= 100_000, "runaway listing");
    };
    assert!(matches!(listing.poll(), ListingStep::Done(Ok(()))));
    Run {
        ids,
        result,
        stats: listing.stats(),
        rounds: now / 1000,
        peak_in_flight,
    }
}

fn time(seconds: i64) -> CiTimestamp {
    CiTimestamp::from_unix(seconds, 8 * 3600).unwrap()
}

/// Executions with create times drawn to put many in the same second and
/// some on every kind of boundary.
fn arb_items() -> impl Strategy<Value = Vec<(i64, String, usize, usize)>> {
    (0usize..220, 1i64..400, 0usize..3, any::<u64>()).prop_map(|(n, span, shape, seed)| {
        let mut rng = Rng(seed);
        let hot: Vec<i64> = (0..3).map(|_| rng.below(span as usize) as i64).collect();
        (0..n)
            .map(|i| {
                let offset = match shape {
                    // Evenly over the span.
                    0 => rng.below(span as usize) as i64,
                    // Mostly in three hot seconds.
                    1 if rng.below(10) < 7 => hot[rng.below(3)],
                    // Mostly in a short burst.
                    _ if rng.below(10) < 8 => hot[0] + rng.below(4) as i64,
                    _ => rng.below(span as usize) as i64,
                };
                item(&mut rng, offset, i)
            })
            .collect()
    })
}

/// The `i`th execution, `offset` seconds after `BASE`, with a drawn run id
/// (unique by `i`), state and workflow.
fn item(rng: &mut Rng, offset: i64, i: usize) -> (i64, String, usize, usize) {
    (
        BASE + offset,
        format!("i{:08x}{i:05}", rng.next() as u32),
        rng.below(4),
        rng.below(2),
    )
}

#[derive(Debug, Clone)]
struct Case {
    service: Service,
    request: ListWorkflowExecutions,
    paging: PagingOptions,
    workers: usize,
    window_pages: u32,
    seed: u64,
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        arb_items(),
        (0usize..3, any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop_oneof![Just(None), Just(Some(Order::Asc)), Just(Some(Order::Desc))],
            prop::option::of(0usize..2),
            prop::option::of(prop::collection::btree_set(0usize..4, 1..3)),
            prop::option::of(-5i64..420),
            prop::option::of(-5i64..420),
        ),
        (1u32..8, prop::option::weighted(0.25, 0u64..150)),
        (1usize..7, 1u32..5, any::<u64>()),
    )
        .prop_map(
            |(
                items,
                (ties, start_inclusive, end_inclusive, token_on_full_page),
                (order, workflow, states, start, end),
                (size, limit),
                (workers, window_pages, seed),
            )| {
                let (start, end) = match (start, end) {
                    (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                    other => other,
                };
                let states: Option<BTreeSet<StateFilter>> = states.map(|states| {
                    states
                        .into_iter()
                        .map(|s| STATES[s].parse::<StateFilter>().unwrap())
                        .collect()
                });
                Case {
                    service: Service {
                        ties: [Ties::Emulator, Ties::AlwaysAscending, Ties::Hidden][ties],
                        start_inclusive,
                        end_inclusive,
                        token_on_full_page,
                        ..service(items)
                    },
                    request: ListWorkflowExecutions {
                        order,
                        workflow_id: workflow.map(|w| WORKFLOWS[w].to_owned()),
                        states,
                        start_creation_time: start.map(|s| time(BASE + s)),
                        end_creation_time: end.map(|e| time(BASE + e)),
                        ..ListWorkflowExecutions::default()
                    },
                    paging: PagingOptions {
                        limit,
                        page_size: Some(size),
                        ..PagingOptions::default()
                    },
                    workers,
                    window_pages,
                    seed,
                }
            },
        )
}

fn options(case: &Case) -> ParallelOptions {
    ParallelOptions {
        workers: case.workers,
        paging: case.paging.clone(),
        window_pages: case.window_pages,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// The windowed listing gives exactly the sequential listing: the same
    /// executions, each once, in the same order, with the same limit.
    #[test]
    fn windows_give_exactly_the_sequential_listing(case in arb_case()) {
        let (expected, expected_result) = sequential(&case.service, &case.request, &case.paging);
        prop_assert!(expected_result.is_ok());
        let run = parallel(&case.service, &case.request, options(&case), case.seed, 0.0);
        prop_assert!(run.result.is_ok(), "{:?}", run.result);
        prop_assert_eq!(&run.ids, &expected, "stats {:?}", run.stats);
        let unique: HashSet<&String> = run.ids.iter().collect();
        prop_assert_eq!(unique.len(), run.ids.len());
        // Bounded look-ahead: pages held after the head, plus requests.
        let workers = case.workers;
        prop_assert!(run.peak_in_flight <= workers);
        prop_assert!(
            run.stats.peak_pages_ahead <= 2 * workers * case.window_pages as usize + workers,
            "{:?}", run.stats
        );
        if workers == 1 {
            prop_assert_eq!(run.stats.probes, 0);
            prop_assert_eq!(run.stats.windows, 1);
        }
    }

    /// With requests failing, the output is a prefix of the sequential
    /// listing, followed by the error (or all of it, when no failure
    /// mattered).
    #[test]
    fn a_failure_ends_the_listing_after_a_prefix(case in arb_case(), rate in 0.05f64..0.5) {
        let (expected, _) = sequential(&case.service, &case.request, &case.paging);
        let run = parallel(&case.service, &case.request, options(&case), case.seed, rate);
        prop_assert!(expected.starts_with(&run.ids), "{:?} vs {:?}", run.ids, expected);
        if run.result.is_ok() {
            prop_assert_eq!(&run.ids, &expected);
        }
    }
}

fn spread(
    n: usize,
    span: i64,
    dense: Option<(f64, f64)>,
    seed: u64,
) -> Vec<(i64, String, usize, usize)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let offset = match dense {
                Some((share, part)) if (rng.below(1000) as f64) < share * 1000.0 => {
                    let width = ((span as f64) * part) as usize;
                    (span as f64 * 0.55) as i64 + rng.below(width) as i64
                }
                _ => rng.below(span as usize) as i64,
            };
            item(&mut rng, offset, i)
        })
        .collect()
}

/// A listing in `order`, `size` executions a page (the service's defaults
/// where `None`).
fn listing(order: Option<Order>, size: Option<u32>) -> ListWorkflowExecutions {
    ListWorkflowExecutions {
        order,
        size: size.map(|size| PageSize::new(size).unwrap()),
        ..ListWorkflowExecutions::default()
    }
}

fn service(items: Vec<(i64, String, usize, usize)>) -> Service {
    Service {
        items,
        ties: Ties::Emulator,
        start_inclusive: true,
        end_inclusive: true,
        token_on_full_page: false,
        asc: OnceCell::new(),
        desc: OnceCell::new(),
    }
}

/// In round trips (virtual time, no sockets): 8 workers need a fraction of
/// the sequential listing's round trips, on even data and on data with
/// 90% of it in 10% of the time, and hold a bounded number of pages.
#[test]
fn eight_workers_cut_the_round_trips_on_even_and_bunched_data() {
    for (name, dense, most_rounds) in [
        ("even", None, 500 / 6),
        ("bunched", Some((0.9, 0.1)), 500 / 5),
    ] {
        for order in [Order::Asc, Order::Desc] {
            let service = service(spread(50_000, 42 * 86_400, dense, 7));
            let request = listing(Some(order), None);
            let (expected, _) = sequential(&service, &request, &PagingOptions::all());
            assert_eq!(expected.len(), 50_000);
            let run = parallel(&service, &request, ParallelOptions::new(8), 1, 0.0);
            assert_eq!(run.ids, expected, "{name} {order:?}");
            assert!(
                run.rounds <= most_rounds,
                "{name} {order:?}: {} round trips (sequential: 500); {:?}",
                run.rounds,
                run.stats
            );
            // A few pages per worker, whatever the size of the listing.
            assert!(
                run.stats.peak_pages_ahead <= 2 * 8 * 8 + 8,
                "{:?}",
                run.stats
            );
            // Requests beyond the 500 pages: the probe and the windows'
            // partial last pages.
            assert!(run.stats.requests <= 500 * 23 / 20, "{:?}", run.stats);
        }
    }
}

/// One worker is the sequential listing, request for request.
#[test]
fn one_worker_sends_exactly_the_sequential_requests() {
    let service = service(spread(537, 5_000, None, 3));
    let request = listing(Some(Order::Asc), Some(50));
    let mut paginator = Paginator::new(request.clone());
    let mut expected_requests = Vec::new();
    while let Some(Ok(next)) = paginator.next_request() {
        paginator.on_page(service.answer(&next));
        expected_requests.push(next);
    }
    let mut listing = ParallelListing::new(request, ParallelOptions::new(1));
    let mut requests = Vec::new();
    loop {
        match listing.poll() {
            ListingStep::Send(id, next) => {
                listing.on_page(id, service.answer(&next));
                requests.push(next);
            }
            ListingStep::Items(_) => {}
            ListingStep::Wait => unreachable!(),
            ListingStep::Done(result) => break result.unwrap(),
        }
    }
    assert_eq!(requests, expected_requests);
}

/// Executions on a boundary second are returned by both neighbouring
/// windows when the service's bounds are inclusive: each comes out once.
/// With exclusive bounds nothing is lost.
#[test]
fn boundary_seconds_come_out_once_with_either_bound_semantics() {
    // 40 executions in each of 30 consecutive seconds: every boundary
    // falls on a full second.
    let items: Vec<_> = (0..1200)
        .map(|i| (BASE + (i / 40) as i64, format!("i{i:06}"), i % 4, i % 2))
        .collect();
    for (start_inclusive, end_inclusive) in
        [(true, true), (false, false), (true, false), (false, true)]
    {
        let service = Service {
            start_inclusive,
            end_inclusive,
            ..service(items.clone())
        };
        for order in [Order::Asc, Order::Desc] {
            let request = listing(Some(order), Some(10));
            let (expected, _) = sequential(&service, &request, &PagingOptions::all());
            let options = ParallelOptions {
                window_pages: 2,
                ..ParallelOptions::new(4)
            };
            let run = parallel(&service, &request, options, 5, 0.0);
            assert_eq!(
                run.ids, expected,
                "{start_inclusive} {end_inclusive} {order:?}"
            );
            assert!(
                run.stats.splits > 0 && run.stats.windows > 4,
                "{:?}",
                run.stats
            );
            if start_inclusive || end_inclusive {
                assert!(run.stats.dropped > 0, "overlap seen: {:?}", run.stats);
            }
        }
    }
}

/// A repeated NextToken stops the window it happens in, as it stops a
/// sequential listing; what came before is handed out first.
#[test]
fn the_repeated_token_guard_works_per_window() {
    let service = service(spread(3_000, 10_000, None, 9));
    let request = listing(Some(Order::Asc), Some(20));
    let (expected, _) = sequential(&service, &request, &PagingOptions::all());
    let mut answered = 0;
    let (ids, result, _) = first_in_first_out(
        &service,
        request,
        ParallelOptions::new(4),
        |request, output| {
            answered += 1;
            // From the 30th answer on, windows that continue get their own
            // token back.
            if answered >= 30 && request.next_token.is_some() && output.next_token.is_some() {
                output.next_token = request.next_token.clone();
            }
        },
    );
    assert!(
        matches!(
            result,
            Err(Error::Paging(PagingError::RepeatedCursor { .. }))
        ),
        "{result:?}"
    );
    assert!(!ids.is_empty() && ids.len() < expected.len());
    assert!(expected.starts_with(&ids));
}

/// `max_pages` counts every page request of the listing.
#[test]
fn max_pages_counts_the_whole_listing() {
    let service = service(spread(2_000, 10_000, None, 4));
    let request = listing(None, Some(10));
    let paging = PagingOptions {
        max_pages: Some(30),
        ..PagingOptions::default()
    };
    let (expected, _) = sequential(&service, &request, &PagingOptions::all());
    let run = parallel(
        &service,
        &request,
        ParallelOptions::new(4).with_paging(paging),
        2,
        0.0,
    );
    assert!(
        matches!(
            run.result,
            Err(Error::Paging(PagingError::MaxPages { pages: 30 }))
        ),
        "{:?}",
        run.result
    );
    assert!(run.stats.requests <= 31, "{:?}", run.stats);
    assert!(expected.starts_with(&run.ids));
}

/// An item without a CreateTime belongs to no window: returned by several,
/// it is handed out once.
#[test]
fn items_without_a_create_time_come_out_once() {
    let service = service(spread(400, 4_000, None, 11));
    let request = listing(Some(Order::Asc), Some(10));
    let options = ParallelOptions {
        window_pages: 2,
        ..ParallelOptions::new(4)
    };
    let (ids, result, stats) = first_in_first_out(&service, request, options, |request, output| {
        if request.size.map(|s| s.get()) != Some(1) {
            output.executions.insert(
                0,
                WorkflowExecution {
                    run_id: "timeless".to_owned(),
                    ..WorkflowExecution::default()
                },
            );
        }
    });
    result.unwrap();
    assert!(stats.windows > 2, "{stats:?}");
    assert_eq!(ids.iter().filter(|id| *id == "timeless").count(), 1);
    assert_eq!(ids.len(), 401);
}

/// A listing that fits one page costs that page and the probe.
#[test]
fn a_small_listing_costs_one_page_and_the_probe() {
    let service = service(spread(60, 1_000, None, 1));
    let run = parallel(
        &service,
        &ListWorkflowExecutions::default(),
        ParallelOptions::new(8),
        1,
        0.0,
    );
    assert_eq!(run.ids.len(), 60);
    assert_eq!(run.stats.requests, 2);
    assert_eq!(run.rounds, 1);
    // With a limit within one page there is no probe at all.
    let run = parallel(
        &service,
        &ListWorkflowExecutions::default(),
        ParallelOptions::new(8).with_paging(PagingOptions::limit(5)),
        1,
        0.0,
    );
    assert_eq!(run.ids.len(), 5);
    assert_eq!(run.stats.requests, 1);
}
