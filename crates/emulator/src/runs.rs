//! Workflow runs started while serving (`POST /triggerworkflow`): each
//! planned node of the workflow's topology becomes a task, and each task a
//! job that follows its own [`JobClock`]. A stage starts when the one
//! before it ends (a task takes the task duration), so the run's state,
//! its tasks and its jobs are all derived from the clock, the same way for
//! the listing, the details, `GET /jobs` and the callbacks.
//!
//! A run is `Running` until every task has ended, then `Failed` if one
//! failed (the last task in walk order fails when the object key holds the
//! failure pattern), else `Success`. Cancelling one of its jobs before it
//! starts cancels the run from that instant: its tasks created later never
//! are.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use cos_ci_proto::{CiTimestamp, ExecutionState, WorkflowExecutionDetail, WorkflowTask, XmlTree};

use crate::clock::{CANCELLED, CancelMark, FAILURE, JobClock, Phase, TimeForm, timestamp};
use crate::dataset::ExecutionRecord;
use crate::topology::WorkflowNotify;

/// One task of a run: a node and the job that runs it.
#[derive(Debug)]
pub(crate) struct RunTask {
    /// The node name.
    pub(crate) name: String,
    /// The node type (the job's `Tag`).
    pub(crate) kind: String,
    /// The job.
    pub(crate) job_id: String,
    /// The operation's template, if the node names one.
    pub(crate) template_id: Option<String>,
    /// The job's timeline.
    pub(crate) clock: Arc<JobClock>,
}

/// A run whose state follows the clock.
#[derive(Debug)]
pub(crate) struct LiveRun {
    pub(crate) run_id: String,
    pub(crate) workflow_id: String,
    pub(crate) workflow_name: String,
    pub(crate) object: String,
    /// The workflow's topology when it was triggered.
    pub(crate) topology: XmlTree,
    /// `CreateTime` (`+08:00` form, as executions have).
    pub(crate) create_time: CiTimestamp,
    pub(crate) created: SystemTime,
    /// In walk order.
    pub(crate) tasks: Vec<RunTask>,
    /// Where to report the run when it ends.
    pub(crate) notify: Option<WorkflowNotify>,
    /// Set once its `WorkflowFinish` callback has been sent (or dropped).
    pub(crate) notified: AtomicBool,
    /// When one of its jobs was cancelled, if one was (the first wins).
    pub(crate) cancelled: CancelMark,
}

impl LiveRun {
    /// The execution record the store indexes (its state is derived).
    pub(crate) fn record(&self) -> ExecutionRecord {
        ExecutionRecord {
            run_id: self.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            object: self.object.clone(),
            create_time: self.create_time.clone(),
            state: ExecutionState::Running,
            job_id: None,
            details: None,
        }
    }

    /// When one of its jobs was cancelled, if one was.
    pub(crate) fn cancelled_at(&self) -> Option<SystemTime> {
        self.cancelled.at()
    }

    /// The run is cancelled from `at` (the first cancellation wins).
    pub(crate) fn cancel(&self, at: SystemTime) {
        self.cancelled.lock().get_or_insert(at);
    }

    /// Whether the task created at `created` exists at `now`: it has been
    /// created, and not after the run was cancelled.
    pub(crate) fn task_exists(&self, created: SystemTime, now: SystemTime) -> bool {
        created <= now && self.cancelled_at().is_none_or(|at| created <= at)
    }

    /// The run's state at `now`.
    pub(crate) fn state_at(&self, now: SystemTime) -> ExecutionState {
        if self.cancelled_at().is_some_and(|at| now >= at) {
            return ExecutionState::Cancel;
        }
        let mut failed = false;
        for task in &self.tasks {
            match task.clock.phase(now) {
                Phase::Succeeded => {}
                Phase::Failed => failed = true,
                Phase::Cancelled => return ExecutionState::Cancel,
                _ => return ExecutionState::Running,
            }
        }
        if failed {
            ExecutionState::Failed
        } else {
            ExecutionState::Success
        }
    }

    /// When the run ends: its cancellation, else the end of its last task.
    pub(crate) fn ends(&self) -> SystemTime {
        self.cancelled_at().unwrap_or_else(|| {
            self.tasks
                .iter()
                .map(|task| task.clock.ends())
                .max()
                .unwrap_or(self.created)
        })
    }

