//! The waiter on virtual time: polls, sleeps with backoff, progress events,
//! the terminal rule, the deadline and errors, for a workflow execution and
//! for a job. No clock, no sockets.

mod common;

use std::time::Duration;

use common::t0;
use cos_ci_client::{
    Error, ExecutionWait, JobWait, Terminal, WaitEvent, WaitOutcome, WaitPolicy, WaitStep,
    WaitTarget, Waiter, failed_task,
};
use cos_ci_proto::{
    CiAction, DescribeJobsOutput, DescribeWorkflowExecutionOutput, ExecutionState, JobDetail,
    JobState, WorkflowExecutionDetail, WorkflowTask,
};

fn task(name: &str, state: JobState) -> WorkflowTask {
    WorkflowTask {
        task_type: "Transcode".to_owned(),
        job_id: Some(format!("j-{name}")),
        name: name.to_owned(),
        state: state.clone(),
        code: matches!(state, JobState::Failed).then(|| "InvalidInput".to_owned()),
        message: matches!(state, JobState::Failed).then(|| "no video stream".to_owned()),
        ..Default::default()
    }
}

fn snapshot(state: ExecutionState, tasks: Vec<WorkflowTask>) -> DescribeWorkflowExecutionOutput {
    DescribeWorkflowExecutionOutput {
        request_id: None,
        execution: WorkflowExecutionDetail {
            run_id: "i1".to_owned(),
            state,
            tasks,
            ..Default::default()
        },
    }
}

fn policy(deadline: Option<u64>) -> WaitPolicy {
    WaitPolicy {
        initial_interval: Duration::from_secs(2),
        max_interval: Duration::from_secs(5),
        deadline: deadline.map(Duration::from_secs),
    }
}

type Driven<O> = (Result<WaitOutcome<O>, Error>, Vec<Duration>, Vec<WaitEvent>);

/// Drive a wait for `target` over canned answers on virtual time, checking
/// each poll with `check`; returns the outcome, the sleeps and the events.
fn drive<T: WaitTarget>(
    target: T,
    policy: WaitPolicy,
    answers: Vec<<T::Action as CiAction>::Output>,
    check: impl Fn(&T::Action),
) -> Driven<<T::Action as CiAction>::Output> {
    let mut waiter = Waiter::new(target, policy);
    let mut now = t0();
    let mut answers = answers.into_iter();
    let mut sleeps = Vec::new();
    let mut events = Vec::new();
    loop {
        match waiter.poll(now) {
            WaitStep::Poll(action) => {
                check(&action);
                let answer = answers.next().expect("polled more often than answered");
                events.extend(waiter.on_output(answer, now));
            }
            WaitStep::Sleep(delay) => {
                sleeps.push(delay);
                now += delay;
            }
            WaitStep::Done(result) => return (result, sleeps, events),
        }
    }
}

/// [`drive`] for the run `i1`.
fn drive_run(
    policy: WaitPolicy,
    answers: Vec<DescribeWorkflowExecutionOutput>,
) -> Driven<DescribeWorkflowExecutionOutput> {
    let run = ExecutionWait {
        run_id: "i1".into(),
    };
    drive(run, policy, answers, |action| {
        assert_eq!(action.run_id, "i1")
    })
}

#[test]
fn follows_a_run_to_success_with_task_events() {
    let task_running = snapshot(
        ExecutionState::Running,
        vec![task("Transcode_1", JobState::Running)],
    );
    let answers = [
        vec![snapshot(ExecutionState::Running, vec![]); 2],
        vec![task_running; 4],
        vec![snapshot(
            ExecutionState::Success,
            vec![task("Transcode_1", JobState::Success)],
        )],
    ]
    .concat();
    let (outcome, sleeps, events) = drive_run(policy(None), answers);
    match outcome {
        Ok(WaitOutcome::Finished { terminal, .. }) => assert_eq!(terminal, Terminal::Succeeded),
        other => panic!("{other:?}"),
    }
    // 2 s after the first answer (news), 3 s after a quiet one, back to 2 s
    // after news, then 3, 4.5 and the 5 s cap.
    let secs: Vec<f64> = sleeps.iter().map(Duration::as_secs_f64).collect();
    assert_eq!(secs, [2.0, 3.0, 2.0, 3.0, 4.5, 5.0]);
    assert_eq!(
        events,
        [
            WaitEvent::StateChanged {
                state: "Running".into()
            },
            WaitEvent::TaskStarted {
                name: "Transcode_1".into(),
                task_type: "Transcode".into(),
                job_id: Some("j-Transcode_1".into())
            },
            WaitEvent::StateChanged {
                state: "Success".into()
            },
            WaitEvent::TaskSucceeded {
                name: "Transcode_1".into(),
                task_type: "Transcode".into(),
                job_id: Some("j-Transcode_1".into())
            },
        ]
    );
}

