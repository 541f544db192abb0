//! An execution in detail (`GET /workflowexecution/<RunId>`): the detail
//! fields as loaded, and for each one left out, a deterministic derivation
//! from the record alone, so that `--dump` and `--data` give back the same
//! answers and a million generated executions store nothing extra.
//!
//! The derived parts agree with each other and with the record:
//!
//! - `Name`: `workflow-` and 8 hex digits of the workflow id's hash, the
//!   same for every run of a workflow.
//! - The nodes: taken from the loaded `Tasks`, else from the loaded
//!   `Topology`'s `Nodes`, else the workflow's default pipeline
//!   (`Transcode_<13 digits>`, or `Snapshot_…` then `Transcode_…`).
//! - `Topology`: the nodes chained `Start -> node -> … -> End`.
//! - `Tasks`: one per node, in order, as far as the run got. `Success`: all
//!   succeeded. `Failed`, `Running`, `Cancel`: the tasks before one node
//!   (picked from the run id) succeeded, that node's task has the
//!   execution's state and the nodes after it have no task. A failed task
//!   has a CI-like `Code` and `Message`. Any other state: no tasks. Times
//!   start a second or two after the execution's `CreateTime`, in its
//!   offset, each task after the one before.

use cos_ci_proto::{
    CiTimestamp, ExecutionState, JobState, WorkflowExecutionDetail, WorkflowTask, XmlNode, XmlTree,
};

use crate::dataset::ExecutionRecord;
use crate::random::{SplitMix64, hash_text};

/// Why a derived task failed: `(Code, Message)`, picked by the run id.
const FAILURES: [(&str, &str); 3] = [
    ("InvalidInput", "the input file has no video stream"),
    (
        "InvalidInput",
        "the input file is damaged or its format is not supported",
    ),
    (
        "InternalError",
        "the job failed on an internal error, please retry",
    ),
];

impl ExecutionRecord {
    /// The execution as `GET /workflowexecution/<RunId>` returns it from a
    /// bucket in `region`: the listing's `WorkflowId`, `RunId`,
    /// `CreateTime`, `Object` and `State`, and the detail fields as loaded
    /// or, where absent, derived (see the module documentation).
    pub fn to_detail(&self, bucket: &str, region: &str) -> WorkflowExecutionDetail {
        let loaded = self.details.as_deref();
        let loaded_tasks = loaded.and_then(|details| details.tasks.as_ref());
        let loaded_topology = loaded.and_then(|details| details.topology.as_ref());
        let nodes = match (loaded_tasks, loaded_topology) {
            (Some(tasks), _) => tasks
                .iter()
                .map(|task| Node {
                    kind: task.task_type.clone(),
                    name: task.name.clone(),
                })
                .collect(),
            (None, Some(topology)) => nodes_of(topology),
            (None, None) => default_nodes(&self.workflow_id),
        };
        WorkflowExecutionDetail {
            workflow_id: self.workflow_id.clone(),
            workflow_name: Some(
                loaded
                    .and_then(|details| details.workflow_name.clone())
                    .unwrap_or_else(|| workflow_name(&self.workflow_id)),
            ),
            run_id: self.run_id.clone(),
            create_time: Some(self.create_time.clone()),
            object: self.object.clone(),
            state: self.state.clone(),
            topology: Some(
                loaded_topology
                    .cloned()
                    .unwrap_or_else(|| topology(&self.workflow_id, &nodes, bucket, region)),
            ),
            tasks: loaded_tasks
                .cloned()
                .unwrap_or_else(|| self.derived_tasks(&nodes)),
        }
    }

