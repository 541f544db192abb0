//! Runs and jobs follow the clock: the same handler asked at chosen
//! instants (`RequestHandler::handle_at`, no sockets, no sleeping) shows
//! each stage, each job's progress and the end, and every view (details,
//! listing filter, `GET /jobs`, `GET /jobs/<ids>`) agrees at each instant.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cos_ci_client::Credentials;
use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig, RequestHandler,
};
use cos_ci_proto::{
    CancelJob, CiAction, CreateJobs, CreateWorkflow, DescribeJobs, DescribeWorkflowExecution,
    ExecutionState, JobDetail, JobState, ListJobs, ListWorkflowExecutions, ResponseError,
    StateFilter, TriggerWorkflow, WorkflowDefinition, WorkflowExecutionDetail, WorkflowRequest,
};

const LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);
const T0_MILLIS: u64 = 1_767_600_000_000;

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(T0_MILLIS + millis)
}

fn handler(task_duration: Duration) -> RequestHandler {
    RequestHandler::new(EmulatorConfig {
        listen: SocketAddr::from(LISTEN),
        dataset: Dataset::generate(20, 3),
        task_duration,
        log_requests: false,
        ..EmulatorConfig::default()
    })
}

/// `action` signed as the client signs it at `now`, answered at `now`.
fn call<A: CiAction>(
    handler: &RequestHandler,
    action: &A,
    now: SystemTime,
) -> Result<A::Output, ResponseError> {
    let client = cos_ci_testkit::emulator_client(
        SocketAddr::from(LISTEN),
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
    );
    let request = client.prepare(action, now).expect("a valid action");
    let response = handler.handle_at(&request, now);
    A::parse_response(response.status(), response.headers(), response.body())
}

fn ok<A: CiAction>(handler: &RequestHandler, action: &A, now: SystemTime) -> A::Output {
    call(handler, action, now).unwrap_or_else(|error| panic!("{}: {error}", A::NAME))
}

/// Start → Snapshot_1, Transcode_2 (stage 1); Snapshot_1 → Animation_3
/// (stage 2).
fn branching_workflow(handler: &RequestHandler) -> String {
    let topology = serde_json::from_str(
        r#"{"Dependencies":{"Start":"Snapshot_1,Transcode_2","Snapshot_1":"Animation_3","Transcode_2":"End","Animation_3":"End"},
            "Nodes":{"Start":{"Type":"Start","Input":{"ObjectPrefix":"in/"}},
                     "Snapshot_1":{"Type":"Snapshot","Operation":{"TemplateId":"t1","Output":{"Region":"ap-beijing","Bucket":"examplebucket-1250000000","Object":"snap/${InputName}_${Number}.jpg"}}},
                     "Transcode_2":{"Type":"Transcode","Operation":{"TemplateId":"t2","Output":{"Region":"ap-beijing","Bucket":"examplebucket-1250000000","Object":"${InputPath}/${InputName}_${RunId}.${Ext}"}}},
                     "Animation_3":{"Type":"Animation","Operation":{"TemplateId":"t3"}}}}"#,
    )
    .unwrap();
    ok(
        handler,
        &CreateWorkflow {
            request: WorkflowRequest::new(WorkflowDefinition {
                name: "branching".into(),
                state: None,
                topology,
            }),
        },
        at(0),
    )
    .workflow
    .workflow_id
}

fn trigger(handler: &RequestHandler, workflow_id: &str, object: &str, now: SystemTime) -> String {
    ok(
        handler,
        &TriggerWorkflow {
            workflow_id: workflow_id.to_owned(),
            object: object.to_owned(),
            name: None,
        },
        now,
    )
    .instance_id
}

fn detail(handler: &RequestHandler, run_id: &str, now: SystemTime) -> WorkflowExecutionDetail {
    ok(
        handler,
        &DescribeWorkflowExecution {
            run_id: run_id.to_owned(),
        },
        now,
    )
    .execution
}

/// The run is still running at `before` and has ended in `state` at
/// `end`; its detail then.
fn ended(
    handler: &RequestHandler,
    run_id: &str,
    before: SystemTime,
    end: SystemTime,
    state: ExecutionState,
) -> WorkflowExecutionDetail {
    assert_eq!(
        detail(handler, run_id, before).state,
        ExecutionState::Running
    );
    let run = detail(handler, run_id, end);
    assert_eq!(run.state, state);
    run
}

fn tasks(detail: &WorkflowExecutionDetail) -> Vec<(&str, JobState)> {
    detail
        .tasks
        .iter()
        .map(|task| (task.name.as_str(), task.state.clone()))
        .collect()
}