#[test]
fn a_failed_run_names_its_failed_task() {
    let answers = vec![
        snapshot(
            ExecutionState::Running,
            vec![task("Snapshot_1", JobState::Success)],
        ),
        snapshot(
            ExecutionState::Failed,
            vec![
                task("Snapshot_1", JobState::Success),
                task("Transcode_1", JobState::Failed),
            ],
        ),
    ];
    let (outcome, _, events) = drive_run(policy(None), answers);
    let output = match outcome {
        Ok(WaitOutcome::Finished {
            terminal: Terminal::Failed,
            output,
        }) => output,
        other => panic!("{other:?}"),
    };
    let failed = failed_task(&output).unwrap();
    assert_eq!(failed.name, "Transcode_1");
    assert_eq!(failed.code.as_deref(), Some("InvalidInput"));
    assert!(events.contains(&WaitEvent::TaskFailed {
        name: "Transcode_1".into(),
        task_type: "Transcode".into(),
        job_id: Some("j-Transcode_1".into()),
        code: Some("InvalidInput".into()),
        message: Some("no video stream".into()),
    }));
}

#[test]
fn the_deadline_ends_the_wait_and_shortens_the_last_sleep() {
    let answers = vec![snapshot(ExecutionState::Running, vec![]); 10];
    let (outcome, sleeps, _) = drive_run(policy(Some(6)), answers);
    match outcome {
        Ok(WaitOutcome::TimedOut { last: Some(last) }) => {
            assert_eq!(last.execution.state, ExecutionState::Running)
        }
        other => panic!("{other:?}"),
    }
    let total: Duration = sleeps.iter().sum();
    assert_eq!(
        total,
        Duration::from_secs(6),
        "sleeps end exactly at the deadline: {sleeps:?}"
    );
}

#[test]
fn a_zero_deadline_still_polls_once() {
    let answers = vec![snapshot(ExecutionState::Running, vec![])];
    let (outcome, sleeps, _) = drive_run(policy(Some(0)), answers);
    assert!(matches!(
        outcome,
        Ok(WaitOutcome::TimedOut { last: Some(_) })
    ));
    assert!(sleeps.is_empty());
    let answers = vec![snapshot(ExecutionState::Cancel, vec![])];
    let (outcome, _, _) = drive_run(policy(Some(0)), answers);
    assert!(matches!(
        outcome,
        Ok(WaitOutcome::Finished {
            terminal: Terminal::Cancelled,
            ..
        })
    ));
}

#[test]
fn a_failed_poll_ends_the_wait_with_its_error_and_misuse_is_reported() {
    let mut waiter = Waiter::new(
        ExecutionWait {
            run_id: "i1".into(),
        },
        policy(None),
    );
    assert!(matches!(waiter.poll(t0()), WaitStep::Poll(_)));
    waiter.on_error(Error::Usage("boom"));
    assert!(matches!(
        waiter.poll(t0()),
        WaitStep::Done(Err(Error::Usage("boom")))
    ));
    let mut waiter = Waiter::new(
        ExecutionWait {
            run_id: "i1".into(),
        },
        policy(None),
    );
    assert!(matches!(waiter.poll(t0()), WaitStep::Poll(_)));
    assert!(matches!(
        waiter.poll(t0()),
        WaitStep::Done(Err(Error::Usage(_)))
    ));
}

