//! `cos-ci workflow-executions failures`: the failed runs a listing
//! selects, each with its failed tasks' Code and Message, in one command.
//!
//! The listing is `GET /workflowexecution` with `states=Failed` and the
//! filters of `list`, newest first, bounded by default (the last 24 hours,
//! the first 50 runs) so that it never pages a whole bucket unasked; with
//! `--parallel N` it is listed by creation-time windows, as `list
//! --parallel N`, with the same runs in the same order. Each
//! listed run's details (`GET /workflowexecution/<RunId>`) are fetched
//! `--concurrency` at a time and printed in the listing's order as they
//! arrive: memory is one page of the listing, the runs in flight and, for
//! the table, the rows of the first few runs (which fix the column widths).
//! A run whose details cannot be fetched is one line on stderr; the others
//! are still printed, and the exit code says that some were not.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write};
use std::pin::pin;
use std::time::{Duration, SystemTime};

use clap::Args;
use cos_ci_client::{Error as ClientError, PagingError, PagingOptions, ParallelOptions};
use cos_ci_proto::{
    CiTimestamp, Cursor, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput,
    ExecutionState, JobState, ListWorkflowExecutions, Order, PageSize, StateFilter,
    WorkflowExecution, WorkflowTask,
};
use futures_util::future::Either;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::args::{OutputArgs, OutputFormat, PagingArgs, ParallelArgs, ServiceArgs, TimeRangeArgs};
use crate::commands::list::{ExecutionFilterArgs, listing_at_now};
use crate::commands::topology;
use crate::error::CliError;
use crate::flags::{self, WireChoice};
use crate::output::{ListWriter, TableWriter, dash, plural, resume_line, text_row, time_or_dash};
use crate::runner::{
    ActionArgs, Runner, checked_action, note, note_resume_point, sequential_pages, to_stdout,
    windowed_pages,
};
use crate::terminal::printable;

/// Failed runs listed without `--limit` or `--all`.
pub const DEFAULT_LIMIT: u64 = 50;
/// The creation-time range without a time flag: the last 24 hours.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Runs whose table rows are held back to fix the column widths (a run's
/// rows alone would size the columns to its own message).
const TABLE_LOOKAHEAD: usize = 16;

/// `failures --help`'s exit codes: a failed details call does not stop
/// the others.
pub const FAILURES_HELP: &str = "Exit codes: 0 ok (whether or not any run failed); 2 bad usage \
     or input; 3 the service answered the listing, or a run's details, with an error; 4 network \
     error or timeout (for details: when none of the failed calls got an answer). A run whose \
     details cannot be fetched is named on stderr, and the other runs are still printed.";

/// `cos-ci workflow-executions failures`.
#[derive(Debug, Args)]
pub struct FailuresArgs {
    #[command(flatten)]
    pub service: ServiceArgs,

    #[command(flatten)]
    pub filter: ExecutionFilterArgs,
    /// Sort by creation time (any case). Default: Desc, newest first.
    #[arg(long, value_name = "ORDER", value_parser = WireChoice::<Order>::new())]
    pub order: Option<Order>,
    #[command(flatten)]
    pub time: TimeRangeArgs,
    /// Start from this page token (printed by a previous listing).
    #[arg(long, value_name = "TOKEN")]
    pub next_token: Option<String>,

    #[command(flatten)]
    pub paging: PagingArgs,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Runs whose details are fetched at once, 1 to 32.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = flags::workers)]
    pub concurrency: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl FailuresArgs {
    /// How many failed runs at most: `--limit`, none with `--all`, else
    /// [`DEFAULT_LIMIT`].
    pub fn limit(&self) -> Option<u64> {
        self.paging
            .limit
            .or((!self.paging.all).then_some(DEFAULT_LIMIT))
    }

    /// The listing of failed runs, with `now` resolving the time range.
    pub fn request_at(&self, now: SystemTime) -> Result<ListWorkflowExecutions, CliError> {
        self.parallel.check(&self.paging)?;
        let range = self.time.resolve_or_last(now, DEFAULT_WINDOW)?;
        // No larger pages than the limit needs.
        let size = self.limit().map_or(PageSize::MAX, |limit| {
            u32::try_from(limit).map_or(PageSize::MAX, |limit| limit.min(PageSize::MAX))
        });
        Ok(ListWorkflowExecutions {
            order: Some(self.order.unwrap_or(Order::Desc)),
            size: PageSize::new(size).ok(),
            next_token: self.next_token.clone(),
            ..self
                .filter
                .listing(Some(BTreeSet::from([StateFilter::Failed])), range)
        })
    }
}

