//! `cos-ci workflow-executions summary`: how many executions, and how
//! often they failed, by state, workflow, hour or day.
//!
//! The executions come from the parallel listing (`--parallel`, 8 time
//! windows at once by default), and only counts are kept: memory is one
//! counter per row, whatever the number of executions. The failure rate of
//! a row is `Failed / (Success + Failed + Cancel)`: of the executions that
//! ended, the share that failed (`Running` ones have not ended; `-` when
//! none has). Hours and days are those of each execution's `CreateTime`
//! offset (`+08:00` as CI writes them), and the hours or days between the
//! first and the last with none are shown with 0.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::pin::pin;
use std::time::SystemTime;

use clap::{Args, ValueEnum};
use cos_ci_client::ParallelOptions;
use cos_ci_proto::{
    CiTimestamp, ExecutionState, ListWorkflowExecutions, Order, PageSize, WorkflowExecution,
};
use futures_util::StreamExt;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::args::{OutputArgs, OutputFormat, ServiceArgs, TimeRangeArgs};
use crate::commands::list::{ExecutionFilterArgs, StatesArgs, listing_at_now};
use crate::error::CliError;
use crate::flags;
use crate::output::{Progress, write_json};
use crate::runner::{ActionArgs, Runner, checked_action, to_stdout};
use crate::terminal::printable;

/// `cos-ci workflow-executions summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Group the executions by state, workflow, hour or day.
    #[arg(long, value_enum, default_value_t = By::State, value_name = "BY")]
    pub by: By,
    #[command(flatten)]
    pub filter: ExecutionFilterArgs,
    #[command(flatten)]
    pub state: StatesArgs,
    /// `--start-time`, `--end-time`, `--since 24h`.
    #[command(flatten)]
    pub time: TimeRangeArgs,
    /// Creation-time windows listed at once (1 to 32).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = flags::workers)]
    pub parallel: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// One row per state (`Success`, `Failed`, `Running`, `Cancel`, then
    /// any other).
    State,
    /// One row per workflow id, most executions first.
    Workflow,
    /// One row per hour of creation, oldest first.
    Hour,
    /// One row per day of creation, oldest first.
    Day,
}

impl By {
    fn header(self) -> &'static str {
        match self {
            By::State => "State",
            By::Workflow => "WorkflowId",
            By::Hour => "Hour",
            By::Day => "Day",
        }
    }

    fn bucket_seconds(self) -> Option<i64> {
        match self {
            By::Hour => Some(3600),
            By::Day => Some(86_400),
            By::State | By::Workflow => None,
        }
    }
}

impl SummaryArgs {
    /// The listing, with `now` resolving `--since` and relative times.
    pub fn request_at(&self, now: SystemTime) -> Result<ListWorkflowExecutions, CliError> {
        let range = self.time.resolve(now)?;
        Ok(ListWorkflowExecutions {
            // Counts do not depend on the order; oldest first reads like
            // the hours and days.
            order: Some(Order::Asc),
            size: PageSize::new(PageSize::MAX).ok(),
            ..self.filter.listing(self.state.states.clone(), range)
        })
    }
}

listing_at_now!(SummaryArgs);

/// Count every execution `args` selects and print the summary.
pub fn run(args: &SummaryArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let action = checked_action(args)?;
    let runner = Runner::new(args.service(), env)?;
    let mut summary = Summary::new(args.by);
    let mut progress = Progress::new(io::stderr().is_terminal(), "execution");
    let options = ParallelOptions::new(args.parallel);
    let listed = runner.block_on(async {
        let mut pages = pin!(runner.client().parallel_pages(action, options));
        let mut pages_seen = 0u64;
        while let Some(page) = pages.next().await {
            let items = page.map_err(|error| runner.error(error))?;
            pages_seen += 1;
            for execution in &items {
                summary.add(execution);
            }
            let _ = progress.update(&mut io::stderr(), summary.total.executions, pages_seen);
        }
        Ok::<_, CliError>(pages_seen)
    });
    let _ = progress.clear(&mut io::stderr());
    let pages = listed?;
    tracing::info!(
        executions = summary.total.executions,
        pages,
        "summary complete"
    );
    let report = summary.report();
    let bars = io::stdout().is_terminal();
    to_stdout(|out| {
        match args.output.format {
            OutputFormat::Table => report.write_table(out, bars),
            OutputFormat::Json => write_json(out, &report),
            OutputFormat::Ndjson => report.rows.iter().try_for_each(|row| {
                serde_json::to_writer(&mut *out, row)?;
                out.write_all(b"\n")
            }),
        }
        .map_err(CliError::Output)
    })
}

