use std::collections::HashSet;

use cos_ci_proto::{CiTimestamp, ExecutionState};
use proptest::prelude::*;

use super::*;

fn record(
    run: &str,
    time: i64,
    workflow: &str,
    object: &str,
    job: Option<&str>,
    state: ExecutionState,
) -> ExecutionRecord {
    ExecutionRecord {
        run_id: run.to_owned(),
        workflow_id: workflow.to_owned(),
        object: object.to_owned(),
        create_time: CiTimestamp::from_unix(1_767_542_400 + time, 28_800).unwrap(),
        state,
        job_id: job.map(str::to_owned),
        details: None,
    }
}

fn ids(page: &Page) -> Vec<&str> {
    page.records.iter().map(|r| r.run_id.as_str()).collect()
}

fn small_store() -> ExecutionStore {
    use ExecutionState::*;
    let records = vec![
        record("i01", 10, "wA", "a.mp4", None, Success),
        record("i02", 10, "wB", "视频/测试 3.mov", Some("b1"), Failed),
        record("i03", 20, "wA", "a.mp4", Some("b1"), Running),
        record("i04", 30, "wA", "input/my video 01.mp4", None, Cancel),
        record("i05", 30, "wB", "a.mp4", None, Success),
        record("i06", 40, "wC", "a.mp4", Some("b2"), Other("Queued".into())),
    ];
    ExecutionStore::from_dataset(Dataset::new(records).unwrap())
}

fn query(order: Order, size: u32) -> PageQuery {
    PageQuery {
        order,
        size: PageSize::new(size).expect("a valid page size"),
        ..PageQuery::default()
    }
}

#[test]
fn orders_both_ways_with_run_id_tie_break() {
    let store = small_store();
    assert_eq!(
        ids(&store.page(&query(Order::Asc, 100))),
        ["i01", "i02", "i03", "i04", "i05", "i06"]
    );
    assert_eq!(
        ids(&store.page(&query(Order::Desc, 100))),
        ["i06", "i05", "i04", "i03", "i02", "i01"]
    );
    assert_eq!(PageQuery::default().order, Order::Desc);
    assert_eq!(PageQuery::default().size.get(), 10);
}

/// Created at `offset` seconds after the records' base time.
fn t(offset: i64) -> Option<i64> {
    Some(1_767_542_400 + offset)
}

fn states(list: &[StateFilter]) -> Option<BTreeSet<StateFilter>> {
    Some(list.iter().copied().collect())
}

#[test]
fn every_filter() {
    let store = small_store();
    const ALL: &[&str] = &["i01", "i02", "i03", "i04", "i05", "i06"];
    // (what the query sets, the run ids listed oldest first)
    type Case = (fn(&mut PageQuery), &'static [&'static str]);
    let cases: [Case; 15] = [
        (
            |q| q.workflow_id = Some("wA".into()),
            &["i01", "i03", "i04"],
        ),
        (
            |q| q.name = Some("a.mp4".into()),
            &["i01", "i03", "i05", "i06"],
        ),
        (|q| q.name = Some("视频/测试 3.mov".into()), &["i02"]),
        (|q| q.job_id = Some("b1".into()), &["i02", "i03"]),
        (
            |q| q.states = states(&[StateFilter::Success, StateFilter::Cancel]),
            &["i01", "i04", "i05"],
        ),
        (|q| q.states = states(&[StateFilter::All]), ALL),
        (
            |q| q.states = states(&[StateFilter::All, StateFilter::Failed]),
            ALL,
        ),
        (|q| q.states = states(&[]), ALL),
        (
            |q| (q.start_time, q.end_time) = (t(20), t(30)),
            &["i03", "i04", "i05"],
        ),
        (|q| q.start_time = t(31), &["i06"]),
        (|q| q.end_time = t(10), &["i01", "i02"]),
        (|q| (q.start_time, q.end_time) = (t(31), t(30)), &[]),
        (
            |q| {
                q.workflow_id = Some("wA".into());
                q.name = Some("a.mp4".into());
                q.states = states(&[StateFilter::Running]);
            },
            &["i03"],
        ),
        (|q| q.workflow_id = Some("wZ".into()), &[]),
        (
            |q| (q.job_id, q.workflow_id) = (Some("b1".into()), Some("wC".into())),
            &[],
        ),
    ];
    for (set, want) in cases {
        let mut query = query(Order::Asc, 100);
        set(&mut query);
        assert_eq!(ids(&store.page(&query)), want, "{query:?}");
    }
}