    /// The tasks that exist at `now`, with their states, as the details
    /// show them.
    pub(crate) fn tasks_at(&self, now: SystemTime) -> Vec<WorkflowTask> {
        self.tasks
            .iter()
            .filter(|task| self.task_exists(task.clock.created(), now))
            .map(|task| {
                let phase = task.clock.phase(now);
                let (code, message) = match phase {
                    Phase::Succeeded => (Some("Success"), Some("success")),
                    Phase::Failed => (Some(FAILURE.0), Some(FAILURE.1)),
                    Phase::Cancelled => (Some(CANCELLED.0), Some(CANCELLED.1)),
                    _ => (None, None),
                };
                let (start_time, end_time) = task.clock.start_and_end(phase, TimeForm::Colon);
                WorkflowTask {
                    task_type: task.kind.clone(),
                    job_id: Some(task.job_id.clone()),
                    create_time: timestamp(task.clock.created(), TimeForm::Colon),
                    name: task.name.clone(),
                    state: phase.state(),
                    start_time,
                    end_time,
                    code: code.map(str::to_owned),
                    message: message.map(str::to_owned),
                }
            })
            .collect()
    }

    /// The run as `GET /workflowexecution/<RunId>` shows it at `now`.
    pub(crate) fn detail_at(&self, now: SystemTime) -> WorkflowExecutionDetail {
        WorkflowExecutionDetail {
            workflow_id: self.workflow_id.clone(),
            workflow_name: Some(self.workflow_name.clone()),
            run_id: self.run_id.clone(),
            create_time: Some(self.create_time.clone()),
            object: self.object.clone(),
            state: self.state_at(now),
            topology: Some(self.topology.clone()),
            tasks: self.tasks_at(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use cos_ci_proto::JobState;

    use super::*;

    fn at(millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_767_600_000_000 + millis)
    }

    fn run(fails: bool) -> LiveRun {
        let second = Duration::from_secs(1);
        let task = |name: &str, stage: u32, fails: bool| RunTask {
            name: name.to_owned(),
            kind: "Transcode".to_owned(),
            job_id: format!("j{name}"),
            template_id: None,
            clock: Arc::new(JobClock::new(at(0) + second * (stage - 1), second, fails)),
        };
        LiveRun {
            run_id: "i1".into(),
            workflow_id: "w1".into(),
            workflow_name: "flow".into(),
            object: "in/a.mp4".into(),
            topology: XmlTree::default(),
            create_time: timestamp(at(0), TimeForm::Colon).unwrap(),
            created: at(0),
            tasks: vec![task("A", 1, false), task("B", 2, fails)],
            notify: None,
            notified: AtomicBool::new(false),
            cancelled: CancelMark::default(),
        }
    }

    fn states(run: &LiveRun, now: SystemTime) -> Vec<JobState> {
        run.tasks_at(now)
            .into_iter()
            .map(|task| task.state)
            .collect()
    }

    #[test]
    fn stages_run_one_after_the_other() {
        let run = run(false);
        assert_eq!(run.state_at(at(0)), ExecutionState::Running);
        assert_eq!(states(&run, at(0)), [JobState::Submitted]);
        assert_eq!(states(&run, at(500)), [JobState::Running]);
        assert_eq!(
            states(&run, at(1000)),
            [JobState::Success, JobState::Submitted]
        );
        assert_eq!(run.state_at(at(1999)), ExecutionState::Running);
        assert_eq!(run.state_at(at(2000)), ExecutionState::Success);
        assert_eq!(run.ends(), at(2000));
        let detail = run.detail_at(at(2000));
        assert_eq!(detail.tasks.len(), 2);
        assert!(detail.tasks.iter().all(|task| task.end_time.is_some()));
    }

    #[test]
    fn a_failed_task_fails_the_run() {
        let run = run(true);
        assert_eq!(run.state_at(at(2000)), ExecutionState::Failed);
        let last = run.tasks_at(at(2000)).pop().unwrap();
        assert_eq!(last.code.as_deref(), Some("InvalidInput"));
    }

    #[test]
    fn a_cancelled_task_cancels_the_run_and_hides_later_tasks() {
        let run = run(false);
        assert!(run.tasks[0].clock.cancel(at(100)).is_ok());
        run.cancel(at(100));
        assert_eq!(run.state_at(at(99)), ExecutionState::Running);
        assert_eq!(run.state_at(at(100)), ExecutionState::Cancel);
        assert_eq!(states(&run, at(5000)), [JobState::Cancel]);
        assert_eq!(run.ends(), at(100));
    }
}
