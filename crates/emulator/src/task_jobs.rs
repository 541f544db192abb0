//! The jobs of stored executions' tasks (generated with `--seed` or loaded
//! with `--data`), for `GET /jobs/<JobId>`.
//!
//! Those tasks are derived when an execution's details are asked for
//! (`details.rs`) and are not in the job store: a million executions keep
//! no job at all. A client learns a task's job id only from the execution's
//! details, so serving those details remembers which run each task job id
//! belongs to, in a bounded memo (the oldest forgotten first); describing
//! the job derives the details again and answers from the task. A job id
//! never seen in details served by this emulator (or forgotten since) is
//! unknown, as any other. The memo costs at most [`REMEMBERED`] entries of
//! two short strings, whatever the number of executions.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use cos_ci_proto::{
    CiTimestamp, JobDetail, JobOutput, JobState, JobWorkflow, WorkflowExecutionDetail,
};

use crate::clock::Phase;
use crate::jobs::{JobFacts, expand_output, template_name};
use crate::routes::{Resources, read};
use crate::topology::plan;
use crate::workflows::operation_of;

/// How many task job ids the memo keeps (a few thousand executions'
/// worth; about 2 MB at most).
pub(crate) const REMEMBERED: usize = 16_384;

/// Task job id → run id, for the task jobs of executions whose details
/// were served, the oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct TaskJobMemo {
    inner: Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    run_of: HashMap<Arc<str>, Arc<str>>,
    order: VecDeque<Arc<str>>,
}

impl TaskJobMemo {
    /// Remember the job ids of `execution`'s tasks.
    pub(crate) fn remember(&self, execution: &WorkflowExecutionDetail) {
        let mut memo = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let run_id: Arc<str> = Arc::from(execution.run_id.as_str());
        for job_id in execution
            .tasks
            .iter()
            .filter_map(|task| task.job_id.as_deref())
        {
            if let Some(known) = memo.run_of.get_mut(job_id) {
                *known = Arc::clone(&run_id);
                continue;
            }
            if memo.order.len() == REMEMBERED
                && let Some(oldest) = memo.order.pop_front()
            {
                memo.run_of.remove(&oldest);
            }
            let job_id: Arc<str> = Arc::from(job_id);
            memo.order.push_back(Arc::clone(&job_id));
            memo.run_of.insert(job_id, Arc::clone(&run_id));
        }
    }

    /// The run whose details showed `job_id`, if remembered.
    fn run_of(&self, job_id: &str) -> Option<Arc<str>> {
        let memo = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        memo.run_of.get(job_id).cloned()
    }
}

/// The job of a stored execution's task with this id, as the execution's
/// details show the task: the same state, times, code and message, the
/// input object, the run, and the node's operation, queue and output.
pub(crate) fn describe(resources: &Resources, job_id: &str) -> Option<JobDetail> {
    let run_id = resources.task_jobs.run_of(job_id)?;
    let record = read(&resources.executions).get(&run_id)?.clone();
    let execution = record.to_detail(&resources.bucket, &resources.region);
    let task = execution
        .tasks
        .iter()
        .find(|task| task.job_id.as_deref() == Some(job_id))?;
    let plan = execution
        .topology
        .as_ref()
        .and_then(|topology| plan(topology).ok());
    let node = plan
        .as_ref()
        .and_then(|plan| plan.nodes.iter().find(|node| node.name == task.name));
    let mut operation = operation_of(node.and_then(|node| node.operation.as_ref()));
    operation.template_name = operation
        .template_id
        .as_deref()
        .map(|id| template_name(&task.task_type, id));
    let output = operation.output.as_ref().map(|output| JobOutput {
        object: expand_output(&output.object, &execution.object, &execution.run_id, job_id),
        ..output.clone()
    });
    let queue_id = plan
        .and_then(|plan| plan.queue_id)
        .unwrap_or_else(|| resources.queues.default_queue().queue.queue_id.clone());
    let phase = match task.state {
        JobState::Success => Phase::Succeeded,
        JobState::Failed => Phase::Failed,
        JobState::Cancel => Phase::Cancelled,
        JobState::Running => Phase::Running { progress: 50 },
        _ => Phase::Submitted,
    };
    // Jobs write times as `+0800`, tasks as `+08:00`: the same instants.
    let api = |time: &Option<CiTimestamp>| {
        time.as_ref()
            .and_then(|time| CiTimestamp::parse(&time.to_api_string()).ok())
    };
    // A failed task's own code and message; what a job of a live run
    // says where the task has none.
    let (code, message) = phase.outcome();
    let (code, message) = match phase {
        Phase::Failed | Phase::Cancelled => (
            task.code.as_deref().unwrap_or(code),
            task.message.as_deref().or(message),
        ),
        _ => (code, message),
    };
    Some(
        JobFacts {
            job_id,
            tag: &task.task_type,
            state: task.state.clone(),
            progress: phase.progress(),
            code,
            message,
            creation_time: api(&task.create_time),
            start_time: api(&task.start_time),
            end_time: api(&task.end_time),
            queue_id: &queue_id,
            object: &execution.object,
            operation: &operation,
            output: output.as_ref(),
            workflow: Some(JobWorkflow {
                name: Some(task.name.clone()),
                run_id: Some(execution.run_id.clone()),
                workflow_id: Some(execution.workflow_id.clone()),
                workflow_name: execution.workflow_name.clone(),
            }),
        }
        .detail(&resources.bucket, &resources.region),
    )
}

#[cfg(test)]
mod tests {
    use cos_ci_proto::WorkflowTask;

    use super::*;

    fn execution(run_id: &str, job_ids: &[String]) -> WorkflowExecutionDetail {
        WorkflowExecutionDetail {
            run_id: run_id.to_owned(),
            tasks: job_ids
                .iter()
                .map(|id| WorkflowTask {
                    job_id: Some(id.clone()),
                    ..WorkflowTask::default()
                })
                .collect(),
            ..WorkflowExecutionDetail::default()
        }
    }

    #[test]
    fn the_memo_is_bounded_and_forgets_the_oldest_first() {
        let memo = TaskJobMemo::default();
        let ids: Vec<String> = (0..=REMEMBERED).map(|n| format!("j{n}")).collect();
        memo.remember(&execution("i1", &ids[..2]));
        // Shown again by another run: the newer answer wins, not twice kept.
        memo.remember(&execution("i2", &ids[1..2]));
        assert_eq!(memo.run_of("j1").as_deref(), Some("i2"));
        memo.remember(&execution("i3", &ids[2..]));
        assert_eq!(memo.run_of("j0"), None);
        assert_eq!(memo.run_of("j1").as_deref(), Some("i2"));
        assert_eq!(memo.run_of(&ids[REMEMBERED]).as_deref(), Some("i3"));
        let inner = memo.inner.lock().unwrap();
        assert_eq!(
            (inner.run_of.len(), inner.order.len()),
            (REMEMBERED, REMEMBERED)
        );
    }
}