    fn derived_tasks(&self, nodes: &[Node]) -> Vec<WorkflowTask> {
        let mut random = SplitMix64::new(hash_text(&self.run_id));
        // The node whose task ends the run (unless it succeeded).
        let stop = match nodes.len() {
            0 => return Vec::new(),
            len => (random.next_u64() % len as u64) as usize,
        };
        let (ran, last_state) = match &self.state {
            ExecutionState::Success => (nodes.len(), JobState::Success),
            ExecutionState::Failed => (stop + 1, JobState::Failed),
            ExecutionState::Running => (stop + 1, JobState::Running),
            ExecutionState::Cancel => (stop + 1, JobState::Cancel),
            ExecutionState::Other(_) => return Vec::new(),
        };
        let offset = self.create_time.offset_seconds();
        let at = |seconds: i64| CiTimestamp::from_unix(seconds, offset).ok();
        let mut clock = self.create_time.unix_seconds() + 1 + (random.next_u64() % 2) as i64;
        let mut tasks = Vec::with_capacity(ran);
        for (index, node) in nodes.iter().take(ran).enumerate() {
            let state = if index + 1 == ran {
                last_state.clone()
            } else {
                JobState::Success
            };
            let created = clock;
            let started = created + (random.next_u64() % 2) as i64;
            let ended = match state {
                JobState::Success => Some(started + 3 + (random.next_u64() % 118) as i64),
                JobState::Failed | JobState::Cancel => {
                    Some(started + 1 + (random.next_u64() % 5) as i64)
                }
                _ => None,
            };
            let (code, message) = match state {
                JobState::Success => (Some("Success".to_owned()), Some("success".to_owned())),
                JobState::Failed => {
                    let (code, message) = FAILURES[(random.next_u64() % 3) as usize];
                    (Some(code.to_owned()), Some(message.to_owned()))
                }
                _ => (None, None),
            };
            tasks.push(WorkflowTask {
                task_type: node.kind.clone(),
                job_id: Some(format!(
                    "j{:016x}{:016x}",
                    random.next_u64(),
                    random.next_u64()
                )),
                create_time: at(created),
                name: node.name.clone(),
                state,
                start_time: at(started),
                end_time: ended.and_then(at),
                code,
                message,
            });
            clock = ended.unwrap_or(started) + 1;
        }
        tasks
    }
}

/// One node of a workflow (besides `Start`): its type and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    kind: String,
    name: String,
}

fn workflow_name(workflow_id: &str) -> String {
    format!("workflow-{:08x}", hash_text(workflow_id) >> 32)
}

/// The workflow's own pipeline: a transcode, after a snapshot for about
/// half the workflows. Names are `<Type>_<13 digits>` as in CI's samples.
fn default_nodes(workflow_id: &str) -> Vec<Node> {
    let hash = hash_text(workflow_id);
    let stamp = 1_600_000_000_000 + (hash >> 8) % 100_000_000_000;
    let mut nodes = Vec::with_capacity(2);
    if hash % 2 == 1 {
        nodes.push(Node {
            kind: "Snapshot".to_owned(),
            name: format!("Snapshot_{stamp}"),
        });
    }
    nodes.push(Node {
        kind: "Transcode".to_owned(),
        name: format!("Transcode_{}", stamp + 1),
    });
    nodes
}

/// The nodes of a loaded topology, in `Nodes` order, without `Start` and
/// `End`; the type is the node's `Type`, else its name up to `_`.
fn nodes_of(topology: &XmlTree) -> Vec<Node> {
    let Some(nodes) = topology.child("Nodes") else {
        return Vec::new();
    };
    nodes
        .children()
        .iter()
        .filter(|node| node.name != "Start" && node.name != "End")
        .map(|node| Node {
            kind: node
                .content
                .child("Type")
                .and_then(XmlTree::text)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    node.name
                        .split_once('_')
                        .map_or(node.name.as_str(), |(kind, _)| kind)
                        .to_owned()
                }),
            name: node.name.clone(),
        })
        .collect()
}

fn element(name: &str, content: XmlTree) -> XmlNode {
    XmlNode {
        name: name.to_owned(),
        content,
    }
}

fn text(name: &str, value: impl Into<String>) -> XmlNode {
    element(name, XmlTree::Text(value.into()))
}

