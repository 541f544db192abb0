//! Following something until it ends, as data: a workflow execution (and,
//! with the same machinery, a job). The waiter decides when to poll, how
//! long to sleep, when the deadline has passed, and what changed between
//! two polls; the caller runs each poll as an ordinary [`crate::Operation`]
//! (with its own retries) and sleeps as told.

use std::time::{Duration, SystemTime};

use cos_ci_proto::{
    CiAction, DescribeJobs, DescribeJobsOutput, DescribeWorkflowExecution,
    DescribeWorkflowExecutionOutput, ExecutionState, JobDetail, JobState, WorkflowTask,
};

use crate::Error;

/// How often to poll and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitPolicy {
    /// The first interval between polls.
    pub initial_interval: Duration,
    /// The interval never grows beyond this.
    pub max_interval: Duration,
    /// Stop waiting (with [`WaitOutcome::TimedOut`]) this long after the
    /// first poll. `None`: wait as long as it takes.
    pub deadline: Option<Duration>,
}

impl Default for WaitPolicy {
    /// 1 s growing by half each quiet poll up to 15 s; no deadline.
    fn default() -> Self {
        WaitPolicy {
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
            deadline: None,
        }
    }
}

/// How a waited-for thing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Terminal {
    /// `Success`
    Succeeded,
    /// `Failed`
    Failed,
    /// `Cancel`
    Cancelled,
}

/// What a wait came to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WaitOutcome<O> {
    /// It ended; the last output shows how.
    Finished {
        /// Success, failure or cancellation.
        terminal: Terminal,
        /// The output of the poll that saw the end.
        output: O,
    },
    /// The deadline passed first; it goes on. The last output, if any poll
    /// answered.
    TimedOut {
        /// The output of the last poll.
        last: Option<O>,
    },
}

/// A change seen between two polls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitEvent {
    /// The overall state changed (first poll included).
    StateChanged {
        /// The new state, as the service writes it.
        state: String,
    },
    /// A task appeared or started running.
    TaskStarted {
        /// The task's node name.
        name: String,
        /// Its node type.
        task_type: String,
        /// Its job, once known.
        job_id: Option<String>,
    },
    /// A task ended well.
    TaskSucceeded {
        /// The task's node name.
        name: String,
        /// Its node type.
        task_type: String,
        /// Its job.
        job_id: Option<String>,
    },
    /// A task failed (or was cancelled).
    TaskFailed {
        /// The task's node name.
        name: String,
        /// Its node type.
        task_type: String,
        /// Its job.
        job_id: Option<String>,
        /// The service's `Code`.
        code: Option<String>,
        /// The service's `Message`.
        message: Option<String>,
    },
    /// Progress in percent moved (jobs).
    Progress {
        /// 0–100.
        percent: u32,
    },
}

/// What can be waited for: how to poll it, when it has ended, and what
/// changed between two answers.
pub trait WaitTarget {
    /// The action each poll sends.
    type Action: CiAction;
    /// The wait for the run or job with this id.
    fn for_id(id: &str) -> Self;
    /// The poll request.
    fn action(&self) -> Self::Action;
    /// `Some` once `output` shows the end.
    fn terminal(output: &WaitOutput<Self>) -> Option<Terminal>;
    /// What changed from `previous` (the last answer, if any) to `current`.
    fn events(previous: Option<&WaitOutput<Self>>, current: &WaitOutput<Self>) -> Vec<WaitEvent>;
}

/// The answer to a wait target's poll.
pub type WaitOutput<T> = <<T as WaitTarget>::Action as CiAction>::Output;

/// What the caller does next.
#[derive(Debug)]
pub enum WaitStep<A: CiAction> {
    /// Run this action (through an [`crate::Operation`]) and report its
    /// output with [`Waiter::on_output`] or its error with
    /// [`Waiter::on_error`].
    Poll(A),
    /// Sleep this long, then call [`Waiter::poll`] again.
    Sleep(Duration),
    /// Finished: the outcome, or the error of a poll that failed.
    Done(Result<WaitOutcome<A::Output>, Error>),
}

enum State<O> {
    Ready,
    Polling,
    SleepingUntil(SystemTime),
    Finished(Option<Result<WaitOutcome<O>, Error>>),
}

/// The sans-IO waiter. See the module docs; tested on virtual time.
pub struct Waiter<T: WaitTarget> {
    target: T,
    policy: WaitPolicy,
    started: Option<SystemTime>,
    interval: Duration,
    last: Option<<T::Action as CiAction>::Output>,
    state: State<<T::Action as CiAction>::Output>,
    polls: u32,
}