listing_at_now!(FailuresArgs);

/// One failed run and its failed tasks: the JSON and NDJSON item, with
/// the API's element names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedRun {
    /// `RunId`
    pub run_id: String,
    /// `WorkflowId`
    pub workflow_id: String,
    /// `WorkflowName`, when the details give one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_name: Option<String>,
    /// `Object`
    pub object: String,
    /// `CreateTime`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<CiTimestamp>,
    /// `State` (the details'; `Failed`).
    pub state: ExecutionState,
    /// The tasks whose state is `Failed`, in topology order, as the
    /// details give them (`get`'s `Tasks`); empty when the details show
    /// none.
    pub failed_tasks: Vec<WorkflowTask>,
}

impl FailedRun {
    /// The run as listed, with its details' name, state and failed tasks.
    pub fn new(listed: WorkflowExecution, details: DescribeWorkflowExecutionOutput) -> Self {
        let details = details.execution;
        let failed_tasks = topology::tasks_in_order(&details)
            .into_iter()
            .filter(|task| task.state == JobState::Failed)
            .cloned()
            .collect();
        FailedRun {
            run_id: listed.run_id,
            workflow_id: listed.workflow_id,
            workflow_name: details.workflow_name.filter(|name| !name.is_empty()),
            object: listed.object,
            create_time: listed.create_time,
            state: details.state,
            failed_tasks,
        }
    }

    /// The table rows: one per failed task, or one with `-` for the task
    /// when the details show none (the run is never left out).
    pub fn rows(&self) -> Vec<FailedTaskRow> {
        let row = |task: Option<&WorkflowTask>| FailedTaskRow {
            create_time: time_or_dash(self.create_time.as_ref()).to_owned(),
            run_id: self.run_id.clone(),
            workflow: (self.workflow_name.as_ref())
                .unwrap_or(&self.workflow_id)
                .clone(),
            object: self.object.clone(),
            task: dash(task.map(|task| task.name.as_str())).to_owned(),
            task_type: dash(task.map(|task| task.task_type.as_str())).to_owned(),
            job_id: dash(task.and_then(|task| task.job_id.as_deref())).to_owned(),
            code: dash(task.and_then(|task| task.code.as_deref())).to_owned(),
            message: dash(task.and_then(|task| task.message.as_deref())).to_owned(),
        };
        if self.failed_tasks.is_empty() {
            return vec![row(None)];
        }
        self.failed_tasks.iter().map(Some).map(row).collect()
    }
}

text_row! {
    /// One row of the table: a failed task with its run (the message last:
    /// it varies most).
    pub struct FailedTaskRow {
        create_time: "CreateTime",
        run_id: "RunId",
        workflow: "Workflow",
        object: "Object",
        task: "Task",
        task_type: "Type",
        job_id: "JobId",
        code: "Code",
        message: "Message",
    }
}

/// What the listing of failed runs hands on, in order: each run the limit
/// lets through, then how the listing ended.
enum Listed {
    Run(WorkflowExecution),
    End(ListingEnd),
}

/// How the listing of failed runs ended.
#[derive(Debug, Default)]
struct ListingEnd {
    /// Where it would go on: after the last page fetched (never for a
    /// windowed listing, whose position is not one token).
    resume: Option<Cursor>,
    /// Whether more failed runs match than the limit let through.
    more: bool,
    /// The error it stopped on; the runs listed before it are still shown.
    error: Option<ClientError>,
    /// The error of a windowed listing's request for the run past the
    /// limit (other than the page limit): whether more match is unknown.
    unknown_more: Option<ClientError>,
}

/// The runs of `pages`, at most `limit`, then how the listing ended. Once
/// past the limit no further page is fetched. A windowed listing asks for
/// one run past the limit (it has no NextToken to say whether more match):
/// its page limit reached there says more do, and any other error there
/// leaves that unknown, which is said, not an error of the listing.
fn listed_runs<S>(pages: S, limit: Option<u64>, windowed: bool) -> impl Stream<Item = Listed>
where
    S: Stream<Item = Result<(Vec<WorkflowExecution>, Option<Cursor>), ClientError>> + Unpin,
{
    struct State<S> {
        pages: S,
        page: std::vec::IntoIter<WorkflowExecution>,
        count: u64,
        /// `None` once handed on.
        end: Option<ListingEnd>,
    }
    let state = State {
        pages,
        page: Vec::new().into_iter(),
        count: 0,
        end: Some(ListingEnd::default()),
    };
    futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(run) = state.page.next() {
                return Some((Listed::Run(run), state));
            }
            let end = state.end.as_mut()?;
            // Once past the limit, every run asked for is listed.
            let page = if end.more {
                None
            } else {
                state.pages.next().await
            };
            match page {
                Some(Ok((mut items, next_cursor))) => {
                    end.resume = next_cursor;
                    let room = limit.map_or(u64::MAX, |limit| limit.saturating_sub(state.count));
                    if items.len() as u64 > room {
                        items.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                        end.more = true;
                    }
                    state.count += items.len() as u64;
                    state.page = items.into_iter();
                    continue;
                }
                Some(Err(ClientError::Paging(PagingError::MaxPages { .. })))
                    if windowed && limit == Some(state.count) =>
                {
                    end.more = true;
                }
                Some(Err(error)) if windowed && limit == Some(state.count) => {
                    end.unknown_more = Some(error);
                }
                Some(Err(error)) => end.error = Some(error),
                None => {}
            }
            let end = state.end.take()?;
            return Some((Listed::End(end), state));
        }
    })
}

