//! A workflow's `Topology` read as a plan: which nodes run, in which
//! stage, with which operation; the `Start` node's queue and notification
//! settings. Checked when a workflow is created or updated, and read again
//! when it is triggered.
//!
//! `Dependencies` names each node's successors (comma-separated, `End` for
//! none), starting from `Start`. A node runs in the stage after the latest
//! of its predecessors (the longest path from `Start`), so a chain runs one
//! node per stage and siblings run side by side. Nodes `Start` cannot reach
//! do not run. The walk order (which the run's `Tasks` follow) is by stage,
//! then in the order the walk from `Start` first met each node.

use std::collections::HashMap;

use cos_ci_proto::{TOPOLOGY_END, XmlTree, successor_names};

use crate::callbacks::{Format, Target, local_url};

/// One node that runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedNode {
    /// The node name, e.g. `Transcode_1581665960537`.
    pub(crate) name: String,
    /// Its `Type` (the job's `Tag`), e.g. `Transcode`.
    pub(crate) kind: String,
    /// 1 for `Start`'s successors, and so on.
    pub(crate) stage: u32,
    /// Its `Operation`, when it has one.
    pub(crate) operation: Option<XmlTree>,
}

/// Where a workflow reports its runs (`Start`'s `Input.NotifyConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkflowNotify {
    /// `Url` and `ResultFormat`.
    pub(crate) target: Target,
    /// `Event` lists `TaskFinish`: each task's job is reported.
    pub(crate) task_finish: bool,
    /// `Event` lists `WorkflowFinish` (or no `Event`): the run is reported.
    pub(crate) workflow_finish: bool,
}

/// What a trigger runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// In walk order.
    pub(crate) nodes: Vec<PlannedNode>,
    /// `Start`'s `Input.QueueId`.
    pub(crate) queue_id: Option<String>,
    /// `Start`'s `Input.NotifyConfig`, when it has a `Url` to call.
    pub(crate) notify: Option<WorkflowNotify>,
}

/// Read `topology` as a plan; the error says what is wrong with it.
pub(crate) fn plan(topology: &XmlTree) -> Result<Plan, String> {
    let dependencies = topology
        .child("Dependencies")
        .filter(|tree| !tree.children().is_empty())
        .ok_or("needs `Dependencies` naming each node's successors")?;
    let nodes = topology
        .child("Nodes")
        .filter(|tree| !tree.children().is_empty())
        .ok_or("needs `Nodes` describing each node")?;
    let successors = |name: &str| -> Result<Vec<String>, String> {
        let text = dependencies
            .child(name)
            .ok_or_else(|| format!("`Dependencies` has no entry for node `{name}`"))?
            .text()
            .ok_or_else(|| format!("`Dependencies.{name}` must be a comma-separated list"))?;
        Ok(successor_names(text)
            .filter(|next| *next != TOPOLOGY_END)
            .map(str::to_owned)
            .collect())
    };

    // Every node Start reaches, in the order first met (breadth first).
    let mut order: Vec<String> = Vec::new();
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    let mut queue = vec!["Start".to_owned()];
    let mut next = 0;
    while let Some(name) = queue.get(next).cloned() {
        next += 1;
        let after = successors(&name)?;
        for successor in &after {
            if successor == "Start" {
                return Err("`Start` cannot follow another node".to_owned());
            }
            if nodes.child(successor).is_none() {
                return Err(format!("node `{successor}` is not in `Nodes`"));
            }
            if !queue.contains(successor) {
                queue.push(successor.clone());
                order.push(successor.clone());
            }
        }
        edges.insert(name, after);
    }

    // Stages: the longest path from Start (Kahn's order; a cycle leaves
    // nodes unplaced).
    let mut incoming: HashMap<&str, usize> = HashMap::new();
    for after in edges.values() {
        for successor in after {
            *incoming.entry(successor.as_str()).or_default() += 1;
        }
    }
    let mut stage: HashMap<&str, u32> = HashMap::from([("Start", 0)]);
    let mut ready = vec!["Start"];
    let mut placed = 0;
    while let Some(name) = ready.pop() {
        placed += 1;
        let here = stage.get(name).copied().unwrap_or(0);
        for successor in edges.get(name).into_iter().flatten() {
            let entry = stage.entry(successor.as_str()).or_insert(0);
            *entry = (*entry).max(here + 1);
            if let Some(count) = incoming.get_mut(successor.as_str()) {
                *count -= 1;
                if *count == 0 {
                    ready.push(successor);
                }
            }
        }
    }
    if placed != order.len() + 1 {
        return Err("`Dependencies` has a cycle".to_owned());
    }

    let mut planned: Vec<PlannedNode> = order
        .iter()
        .map(|name| {
            let node = nodes.child(name);
            PlannedNode {
                name: name.clone(),
                kind: node
                    .and_then(|node| node.child("Type"))
                    .and_then(XmlTree::text)
                    .filter(|kind| !kind.is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        name.split_once('_')
                            .map_or(name.as_str(), |(kind, _)| kind)
                            .to_owned()
                    }),
                stage: stage.get(name.as_str()).copied().unwrap_or(1),
                operation: node.and_then(|node| node.child("Operation")).cloned(),
            }
        })
        .collect();
    // Stable: nodes of one stage keep the order they were met in.
    planned.sort_by_key(|node| node.stage);

    let input = nodes.child("Start").and_then(|start| start.child("Input"));
    let queue_id = input.and_then(|input| child_text(input, "QueueId"));
    let notify = match input.and_then(|input| input.child("NotifyConfig")) {
        None => None,
        Some(config) => notify_config(config)?,
    };
    Ok(Plan {
        nodes: planned,
        queue_id,
        notify,
    })
}