fn job(state: JobState, progress: Option<u32>) -> DescribeJobsOutput {
    DescribeJobsOutput {
        request_id: None,
        jobs: vec![JobDetail {
            job_id: "j1".to_owned(),
            tag: "Transcode".to_owned(),
            state: state.clone(),
            progress,
            code: Some(if state == JobState::Failed {
                "InvalidInput".to_owned()
            } else {
                "Success".to_owned()
            }),
            ..Default::default()
        }],
        non_exist_job_ids: Vec::new(),
    }
}

/// [`drive`] for the job `j1`.
fn drive_job(policy: WaitPolicy, answers: Vec<DescribeJobsOutput>) -> Driven<DescribeJobsOutput> {
    let job = JobWait {
        job_id: "j1".into(),
    };
    drive(job, policy, answers, |action| {
        assert_eq!(action.job_ids, ["j1"], "one job per poll")
    })
}

#[test]
fn a_job_reports_state_changes_and_progress_and_ends_on_success() {
    let answers = vec![
        job(JobState::Submitted, Some(0)),
        job(JobState::Submitted, Some(0)),
        job(JobState::Running, Some(30)),
        job(JobState::Running, Some(30)),
        job(JobState::Running, Some(80)),
        job(JobState::Success, Some(100)),
    ];
    let (outcome, sleeps, events) = drive_job(policy(None), answers);
    match outcome {
        Ok(WaitOutcome::Finished {
            terminal: Terminal::Succeeded,
            output,
        }) => assert_eq!(JobWait::job(&output).unwrap().progress, Some(100)),
        other => panic!("{other:?}"),
    }
    let secs: Vec<f64> = sleeps.iter().map(Duration::as_secs_f64).collect();
    // News, quiet, news, quiet, news: 2, 3, 2, 3, 2.
    assert_eq!(secs, [2.0, 3.0, 2.0, 3.0, 2.0]);
    let state = |state: &str| WaitEvent::StateChanged {
        state: state.into(),
    };
    let progress = |percent| WaitEvent::Progress { percent };
    assert_eq!(
        events,
        [
            state("Submitted"),
            progress(0),
            state("Running"),
            progress(30),
            progress(80),
            state("Success"),
            progress(100),
        ]
    );
}

#[test]
fn a_job_ends_on_failed_and_cancel_but_not_on_pause() {
    let (outcome, _, _) = drive_job(
        policy(None),
        vec![
            job(JobState::Running, Some(10)),
            job(JobState::Pause, Some(10)),
            job(JobState::Failed, None),
        ],
    );
    match outcome {
        Ok(WaitOutcome::Finished {
            terminal: Terminal::Failed,
            output,
        }) => assert_eq!(
            JobWait::job(&output).unwrap().code.as_deref(),
            Some("InvalidInput")
        ),
        other => panic!("{other:?}"),
    }
    let (outcome, _, events) = drive_job(policy(None), vec![job(JobState::Cancel, None)]);
    assert!(matches!(
        outcome,
        Ok(WaitOutcome::Finished {
            terminal: Terminal::Cancelled,
            ..
        })
    ));
    assert_eq!(
        events,
        [WaitEvent::StateChanged {
            state: "Cancel".into()
        }],
        "no progress event without a Progress element"
    );
}

#[test]
fn a_job_wait_times_out_at_the_deadline_and_a_missing_job_is_not_an_end() {
    let missing = DescribeJobsOutput {
        request_id: None,
        jobs: Vec::new(),
        non_exist_job_ids: vec!["j1".into()],
    };
    let (outcome, sleeps, events) = drive_job(policy(Some(7)), vec![missing; 10]);
    match outcome {
        Ok(WaitOutcome::TimedOut { last: Some(last) }) => {
            assert!(JobWait::job(&last).is_none());
            assert_eq!(last.missing_ids(), ["j1"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(events.is_empty());
    assert_eq!(sleeps.iter().sum::<Duration>(), Duration::from_secs(7));

    let (outcome, _, _) = drive_job(policy(Some(3)), vec![job(JobState::Running, Some(50)); 10]);
    match outcome {
        Ok(WaitOutcome::TimedOut { last: Some(last) }) => {
            assert_eq!(JobWait::job(&last).unwrap().progress, Some(50))
        }
        other => panic!("{other:?}"),
    }
}