/// A listed run with the answer to its details call, or how the listing
/// ended.
#[allow(clippy::large_enum_variant)] // At most --concurrency are held.
enum Fetched {
    Run(
        WorkflowExecution,
        Result<DescribeWorkflowExecutionOutput, ClientError>,
    ),
    End(ListingEnd),
}

/// List the failed runs `args` selects and print each with its failed
/// tasks.
pub fn run(args: &FailuresArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let action = checked_action(args)?;
    let runner = Runner::new(args.service(), env)?;
    let limit = args.limit();
    let options = PagingOptions {
        limit,
        ..args.paging.options()
    };
    let client = runner.client().clone();
    let windowed = args.parallel.windowed(&args.paging);
    let mut report = Report::new(args.format());
    let mut ended = ListingEnd::default();
    // The exit code of each failed details call.
    let mut failed_calls: Vec<u8> = Vec::new();
    to_stdout(|out| {
        report.begin(out).map_err(CliError::Output)?;
        runner.block_on(async {
            let pages = pin!(if windowed {
                // One run past the limit: whether it comes is whether more
                // match (the sequential listing knows it by its NextToken).
                let options = PagingOptions {
                    limit: limit.map(|limit| limit.saturating_add(1)),
                    ..options
                };
                let options = ParallelOptions::new(args.parallel.workers).with_paging(options);
                Either::Left(windowed_pages(&client, action, options))
            } else {
                Either::Right(sequential_pages(&client, action, options))
            });
            // In the listing's order, at most `--concurrency` details
            // calls ahead of the run being printed, while the listing
            // goes on.
            let mut fetched = pin!(
                listed_runs(pages, limit, windowed)
                    .map(|listed| {
                        let client = client.clone();
                        async move {
                            match listed {
                                Listed::Run(execution) => {
                                    let run_id = execution.run_id.clone();
                                    let details =
                                        client.execute(DescribeWorkflowExecution { run_id }).await;
                                    Fetched::Run(execution, details)
                                }
                                Listed::End(end) => Fetched::End(end),
                            }
                        }
                    })
                    .buffered(args.concurrency)
            );
            while let Some(fetched) = fetched.next().await {
                match fetched {
                    Fetched::Run(execution, Ok(details)) => report
                        .add(out, FailedRun::new(execution, details))
                        .and_then(|()| out.flush())
                        .map_err(CliError::Output)?,
                    Fetched::Run(execution, Err(error)) => {
                        let error = runner.error(error);
                        failed_calls.push(error.exit_code());
                        note(&printable(&format!(
                            "error: run {}: {error}",
                            execution.run_id
                        )));
                    }
                    Fetched::End(end) => ended = end,
                }
            }
            Ok::<(), CliError>(())
        })?;
        match ended.error.take() {
            None => report.finish(out, ended.resume.as_ref()),
            // As `list`: what arrived is shown, the document left open.
            Some(error) => {
                note_resume_point(&error, ended.resume.as_ref());
                report.flush_table(out).map_err(CliError::Output)?;
                return Err(runner.error(error));
            }
        }
        .map_err(CliError::Output)
    })?;
    let ListingEnd {
        resume,
        more,
        unknown_more,
        ..
    } = ended;
    let listed_runs = report.runs + failed_calls.len() as u64;
    if args.format() == OutputFormat::Table {
        note(&summary(listed_runs, report.tasks));
    }
    if let Some(error) = unknown_more {
        let error = runner.error(error);
        note(&printable(&format!(
            "could not tell whether more failed runs match than --limit {}: {error}",
            limit.unwrap_or_default()
        )));
    }
    if more || resume.is_some() {
        if let Some(cursor) = resume
            .as_ref()
            .filter(|_| args.format() != OutputFormat::Json)
        {
            note(&resume_line(cursor));
        }
        note(&format!(
            "stopped at --limit {}: more failed runs match (raise --limit, pass --all{})",
            limit.unwrap_or_default(),
            if resume.is_some() {
                ", or go on with --next-token"
            } else {
                ""
            }
        ));
    }
    if failed_calls.is_empty() {
        return Ok(());
    }
    Err(CliError::partial(
        format!(
            "the details of {} of {listed_runs} failed run{} could not be fetched (each is named above)",
            failed_calls.len(),
            plural(listed_runs)
        ),
        &failed_calls,
    ))
}

