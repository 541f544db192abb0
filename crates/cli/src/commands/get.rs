//! `cos-ci workflow-executions get RUN_ID [--jobs]`: one execution with its
//! tasks (`GET /workflowexecution/<RunId>`), and with `--jobs` each task's
//! job (`GET /jobs/<JobId>,<JobId>…`, one call for all of them).
//!
//! The table shows the execution, then its tasks in topology order (a
//! breadth-first walk of `Dependencies` from `Start`; tasks whose node is
//! not reached keep their own order, after the others), then one line per
//! failed task with its code and message. The exit code is 0 whatever the
//! execution's state: the command itself succeeded.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, Write};

use clap::Args;
use cos_ci_proto::{
    DescribeJobs, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, JobDetail, JobState,
    WorkflowTask,
};
use serde::Serialize;

use crate::args::{OutputArgs, ServiceArgs};
use crate::commands::jobs::progress_cell;
use crate::commands::topology;
use crate::error::CliError;
use crate::output::{Column, Render, Row, TableWriter, dash, text_row, time_or_dash, write_record};
use crate::runner::{self, ActionArgs, Runner, action_args};
use crate::terminal::printable;

/// `cos-ci workflow-executions get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The execution's RunId (as listed by `workflow-executions list`).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// Also fetch each task's job (one request for all of them) and show
    /// its progress, result code and output keys.
    #[arg(long)]
    pub jobs: bool,

    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    GetArgs => DescribeWorkflowExecution |args| {
        run_id => "RunId" as "RUN_ID",
    }
}

/// Run `workflow-executions get`.
pub fn run(args: &GetArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    if !args.jobs {
        return runner::call(args, env);
    }
    let (runner, execution) = runner::answer(args, env)?;
    let with_jobs = with_jobs(&runner, execution)?;
    runner::print_document(args.format(), &with_jobs)
}

/// `execution` with the jobs of its tasks, fetched in one call.
pub fn with_jobs(
    runner: &Runner,
    execution: DescribeWorkflowExecutionOutput,
) -> Result<ExecutionWithJobs, CliError> {
    let mut job_ids: Vec<String> = Vec::new();
    for task in &execution.execution.tasks {
        if let Some(job) = task.job_id.as_deref().filter(|job| !job.is_empty())
            && !job_ids.iter().any(|known| known == job)
        {
            job_ids.push(job.to_owned());
        }
    }
    let (jobs, missing) = if job_ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let output = runner.call(DescribeJobs { job_ids })?;
        let missing = output
            .missing_ids()
            .into_iter()
            .map(str::to_owned)
            .collect();
        (output.jobs, missing)
    };
    Ok(ExecutionWithJobs {
        execution,
        jobs,
        missing,
    })
}

/// An execution and its tasks' jobs (`get --jobs`). JSON: the execution's
/// answer with `JobsDetail` (and `NonExistJobIds`) beside
/// `WorkflowExecution`.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionWithJobs {
    /// The execution.
    #[serde(flatten)]
    pub execution: DescribeWorkflowExecutionOutput,
    /// The tasks' jobs.
    #[serde(rename = "JobsDetail")]
    pub jobs: Vec<JobDetail>,
    /// Task job ids the service has no job for.
    #[serde(rename = "NonExistJobIds", skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

text_row! {
    /// One row of `get --jobs`'s job table: a task and its job.
    struct TaskJob {
        task: "Task",
        job_id: "JobId",
        state: "State",
        progress: "Progress",
        code: "Code",
        outputs: "Output",
    }
}

impl Render for ExecutionWithJobs {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        self.execution.write_table(out)?;
        let rows: Vec<TaskJob> = topology::tasks_in_order(&self.execution.execution)
            .into_iter()
            .filter_map(|task| {
                let job_id = task.job_id.as_deref().filter(|job| !job.is_empty())?;
                let job = self.jobs.iter().find(|job| job.job_id == job_id);
                Some(TaskJob {
                    task: task.name.clone(),
                    job_id: job_id.to_owned(),
                    state: job.map_or_else(|| "missing".to_owned(), |job| job.state.to_string()),
                    progress: job.map_or_else(|| "-".to_owned(), progress_cell),
                    code: dash(job.and_then(|job| job.code.as_deref())).to_owned(),
                    outputs: job.map_or_else(
                        || "-".to_owned(),
                        |job| dash(Some(&job.output_keys().join(", "))).to_owned(),
                    ),
                })
            })
            .collect();
        out.write_all(b"\n")?;
        if rows.is_empty() {
            return out.write_all(b"no jobs yet\n");
        }
        TableWriter::new().write_page(out, &rows)
    }
}

/// The execution's fields, its tasks in topology order, and a line for
/// each failed task.
impl Render for DescribeWorkflowExecutionOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let fields = "RunId WorkflowId WorkflowName=Name Object State CreateTime";
        write_record(out, &self.execution, fields)?;
        let tasks: Vec<WorkflowTask> = topology::tasks_in_order(&self.execution)
            .into_iter()
            .cloned()
            .collect();
        if tasks.is_empty() {
            return out.write_all(b"\nno tasks\n");
        }
        out.write_all(b"\n")?;
        TableWriter::new().write_page(out, &tasks)?;
        let failed = tasks.iter().filter(|task| task.state == JobState::Failed);
        let lines: Vec<String> = failed
            .map(|task| format!("failed: {}", task_summary(task)))
            .collect();
        if !lines.is_empty() {
            writeln!(out, "\n{}", lines.join("\n"))?;
        }
        Ok(())
    }
}

/// `Transcode_1 (Transcode, job j…): InvalidInput: the input file has no
/// video stream`: a task's Name, Type, JobId, Code and Message, escaped.
pub fn task_summary(task: &WorkflowTask) -> String {
    let mut line = format!("{} ({}", printable(&task.name), printable(&task.task_type));
    if let Some(job) = task.job_id.as_deref().filter(|job| !job.is_empty()) {
        line.push_str(&format!(", job {}", printable(job)));
    }
    line.push(')');
    let details = [&task.code, &task.message].into_iter().flatten();
    for text in details.filter(|text| !text.is_empty()) {
        line.push_str(&format!(": {}", printable(text)));
    }
    line
}

impl Row for WorkflowTask {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("Name", |task| Cow::Borrowed(&task.name)),
        Column::new("Type", |task| Cow::Borrowed(&task.task_type)),
        Column::new("State", |task| Cow::Borrowed(task.state.as_str())),
        Column::new("Start", |task| {
            Cow::Borrowed(time_or_dash(task.start_time.as_ref()))
        }),
        Column::new("End", |task| {
            Cow::Borrowed(time_or_dash(task.end_time.as_ref()))
        }),
        Column::new("JobId", |task| Cow::Borrowed(dash(task.job_id.as_deref()))),
        Column::new("Code", |task| Cow::Borrowed(dash(task.code.as_deref()))),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, state: JobState) -> WorkflowTask {
        WorkflowTask {
            task_type: name.split('_').next().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            state,
            ..WorkflowTask::default()
        }
    }

    #[test]
    fn failure_lines() {
        let mut failed = task("Transcode_1", JobState::Failed);
        failed.job_id = Some("j1".into());
        failed.code = Some("InvalidInput".into());
        failed.message = Some("no video\nstream".into());
        assert_eq!(
            task_summary(&failed),
            "Transcode_1 (Transcode, job j1): InvalidInput: no video\\nstream"
        );
        let bare = task("Snapshot_1", JobState::Failed);
        assert_eq!(task_summary(&bare), "Snapshot_1 (Snapshot)");
    }
}
