//! `cos-ci workflow-executions get RUN_ID`: one execution with its tasks
//! (`GET /workflowexecution/<RunId>`).
//!
//! The table shows the execution, then its tasks in topology order (a
//! breadth-first walk of `Dependencies` from `Start`; tasks whose node is
//! not reached keep their own order, after the others), then one line per
//! failed task with its code and message. The exit code is 0 whatever the
//! execution's state: the command itself succeeded.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};

use clap::Args;
use cos_ci_proto::{
    CiTimestamp, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, JobState,
    WorkflowTask, XmlTree,
};

use crate::args::{OutputArgs, OutputFormat, ServiceArgs};
use crate::error::CliError;
use crate::output::{Column, Render, Row, TableWriter, write_fields};
use crate::runner::ActionArgs;
use crate::terminal::printable;

/// `cos-ci workflow-executions get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The execution's RunId (as listed by `workflow-executions list`).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,

    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl ActionArgs for GetArgs {
    type Action = DescribeWorkflowExecution;

    fn service(&self) -> &ServiceArgs {
        &self.service
    }

    fn format(&self) -> OutputFormat {
        self.output.format
    }

    fn action(&self) -> Result<DescribeWorkflowExecution, CliError> {
        Ok(DescribeWorkflowExecution {
            run_id: self.run_id.clone(),
        })
    }

    fn flag(parameter: &str) -> Option<&'static str> {
        (parameter == "RunId").then_some("RUN_ID")
    }
}

impl Render for DescribeWorkflowExecutionOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let execution = &self.execution;
        write_fields(
            out,
            &[
                ("RunId", &execution.run_id),
                ("WorkflowId", &execution.workflow_id),
                (
                    "WorkflowName",
                    execution.workflow_name.as_deref().unwrap_or(""),
                ),
                ("Object", &execution.object),
                ("State", execution.state.as_str()),
                (
                    "CreateTime",
                    execution
                        .create_time
                        .as_ref()
                        .map_or("", CiTimestamp::as_str),
                ),
            ],
        )?;
        out.write_all(b"\n")?;
        let tasks = topology_order(execution.topology.as_ref(), &execution.tasks);
        if tasks.is_empty() {
            out.write_all(b"no tasks\n")?;
            return Ok(());
        }
        let rows: Vec<WorkflowTask> = tasks.iter().map(|task| (*task).clone()).collect();
        TableWriter::new().write_page(out, &rows)?;
        let failed: Vec<&WorkflowTask> = tasks
            .into_iter()
            .filter(|task| task.state == JobState::Failed)
            .collect();
        if !failed.is_empty() {
            out.write_all(b"\n")?;
        }
        for task in failed {
            writeln!(out, "{}", failure_line(task))?;
        }
        Ok(())
    }
}

/// `failed: Transcode_1 (Transcode, job j…): InvalidInput: the input file has no video stream`.
pub fn failure_line(task: &WorkflowTask) -> String {
    let mut line = format!(
        "failed: {} ({}",
        printable(&task.name),
        printable(&task.task_type)
    );
    if let Some(job) = task.job_id.as_deref().filter(|job| !job.is_empty()) {
        line.push_str(", job ");
        line.push_str(&printable(job));
    }
    line.push(')');
    let detail: Vec<String> = [task.code.as_deref(), task.message.as_deref()]
        .into_iter()
        .flatten()
        .filter(|text| !text.is_empty())
        .map(|text| printable(text).into_owned())
        .collect();
    if !detail.is_empty() {
        line.push_str(": ");
        line.push_str(&detail.join(": "));
    }
    line
}

/// The tasks in topology order: the nodes reached by a breadth-first walk
/// of `Dependencies` from `Start` (each node's text lists its successors,
/// comma-separated, or `End`), in walk order; then every other task in its
/// own order. Tasks with the same node name keep their relative order.
pub fn topology_order<'t>(
    topology: Option<&XmlTree>,
    tasks: &'t [WorkflowTask],
) -> Vec<&'t WorkflowTask> {
    let rank: HashMap<&str, usize> = walk(topology)
        .into_iter()
        .enumerate()
        .map(|(index, name)| (name, index))
        .collect();
    let mut ordered: Vec<&WorkflowTask> = tasks.iter().collect();
    // Stable: ties (unknown names, repeats) keep the tasks' own order.
    ordered.sort_by_key(|task| rank.get(task.name.as_str()).copied().unwrap_or(usize::MAX));
    ordered
}