/// Counts of one row (or of all executions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Executions.
    pub executions: u64,
    /// Of those, `Failed`.
    pub failed: u64,
    /// Of those, ended: `Success`, `Failed` or `Cancel`.
    pub ended: u64,
}

impl Counts {
    fn add(&mut self, state: &ExecutionState) {
        self.executions += 1;
        if *state == ExecutionState::Failed {
            self.failed += 1;
        }
        if state.is_terminal() {
            self.ended += 1;
        }
    }

    /// `failed / ended`; `None` when none ended.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.ended > 0).then(|| self.failed as f64 / self.ended as f64)
    }
}

/// The counts as executions arrive: one counter per row.
#[derive(Debug)]
pub struct Summary {
    by: By,
    /// (sort key, label) → counts. For hours and days the sort key is the
    /// bucket's start (Unix seconds) and the offset is kept beside it.
    rows: BTreeMap<(i64, String), (Counts, Option<i32>)>,
    total: Counts,
}

/// Where executions without a `CreateTime` go when grouping by time.
const NO_TIME: &str = "(no CreateTime)";
/// Gaps between hours or days are filled only up to this many rows.
const MAX_FILLED_ROWS: i64 = 5_000;

impl Summary {
    /// Nothing counted yet.
    pub fn new(by: By) -> Self {
        Summary {
            by,
            rows: BTreeMap::new(),
            total: Counts::default(),
        }
    }

    /// Count one execution.
    pub fn add(&mut self, execution: &WorkflowExecution) {
        self.total.add(&execution.state);
        let (key, offset) = match self.by {
            By::State => {
                let rank = match &execution.state {
                    ExecutionState::Success => 0,
                    ExecutionState::Failed => 1,
                    ExecutionState::Running => 2,
                    ExecutionState::Cancel => 3,
                    _ => 4,
                };
                ((rank, execution.state.as_str().to_owned()), None)
            }
            By::Workflow => ((0, execution.workflow_id.clone()), None),
            By::Hour | By::Day => match &execution.create_time {
                Some(time) => {
                    let width = self.by.bucket_seconds().unwrap_or(86_400);
                    let offset = time.offset_seconds();
                    let local = time.unix_seconds() + i64::from(offset);
                    let start = local - local.rem_euclid(width) - i64::from(offset);
                    ((start, self.label(start, offset)), Some(offset))
                }
                None => ((i64::MAX, NO_TIME.to_owned()), None),
            },
        };
        self.rows
            .entry(key)
            .or_insert((Counts::default(), offset))
            .0
            .add(&execution.state);
    }

    /// The label of the hour or day starting at `start` in `offset`:
    /// `2026-01-05T13:00+08:00`, or `2026-01-05`.
    fn label(&self, start: i64, offset: i32) -> String {
        let Ok(time) = CiTimestamp::from_unix(start, offset) else {
            return start.to_string();
        };
        let text = time.as_str();
        match self.by {
            // `2026-01-05T13:00:00+08:00` without the seconds.
            By::Hour => format!("{}{}", &text[..16], &text[19..]),
            _ => text[..10].to_owned(),
        }
    }

    /// The rows in their order, gaps filled, with shares and rates.
    pub fn report(&self) -> Report {
        let mut rows: Vec<(String, Option<String>, Counts)> = Vec::new();
        match self.by.bucket_seconds() {
            Some(width) => {
                let offsets: BTreeSet<i32> = self.rows.values().filter_map(|(_, o)| *o).collect();
                let timed: Vec<i64> = self
                    .rows
                    .keys()
                    .map(|(start, _)| *start)
                    .filter(|start| *start != i64::MAX)
                    .collect();
                let fill = match (offsets.len(), timed.first(), timed.last()) {
                    (1, Some(first), Some(last)) => (last - first) / width < MAX_FILLED_ROWS,
                    _ => false,
                };
                if let (true, Some(&offset), Some(&first), Some(&last)) =
                    (fill, offsets.first(), timed.first(), timed.last())
                {
                    let mut start = first;
                    while start <= last {
                        let label = self.label(start, offset);
                        let counts = self
                            .rows
                            .get(&(start, label.clone()))
                            .map(|(counts, _)| *counts)
                            .unwrap_or_default();
                        rows.push((label, self.bucket_start(start, offset), counts));
                        start += width;
                    }
                    if let Some((counts, _)) = self.rows.get(&(i64::MAX, NO_TIME.to_owned())) {
                        rows.push((NO_TIME.to_owned(), None, *counts));
                    }
                } else {
                    for ((start, label), (counts, offset)) in &self.rows {
                        let start = offset.and_then(|offset| self.bucket_start(*start, offset));
                        rows.push((label.clone(), start, *counts));
                    }
                }
            }
            None => {
                for ((_, label), (counts, _)) in &self.rows {
                    rows.push((label.clone(), None, *counts));
                }
                if self.by == By::Workflow {
                    // Most executions first; ties by id (already sorted).
                    rows.sort_by_key(|row| std::cmp::Reverse(row.2.executions));
                }
            }
        }
        let total = self.total.executions;
        Report {
            by: self.by,
            total: RowReport::new("Total".to_owned(), None, self.total, total),
            rows: rows
                .into_iter()
                .map(|(key, start, counts)| RowReport::new(key, start, counts, total))
                .collect(),
        }
    }