/// The trimmed text of `tree`'s child `name`, unless it is empty.
pub(crate) fn child_text(tree: &XmlTree, name: &str) -> Option<String> {
    tree.child(name)
        .and_then(XmlTree::text)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// `NotifyConfig` (a workflow's `Start` node's, or a queue's): `None` when
/// there is no `Url` or the type is `TDMQ` (accepted, never delivered); an
/// error for a URL the emulator will not call.
pub(crate) fn notify_config(config: &XmlTree) -> Result<Option<WorkflowNotify>, String> {
    let Some(url) = child_text(config, "Url") else {
        return Ok(None);
    };
    if child_text(config, "Type").is_some_and(|kind| kind.eq_ignore_ascii_case("TDMQ")) {
        return Ok(None);
    }
    let url = local_url(&url).map_err(|reason| format!("`NotifyConfig.Url`: {reason}"))?;
    let format = match child_text(config, "ResultFormat").as_deref() {
        None | Some("XML") => Format::Xml,
        Some("JSON") => Format::Json,
        Some(other) => {
            return Err(format!(
                "`NotifyConfig.ResultFormat` must be XML or JSON, not `{other}`"
            ));
        }
    };
    Ok(Some(WorkflowNotify {
        target: Target { url, format },
        task_finish: lists_event(config, "TaskFinish"),
        workflow_finish: child_text(config, "Event").is_none()
            || lists_event(config, "WorkflowFinish"),
    }))
}

/// Whether `NotifyConfig`'s comma-separated `Event` names `event`.
pub(crate) fn lists_event(config: &XmlTree, event: &str) -> bool {
    child_text(config, "Event")
        .is_some_and(|events| events.split(',').any(|item| item.trim() == event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(json: &str) -> XmlTree {
        serde_json::from_str(json).unwrap()
    }

    fn names(plan: &Plan) -> Vec<(&str, u32)> {
        plan.nodes
            .iter()
            .map(|node| (node.name.as_str(), node.stage))
            .collect()
    }

    #[test]
    fn stages_follow_the_longest_path() {
        let plan = plan(&tree(
            r#"{"Dependencies":{"Start":"Snapshot_1,Transcode_2","Snapshot_1":"Animation_3","Transcode_2":"End","Animation_3":"Transcode_2"},
                "Nodes":{"Start":{"Type":"Start","Input":{"QueueId":"p1"}},"Snapshot_1":{"Type":"Snapshot"},"Transcode_2":{"Type":"Transcode","Operation":{"TemplateId":"t1"}},"Animation_3":{}}}"#,
        ))
        .unwrap();
        assert_eq!(
            names(&plan),
            [("Snapshot_1", 1), ("Animation_3", 2), ("Transcode_2", 3)]
        );
        assert_eq!(plan.nodes[1].kind, "Animation");
        assert!(plan.nodes[2].operation.is_some());
        assert_eq!(plan.queue_id.as_deref(), Some("p1"));
        assert_eq!(plan.notify, None);
    }

    #[test]
    fn siblings_share_a_stage_in_the_order_met() {
        let plan = plan(&tree(
            r#"{"Dependencies":{"Start":"B_1,A_2","B_1":"End","A_2":"End"},"Nodes":{"B_1":{"Type":"Snapshot"},"A_2":{"Type":"Transcode"}}}"#,
        ))
        .unwrap();
        assert_eq!(names(&plan), [("B_1", 1), ("A_2", 1)]);
    }

    #[test]
    fn broken_topologies_are_named() {
        for (json, needle) in [
            (r#"{"Nodes":{"A":{}}}"#, "Dependencies"),
            (r#"{"Dependencies":{"Start":"A"}}"#, "Nodes"),
            (
                r#"{"Dependencies":{"Start":"A","A":"End"},"Nodes":{"B":{}}}"#,
                "`A` is not in `Nodes`",
            ),
            (
                r#"{"Dependencies":{"Start":"A"},"Nodes":{"A":{}}}"#,
                "no entry for node `A`",
            ),
            (
                r#"{"Dependencies":{"Start":"A","A":"B","B":"A"},"Nodes":{"A":{},"B":{}}}"#,
                "cycle",
            ),
            (
                r#"{"Dependencies":{"A":"End"},"Nodes":{"A":{}}}"#,
                "`Start`",
            ),
        ] {
            let error = plan(&tree(json)).unwrap_err();
            assert!(error.contains(needle), "{json}: {error}");
        }
    }

    #[test]
    fn notify_config_is_read_and_only_local_urls_pass() {
        let with = |config: &str| {
            tree(&format!(
                r#"{{"Dependencies":{{"Start":"A_1","A_1":"End"}},"Nodes":{{"Start":{{"Type":"Start","Input":{{"NotifyConfig":{config}}}}},"A_1":{{"Type":"Transcode"}}}}}}"#
            ))
        };
        let notify = plan(&with(
            r#"{"Url":"http://127.0.0.1:9/cb","ResultFormat":"JSON"}"#,
        ))
        .unwrap()
        .notify
        .unwrap();
        assert_eq!(notify.target.format, Format::Json);
        assert!(notify.workflow_finish && !notify.task_finish);
        let notify = plan(&with(
            r#"{"Url":"http://localhost:9/cb","Event":"TaskFinish"}"#,
        ))
        .unwrap()
        .notify
        .unwrap();
        assert!(!notify.workflow_finish && notify.task_finish);
        assert_eq!(
            plan(&with(r#"{"Url":"http://example.com/cb","Type":"TDMQ"}"#))
                .unwrap()
                .notify,
            None
        );
        let error = plan(&with(r#"{"Url":"http://example.com/cb"}"#)).unwrap_err();
        assert!(error.contains("NotifyConfig.Url"), "{error}");
    }
}