impl<T: WaitTarget> std::fmt::Debug for Waiter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("policy", &self.policy)
            .field("interval", &self.interval)
            .field("polls", &self.polls)
            .finish_non_exhaustive()
    }
}

impl<T: WaitTarget> Waiter<T> {
    /// Wait for `target` under `policy`.
    pub fn new(target: T, policy: WaitPolicy) -> Self {
        let interval = policy.initial_interval;
        Waiter {
            target,
            policy,
            started: None,
            interval,
            last: None,
            state: State::Ready,
            polls: 0,
        }
    }

    /// Polls answered so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// The next thing to do at time `now`.
    pub fn poll(&mut self, now: SystemTime) -> WaitStep<T::Action> {
        let started = *self.started.get_or_insert(now);
        let deadline = self
            .policy
            .deadline
            .and_then(|deadline| started.checked_add(deadline));
        match &mut self.state {
            State::Finished(result) => {
                let result = result.take().unwrap_or(Err(Error::Usage(
                    "the waiter was polled again after it finished",
                )));
                WaitStep::Done(result)
            }
            State::Polling => {
                self.state = State::Finished(None);
                WaitStep::Done(Err(Error::Usage(
                    "poll called before the last poll's output was reported",
                )))
            }
            State::SleepingUntil(until) if now < *until => {
                let until = *until;
                match deadline {
                    Some(deadline) if deadline <= now => self.time_out(),
                    Some(deadline) if deadline < until => {
                        WaitStep::Sleep(deadline.duration_since(now).unwrap_or(Duration::ZERO))
                    }
                    _ => WaitStep::Sleep(until.duration_since(now).unwrap_or(Duration::ZERO)),
                }
            }
            State::Ready | State::SleepingUntil(_) => {
                if deadline.is_some_and(|deadline| deadline <= now) && self.polls > 0 {
                    return self.time_out();
                }
                self.state = State::Polling;
                WaitStep::Poll(self.target.action())
            }
        }
    }

    fn time_out(&mut self) -> WaitStep<T::Action> {
        self.state = State::Finished(None);
        WaitStep::Done(Ok(WaitOutcome::TimedOut {
            last: self.last.take(),
        }))
    }

    /// Report the answer to the last [`WaitStep::Poll`]; returns what
    /// changed since the previous answer.
    pub fn on_output(
        &mut self,
        output: <T::Action as CiAction>::Output,
        now: SystemTime,
    ) -> Vec<WaitEvent> {
        if !matches!(self.state, State::Polling) {
            self.state = State::Finished(Some(Err(Error::Usage(
                "an output was reported but no poll was outstanding",
            ))));
            return Vec::new();
        }
        self.polls += 1;
        let events = T::events(self.last.as_ref(), &output);
        if let Some(terminal) = T::terminal(&output) {
            self.state = State::Finished(Some(Ok(WaitOutcome::Finished { terminal, output })));
            return events;
        }
        // Activity means more may follow soon: poll at the initial rate
        // again; quiet polls back off by half each time, up to the cap.
        self.interval = if events.is_empty() {
            (self.interval + self.interval / 2).min(self.policy.max_interval)
        } else {
            self.policy.initial_interval
        };
        let wake = now.checked_add(self.interval).unwrap_or(now);
        self.state = State::SleepingUntil(wake);
        self.last = Some(output);
        events
    }

    /// Report that the last poll failed (after its own retries): the wait
    /// ends with that error.
    pub fn on_error(&mut self, error: Error) {
        self.state = State::Finished(Some(Err(error)));
    }
}

/// Waiting for a workflow execution (`GET /workflowexecution/<RunId>`):
/// ends on `Success`, `Failed` or `Cancel`; reports task starts, successes
/// and failures (with Code and Message) as they appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionWait {
    /// The execution's `RunId`.
    pub run_id: String,
}

impl WaitTarget for ExecutionWait {
    type Action = DescribeWorkflowExecution;

    fn for_id(id: &str) -> Self {
        ExecutionWait {
            run_id: id.to_owned(),
        }
    }

    fn action(&self) -> DescribeWorkflowExecution {
        DescribeWorkflowExecution {
            run_id: self.run_id.clone(),
        }
    }