/// The run ids the listing shows with `states`, at `now`.
fn listed(handler: &RequestHandler, states: &[StateFilter], now: SystemTime) -> Vec<String> {
    ok(
        handler,
        &ListWorkflowExecutions {
            states: Some(states.iter().copied().collect()),
            size: Some(cos_ci_proto::PageSize::new(100).unwrap()),
            ..ListWorkflowExecutions::default()
        },
        now,
    )
    .executions
    .into_iter()
    .map(|execution| execution.run_id)
    .collect()
}

/// The jobs `GET /jobs?workflowId=` lists for `tag`, at `now`.
fn workflow_jobs(
    handler: &RequestHandler,
    workflow_id: &str,
    tag: &str,
    now: SystemTime,
) -> Vec<JobDetail> {
    ok(
        handler,
        &ListJobs {
            tag: tag.to_owned(),
            workflow_id: Some(workflow_id.to_owned()),
            ..ListJobs::default()
        },
        now,
    )
    .jobs
}

#[test]
fn a_run_moves_stage_by_stage_and_every_view_agrees() {
    let handler = handler(Duration::from_secs(4));
    let workflow_id = branching_workflow(&handler);
    let run_id = trigger(&handler, &workflow_id, "in/clip.mp4", at(0));
    use JobState::*;

    let now = at(0);
    let run = detail(&handler, &run_id, now);
    assert_eq!(run.state, ExecutionState::Running);
    assert_eq!(run.workflow_name.as_deref(), Some("branching"));
    assert_eq!(
        tasks(&run),
        [("Snapshot_1", Submitted), ("Transcode_2", Submitted)]
    );
    assert!(run.tasks.iter().all(|task| task.start_time.is_none()));
    assert!(listed(&handler, &[StateFilter::Running], now).contains(&run_id));
    assert!(!listed(&handler, &[StateFilter::Success], now).contains(&run_id));

    // Half-way through stage 1: running, a third done.
    let now = at(2000);
    let run = detail(&handler, &run_id, now);
    assert_eq!(
        tasks(&run),
        [("Snapshot_1", Running), ("Transcode_2", Running)]
    );
    let snapshot = workflow_jobs(&handler, &workflow_id, "Snapshot", now);
    assert_eq!(snapshot.len(), 1);
    assert_eq!(
        (snapshot[0].state.clone(), snapshot[0].progress),
        (Running, Some(33))
    );
    assert_eq!(Some(&snapshot[0].job_id), run.tasks[0].job_id.as_ref());
    assert!(workflow_jobs(&handler, &workflow_id, "Animation", now).is_empty());

    // Stage 2 starts when stage 1 ends.
    let now = at(4000);
    let run = detail(&handler, &run_id, now);
    assert_eq!(run.state, ExecutionState::Running);
    assert_eq!(
        tasks(&run),
        [
            ("Snapshot_1", Success),
            ("Transcode_2", Success),
            ("Animation_3", Submitted)
        ]
    );
    assert_eq!(
        run.tasks[0].end_time.as_ref().map(|t| t.unix_seconds()),
        run.tasks[2].create_time.as_ref().map(|t| t.unix_seconds())
    );
    assert_eq!(
        workflow_jobs(&handler, &workflow_id, "Animation", now).len(),
        1
    );

    // The end: success everywhere.
    let now = at(8000);
    let run = detail(&handler, &run_id, now);
    assert_eq!(run.state, ExecutionState::Success);
    assert!(tasks(&run).iter().all(|(_, state)| *state == Success));
    assert!(listed(&handler, &[StateFilter::Success], now).contains(&run_id));
    assert!(!listed(&handler, &[StateFilter::Running], now).contains(&run_id));
    let job_ids: Vec<String> = run.tasks.iter().filter_map(|t| t.job_id.clone()).collect();
    let jobs = ok(
        &handler,
        &DescribeJobs {
            job_ids: job_ids.clone(),
        },
        now,
    )
    .jobs;
    assert_eq!(jobs.len(), 3);
    for (job, task) in jobs.iter().zip(&run.tasks) {
        assert_eq!((job.state.clone(), job.progress), (Success, Some(100)));
        assert_eq!(job.tag, task.task_type);
        let workflow = job.workflow.as_ref().expect("Workflow");
        assert_eq!(workflow.name.as_deref(), Some(task.name.as_str()));
        assert_eq!(workflow.run_id.as_deref(), Some(run_id.as_str()));
        assert_eq!(workflow.workflow_id.as_deref(), Some(workflow_id.as_str()));
        assert_eq!(workflow.workflow_name.as_deref(), Some("branching"));
        assert_eq!(
            job.input.as_ref().and_then(|i| i.object.as_deref()),
            Some("in/clip.mp4")
        );
    }
    assert_eq!(jobs[0].output_keys(), ["snap/clip_0.jpg"]);
    assert_eq!(jobs[1].output_keys(), [format!("in/clip_{run_id}.mp4")]);
    let all_tags: Vec<String> = ["Snapshot", "Transcode", "Animation"]
        .iter()
        .flat_map(|tag| workflow_jobs(&handler, &workflow_id, tag, now))
        .map(|job| job.job_id)
        .collect();
    assert_eq!(all_tags, job_ids);
}