    fn bucket_start(&self, start: i64, offset: i32) -> Option<String> {
        CiTimestamp::from_unix(start, offset)
            .ok()
            .map(|time| time.as_str().to_owned())
    }
}

/// The summary as printed: `--output json` writes this document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    /// What the rows are.
    pub by: By,
    /// Every execution counted.
    pub total: RowReport,
    /// One per state, workflow, hour or day.
    pub rows: Vec<RowReport>,
}

/// One row (`--output ndjson` writes one per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RowReport {
    /// The state, workflow id, hour or day.
    pub key: String,
    /// For hours and days: when it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Executions.
    pub executions: u64,
    /// Share of all executions counted, 0 to 1.
    pub share: f64,
    /// Executions that failed.
    pub failed: u64,
    /// Executions that ended (`Success`, `Failed`, `Cancel`).
    pub ended: u64,
    /// `Failed / ended`, 0 to 1; `null` when none ended.
    pub failure_rate: Option<f64>,
}

impl RowReport {
    fn new(key: String, start: Option<String>, counts: Counts, total: u64) -> Self {
        RowReport {
            key,
            start,
            executions: counts.executions,
            share: if total == 0 {
                0.0
            } else {
                counts.executions as f64 / total as f64
            },
            failed: counts.failed,
            ended: counts.ended,
            failure_rate: counts.failure_rate(),
        }
    }
}

/// Width of the longest bar, in terminal columns.
const BAR_WIDTH: usize = 30;

impl Report {
    /// The table: the rows, then the total; with `bars`, a bar per row
    /// proportional to its executions (for a terminal).
    pub fn write_table<W: Write + ?Sized>(&self, out: &mut W, bars: bool) -> io::Result<()> {
        let header = [
            self.by.header(),
            "Executions",
            "Share",
            "Failed",
            "Failure rate",
        ];
        let cells = |row: &RowReport| -> [String; 5] {
            [
                printable(&row.key).into_owned(),
                row.executions.to_string(),
                percent(Some(row.share)),
                row.failed.to_string(),
                percent(row.failure_rate),
            ]
        };
        let body: Vec<[String; 5]> = self.rows.iter().map(cells).collect();
        let total = cells(&self.total);
        let mut widths = header.map(UnicodeWidthStr::width);
        for row in body.iter().chain(std::iter::once(&total)) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.width());
            }
        }
        let most = self
            .rows
            .iter()
            .map(|row| row.executions)
            .max()
            .unwrap_or(0);
        let line = |out: &mut W, cells: &[&str], bar: Option<u64>| -> io::Result<()> {
            let mut text = String::new();
            for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
                let pad = " ".repeat(width.saturating_sub(cell.width()));
                if index == 0 {
                    text.push_str(cell);
                    text.push_str(&pad);
                } else {
                    text.push_str("  ");
                    text.push_str(&pad);
                    text.push_str(cell);
                }
            }
            if let Some(count) = bar.filter(|_| bars) {
                text.push_str("  ");
                text.push_str(&bar_of(count, most));
            }
            out.write_all(text.trim_end().as_bytes())?;
            out.write_all(b"\n")
        };
        line(out, &header, None)?;
        for (row, cells) in self.rows.iter().zip(&body) {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            line(out, &cells, Some(row.executions))?;
        }
        let cells: Vec<&str> = total.iter().map(String::as_str).collect();
        line(out, &cells, None)
    }
}

/// `12.3%`, or `-` for no value.
fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{:.1}%", value * 100.0))
}