/// The stderr line after the table: `3 failed runs, 4 failed tasks`.
fn summary(runs: u64, tasks: u64) -> String {
    if runs == 0 {
        return "no failed runs found".to_owned();
    }
    format!(
        "{runs} failed run{}, {tasks} failed task{}",
        plural(runs),
        plural(tasks)
    )
}

/// The runs as they arrive: table rows (the first [`TABLE_LOOKAHEAD`]
/// runs' held to fix the widths), or one JSON document, or NDJSON lines.
struct Report {
    format: OutputFormat,
    documents: ListWriter<FailedRun>,
    table: TableWriter<FailedTaskRow>,
    /// Rows held until the widths are fixed; `None` once written.
    held: Option<Vec<FailedTaskRow>>,
    /// Runs shown.
    runs: u64,
    /// Failed tasks shown.
    tasks: u64,
}

impl Report {
    fn new(format: OutputFormat) -> Self {
        Report {
            format,
            documents: ListWriter::new(format, "Runs"),
            table: TableWriter::new(),
            held: Some(Vec::new()),
            runs: 0,
            tasks: 0,
        }
    }

    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.documents.begin(out)
    }

    fn add(&mut self, out: &mut dyn Write, run: FailedRun) -> io::Result<()> {
        self.runs += 1;
        self.tasks += run.failed_tasks.len() as u64;
        if self.format != OutputFormat::Table {
            return self.documents.write_serialized(out, &[run]);
        }
        let rows = run.rows();
        match &mut self.held {
            Some(held) => {
                held.extend(rows);
                if self.runs >= TABLE_LOOKAHEAD as u64 {
                    self.flush_table(out)?;
                }
                Ok(())
            }
            None => self.table.write_page(out, &rows),
        }
    }

    /// Write the rows held back, if any.
    fn flush_table(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self.held.take() {
            Some(rows) => self.table.write_page(out, &rows),
            None => Ok(()),
        }
    }

    /// The rows held back, and the end of the JSON document (with the
    /// NextToken to go on from, if any).
    fn finish(&mut self, out: &mut dyn Write, resume: Option<&Cursor>) -> io::Result<()> {
        self.flush_table(out)?;
        self.documents.finish(out, resume)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse_aimed, parsed};
    use cos_ci_proto::{CiAction, WorkflowExecutionDetail};

    #[test]
    fn bounded_by_default() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let args: FailuresArgs = parsed(&[]);
        assert_eq!(args.limit(), Some(DEFAULT_LIMIT));
        assert_eq!(args.concurrency, 8);
        assert_eq!(args.parallel.workers, 1);
        let request = args.request_at(now).unwrap();
        assert_eq!(
            request.wire_query(),
            "states=Failed&orderByTime=Desc&startCreationTime=2025-12-31T08%3A00%3A00%2B0800&endCreationTime=2026-01-01T08%3A00%3A00%2B0800&size=50"
        );
        let every: FailuresArgs =
            parsed(&["--all", "--since", "1h", "--order", "asc", "--job-id", "b1"]);
        assert_eq!(every.limit(), None);
        let request = every.request_at(now).unwrap();
        assert_eq!(request.size, PageSize::new(100).ok());
        assert_eq!(request.order, Some(Order::Asc));
        assert_eq!(request.job_id.as_deref(), Some("b1"));
        let from: FailuresArgs = parsed(&[
            "--start-time",
            "2026-01-01T00:00:00+08:00",
            "--limit",
            "500",
        ]);
        let request = from.request_at(now).unwrap();
        assert_eq!(request.end_creation_time, None, "only the flag given");
        assert_eq!(request.size, PageSize::new(100).ok());
    }

    #[test]
    fn flag_errors_name_the_flag() {
        for (args, flag) in [
            (&["--concurrency", "0"][..], "--concurrency"),
            (&["--concurrency", "33"], "--concurrency"),
            (&["--all", "--parallel", "0"], "--parallel"),
            (&["--all", "--parallel", "33"], "--parallel"),
            (&["--limit", "0"], "--limit"),
            (&["--order", "newest"], "--order"),
            (&["--since", "soon"], "--since"),
        ] {
            let error = parse_aimed::<FailuresArgs>(args).expect_err(&format!("{args:?}"));
            let line = crate::clap_error_line(&error).expect("one line");
            assert!(
                line.starts_with(&format!("error: invalid {flag}: ")),
                "{args:?}: {line}"
            );
        }
        assert!(
            parse_aimed::<FailuresArgs>(&["--states", "Success"]).is_err(),
            "the state is fixed"
        );
        assert!(parse_aimed::<FailuresArgs>(&["--all", "--limit", "3"]).is_err());
        // The default bound (50 runs) is one page: --parallel needs a flag
        // that follows pages, as for `list`.
        let now = SystemTime::now();
        let error = parsed::<FailuresArgs>(&["--parallel", "4"])
            .request_at(now)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid --parallel: needs --all, --limit or --max-pages (one page is one request)"
        );
        for follows in [&["--all"][..], &["--limit", "5"], &["--max-pages", "2"]] {
            let args = [follows, &["--parallel", "4"]].concat();
            assert!(parsed::<FailuresArgs>(&args).request_at(now).is_ok());
        }
    }

    fn task(name: &str, state: JobState, code: Option<&str>) -> WorkflowTask {
        WorkflowTask {
            task_type: name.split('_').next().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            state,
            job_id: Some(format!("j-{name}")),
            code: code.map(str::to_owned),
            message: code.map(|code| format!("{code}\nhappened")),
            ..WorkflowTask::default()
        }
    }

    fn failed_run(tasks: Vec<WorkflowTask>, name: Option<&str>) -> FailedRun {
        let listed = WorkflowExecution {
            run_id: "i1".into(),
            workflow_id: "w1".into(),
            object: "in/a.mp4".into(),
            create_time: CiTimestamp::parse("2026-01-01T10:00:00+08:00").ok(),
            state: ExecutionState::Failed,
        };
        let details = DescribeWorkflowExecutionOutput {
            execution: WorkflowExecutionDetail {
                run_id: "i1".into(),
                workflow_name: name.map(str::to_owned),
                state: ExecutionState::Failed,
                tasks,
                ..WorkflowExecutionDetail::default()
            },
            ..DescribeWorkflowExecutionOutput::default()
        };
        FailedRun::new(listed, details)
    }

    #[test]
    fn one_row_per_failed_task_and_one_for_a_run_without() {
        let run = failed_run(
            vec![
                task("Snapshot_1", JobState::Success, Some("Success")),
                task("Transcode_1", JobState::Failed, Some("InvalidInput")),
                task("Watermark_1", JobState::Failed, None),
            ],
            Some("transcode"),
        );
        let mut table = TableWriter::new();
        let mut out = Vec::new();
        table.write_page(&mut out, &run.rows()).unwrap();
        let none = failed_run(vec![task("Snapshot_1", JobState::Success, None)], None);
        table.write_page(&mut out, &none.rows()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
CreateTime                 RunId  Workflow   Object    Task         Type       JobId          Code          Message
2026-01-01T10:00:00+08:00  i1     transcode  in/a.mp4  Transcode_1  Transcode  j-Transcode_1  InvalidInput  InvalidInput\\nhappened
2026-01-01T10:00:00+08:00  i1     transcode  in/a.mp4  Watermark_1  Watermark  j-Watermark_1  -             -
2026-01-01T10:00:00+08:00  i1     w1         in/a.mp4  -            -          -              -             -
"
        );
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["WorkflowName"], "transcode");
        assert_eq!(json["FailedTasks"][0]["Type"], "Transcode");
        assert_eq!(json["FailedTasks"][0]["Code"], "InvalidInput");
        assert_eq!(json["FailedTasks"].as_array().map(Vec::len), Some(2));
        assert!(serde_json::to_value(&none).unwrap()["FailedTasks"] == serde_json::json!([]));
    }

    #[test]
    fn summary_lines() {
        assert_eq!(summary(0, 0), "no failed runs found");
        assert_eq!(summary(1, 1), "1 failed run, 1 failed task");
        assert_eq!(summary(3, 4), "3 failed runs, 4 failed tasks");
    }

    #[test]
    fn the_listing_is_valid() {
        parsed::<FailuresArgs>(&[])
            .request_at(SystemTime::now())
            .unwrap()
            .validate()
            .unwrap();
    }
}