#[test]
fn a_key_with_the_failure_pattern_fails_the_last_task() {
    let handler = handler(Duration::from_secs(4));
    let workflow_id = branching_workflow(&handler);
    let run_id = trigger(&handler, &workflow_id, "in/fail me.mp4", at(0));
    let run = ended(
        &handler,
        &run_id,
        at(7999),
        at(8000),
        ExecutionState::Failed,
    );
    use JobState::*;
    assert_eq!(
        tasks(&run),
        [
            ("Snapshot_1", Success),
            ("Transcode_2", Success),
            ("Animation_3", Failed)
        ]
    );
    let last = run.tasks.last().unwrap();
    assert_eq!(last.code.as_deref(), Some("InvalidInput"));
    assert_eq!(
        last.message.as_deref(),
        Some("the input file has no video stream")
    );
    assert!(listed(&handler, &[StateFilter::Failed], at(8000)).contains(&run_id));
}

#[test]
fn cancelling_a_runs_job_before_it_starts_cancels_the_run() {
    let handler = handler(Duration::from_secs(4));
    let workflow_id = branching_workflow(&handler);
    let run_id = trigger(&handler, &workflow_id, "in/clip.mp4", at(0));
    let first_job = detail(&handler, &run_id, at(0)).tasks[0]
        .job_id
        .clone()
        .unwrap();
    ok(
        &handler,
        &CancelJob {
            job_id: first_job.clone(),
        },
        at(500),
    );
    let run = ended(
        &handler,
        &run_id,
        at(499),
        at(10_000),
        ExecutionState::Cancel,
    );
    use JobState::*;
    // The sibling had started its stage; the next stage never comes.
    assert_eq!(
        tasks(&run),
        [("Snapshot_1", Cancel), ("Transcode_2", Success)]
    );
    assert!(workflow_jobs(&handler, &workflow_id, "Animation", at(10_000)).is_empty());
    assert!(listed(&handler, &[StateFilter::Cancel], at(10_000)).contains(&run_id));
    // Running jobs do not cancel.
    let other = trigger(&handler, &workflow_id, "in/clip.mp4", at(0));
    let running = detail(&handler, &other, at(2000)).tasks[0]
        .job_id
        .clone()
        .unwrap();
    let error = call(&handler, &CancelJob { job_id: running }, at(2000)).unwrap_err();
    assert!(error.to_string().contains("InvalidArgument"), "{error}");
}

#[test]
fn a_job_is_submitted_then_runs_with_rising_progress_then_ends() {
    let handler = handler(Duration::from_secs(4));
    let request = |object: &str| CreateJobs {
        request: cos_ci_testkit::transcode_job(object, "t1", "out/${InputName}.mp4"),
    };
    let job_id = ok(&handler, &request("in/a.mov"), at(0)).job.job_id;
    let failing = ok(&handler, &request("in/a-fail.mov"), at(0)).job.job_id;
    let job = |id: &str, now: SystemTime| {
        let mut output = ok(
            &handler,
            &DescribeJobs {
                job_ids: vec![id.to_owned()],
            },
            now,
        );
        assert!(output.non_exist_job_ids.is_empty(), "{id} at {now:?}");
        output.jobs.remove(0)
    };
    use JobState::*;
    let mut last_progress = 0;
    for (millis, state, progress) in [
        (500, Submitted, 0),
        (1000, Running, 0),
        (2500, Running, 50),
        (3990, Running, 99),
        (4000, Success, 100),
    ] {
        let detail = job(&job_id, at(millis));
        assert_eq!(
            (detail.state.clone(), detail.progress),
            (state.clone(), Some(progress)),
            "at {millis} ms"
        );
        assert!(progress >= last_progress);
        last_progress = progress;
        assert_eq!(detail.start_time.is_some(), millis >= 1000, "{millis}");
        assert_eq!(detail.end_time.is_some(), millis >= 4000, "{millis}");
        assert_eq!(
            detail
                .operation
                .as_ref()
                .is_some_and(|o| o.media_result.is_some()),
            state == Success
        );
    }
    let failed = job(&failing, at(4000));
    assert_eq!(failed.state, Failed);
    assert_eq!(failed.code.as_deref(), Some("InvalidInput"));
    // Before it was submitted, it does not exist.
    let before = ok(
        &handler,
        &DescribeJobs {
            job_ids: vec![job_id.clone()],
        },
        at(0).checked_sub(Duration::from_secs(1)).unwrap(),
    );
    assert_eq!(before.missing_ids(), [job_id.as_str()]);
}