/// A bar of `count` against `most` in eighths of a column.
fn bar_of(count: u64, most: u64) -> String {
    if most == 0 {
        return String::new();
    }
    let eighths = (count as f64 / most as f64 * (BAR_WIDTH * 8) as f64).round() as usize;
    let eighths = if count > 0 { eighths.max(1) } else { 0 };
    let mut bar = "█".repeat(eighths / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    bar.push_str(PARTS[eighths % 8]);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execution(workflow: &str, time: &str, state: ExecutionState) -> WorkflowExecution {
        WorkflowExecution {
            run_id: format!("i-{workflow}-{time}"),
            workflow_id: workflow.to_owned(),
            object: "o".to_owned(),
            create_time: CiTimestamp::parse(time).ok(),
            state,
        }
    }

    fn summary(by: By) -> Summary {
        let mut summary = Summary::new(by);
        for (workflow, time, state) in [
            ("wA", "2026-01-05T10:15:00+08:00", ExecutionState::Success),
            ("wA", "2026-01-05T10:59:59+08:00", ExecutionState::Failed),
            ("wB", "2026-01-05T13:00:00+08:00", ExecutionState::Running),
            ("wB", "2026-01-06T00:30:00+08:00", ExecutionState::Cancel),
            ("wB", "2026-01-06T00:31:00+08:00", ExecutionState::Failed),
            ("wC", "2026-01-06T00:32:00+08:00", "Paused".into()),
        ] {
            summary.add(&execution(workflow, time, state));
        }
        summary
    }

    fn table(report: &Report, bars: bool) -> String {
        let mut out = Vec::new();
        report.write_table(&mut out, bars).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn by_state_with_the_failure_rate_of_what_ended() {
        let report = summary(By::State).report();
        assert_eq!(
            table(&report, false),
            "\
State    Executions   Share  Failed  Failure rate
Success           1   16.7%       0          0.0%
Failed            2   33.3%       2        100.0%
Running           1   16.7%       0             -
Cancel            1   16.7%       0          0.0%
Paused            1   16.7%       0             -
Total             6  100.0%       2         50.0%
"
        );
        assert_eq!(report.total.failure_rate, Some(0.5));
    }

    #[test]
    fn by_workflow_most_first_and_by_hour_with_gaps_filled() {
        let report = summary(By::Workflow).report();
        let keys: Vec<&str> = report.rows.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(keys, ["wB", "wA", "wC"]);

        let report = summary(By::Hour).report();
        let keys: Vec<&str> = report.rows.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(keys.len(), 15, "{keys:?}");
        assert_eq!(keys[0], "2026-01-05T10:00+08:00");
        assert_eq!(keys[3], "2026-01-05T13:00+08:00");
        assert_eq!(keys[14], "2026-01-06T00:00+08:00");
        assert_eq!(report.rows[0].executions, 2);
        assert_eq!(report.rows[1].executions, 0);
        assert_eq!(
            report.rows[0].start.as_deref(),
            Some("2026-01-05T10:00:00+08:00")
        );

        let report = summary(By::Day).report();
        let keys: Vec<&str> = report.rows.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(keys, ["2026-01-05", "2026-01-06"]);
        assert_eq!(report.rows[1].failure_rate, Some(0.5));
    }

    #[test]
    fn bars_only_when_asked_and_proportional() {
        let report = summary(By::Workflow).report();
        let with = table(&report, true);
        let lines: Vec<&str> = with.lines().collect();
        assert!(lines[1].ends_with(&"█".repeat(30)), "{with}");
        assert!(
            lines[2].ends_with(&format!("  {}", "█".repeat(20))),
            "{with}"
        );
        assert!(
            lines[3].ends_with(&format!("  {}", "█".repeat(10))),
            "{with}"
        );
        assert_eq!(bar_of(1, 7), format!("{}▎", "█".repeat(4)));
        assert!(!lines[0].contains('█') && !lines[4].contains('█'));
        assert!(!table(&report, false).contains('█'));
        assert_eq!(bar_of(0, 10), "");
        assert_eq!(bar_of(1, 1_000_000), "▏");
    }

    #[test]
    fn keys_are_escaped_in_the_table_not_in_json() {
        let mut summary = Summary::new(By::Workflow);
        summary.add(&execution(
            "w\u{1b}[31m",
            "2026-01-05T10:15:00+08:00",
            ExecutionState::Success,
        ));
        let report = summary.report();
        assert!(table(&report, false).contains("w\\u{1b}[31m"));
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"Key\":\"w\\u001b[31m\""), "{json}");
        assert!(json.contains("\"By\":\"workflow\""), "{json}");
    }
}