#[test]
fn size_bounds_and_last_page() {
    let store = small_store();
    // Sizes outside 1..=100 cannot be asked for: `PageSize` refuses them.
    let page = store.page(&query(Order::Desc, 1));
    assert_eq!(ids(&page), ["i06"]);
    let page = store.page(&query(Order::Desc, 100));
    assert_eq!(page.records.len(), 6);
    assert_eq!(page.next, None);
    // Exactly a full last page: no token, no empty trailing page.
    let page = store.page(&query(Order::Asc, 6));
    assert_eq!((page.records.len(), page.next.clone()), (6, None));
    let page = store.page(&query(Order::Asc, 5));
    assert_eq!(
        page.next,
        Some(Position {
            time: 1_767_542_430,
            run_id: "i05".into()
        })
    );
    let rest = store.page(&PageQuery {
        after: page.next.clone(),
        ..query(Order::Asc, 5)
    });
    assert_eq!((ids(&rest), rest.next.clone()), (vec!["i06"], None));
}

#[test]
fn positions_are_exclusive_in_both_directions() {
    let store = small_store();
    let after = |time: i64, run: &str, order| PageQuery {
        after: Some(Position {
            time: 1_767_542_400 + time,
            run_id: run.into(),
        }),
        ..query(order, 100)
    };
    assert_eq!(
        ids(&store.page(&after(10, "i01", Order::Asc))),
        ["i02", "i03", "i04", "i05", "i06"]
    );
    assert_eq!(
        ids(&store.page(&after(30, "i05", Order::Desc))),
        ["i04", "i03", "i02", "i01"]
    );
    // A position that no longer exists (deleted) still splits the order.
    assert_eq!(
        ids(&store.page(&after(25, "zzz", Order::Asc))),
        ["i04", "i05", "i06"]
    );
    assert_eq!(
        ids(&store.page(&after(25, "zzz", Order::Desc))),
        ["i03", "i02", "i01"]
    );
    // Past either end.
    assert!(store.page(&after(1000, "i", Order::Asc)).records.is_empty());
    assert!(
        store
            .page(&after(-1000, "i", Order::Desc))
            .records
            .is_empty()
    );
    // Combined with time bounds on the far side of the cursor.
    let q = PageQuery {
        start_time: Some(1_767_542_430),
        ..after(10, "i01", Order::Desc)
    };
    assert!(store.page(&q).records.is_empty());
}

#[test]
fn replace_and_remove_keep_indexes_consistent() {
    let mut store = small_store();
    let replaced = store.insert(record(
        "i03",
        50,
        "wC",
        "b.mp4",
        None,
        ExecutionState::Success,
    ));
    assert_eq!(replaced.map(|r| r.workflow_id), Some("wA".into()));
    assert_eq!(store.len(), 6);
    let by = |store: &ExecutionStore, q: PageQuery| {
        store
            .page(&q)
            .records
            .into_iter()
            .map(|r| r.run_id)
            .collect::<Vec<_>>()
    };
    let base = query(Order::Asc, 100);
    assert_eq!(
        by(
            &store,
            PageQuery {
                workflow_id: Some("wA".into()),
                ..base.clone()
            }
        ),
        ["i01", "i04"]
    );
    assert_eq!(
        by(
            &store,
            PageQuery {
                job_id: Some("b1".into()),
                ..base.clone()
            }
        ),
        ["i02"]
    );
    assert_eq!(
        by(
            &store,
            PageQuery {
                workflow_id: Some("wC".into()),
                ..base.clone()
            }
        ),
        ["i06", "i03"]
    );
    assert!(store.remove("i06").is_some());
    assert!(store.remove("i06").is_none());
    assert_eq!(
        by(
            &store,
            PageQuery {
                job_id: Some("b2".into()),
                ..base.clone()
            }
        ),
        Vec::<String>::new()
    );
    assert_eq!(store.get("i03").map(|r| r.object.as_str()), Some("b.mp4"));
}

#[test]
fn a_page_examines_only_what_it_returns() {
    let store = ExecutionStore::from_dataset(Dataset::generate(20_000, 5));
    let any = store.page(&query(Order::Desc, 100));
    let workflow = any.records[0].workflow_id.clone();
    let job = store
        .page(&query(Order::Asc, 100))
        .records
        .iter()
        .find_map(|r| r.job_id.clone())
        .unwrap();
    let mid = any.records[50].create_time.unix_seconds() - 86_400 * 7;
    let single_dimension = [
        query(Order::Desc, 100),
        PageQuery {
            workflow_id: Some(workflow),
            ..query(Order::Asc, 100)
        },
        PageQuery {
            job_id: Some(job),
            ..query(Order::Desc, 37)
        },
        PageQuery {
            states: Some([StateFilter::Failed, StateFilter::Running].into()),
            ..query(Order::Asc, 100)
        },
        PageQuery {
            start_time: Some(mid),
            end_time: Some(mid + 86_400),
            ..query(Order::Desc, 100)
        },
    ];
    for mut q in single_dimension {
        for _ in 0..5 {
            let page = store.page(&q);
            assert_eq!(page.records.len(), q.size.get() as usize);
            assert_eq!(page.examined, q.size.get() as usize + 1, "{q:?}");
            q.after = page.next;
        }
    }
}