/// The tasks of generated executions are jobs too: once an execution's
/// details are served, `GET /jobs/<ids>` describes its task jobs as the
/// details show them; a job id no details showed stays unknown.
#[test]
fn the_task_jobs_of_a_stored_execution_are_described_as_its_details_show_them() {
    let handler = handler(Duration::from_secs(4));
    let now = at(0);
    let (mut checked, mut failed) = (0, 0);
    for run_id in listed(&handler, &[StateFilter::Failed, StateFilter::Success], now) {
        let run = detail(&handler, &run_id, now);
        let mut job_ids: Vec<String> = run.tasks.iter().filter_map(|t| t.job_id.clone()).collect();
        assert!(!job_ids.is_empty());
        job_ids.push("jnothere".to_owned());
        let described = ok(
            &handler,
            &DescribeJobs {
                job_ids: job_ids.clone(),
            },
            now,
        );
        assert_eq!(described.non_exist_job_ids, ["jnothere"]);
        assert_eq!(described.jobs.len(), run.tasks.len());
        for (task, job) in run.tasks.iter().zip(&described.jobs) {
            assert_eq!(Some(&job.job_id), task.job_id.as_ref());
            assert_eq!(job.state, task.state);
            assert_eq!(job.tag, task.task_type);
            let instant = |time: &Option<cos_ci_proto::CiTimestamp>| {
                time.as_ref().map(cos_ci_proto::CiTimestamp::unix_seconds)
            };
            assert_eq!(instant(&job.creation_time), instant(&task.create_time));
            assert_eq!(instant(&job.start_time), instant(&task.start_time));
            assert_eq!(instant(&job.end_time), instant(&task.end_time));
            if task.state == JobState::Failed {
                failed += 1;
                assert_eq!(job.code, task.code);
                assert_eq!(job.message, task.message);
            } else {
                assert_eq!(job.code.as_deref(), Some("Success"));
                assert_eq!(job.progress, Some(100));
                // A finished task's output is its media result.
                let result = job
                    .operation
                    .as_ref()
                    .and_then(|op| op.media_result.as_ref());
                assert!(result.is_some(), "{job:?}");
            }
            let input = job.input.as_ref().unwrap();
            assert_eq!(input.object.as_deref(), Some(run.object.as_str()));
            let workflow = job.workflow.as_ref().unwrap();
            assert_eq!(workflow.run_id.as_deref(), Some(run_id.as_str()));
            assert_eq!(
                workflow.workflow_id.as_deref(),
                Some(run.workflow_id.as_str())
            );
            assert_eq!(workflow.workflow_name, run.workflow_name);
            assert_eq!(workflow.name.as_deref(), Some(task.name.as_str()));
            let operation = job.operation.as_ref().unwrap();
            assert!(operation.template_id.is_some() && operation.template_name.is_some());
            assert!(
                job.queue_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with('p'))
            );
        }
        checked += 1;
    }
    assert!(
        checked > 3 && failed > 0,
        "{checked} executions, {failed} failed"
    );
}

/// Before any details showed them, a stored execution's task job ids are
/// not known (the emulator keeps no index of them: see `docs/emulator.md`).
#[test]
fn task_jobs_are_found_only_after_details_showed_them() {
    let handler = handler(Duration::from_secs(4));
    let record = Dataset::generate(20, 3).into_records().remove(0);
    let run = record.to_detail("unused", "unused");
    let job_ids: Vec<String> = run.tasks.iter().filter_map(|t| t.job_id.clone()).collect();
    let asked = DescribeJobs {
        job_ids: job_ids.clone(),
    };
    assert_eq!(ok(&handler, &asked, at(0)).non_exist_job_ids, job_ids);
    detail(&handler, &record.run_id, at(0));
    let described = ok(&handler, &asked, at(0));
    assert!(described.non_exist_job_ids.is_empty());
    assert_eq!(described.jobs.len(), job_ids.len());
}
