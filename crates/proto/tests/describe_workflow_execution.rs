//! `GET /workflowexecution/<RunId>`: the request path both ways, the
//! documented sample and its older form, the generic topology tree, and
//! round trips.

use cos_ci_proto::{
    CiAction, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, ExecutionState, JobState,
    QueryError, ResponseError, WorkflowExecutionDetail, WorkflowTask, XmlDocument, XmlNode,
    XmlTree,
};
use cos_ci_testkit::fixture;
use http::{HeaderMap, StatusCode};
use proptest::prelude::*;

fn parse(body: &str) -> Result<DescribeWorkflowExecutionOutput, ResponseError> {
    DescribeWorkflowExecution::parse_response(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
}

#[test]
fn the_run_id_is_one_path_segment_both_ways() {
    let request = DescribeWorkflowExecution {
        run_id: "i166ee19017b011eda8a5525400c540df".to_owned(),
    };
    assert_eq!(
        request.path(),
        "/workflowexecution/i166ee19017b011eda8a5525400c540df"
    );
    assert!(request.query_pairs().is_empty());
    assert_eq!(DescribeWorkflowExecution::METHOD, http::Method::GET);
    let odd = DescribeWorkflowExecution {
        run_id: "i1 文=".to_owned(),
    };
    let back = DescribeWorkflowExecution::from_request(
        "/workflowexecution/i1%20%E6%96%87%3D",
        &[] as &[(&str, &str)],
        b"",
    );
    assert_eq!(back, Ok(odd));
    for bad in ["", "a/b", "..", "."] {
        let request = DescribeWorkflowExecution {
            run_id: bad.to_owned(),
        };
        let error = request.validate().expect_err(bad);
        assert_eq!(error.parameter, "RunId", "{bad}");
    }
    let none: &[(&str, &str)] = &[];
    assert_eq!(
        DescribeWorkflowExecution::from_request("/workflowexecution", none, b""),
        Err(QueryError::PathMismatch)
    );
    assert_eq!(
        DescribeWorkflowExecution::from_request("/workflowexecution/a/b", none, b""),
        Err(QueryError::PathMismatch)
    );
    assert!(matches!(
        DescribeWorkflowExecution::from_request("/workflowexecution/a", &[("size", "1")], b""),
        Err(QueryError::UnknownParameter(_))
    ));
}

#[test]
fn documented_sample_parsed() {
    let output = parse(&fixture("describe_workflow_execution.xml")).unwrap();
    let execution = &output.execution;
    assert_eq!(execution.workflow_name.as_deref(), Some("workflow-1"));
    assert_eq!(execution.state, ExecutionState::Failed);
    assert_eq!(execution.tasks.len(), 2);
    let failed = &execution.tasks[1];
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.code.as_deref(), Some("InvalidInput"));
    assert_eq!(execution.tasks[0].message, None, "empty Message is unset");
    let topology = execution.topology.as_ref().unwrap();
    let dependencies = topology.child("Dependencies").unwrap();
    assert_eq!(
        dependencies.child("Start").and_then(XmlTree::text),
        Some("Snapshot_1581665960536,Transcode_1581665960538")
    );
    let nodes: Vec<&str> = topology
        .child("Nodes")
        .unwrap()
        .children()
        .iter()
        .map(|node| node.name.as_str())
        .collect();
    assert_eq!(
        nodes,
        ["Start", "Snapshot_1581665960536", "Transcode_1581665960538"],
        "document order is kept"
    );
    insta::assert_yaml_snapshot!(output);
    insta::assert_json_snapshot!("sample_topology_json", execution.topology);
}

#[test]
fn older_form_is_accepted() {
    let output = parse(&fixture("describe_workflow_execution_old.xml")).unwrap();
    let execution = output.execution;
    assert_eq!(output.request_id, None);
    assert_eq!(execution.workflow_name, None, "empty WorkflowName");
    assert_eq!(execution.state, ExecutionState::Running);
    let task = &execution.tasks[0];
    assert_eq!(task.end_time, None, "`-` is unset");
    assert_eq!(task.job_id, None);
    assert_eq!(task.start_time, None);
}