/// The reference: filter and sort the whole dataset.
fn reference(records: &[ExecutionRecord], q: &PageQuery) -> Vec<String> {
    let mut matching: Vec<&ExecutionRecord> = records.iter().filter(|r| q.matches(r)).collect();
    matching.sort_by_key(|r| (r.create_time.unix_seconds(), r.run_id.clone()));
    if q.order == Order::Desc {
        matching.reverse();
    }
    matching.into_iter().map(|r| r.run_id.clone()).collect()
}

fn arb_state() -> impl Strategy<Value = ExecutionState> {
    prop_oneof![
        Just(ExecutionState::Success),
        Just(ExecutionState::Failed),
        Just(ExecutionState::Running),
        Just(ExecutionState::Cancel),
        Just(ExecutionState::Other("Queued".into())),
    ]
}

fn arb_records() -> impl Strategy<Value = Vec<ExecutionRecord>> {
    // Few distinct values and a narrow time range force ties everywhere.
    prop::collection::vec(
        (
            0i64..40,
            0u8..3,
            0u8..3,
            prop::option::of(0u8..2),
            arb_state(),
        ),
        0..120,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(index, (time, workflow, object, job, state))| {
                let job = job.map(|job| format!("b{job}"));
                record(
                    &format!("i{index:x}"),
                    time,
                    &format!("w{workflow}"),
                    &format!("o {object}"),
                    job.as_deref(),
                    state,
                )
            })
            .collect()
    })
}

fn arb_query() -> impl Strategy<Value = PageQuery> {
    let state = prop_oneof![
        Just(StateFilter::All),
        Just(StateFilter::Success),
        Just(StateFilter::Failed),
        Just(StateFilter::Running),
        Just(StateFilter::Cancel),
    ];
    (
        prop::option::of(0u8..4),
        prop::option::of(0u8..4),
        prop::option::of(0u8..3),
        prop::option::of(prop::collection::btree_set(state, 1..3)),
        prop::option::of(-2i64..42),
        prop::option::of(-2i64..42),
        any::<bool>(),
    )
        .prop_map(
            |(workflow, object, job, states, start, end, asc)| PageQuery {
                workflow_id: workflow.map(|w| format!("w{w}")),
                name: object.map(|o| format!("o {o}")),
                job_id: job.map(|j| format!("b{j}")),
                states,
                start_time: start.map(|s| 1_767_542_400 + s),
                end_time: end.map(|e| 1_767_542_400 + e),
                order: if asc { Order::Asc } else { Order::Desc },
                size: PageSize::default(),
                after: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn paging_returns_the_filtered_set_once_in_order(
        records in arb_records(),
        q in arb_query(),
        sizes in prop::collection::vec(1u32..8, 1..40),
    ) {
        let store = ExecutionStore::from_dataset(Dataset::new(records.clone()).unwrap());
        let want = reference(&records, &q);
        let mut got = Vec::new();
        let mut q = q;
        let mut pages = 0;
        for size in sizes.iter().cycle() {
            q.size = PageSize::new(*size).unwrap();
            let page = store.page(&q);
            prop_assert!(page.records.len() <= *size as usize);
            pages += 1;
            got.extend(page.records.iter().map(|r| r.run_id.clone()));
            match page.next {
                Some(next) => {
                    // A token is only issued when more matches follow.
                    prop_assert_eq!(page.records.len(), *size as usize);
                    q.after = Some(next);
                }
                None => break,
            }
            prop_assert!(pages <= records.len() + 1);
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn paging_while_inserting_never_repeats_or_loses(
        records in arb_records(),
        extra in arb_records(),
        q in arb_query(),
        size in 1u32..6,
    ) {
        let mut store = ExecutionStore::from_dataset(Dataset::new(records.clone()).unwrap());
        let original: HashSet<String> = reference(&records, &q).into_iter().collect();
        let mut extra = extra.into_iter().map(|mut r| { r.run_id = format!("n{}", r.run_id); r });
        let mut q = PageQuery { size: PageSize::new(size).unwrap(), ..q };
        let mut seen = Vec::new();
        let mut last: Option<Position> = None;
        loop {
            let page = store.page(&q);
            for r in &page.records {
                let position = Position::of(r);
                // Strictly monotonic in the listing's order.
                if let Some(last) = &last {
                    let advancing = match q.order {
                        Order::Asc => position > *last,
                        Order::Desc => position < *last,
                    };
                    prop_assert!(advancing);
                }
                last = Some(position);
                seen.push(r.run_id.clone());
            }
            for _ in 0..2 {
                if let Some(r) = extra.next() {
                    store.insert(r);
                }
            }
            match page.next {
                Some(next) => q.after = Some(next),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        prop_assert_eq!(unique.len(), seen.len());
        prop_assert!(original.iter().all(|id| unique.contains(id)));
    }
}
