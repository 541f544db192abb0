//! A workflow's `Topology` as people read it: the order of its nodes and
//! the graph drawn as text.
//!
//! `Dependencies` has one child per node, named after it, whose text lists
//! its successors comma-separated (or `End`); `Nodes` has one child per
//! node with its `Type` and parameters. Nothing here trusts the graph to
//! be well formed: cycles, dangling names and unreachable nodes all end.

use std::collections::{HashMap, HashSet, VecDeque};

use cos_ci_proto::{WorkflowExecutionDetail, WorkflowTask, XmlTree, successor_names};

/// The end of every path (not a node of `Nodes`) and its start.
pub use cos_ci_proto::{TOPOLOGY_END as END, TOPOLOGY_START as START};
/// Most paths drawn; a graph with more is summarised.
pub const MAX_PATHS: usize = 32;

/// The successors of `node` in `Dependencies` (`End` included), in order.
pub fn successors<'t>(dependencies: &'t XmlTree, node: &str) -> Vec<&'t str> {
    dependencies
        .child(node)
        .and_then(XmlTree::text)
        .map(|text| successor_names(text).collect())
        .unwrap_or_default()
}

/// Node names in breadth-first order from `Start` (`End` left out); empty
/// without a `Dependencies` element. Each node is visited once, so a
/// cycle ends.
pub fn walk(topology: Option<&XmlTree>) -> Vec<&str> {
    let Some(dependencies) = topology.and_then(|topology| topology.child("Dependencies")) else {
        return Vec::new();
    };
    let mut order = Vec::new();
    let mut seen = HashSet::from([START]);
    let mut queue = VecDeque::from([START]);
    while let Some(node) = queue.pop_front() {
        order.push(node);
        for next in successors(dependencies, node) {
            if next != END && seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    order
}

/// `items` in [`walk`] order of their node `name`, then those whose node
/// is not reached in their own order (items with the same name keep
/// theirs).
pub fn in_walk_order<'t, T>(
    topology: Option<&XmlTree>,
    items: &'t [T],
    name: impl Fn(&T) -> &str,
) -> Vec<&'t T> {
    let rank: HashMap<&str, usize> = walk(topology)
        .into_iter()
        .enumerate()
        .map(|(index, name)| (name, index))
        .collect();
    let mut ordered: Vec<&T> = items.iter().collect();
    // Stable: ties (unknown names, repeats) keep the items' own order.
    ordered.sort_by_key(|item| rank.get(name(item)).copied().unwrap_or(usize::MAX));
    ordered
}

/// An execution's tasks in topology order ([`in_walk_order`]).
pub fn tasks_in_order(execution: &WorkflowExecutionDetail) -> Vec<&WorkflowTask> {
    in_walk_order(execution.topology.as_ref(), &execution.tasks, |task| {
        &task.name
    })
}

/// Every path from `Start`, each ending at `End`, at a node with no
/// successors, or where it would repeat a node (marked `(cycle: X)`);
/// at most [`MAX_PATHS`], with how many more there were.
pub fn paths(topology: &XmlTree) -> (Vec<Vec<String>>, usize) {
    let Some(dependencies) = topology.child("Dependencies") else {
        return (Vec::new(), 0);
    };
    let mut paths = Vec::new();
    let mut more = 0;
    let mut path = vec![START.to_owned()];
    extend(dependencies, &mut path, &mut paths, &mut more);
    (paths, more)
}

fn extend(
    dependencies: &XmlTree,
    path: &mut Vec<String>,
    paths: &mut Vec<Vec<String>>,
    more: &mut usize,
) {
    let node = path.last().cloned().unwrap_or_default();
    let next = if node == END {
        Vec::new()
    } else {
        successors(dependencies, &node)
    };
    if next.is_empty() {
        if paths.len() < MAX_PATHS {
            paths.push(path.clone());
        } else {
            *more += 1;
        }
        return;
    }
    for successor in next {
        if path.iter().any(|seen| seen == successor) {
            let mut cycle = path.clone();
            cycle.push(format!("(cycle: {successor})"));
            if paths.len() < MAX_PATHS {
                paths.push(cycle);
            } else {
                *more += 1;
            }
            continue;
        }
        path.push(successor.to_owned());
        extend(dependencies, path, paths, more);
        path.pop();
    }
}

/// The graph as lines: one path per line (`Start -> Transcode_1 -> End`);
/// a graph with branches has one line per route through it.
pub fn draw(topology: &XmlTree) -> Vec<String> {
    let (paths, more) = paths(topology);
    let mut lines: Vec<String> = paths.iter().map(|path| path.join(" -> ")).collect();
    if more > 0 {
        lines.push(format!("… and {more} more paths"));
    }
    lines
}