    fn terminal(output: &DescribeWorkflowExecutionOutput) -> Option<Terminal> {
        match output.execution.state {
            ExecutionState::Success => Some(Terminal::Succeeded),
            ExecutionState::Failed => Some(Terminal::Failed),
            ExecutionState::Cancel => Some(Terminal::Cancelled),
            _ => None,
        }
    }

    fn events(previous: Option<&WaitOutput<Self>>, current: &WaitOutput<Self>) -> Vec<WaitEvent> {
        let mut events = Vec::new();
        let state = &current.execution.state;
        if previous.is_none_or(|previous| &previous.execution.state != state) {
            events.push(WaitEvent::StateChanged {
                state: state.as_str().to_owned(),
            });
        }
        for task in &current.execution.tasks {
            let before = previous.and_then(|previous| {
                previous
                    .execution
                    .tasks
                    .iter()
                    .find(|old| old.name == task.name && old.task_type == task.task_type)
            });
            if before.is_some_and(|before| before.state == task.state) {
                continue;
            }
            if let Some(event) = task_event(task, before.is_none()) {
                events.push(event);
            }
        }
        events
    }
}

/// The event a task's (new) state means; `appeared`: first seen now.
fn task_event(task: &WorkflowTask, appeared: bool) -> Option<WaitEvent> {
    let name = task.name.clone();
    let task_type = task.task_type.clone();
    let job_id = task.job_id.clone();
    match &task.state {
        JobState::Success => Some(WaitEvent::TaskSucceeded {
            name,
            task_type,
            job_id,
        }),
        JobState::Failed | JobState::Cancel => Some(WaitEvent::TaskFailed {
            name,
            task_type,
            job_id,
            code: task.code.clone(),
            message: task.message.clone(),
        }),
        JobState::Running => Some(WaitEvent::TaskStarted {
            name,
            task_type,
            job_id,
        }),
        _ if appeared => Some(WaitEvent::TaskStarted {
            name,
            task_type,
            job_id,
        }),
        _ => None,
    }
}

/// Waiting for one media job (`GET /jobs/<JobId>`): ends on `Success`,
/// `Failed` or `Cancel` (`Pause` is not an end); reports state changes
/// and progress in percent as they move.
///
/// A job the service reports as missing (`NonExistJobIds`, or no
/// `JobsDetail` for the id) is not an end: the poll shows no state, and
/// the wait goes on until the policy's deadline. Callers that want to fail
/// fast check [`JobWait::job`] on the first output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobWait {
    /// The job's `JobId`.
    pub job_id: String,
}

impl JobWait {
    /// The job in an answer to this wait's poll: the `JobsDetail` with the
    /// id asked for (or the only one, if the service echoed another id).
    pub fn job(output: &DescribeJobsOutput) -> Option<&JobDetail> {
        job_of(output)
    }
}

fn job_of(output: &DescribeJobsOutput) -> Option<&JobDetail> {
    // One id is asked for, so at most one job comes back.
    output.jobs.first()
}

impl WaitTarget for JobWait {
    type Action = DescribeJobs;

    fn for_id(id: &str) -> Self {
        JobWait {
            job_id: id.to_owned(),
        }
    }

    fn action(&self) -> DescribeJobs {
        DescribeJobs {
            job_ids: vec![self.job_id.clone()],
        }
    }

    fn terminal(output: &DescribeJobsOutput) -> Option<Terminal> {
        match job_of(output)?.state {
            JobState::Success => Some(Terminal::Succeeded),
            JobState::Failed => Some(Terminal::Failed),
            JobState::Cancel => Some(Terminal::Cancelled),
            _ => None,
        }
    }

    fn events(previous: Option<&WaitOutput<Self>>, current: &WaitOutput<Self>) -> Vec<WaitEvent> {
        let mut events = Vec::new();
        let Some(job) = job_of(current) else {
            return events;
        };
        let before = previous.and_then(job_of);
        if before.is_none_or(|before| before.state != job.state) {
            events.push(WaitEvent::StateChanged {
                state: job.state.as_str().to_owned(),
            });
        }
        if let Some(percent) = job.progress
            && before.and_then(|before| before.progress) != Some(percent)
        {
            events.push(WaitEvent::Progress {
                percent: percent.min(100),
            });
        }
        events
    }
}

/// The first failed task of an execution: what to show the user.
pub fn failed_task(output: &DescribeWorkflowExecutionOutput) -> Option<&WorkflowTask> {
    output
        .execution
        .tasks
        .iter()
        .find(|task| matches!(task.state, JobState::Failed | JobState::Cancel))
}
