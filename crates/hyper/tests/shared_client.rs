//! One `HyperClient` shared by clones, as the crate docs promise: clones
//! reuse one connection pool, and concurrent tasks list correctly.

use std::time::Duration;

use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig, Limits};
use cos_ci_hyper::{HyperClient, ListWorkflowExecutions, PageSize, RetryPolicy, TransportOptions};

mod common;
use common::{client_for, config_for, default_credentials, run_ids, start};

async fn emulator(dataset: Dataset, limits: Limits) -> Emulator {
    start(EmulatorConfig {
        dataset,
        limits,
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_connection_pool() {
    // The emulator serves two connections at a time and keeps them open.
    // Clones with pools of their own would need a third connection by the
    // third clone, which would wait unserved until the request timeout; a
    // shared pool reuses its first connection. (Two, not one, and a pause
    // between calls: hyper returns a connection to its pool just after the
    // response, so a call made at once may race it and open another.)
    let emu = emulator(
        Dataset::generate(20, 1),
        Limits {
            max_connections: 2,
            ..Limits::default()
        },
    )
    .await;
    let options = TransportOptions {
        request_timeout: Duration::from_secs(5),
        ..TransportOptions::default()
    };
    let config =
        config_for(&emu, default_credentials()).with_retry_policy(RetryPolicy::no_retries());
    let client = HyperClient::with_options(config, options);
    // Every clone stays alive, so no connection is closed by a drop.
    let mut clones = Vec::new();
    for _ in 0..5 {
        let clone = client.clone();
        let page = clone
            .list_workflow_executions(ListWorkflowExecutions::default())
            .await
            .expect("a clone reuses the pooled connections");
        assert_eq!(page.executions.len(), 10);
        clones.push(clone);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_on_clones_each_list_everything() {
    let dataset = Dataset::generate(300, 2);
    let emu = emulator(dataset.clone(), Limits::default()).await;
    let client = client_for(&emu);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.spawn(async move {
            let request = ListWorkflowExecutions {
                size: PageSize::new(50).ok(),
                ..Default::default()
            };
            let executions =
                client.list_all_workflow_executions(request, cos_ci_client::PagingOptions::all());
            let mut ids = run_ids(executions).await.unwrap();
            ids.sort();
            ids
        });
    }
    let mut expected: Vec<String> = dataset.records().iter().map(|r| r.run_id.clone()).collect();
    expected.sort();
    while let Some(ids) = tasks.join_next().await {
        assert_eq!(ids.unwrap(), expected);
    }
}