/// One node of `Nodes`: its name, `Type`, template, and a short detail
/// (where a `Start` node takes objects from, where others write).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeSummary {
    /// The node's name.
    pub name: String,
    /// `Type`.
    pub node_type: String,
    /// `Operation.TemplateId`, if any.
    pub template_id: Option<String>,
    /// `Input.ObjectPrefix` and `Input.QueueId` (Start), or
    /// `Operation.Output.Object` (others).
    pub detail: String,
}

/// The nodes of `Nodes`, in document order.
pub fn nodes(topology: &XmlTree) -> Vec<NodeSummary> {
    let Some(nodes) = topology.child("Nodes") else {
        return Vec::new();
    };
    let text = |tree: Option<&XmlTree>| tree.and_then(XmlTree::text).map(str::to_owned);
    nodes
        .children()
        .iter()
        .map(|node| {
            let content = &node.content;
            let operation = content.child("Operation");
            let input = content.child("Input");
            let mut detail = Vec::new();
            if let Some(prefix) = text(input.and_then(|input| input.child("ObjectPrefix"))) {
                detail.push(format!("prefix {prefix}"));
            }
            if let Some(queue) = text(input.and_then(|input| input.child("QueueId"))) {
                detail.push(format!("queue {queue}"));
            }
            if let Some(output) = text(
                operation
                    .and_then(|operation| operation.child("Output"))
                    .and_then(|output| output.child("Object")),
            ) {
                detail.push(format!("output {output}"));
            }
            NodeSummary {
                name: node.name.clone(),
                node_type: text(content.child("Type")).unwrap_or_default(),
                template_id: text(operation.and_then(|operation| operation.child("TemplateId"))),
                detail: detail.join(", "),
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cos_ci_proto::XmlNode;

    pub(crate) fn dependencies(edges: &[(&str, &str)]) -> XmlTree {
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

    fn order<'t>(topology: Option<&XmlTree>, names: &[&'t str]) -> Vec<&'t str> {
        in_walk_order(topology, names, |name| name)
            .into_iter()
            .copied()
            .collect()
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
        let names = ["Other_2", "D", "C", "E", "B", "A", "Other_1", "Start"];
        assert_eq!(
            order(Some(&topology), &names),
            ["Start", "A", "B", "C", "D", "Other_2", "E", "Other_1"]
        );
        assert_eq!(
            order(None, &names),
            names,
            "no topology: the items' own order"
        );
    }

    #[test]
    fn cycles_end() {
        let topology = dependencies(&[("Start", "A"), ("A", "B"), ("B", "A,Start")]);
        let execution = WorkflowExecutionDetail {
            topology: Some(topology),
            tasks: ["B", "A"]
                .map(|name| WorkflowTask {
                    name: name.to_owned(),
                    ..WorkflowTask::default()
                })
                .to_vec(),
            ..WorkflowExecutionDetail::default()
        };
        let names: Vec<&str> = tasks_in_order(&execution)
            .into_iter()
            .map(|task| task.name.as_str())
            .collect();
        assert_eq!(names, ["A", "B"]);
    }

    #[test]
    fn a_chain_is_one_line() {
        let topology = dependencies(&[("Start", "Transcode_1"), ("Transcode_1", "End")]);
        assert_eq!(draw(&topology), ["Start -> Transcode_1 -> End"]);
    }

    #[test]
    fn branches_are_one_line_per_route_and_cycles_end() {
        let topology = dependencies(&[
            ("Start", "Snapshot_1,Transcode_1"),
            ("Snapshot_1", "End"),
            ("Transcode_1", "Animation_1, End"),
            ("Animation_1", "Transcode_1"),
        ]);
        assert_eq!(
            draw(&topology),
            [
                "Start -> Snapshot_1 -> End",
                "Start -> Transcode_1 -> Animation_1 -> (cycle: Transcode_1)",
                "Start -> Transcode_1 -> End",
            ]
        );
        // A dangling successor ends its path.
        let dangling = dependencies(&[("Start", "Ghost")]);
        assert_eq!(draw(&dangling), ["Start -> Ghost"]);
        assert!(draw(&XmlTree::default()).is_empty());
    }

    #[test]
    fn a_graph_with_too_many_routes_is_cut() {
        // Six diamonds in a row: 2^6 = 64 routes.
        let mut edges: Vec<(String, String)> = Vec::new();
        let mut from = "Start".to_owned();
        for level in 0..6 {
            let join = format!("J{level}");
            edges.push((from.clone(), format!("A{level},B{level}")));
            edges.push((format!("A{level}"), join.clone()));
            edges.push((format!("B{level}"), join.clone()));
            from = join;
        }
        edges.push((from, "End".to_owned()));
        let edges: Vec<(&str, &str)> = edges
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let lines = draw(&dependencies(&edges));
        assert_eq!(lines.len(), MAX_PATHS + 1);
        assert_eq!(lines.last().unwrap(), "… and 32 more paths");
    }
}
