//! Waiting for a workflow run or a job to end: `workflow-executions wait`,
//! and the part of `workflows trigger --wait`, `jobs submit --wait` and
//! `jobs wait` that follows what they started.
//!
//! The waiter (`cos_ci_client::Waiter`, through `HyperClient::wait`)
//! decides when to poll; each change it reports is drawn on stderr
//! ([`crate::watch`]); the end is printed on stdout like `get` prints it.
//! Exit codes: 0 when it ends `Success`; 5 when it ends `Failed` or
//! `Cancel` (the error line names the failed task or job, its Code and
//! Message); 4 when `--wait-timeout` passes first (the error line says it
//! goes on and how to follow it again).

use std::ffi::OsString;
use std::io::{self, IsTerminal};
use std::time::Duration;

use clap::Args;
use cos_ci_client::{
    ExecutionWait, JobWait, Terminal, WaitOutcome, WaitOutput as Output, WaitTarget, failed_task,
};
use cos_ci_proto::{CiAction, DescribeJobs, DescribeJobsOutput, DescribeWorkflowExecution};

use crate::args::{OutputArgs, OutputFormat, ServiceArgs, WaitArgs};
use crate::commands::get::task_summary;
use crate::error::CliError;
use crate::output::Render;
use crate::runner::{self, Runner};
use crate::terminal::printable;
use crate::watch::{Drawing, JobBar, RunBoard};

/// `cos-ci workflow-executions wait`.
#[derive(Debug, Args)]
pub struct ExecutionWaitArgs {
    /// The run's RunId (as `workflows trigger` prints it).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `workflow-executions wait`.
pub fn run(
    args: &ExecutionWaitArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    DescribeWorkflowExecution {
        run_id: args.run_id.clone(),
    }
    .validate()
    .map_err(|error| CliError::invalid_flag("RUN_ID", error.rule))?;
    let runner = Runner::new(&args.service, env)?;
    wait_for::<ExecutionWait>(&runner, &args.run_id, &args.wait, args.output.format)
}

/// What a wait follows to its end (a run, a job): how it is drawn as it
/// goes and how its end reads.
pub trait Followed: WaitTarget<Action: CiAction<Output: Render>> {
    /// `run` or `job`.
    const WHAT: &'static str;
    /// The command that follows it again (`jobs wait`).
    const FOLLOW: &'static str;
    /// Its progress on stderr.
    type Drawing: Drawing;
    /// The error line when `output`, the end of `id`, is not a success.
    fn ended_badly(id: &str, output: &Output<Self>) -> String;
    /// Its state as last seen, for the error line at `--wait-timeout`.
    fn still(last: Option<&Output<Self>>) -> String;
}

impl Followed for ExecutionWait {
    const WHAT: &'static str = "run";
    const FOLLOW: &'static str = "workflow-executions wait";
    type Drawing = RunBoard;

    fn ended_badly(id: &str, output: &Output<Self>) -> String {
        let mut line = format!(
            "run {} ended {}",
            printable(id),
            printable(output.execution.state.as_str())
        );
        match failed_task(output) {
            Some(task) => {
                line.push_str(" at task ");
                line.push_str(&task_summary(task));
            }
            None => line.push_str(" (no task reports a failure)"),
        }
        line
    }

    fn still(last: Option<&Output<Self>>) -> String {
        last.map_or_else(
            || "not yet seen".to_owned(),
            |last| format!("still {}", last.execution.state),
        )
    }
}

impl Followed for JobWait {
    const WHAT: &'static str = "job";
    const FOLLOW: &'static str = "jobs wait";
    type Drawing = JobBar;

    fn ended_badly(id: &str, output: &Output<Self>) -> String {
        let mut line = format!("job {} ended", printable(id));
        if let Some(job) = JobWait::job(output) {
            line.push(' ');
            line.push_str(&printable(job.state.as_str()));
            let detail: Vec<&str> = [job.code.as_deref(), job.message.as_deref()]
                .into_iter()
                .flatten()
                .filter(|text| !text.is_empty() && *text != job.state.as_str())
                .collect();
            if !detail.is_empty() {
                line.push_str(": ");
                line.push_str(&printable(&detail.join(": ")));
            }
        }
        line
    }

    fn still(last: Option<&Output<Self>>) -> String {
        last.and_then(JobWait::job).map_or_else(
            || "not yet seen".to_owned(),
            |job| match job.progress {
                Some(percent) => format!("still {} ({percent}%)", job.state),
                None => format!("still {}", job.state),
            },
        )
    }
}

/// Follow the run or job `id` (`T`: [`ExecutionWait`], [`JobWait`]) to its
/// end, drawing it on stderr (a run's tasks, a job's progress bar), then
/// print it as `get` does and map the end to the exit code: 0 on success,
/// 5 when it ended otherwise, 4 when `--wait-timeout` passed first.
pub fn wait_for<T: Followed>(
    runner: &Runner,
    id: &str,
    wait: &WaitArgs,
    format: OutputFormat,
) -> Result<(), CliError> {
    let mut drawing = T::Drawing::new(io::stderr().is_terminal(), id);
    let outcome = runner.wait(T::for_id(id), wait.policy(), |event| {
        let _ = drawing.on_event(event, &mut io::stderr());
    });
    let _ = drawing.finish(&mut io::stderr());
    match outcome? {
        WaitOutcome::Finished { terminal, output } => {
            runner::print_document(format, &output)?;
            if terminal == Terminal::Succeeded {
                return Ok(());
            }
            Err(CliError::EndedBadly(T::ended_badly(id, &output)))
        }
        WaitOutcome::TimedOut { last } => Err(timed_out(
            wait,
            T::WHAT,
            id,
            &T::still(last.as_ref()),
            T::FOLLOW,
        )),
        _ => Err(unknown_end()),
    }
}

/// `--wait-timeout` passed while `what` (`run` or `job`) `id` was `state`:
/// it goes on, and `cos-ci <follow> <id>` follows it again.
fn timed_out(wait: &WaitArgs, what: &str, id: &str, state: &str, follow: &str) -> CliError {
    CliError::WaitTimedOut(format!(
        "stopped waiting after {}: {what} {} is {} and goes on; follow it with `cos-ci {follow} {}`",
        human(wait.wait_timeout.unwrap_or_default()),
        printable(id),
        printable(state),
        printable(id),
    ))
}

/// A wait outcome added to the client after this cos-ci was built.
fn unknown_end() -> CliError {
    CliError::usage("the wait ended in a way this cos-ci does not know")
}

/// The job, or `NotFound` when the service has no job with this id (so
/// `jobs wait` does not wait for a job that will never appear).
pub fn existing_job(runner: &Runner, job_id: &str) -> Result<DescribeJobsOutput, CliError> {
    let output = runner.call(DescribeJobs {
        job_ids: vec![job_id.to_owned()],
    })?;
    if JobWait::job(&output).is_none() {
        return Err(CliError::NotFound(format!(
            "no job with id {}",
            printable(job_id)
        )));
    }
    Ok(output)
}

/// `90s` → `1m30s`; whole seconds, or milliseconds below one second.
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.as_millis());
    }
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || text.is_empty() {
        text.push_str(&format!("{seconds}s"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(3661)), "1h1m1s");
    }
}