/// Node names in breadth-first order from `Start`; empty without a
/// `Dependencies` element. Each node is visited once, so a cycle ends.
fn walk(topology: Option<&XmlTree>) -> Vec<&str> {
    let Some(dependencies) = topology.and_then(|topology| topology.child("Dependencies")) else {
        return Vec::new();
    };
    let successors = |node: &str| -> Vec<&str> {
        dependencies
            .child(node)
            .and_then(XmlTree::text)
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty() && *name != "End")
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut order = Vec::new();
    let mut seen = HashSet::from(["Start"]);
    let mut queue = VecDeque::from(["Start"]);
    while let Some(node) = queue.pop_front() {
        order.push(node);
        for next in successors(node) {
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    order
}

impl Row for WorkflowTask {
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            header: "Name",
            cell: |task| Cow::Borrowed(&task.name),
        },
        Column {
            header: "Type",
            cell: |task| Cow::Borrowed(&task.task_type),
        },
        Column {
            header: "State",
            cell: |task| Cow::Borrowed(task.state.as_str()),
        },
        Column {
            header: "Start",
            cell: |task| Cow::Borrowed(dash(task.start_time.as_ref().map(CiTimestamp::as_str))),
        },
        Column {
            header: "End",
            cell: |task| Cow::Borrowed(dash(task.end_time.as_ref().map(CiTimestamp::as_str))),
        },
        Column {
            header: "JobId",
            cell: |task| Cow::Borrowed(dash(task.job_id.as_deref())),
        },
        Column {
            header: "Code",
            cell: |task| Cow::Borrowed(dash(task.code.as_deref())),
        },
    ];
}

/// `-` for a value that is absent or empty (not started, no job yet).
fn dash(text: Option<&str>) -> &str {
    text.filter(|text| !text.is_empty()).unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_proto::XmlNode;

    fn task(name: &str, state: JobState) -> WorkflowTask {
        WorkflowTask {
            task_type: name.split('_').next().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            state,
            ..WorkflowTask::default()
        }
    }

    fn dependencies(edges: &[(&str, &str)]) -> XmlTree {
        let node = |name: &str, content: XmlTree| XmlNode {
            name: name.to_owned(),
            content,
        };
        XmlTree::Elements(vec![node(
            "Dependencies",
            XmlTree::Elements(
                edges
                    .iter()
                    .map(|(from, to)| node(from, XmlTree::Text((*to).to_owned())))
                    .collect(),
            ),
        )])
    }

    fn names(tasks: Vec<&WorkflowTask>) -> Vec<&str> {
        tasks.into_iter().map(|task| task.name.as_str()).collect()
    }

    #[test]
    fn breadth_first_from_start_then_the_rest_in_their_own_order() {
        // Start → A, B; A → C; B → C, D; C → End; D → End; E is unreachable.
        let topology = dependencies(&[
            ("E", "C"),
            ("C", "End"),
            ("B", "C, D"),
            ("Start", "A,B"),
            ("A", "C"),
            ("D", "End"),
        ]);
        let tasks: Vec<WorkflowTask> = ["Other_2", "D", "C", "E", "B", "A", "Other_1", "Start"]
            .into_iter()
            .map(|name| task(name, JobState::Success))
            .collect();
        assert_eq!(
            names(topology_order(Some(&topology), &tasks)),
            ["Start", "A", "B", "C", "D", "Other_2", "E", "Other_1"]
        );
        assert_eq!(
            names(topology_order(None, &tasks)),
            ["Other_2", "D", "C", "E", "B", "A", "Other_1", "Start"],
            "no topology: the tasks' own order"
        );
    }

    #[test]
    fn cycles_end() {
        let topology = dependencies(&[("Start", "A"), ("A", "B"), ("B", "A,Start")]);
        let tasks = [task("B", JobState::Running), task("A", JobState::Success)];
        assert_eq!(names(topology_order(Some(&topology), &tasks)), ["A", "B"]);
    }

    #[test]
    fn failure_lines() {
        let mut failed = task("Transcode_1", JobState::Failed);
        failed.job_id = Some("j1".into());
        failed.code = Some("InvalidInput".into());
        failed.message = Some("no video\nstream".into());
        assert_eq!(
            failure_line(&failed),
            "failed: Transcode_1 (Transcode, job j1): InvalidInput: no video\\nstream"
        );
        let bare = task("Snapshot_1", JobState::Failed);
        assert_eq!(failure_line(&bare), "failed: Snapshot_1 (Snapshot)");
    }
}