#[test]
fn broken_details_are_malformed() {
    for (body, reason) in [
        ("<Response></Response>", "missing <WorkflowExecution>"),
        (
            "<Response><WorkflowExecution><State>Success</State></WorkflowExecution></Response>",
            "<WorkflowExecution>: missing <RunId>",
        ),
        (
            "<Response><WorkflowExecution><RunId>r</RunId><Tasks><StartTime>soon</StartTime></Tasks></WorkflowExecution></Response>",
            "<WorkflowExecution>: <Tasks> #1: <StartTime>: invalid timestamp",
        ),
        (
            "<Response><WorkflowExecution><RunId>r</RunId></WorkflowExecution><WorkflowExecution><RunId>s</RunId></WorkflowExecution></Response>",
            "<WorkflowExecution> appears more than once",
        ),
        (
            "<Response><WorkflowExecution><RunId>r</RunId><Topology><A><B></A></Topology></WorkflowExecution></Response>",
            "XML error",
        ),
    ] {
        match parse(body) {
            Err(ResponseError::Malformed(error)) => {
                assert!(error.reason.contains(reason), "{body}: {}", error.reason)
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    let deep = format!(
        "<Response><WorkflowExecution><RunId>r</RunId><Topology>{}{}</Topology></WorkflowExecution></Response>",
        "<A>".repeat(100),
        "</A>".repeat(100)
    );
    match parse(&deep) {
        Err(ResponseError::Malformed(error)) => {
            assert!(
                error.reason.contains("nested more than"),
                "{}",
                error.reason
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_error_answer_keeps_its_code() {
    let body = "<Error><Code>NoSuchResource</Code><Message>workflow instance not found</Message>\
                <RequestId>r-1</RequestId></Error>";
    match DescribeWorkflowExecution::parse_response(
        StatusCode::NOT_FOUND,
        &HeaderMap::new(),
        body.as_bytes(),
    ) {
        Err(ResponseError::Service(error)) => {
            assert_eq!(error.code.as_deref(), Some("NoSuchResource"));
            assert_eq!(error.request_id.as_deref(), Some("r-1"));
        }
        other => panic!("{other:?}"),
    }
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,10}"
}

fn tree() -> impl Strategy<Value = XmlTree> {
    let leaf = "[a-z0-9 ,&<>中]{0,8}".prop_map(XmlTree::Text);
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop::collection::vec((name(), inner), 1..5).prop_map(|children| {
            XmlTree::Elements(
                children
                    .into_iter()
                    .map(|(name, content)| XmlNode { name, content })
                    .collect(),
            )
        })
    })
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 /._\\-中文&<>]{1,12}"
}

fn task() -> impl Strategy<Value = WorkflowTask> {
    (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::sample::select(vec!["Success", "Failed", "Running", "Submitted", "Skipped"]),
        prop::option::of(Just("2022-08-09T14:54:40+08:00")),
    )
        .prop_map(|(task_type, job_id, message, state, time)| WorkflowTask {
            task_type,
            job_id,
            create_time: time.map(|t| t.parse().unwrap()),
            name: "Transcode_1".to_owned(),
            state: JobState::from(state),
            start_time: time.map(|t| t.parse().unwrap()),
            end_time: None,
            code: message.as_ref().map(|_| "InvalidInput".to_owned()),
            message,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn details_round_trip_through_xml(
        run_id in "[a-z0-9]{1,32}",
        object in text(),
        workflow_name in prop::option::of(text()),
        topology in prop::option::of(tree().prop_filter("elements", |t| !t.children().is_empty())),
        tasks in prop::collection::vec(task(), 0..4),
    ) {
        let output = DescribeWorkflowExecutionOutput {
            request_id: Some("req".to_owned()),
            execution: WorkflowExecutionDetail {
                workflow_id: "w1".to_owned(),
                workflow_name,
                run_id,
                create_time: Some("2022-08-09T14:54:17+08:00".parse().unwrap()),
                object,
                state: ExecutionState::Running,
                topology,
                tasks,
            },
        };
        let xml = output.to_xml();
        prop_assert_eq!(DescribeWorkflowExecutionOutput::from_xml(xml.as_bytes()), Ok(output.clone()), "{}", xml);
    }

    #[test]
    fn trees_round_trip_through_json(tree in tree()) {
        let json = serde_json::to_string(&tree).unwrap();
        let back: XmlTree = serde_json::from_str(&json).unwrap();
        // JSON groups repeated names at their first position; compare by
        // writing both back to XML in that grouped order.
        let again = serde_json::to_string(&back).unwrap();
        prop_assert_eq!(json, again);
    }
}
