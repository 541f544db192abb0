//! cos-ci-hyper against the emulator's workflows and jobs: trigger a run,
//! follow it with `HyperClient::wait` (`ExecutionWait`) to `Success`, or to
//! `Failed` when the key holds `fail`; the run's tasks and `GET /jobs`
//! with its `workflowId` name the same jobs; page-number listings page.

use std::collections::BTreeSet;
use std::time::Duration;

use cos_ci_client::{
    ExecutionWait, PagingOptions, Terminal, WaitEvent, WaitOutcome, WaitPolicy, failed_task,
};
use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig};
use cos_ci_hyper::HyperClient;
use cos_ci_proto::{
    DescribeWorkflowExecutionOutput, JobDetail, ListJobs, ListQueues, ListWorkflows, MediaWorkflow,
    PageSize, TriggerWorkflow,
};
use futures_util::StreamExt;

mod common;
use common::{client_for, start};

async fn setup(task_duration: Duration) -> (Emulator, HyperClient) {
    let emulator = start(EmulatorConfig {
        dataset: Dataset::generate(30, 12),
        task_duration,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client_for(&emulator);
    (emulator, client)
}

fn quick() -> WaitPolicy {
    WaitPolicy {
        initial_interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        deadline: Some(Duration::from_secs(30)),
    }
}

async fn workflows(client: &HyperClient) -> Vec<MediaWorkflow> {
    let request = ListWorkflows {
        page_size: Some(PageSize::new(2).unwrap()),
        ..ListWorkflows::default()
    };
    let stream = client.items(request, PagingOptions::all());
    let items: Vec<_> = stream.collect().await;
    items.into_iter().map(Result::unwrap).collect()
}

/// Run `workflow` on `object` and wait for the end.
async fn run(
    client: &HyperClient,
    workflow: &MediaWorkflow,
    object: &str,
) -> (
    String,
    Terminal,
    DescribeWorkflowExecutionOutput,
    Vec<WaitEvent>,
) {
    let run_id = client
        .execute(TriggerWorkflow {
            workflow_id: workflow.workflow_id.clone(),
            object: object.to_owned(),
            name: None,
        })
        .await
        .unwrap()
        .instance_id;
    let mut events = Vec::new();
    let outcome = client
        .wait(
            ExecutionWait {
                run_id: run_id.clone(),
            },
            quick(),
            |event| events.push(event.clone()),
        )
        .await
        .unwrap();
    match outcome {
        WaitOutcome::Finished { terminal, output } => (run_id, terminal, output, events),
        other => panic!("the run did not end: {other:?}"),
    }
}

/// The jobs `GET /jobs?workflowId=` lists for the run, over every tag its
/// tasks have.
async fn jobs_of_run(
    client: &HyperClient,
    output: &DescribeWorkflowExecutionOutput,
) -> Vec<JobDetail> {
    let execution = &output.execution;
    let tags: BTreeSet<&str> = execution
        .tasks
        .iter()
        .map(|task| task.task_type.as_str())
        .collect();
    let mut jobs = Vec::new();
    for tag in tags {
        let request = ListJobs {
            tag: tag.to_owned(),
            workflow_id: Some(execution.workflow_id.clone()),
            size: Some(PageSize::new(1).unwrap()),
            ..ListJobs::default()
        };
        let listed: Vec<_> = client.items(request, PagingOptions::all()).collect().await;
        jobs.extend(listed.into_iter().map(Result::unwrap).filter(|job| {
            job.workflow
                .as_ref()
                .and_then(|workflow| workflow.run_id.as_deref())
                == Some(execution.run_id.as_str())
        }));
    }
    jobs
}

#[tokio::test]
async fn a_triggered_run_is_waited_for_to_success_and_its_jobs_agree() {
    let (emulator, client) = setup(Duration::from_millis(300)).await;
    let workflows = workflows(&client).await;
    assert_eq!(workflows.len(), 5, "five seeded workflows, two per page");
    // A workflow of two stages (Snapshot then Transcode), if the seed has one.
    let workflow = workflows
        .iter()
        .max_by_key(|workflow| {
            workflow
                .topology
                .as_ref()
                .and_then(|topology| topology.child("Nodes"))
                .map_or(0, |nodes| nodes.children().len())
        })
        .unwrap();

    let (run_id, terminal, output, events) = run(&client, workflow, "input/my video 01.mp4").await;
    assert_eq!(terminal, Terminal::Succeeded);
    let execution = &output.execution;
    assert_eq!(execution.run_id, run_id);
    assert_eq!(execution.workflow_id, workflow.workflow_id);
    assert_eq!(execution.workflow_name.as_ref(), Some(&workflow.name));
    assert!(!execution.tasks.is_empty());
    for task in &execution.tasks {
        assert!(
            events.contains(&WaitEvent::TaskSucceeded {
                name: task.name.clone(),
                task_type: task.task_type.clone(),
                job_id: task.job_id.clone(),
            }),
            "{task:?} in {events:?}"
        );
    }
    assert!(events.contains(&WaitEvent::StateChanged {
        state: "Running".into()
    }));

    let task_jobs: BTreeSet<String> = execution
        .tasks
        .iter()
        .filter_map(|task| task.job_id.clone())
        .collect();
    let jobs = jobs_of_run(&client, &output).await;
    let listed: BTreeSet<String> = jobs.iter().map(|job| job.job_id.clone()).collect();
    assert_eq!(listed, task_jobs);
    for job in &jobs {
        assert_eq!(job.state.as_str(), "Success");
        let task = execution
            .tasks
            .iter()
            .find(|task| task.job_id.as_ref() == Some(&job.job_id))
            .unwrap();
        let link = job.workflow.as_ref().unwrap();
        assert_eq!(link.name.as_ref(), Some(&task.name));
        assert_eq!(link.workflow_name.as_ref(), Some(&workflow.name));
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_key_with_fail_ends_the_run_failed() {
    let (emulator, client) = setup(Duration::ZERO).await;
    let workflow = workflows(&client).await.remove(0);
    let (_, terminal, output, events) = run(&client, &workflow, "uploads/fail/clip.mkv").await;
    assert_eq!(terminal, Terminal::Failed);
    let failed = failed_task(&output).expect("a failed task");
    assert_eq!(failed.code.as_deref(), Some("InvalidInput"));
    assert_eq!(
        Some(failed),
        output.execution.tasks.last(),
        "the last task is the one that fails"
    );
    assert!(events.iter().any(|event| matches!(
        event,
        WaitEvent::TaskFailed { code: Some(code), .. } if code == "InvalidInput"
    )));
    let jobs = jobs_of_run(&client, &output).await;
    assert_eq!(jobs.len(), output.execution.tasks.len());
    assert!(jobs.iter().any(|job| job.state.as_str() == "Failed"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn queues_page_by_number() {
    let (emulator, client) = setup(Duration::ZERO).await;
    let queues: Vec<_> = client
        .items(ListQueues::default(), PagingOptions::all())
        .collect()
        .await;
    assert_eq!(queues.len(), 1);
    let queue = queues.into_iter().next().unwrap().unwrap();
    assert!(queue.queue_id.starts_with('p'));
    emulator.shutdown().await;
}
