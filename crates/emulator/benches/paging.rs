//! A page of 100 from the middle of a listing costs the same over 10,000
//! and 1,000,000 stored executions (issue 5: within 1.5x): the store walks
//! an ordered index from the token's position instead of scanning.
//!
//! `cargo bench -p cos-ci-emulator --bench paging`

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use cos_ci_emulator::{Dataset, ExecutionStore, PageQuery, Position};
use cos_ci_proto::{Order, PageSize, StateFilter};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The middle of the generated six weeks (2026-01-26T00:00:00+08:00).
const MIDDLE: i64 = 1_767_542_400 + 21 * 86_400;

fn queries(store: &ExecutionStore) -> Vec<(&'static str, PageQuery)> {
    let after = Some(Position {
        time: MIDDLE,
        run_id: String::new(),
    });
    let base = PageQuery {
        size: PageSize::new(PageSize::MAX).expect("the largest page size is valid"),
        after,
        ..PageQuery::default()
    };
    let sample = store
        .page(&base)
        .records
        .first()
        .cloned()
        .expect("the middle of the dataset has executions");
    vec![
        ("all-desc", base.clone()),
        (
            "all-asc",
            PageQuery {
                order: Order::Asc,
                ..base.clone()
            },
        ),
        (
            "workflow",
            PageQuery {
                workflow_id: Some(sample.workflow_id.clone()),
                ..base.clone()
            },
        ),
        (
            "states-failed-running",
            PageQuery {
                states: Some(BTreeSet::from([StateFilter::Failed, StateFilter::Running])),
                ..base.clone()
            },
        ),
        (
            "time-range",
            PageQuery {
                start_time: Some(MIDDLE - 3 * 86_400),
                end_time: Some(MIDDLE + 3 * 86_400),
                ..base.clone()
            },
        ),
    ]
}

fn paging(c: &mut Criterion) {
    let mut group = c.benchmark_group("page-of-100");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    for n in [10_000usize, 1_000_000] {
        let store = ExecutionStore::from_dataset(Dataset::generate(n, 42));
        for (name, query) in queries(&store) {
            let page = store.page(&query);
            assert_eq!(page.records.len(), 100, "{name} over {n}");
            group.bench_with_input(BenchmarkId::new(name, n), &query, |b, query| {
                b.iter(|| black_box(store.page(black_box(query))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, paging);
criterion_main!(benches);