pub(crate) fn hex_id(prefix: char, seed: &str) -> String {
    let mut random = SplitMix64::new(hash_text(seed));
    format!(
        "{prefix}{:016x}{:016x}",
        random.next_u64(),
        random.next_u64()
    )
}

/// `Start -> nodes… -> End`, with each node's operation writing back to
/// the bucket.
fn topology(workflow_id: &str, nodes: &[Node], bucket: &str, region: &str) -> XmlTree {
    let names: Vec<&str> = std::iter::once("Start")
        .chain(nodes.iter().map(|node| node.name.as_str()))
        .collect();
    let dependencies = names
        .iter()
        .enumerate()
        .map(|(index, name)| text(name, names.get(index + 1).copied().unwrap_or("End")))
        .collect();
    let start = element(
        "Start",
        XmlTree::Elements(vec![
            text("Type", "Start"),
            element(
                "Input",
                XmlTree::Elements(vec![text(
                    "QueueId",
                    hex_id('p', &format!("{bucket}/{region}")),
                )]),
            ),
        ]),
    );
    let operations = nodes.iter().map(|node| {
        let object = match node.kind.as_str() {
            "Snapshot" => "${InputPath}/${InputName}_snapshot_${Number}.jpg".to_owned(),
            kind => format!(
                "${{InputPath}}/${{InputName}}_{}.${{Ext}}",
                kind.to_ascii_lowercase()
            ),
        };
        element(
            &node.name,
            XmlTree::Elements(vec![
                text("Type", node.kind.as_str()),
                element(
                    "Operation",
                    XmlTree::Elements(vec![
                        text(
                            "TemplateId",
                            hex_id('t', &format!("{workflow_id}/{}", node.name)),
                        ),
                        element(
                            "Output",
                            XmlTree::Elements(vec![
                                text("Region", region),
                                text("Bucket", bucket),
                                text("Object", object),
                            ]),
                        ),
                    ]),
                ),
            ]),
        )
    });
    XmlTree::Elements(vec![
        element("Dependencies", XmlTree::Elements(dependencies)),
        element(
            "Nodes",
            XmlTree::Elements(std::iter::once(start).chain(operations).collect()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Dataset, ExecutionDetails};

    fn tasks_of(record: &ExecutionRecord) -> Vec<WorkflowTask> {
        record.to_detail("b-1250000000", "ap-beijing").tasks
    }

    #[test]
    fn derived_details_agree_with_the_record() {
        for record in Dataset::generate(400, 5).records() {
            let detail = record.to_detail("b-1250000000", "ap-beijing");
            assert_eq!(detail.run_id, record.run_id);
            assert_eq!(detail.workflow_id, record.workflow_id);
            assert_eq!(detail.object, record.object);
            assert_eq!(detail.state, record.state);
            assert_eq!(
                detail.create_time.as_ref().map(CiTimestamp::as_str),
                Some(record.create_time.as_str())
            );
            assert_eq!(detail, record.to_detail("b-1250000000", "ap-beijing"));

            let tasks = &detail.tasks;
            assert!(!tasks.is_empty());
            let created = record.create_time.unix_seconds();
            let mut previous = created;
            for task in tasks {
                let start = task.start_time.as_ref().map(CiTimestamp::unix_seconds);
                let task_created = task.create_time.as_ref().map(CiTimestamp::unix_seconds);
                assert!(task_created.is_some_and(|t| t > previous && t < created + 3600));
                assert!(start >= task_created);
                if let Some(end) = &task.end_time {
                    assert!(Some(end.unix_seconds()) >= start);
                    previous = end.unix_seconds();
                } else {
                    previous = start.unwrap_or(previous);
                }
                assert!(
                    task.create_time
                        .as_ref()
                        .is_some_and(|t| t.as_str().ends_with("+08:00"))
                );
                assert!(task.job_id.as_ref().is_some_and(|id| id.len() == 33));
            }
            let (last, before) = tasks.split_last().unwrap();
            assert!(before.iter().all(|task| task.state == JobState::Success));
            let expected = match record.state {
                ExecutionState::Success => JobState::Success,
                ExecutionState::Failed => JobState::Failed,
                ExecutionState::Running => JobState::Running,
                ExecutionState::Cancel => JobState::Cancel,
                ExecutionState::Other(_) => unreachable!("generated states are known"),
            };
            assert_eq!(last.state, expected);
            match last.state {
                JobState::Failed => {
                    assert!(FAILURES.iter().any(|(code, message)| {
                        last.code.as_deref() == Some(code)
                            && last.message.as_deref() == Some(message)
                    }));
                    assert!(last.end_time.is_some());
                }
                JobState::Running => assert!(last.end_time.is_none() && last.code.is_none()),
                JobState::Success => assert_eq!(last.code.as_deref(), Some("Success")),
                _ => {}
            }

            // The topology chains exactly the nodes the tasks ran.
            let topology = detail.topology.unwrap();
            let dependencies = topology.child("Dependencies").unwrap();
            let mut at = "Start";
            let mut chain = Vec::new();
            while let Some(next) = dependencies.child(at).and_then(XmlTree::text) {
                if next == "End" {
                    break;
                }
                chain.push(next.to_owned());
                at = next;
            }
            let names: Vec<String> = tasks.iter().map(|task| task.name.clone()).collect();
            assert!(chain.starts_with(&names), "{chain:?} {names:?}");
            if record.state == ExecutionState::Success {
                assert_eq!(chain, names);
            }
        }
    }

    #[test]
    fn a_failed_run_stops_at_its_failed_task_and_other_states_have_none() {
        let mut record = Dataset::generate(1, 9).into_records().remove(0);
        record.state = ExecutionState::Failed;
        let tasks = tasks_of(&record);
        assert_eq!(
            tasks
                .iter()
                .filter(|task| task.state == JobState::Failed)
                .count(),
            1
        );
        record.state = ExecutionState::Other("Pausing".into());
        assert!(tasks_of(&record).is_empty());
    }

    #[test]
    fn loaded_fields_win_and_the_rest_follows_them() {
        let mut record = Dataset::generate(1, 9).into_records().remove(0);
        record.state = ExecutionState::Success;
        let loaded: XmlTree = serde_json::from_str(
            r#"{"Dependencies":{"Start":"Audio_1","Audio_1":"End"},"Nodes":{"Start":{"Type":"Start"},"Audio_1":{"Type":"SpeechRecognition"}}}"#,
        )
        .unwrap();
        record.details = Some(Box::new(ExecutionDetails {
            workflow_name: Some("my-flow".into()),
            tasks: None,
            topology: Some(loaded.clone()),
        }));
        let detail = record.to_detail("b-1250000000", "ap-beijing");
        assert_eq!(detail.workflow_name.as_deref(), Some("my-flow"));
        assert_eq!(detail.topology.as_ref(), Some(&loaded));
        let tasks: Vec<(&str, &str)> = detail
            .tasks
            .iter()
            .map(|task| (task.task_type.as_str(), task.name.as_str()))
            .collect();
        assert_eq!(tasks, [("SpeechRecognition", "Audio_1")]);

        // Tasks without a topology: the topology chains the tasks.
        let task = detail.tasks[0].clone();
        record.details = Some(Box::new(ExecutionDetails {
            tasks: Some(vec![task.clone()]),
            ..ExecutionDetails::default()
        }));
        let detail = record.to_detail("b-1250000000", "ap-beijing");
        assert_eq!(detail.tasks, [task]);
        let topology = detail.topology.unwrap();
        let dependencies = topology.child("Dependencies").unwrap();
        assert_eq!(
            dependencies.child("Start").and_then(XmlTree::text),
            Some("Audio_1")
        );
        assert_eq!(
            dependencies.child("Audio_1").and_then(XmlTree::text),
            Some("End")
        );
    }
}
