//! `HyperClient::parallel_items` against the real emulator on 127.0.0.1:
//! the windowed listing gives exactly what the sequential listing gives,
//! for filters, orders, limits and worker counts, on data with bursts of
//! executions in one second, through injected faults and with latency.

use std::collections::BTreeSet;
use std::time::Duration;

use cos_ci_client::{PagingOptions, ParallelOptions, RetryPolicy};
use cos_ci_emulator::{
    Dataset, Emulator, EmulatorConfig, ExecutionRecord, FaultConfig, FaultKind, Latency, Skew,
};
use cos_ci_hyper::HyperClient;
use cos_ci_proto::{
    CiTimestamp, ExecutionState, ListWorkflowExecutions, Order, PageSize, StateFilter,
};
use futures_util::StreamExt;

mod common;
use common::{config_for, default_credentials, run_ids, start};

/// Generated executions, bunched, plus bursts: 300 in one second, 200 in
/// the next three seconds, and 50 in each of five consecutive seconds.
fn dataset() -> Dataset {
    let mut records = Dataset::generate_with(
        2_500,
        21,
        Some(Skew {
            share: 0.8,
            span: 0.05,
        }),
    )
    .into_records();
    let workflows: Vec<String> = records
        .iter()
        .map(|r| r.workflow_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let start = records
        .iter()
        .map(|r| r.create_time.unix_seconds())
        .min()
        .unwrap();
    let mut burst = |count: usize, first_second: i64, seconds: i64, tag: &str| {
        for i in 0..count {
            let state = ["Success", "Failed", "Running", "Cancel"][i % 4];
            records.push(ExecutionRecord {
                run_id: format!("i{tag}{:031x}", i * 7919 % 100_003),
                workflow_id: workflows[i % workflows.len()].clone(),
                object: format!("burst/{tag}/{i}.mp4"),
                create_time: CiTimestamp::from_unix(first_second + (i as i64 % seconds), 8 * 3600)
                    .unwrap(),
                state: ExecutionState::from(state),
                job_id: None,
                details: None,
            });
        }
    };
    burst(300, start + 86_400, 1, "a");
    burst(200, start + 2 * 86_400, 3, "b");
    burst(250, start + 3 * 86_400, 5, "c");
    Dataset::new(records).unwrap()
}

fn client(emulator: &Emulator, retry: Option<RetryPolicy>) -> HyperClient {
    let config = config_for(emulator, default_credentials());
    HyperClient::new(match retry {
        Some(retry) => config.with_retry_policy(retry),
        None => config,
    })
}

fn requests() -> Vec<ListWorkflowExecutions> {
    let dataset = dataset();
    let records = dataset.records();
    let workflow = records[0].workflow_id.clone();
    let mut times: Vec<i64> = records
        .iter()
        .map(|r| r.create_time.unix_seconds())
        .collect();
    times.sort_unstable();
    let at = |fraction: f64| {
        CiTimestamp::from_unix(
            times[((times.len() - 1) as f64 * fraction) as usize],
            8 * 3600,
        )
        .unwrap()
    };
    let mut requests = Vec::new();
    for order in [None, Some(Order::Asc), Some(Order::Desc)] {
        let base = ListWorkflowExecutions {
            order,
            size: Some(PageSize::new(20).unwrap()),
            ..ListWorkflowExecutions::default()
        };
        requests.push(base.clone());
        requests.push(ListWorkflowExecutions {
            workflow_id: Some(workflow.clone()),
            ..base.clone()
        });
        requests.push(ListWorkflowExecutions {
            states: Some(BTreeSet::from([StateFilter::Failed, StateFilter::Running])),
            ..base.clone()
        });
        // Bounds on populated seconds, inside the bursts' range.
        requests.push(ListWorkflowExecutions {
            start_creation_time: Some(at(0.2)),
            end_creation_time: Some(at(0.9)),
            ..base.clone()
        });
    }
    requests
}

#[tokio::test]
async fn windows_list_exactly_what_the_sequential_listing_lists() {
    let dataset = dataset();
    let total = dataset.len();
    let emulator = start(EmulatorConfig {
        dataset,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emulator, None);
    for request in requests() {
        let expected = run_ids(client.items(request.clone(), PagingOptions::all()))
            .await
            .unwrap();
        if request == ListWorkflowExecutions::default() {
            assert_eq!(expected.len(), total);
        }
        for workers in [1, 3, 8] {
            let options = ParallelOptions {
                window_pages: 3,
                ..ParallelOptions::new(workers)
            };
            let ids = run_ids(client.parallel_items(request.clone(), options))
                .await
                .unwrap();
            assert_eq!(ids, expected, "{workers} workers, {request:?}");
        }
        // With a limit: the same first executions.
        for limit in [7, 333] {
            let paging = PagingOptions::limit(limit);
            let expected = run_ids(client.items(request.clone(), paging.clone()))
                .await
                .unwrap();
            let ids = run_ids(
                client.parallel_items(request.clone(), ParallelOptions::new(8).with_paging(paging)),
            )
            .await
            .unwrap();
            assert_eq!(ids, expected, "limit {limit}, {request:?}");
        }
    }
    emulator.shutdown().await;
}

/// Every request of every window is an ordinary call: through 25% faults
/// of every kind, with retries, nothing is lost or repeated.
#[tokio::test]
async fn faults_are_retried_per_window_and_lose_nothing() {
    let dataset = dataset();
    let plain = start(EmulatorConfig {
        dataset: dataset.clone(),
        ..EmulatorConfig::default()
    })
    .await;
    let faulty = start(EmulatorConfig {
        dataset,
        faults: FaultConfig {
            rate: 0.25,
            kinds: vec![
                FaultKind::ServiceUnavailable503,
                FaultKind::InternalError500,
                FaultKind::CloseConnection,
                FaultKind::TruncateBody,
            ],
        },
        seed: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let retry = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    let request = ListWorkflowExecutions {
        order: Some(Order::Asc),
        size: Some(PageSize::new(50).unwrap()),
        ..ListWorkflowExecutions::default()
    };
    let expected = run_ids(client(&plain, None).items(request.clone(), PagingOptions::all()))
        .await
        .unwrap();
    let ids =
        run_ids(client(&faulty, Some(retry)).parallel_items(request, ParallelOptions::new(6)))
            .await
            .unwrap();
    assert_eq!(ids, expected);
}

/// With latency the requests overlap in time (checked only for its result
/// here; the speed-up is measured by `cargo xtask bench`), and a stream
/// dropped half-way stops cleanly.
#[tokio::test]
async fn with_latency_and_dropped_half_way() {
    let dataset = dataset();
    let emulator = start(EmulatorConfig {
        dataset,
        latency: Latency {
            base: Duration::from_millis(3),
            jitter: Duration::from_millis(3),
        },
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emulator, None);
    let request = ListWorkflowExecutions {
        order: Some(Order::Desc),
        ..ListWorkflowExecutions::default()
    };
    let expected = run_ids(client.items(request.clone(), PagingOptions::all()))
        .await
        .unwrap();
    let ids = run_ids(client.parallel_items(request.clone(), ParallelOptions::new(8)))
        .await
        .unwrap();
    assert_eq!(ids, expected);

    let mut stream = Box::pin(client.parallel_pages(request, ParallelOptions::new(8)));
    let first = stream.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(stream);
    // The client still works after its in-flight requests were aborted.
    let page = client
        .list_workflow_executions(ListWorkflowExecutions::default())
        .await
        .unwrap();
    assert!(!page.executions.is_empty());
}
