//! The route table and `GET /workflowexecution/<RunId>` over real HTTP on
//! 127.0.0.1: details agree with the listing, NDJSON detail fields are
//! served as loaded, unknown run ids and wrong methods get CI's errors.

mod common;

use std::net::SocketAddr;

use common::*;
use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig, routes};
use cos_ci_proto::{
    ActivateWorkflow, CancelJob, CiAction, CreateJobs, CreateWorkflow, DeleteWorkflow,
    DescribeJobs, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, ExecutionState,
    JobState, ListJobs, ListQueues, ListWorkflowExecutions, ListWorkflowExecutionsOutput,
    ListWorkflows, PauseWorkflow, TriggerWorkflow, UpdateWorkflow, XmlDocument, XmlTree,
};

async fn start(dataset: Dataset) -> Emulator {
    start_quiet(EmulatorConfig {
        dataset,
        ..EmulatorConfig::default()
    })
    .await
}

async fn describe(addr: SocketAddr, run_id: &str) -> (Reply, DescribeWorkflowExecutionOutput) {
    let reply = signed(addr, "GET", &format!("/workflowexecution/{run_id}"), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    let output = DescribeWorkflowExecutionOutput::from_xml(reply.body.as_bytes())
        .unwrap_or_else(|error| panic!("{error:?}: {}", reply.body));
    assert_eq!(
        output.request_id.as_deref(),
        reply.header("x-ci-request-id")
    );
    (reply, output)
}

#[test]
fn the_route_table_lists_every_action() {
    let table: Vec<(http::Method, &str, Option<&str>, &str)> = routes()
        .iter()
        .map(|route| {
            (
                route.method().clone(),
                route.path(),
                route.subresource(),
                route.action(),
            )
        })
        .collect();
    fn row<A: CiAction>() -> (
        http::Method,
        &'static str,
        Option<&'static str>,
        &'static str,
    ) {
        (A::METHOD, A::PATH, A::SUBRESOURCE, A::NAME)
    }
    assert_eq!(
        table,
        [
            row::<ListWorkflowExecutions>(),
            row::<DescribeWorkflowExecution>(),
            row::<ListWorkflows>(),
            row::<CreateWorkflow>(),
            row::<UpdateWorkflow>(),
            row::<ActivateWorkflow>(),
            row::<PauseWorkflow>(),
            row::<DeleteWorkflow>(),
            row::<TriggerWorkflow>(),
            row::<ListJobs>(),
            row::<DescribeJobs>(),
            row::<CreateJobs>(),
            row::<CancelJob>(),
            row::<ListQueues>(),
        ]
    );
    // What a client sees: method, path (and sub-resource), action and the
    // permission it needs, in the table's order.
    let listing: String = routes()
        .iter()
        .map(|route| {
            let subresource = route.subresource().map(|sub| format!("?{sub}"));
            format!(
                "{} {}{} {} {}\n",
                route.method(),
                route.path(),
                subresource.unwrap_or_default(),
                route.action(),
                route.permission()
            )
        })
        .collect();
    insta::assert_snapshot!(listing, @r"
    GET /workflowexecution ListWorkflowExecutions ci:DescribeMediaWorkflowExecutions
    GET /workflowexecution/{RunId} DescribeWorkflowExecution ci:DescribeMediaWorkflowExecutions
    GET /workflow DescribeMediaWorkflows ci:DescribeMediaWorkflows
    POST /workflow CreateMediaWorkflow ci:CreateMediaWorkflow
    PUT /workflow/{WorkflowId} UpdateMediaWorkflow ci:UpdateMediaWorkflow
    PUT /workflow/{WorkflowId}?active ActivateMediaWorkflow ci:UpdateMediaWorkflow
    PUT /workflow/{WorkflowId}?paused PauseMediaWorkflow ci:UpdateMediaWorkflow
    DELETE /workflow/{WorkflowId} DeleteMediaWorkflow ci:DeleteMediaWorkflow
    POST /triggerworkflow TriggerMediaWorkflow ci:TriggerMediaWorkflow
    GET /jobs DescribeMediaJobs ci:DescribeMediaJobs
    GET /jobs/{JobIds} DescribeMediaJob ci:DescribeMediaJob
    POST /jobs CreateMediaJobs ci:CreateMediaJobs
    PUT /jobs/{JobId}?cancel CancelMediaJob ci:CancelMediaJob
    GET /queue DescribeMediaQueues ci:DescribeMediaQueues
    ");
    let [list, details, ..] = routes() else {
        panic!("at least two routes")
    };
    assert_eq!(details.permission(), "ci:DescribeMediaWorkflowExecutions");
    assert!(list.matches_path("/workflowexecution"));
    assert!(list.matches_path("/workflow%65xecution"));
    assert!(!list.matches_path("/workflowexecution/i1"));
    assert!(details.matches_path("/workflowexecution/i1"));
    assert!(details.matches_path("/workflowexecution/a%20b%2Fc"));
    assert!(!details.matches_path("/workflowexecution/"));
    assert!(!details.matches_path("/workflowexecution/i1/tasks"));
    assert!(!details.matches_path("/workflowexecution/%zz"));
}

#[test]
fn actions_sharing_a_method_and_path_are_told_apart_by_sub_resource() {
    let on = |method: &str, path: &str, names: &[&str]| -> Vec<&'static str> {
        routes()
            .iter()
            .filter(|route| {
                route.method().as_str() == method
                    && route.matches_path(path)
                    && route.matches_query(names.iter().copied())
            })
            .map(|route| route.action())
            .collect()
    };
    let path = "/workflow/w1";
    assert_eq!(on("PUT", path, &[]), [UpdateWorkflow::NAME]);
    assert_eq!(on("PUT", path, &["active"]), [ActivateWorkflow::NAME]);
    assert_eq!(on("PUT", path, &["paused"]), [PauseWorkflow::NAME]);
    assert_eq!(on("DELETE", path, &[]), [DeleteWorkflow::NAME]);
    assert_eq!(on("PUT", "/jobs/j1", &["cancel"]), [CancelJob::NAME]);
    assert!(on("PUT", "/jobs/j1", &[]).is_empty());
    assert_eq!(on("GET", "/jobs/j1,j2", &[]), [DescribeJobs::NAME]);
    assert_eq!(on("POST", "/jobs", &[]), [CreateJobs::NAME]);
}

#[tokio::test]
async fn details_agree_with_the_listing() {
    let emulator = start(Dataset::generate(300, 42)).await;
    let addr = emulator.local_addr();
    let reply = signed(addr, "GET", "/workflowexecution", &[("size", "100")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let page = ListWorkflowExecutionsOutput::from_xml(reply.body.as_bytes()).unwrap();
    assert_eq!(page.executions.len(), 100);
    let mut states_seen = Vec::new();
    for listed in &page.executions {
        let (reply, output) = describe(addr, &listed.run_id).await;
        let detail = output.execution;
        assert_eq!(detail.run_id, listed.run_id);
        assert_eq!(detail.workflow_id, listed.workflow_id);
        assert_eq!(detail.object, listed.object);
        assert_eq!(detail.state, listed.state);
        // The very text the listing served.
        assert_eq!(
            reply.element("CreateTime"),
            listed
                .create_time
                .as_ref()
                .map(|time| time.as_str().to_owned())
        );
        assert!(detail.workflow_name.is_some());
        assert!(detail.topology.is_some());
        let last = detail.tasks.last().expect("every known state has tasks");
        let expected = match &listed.state {
            ExecutionState::Success => JobState::Success,
            ExecutionState::Failed => JobState::Failed,
            ExecutionState::Running => JobState::Running,
            ExecutionState::Cancel => JobState::Cancel,
            other => panic!("generated state {other:?}"),
        };
        assert_eq!(last.state, expected, "{}", reply.body);
        if expected == JobState::Failed {
            assert!(last.code.is_some() && last.message.is_some());
        }
        let created = listed.create_time.as_ref().unwrap().unix_seconds();
        for task in &detail.tasks {
            let task_created = task.create_time.as_ref().unwrap().unix_seconds();
            assert!(task_created > created && task_created < created + 3600);
        }
        if !states_seen.contains(&listed.state) {
            states_seen.push(listed.state.clone());
        }
        // The same answer every time.
        let (_, again) = describe(addr, &listed.run_id).await;
        assert_eq!(again.execution, detail);
    }
    assert_eq!(states_seen.len(), 4, "{states_seen:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_run_id_and_bad_paths_get_ci_errors() {
    let emulator = start(Dataset::generate(5, 1)).await;
    let addr = emulator.local_addr();

    let reply = signed(
        addr,
        "GET",
        "/workflowexecution/i00000000000000000000000000000000",
        &[],
    )
    .await;
    assert_error(&reply, 400, "ResourceNotFound");
    assert!(reply.header("x-ci-trace-id").is_some());
    assert_eq!(
        reply.element("RequestId").as_deref(),
        reply.header("x-ci-request-id")
    );
    reply.assert_message_mentions("i00000000000000000000000000000000");

    // A run id that is no path segment: the parameter is named.
    let reply = signed(addr, "GET", "/workflowexecution/..", &[]).await;
    assert_error(&reply, 400, "InvalidArgument");
    assert!(reply.body.contains("RunId"), "{}", reply.body);

    // The details route takes no parameters.
    let known = Dataset::generate(5, 1).records()[0].run_id.clone();
    let reply = signed(
        addr,
        "GET",
        &format!("/workflowexecution/{known}"),
        &[("size", "10")],
    )
    .await;
    assert_error(&reply, 400, "InvalidArgument");

    // No id, or a path below an execution: no API there (before auth).
    for path in ["/workflowexecution/", "/workflowexecution/i1/tasks"] {
        let reply = send(
            addr,
            &request_text("GET", path, &[("Host", &addr.to_string())]),
        )
        .await;
        assert_error_for(path, &reply, 404, "InvalidUrl");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_known_path_with_another_method_is_method_not_allowed() {
    let dataset = Dataset::generate(5, 1);
    let run_id = dataset.records()[0].run_id.clone();
    let emulator = start(dataset).await;
    let addr = emulator.local_addr();
    for (method, path) in [
        ("DELETE", format!("/workflowexecution/{run_id}")),
        ("PUT", format!("/workflowexecution/{run_id}")),
        ("POST", "/workflowexecution".to_owned()),
    ] {
        // Signed or not: the method is checked before the signature.
        let reply = signed(addr, method, &path, &[]).await;
        assert_error_for(format!("{method} {path}"), &reply, 405, "MethodNotAllowed");
        reply.assert_message_mentions("GET");
        let unsigned = send(
            addr,
            &request_text(
                method,
                &path,
                &[("Host", &addr.to_string()), ("Content-Length", "0")],
            ),
        )
        .await;
        assert_eq!(unsigned.status, 405, "{}", unsigned.body);
    }
    emulator.shutdown().await;
}

/// One execution with every detail field, one with none.
const NDJSON: &str = concat!(
    r#"{"RunId":"run 1+ü","WorkflowId":"w1","Object":"wk-test/game.mp4","CreateTime":"2022-08-09T14:54:17+0800","State":"Failed","#,
    r#""WorkflowName":"workflow-1","Tasks":["#,
    r#"{"Type":"Snapshot","Name":"Snapshot_1581665960536","State":"Success","JobId":"j23c11e1e17b011edaab4ab15ec33d076","CreateTime":"2022-08-09T14:54:40+08:00","StartTime":"2022-08-09T14:54:40+08:00","EndTime":"2022-08-09T14:54:42+08:00","Code":"Success","Message":"ok"},"#,
    r#"{"Type":"Transcode","Name":"Transcode_1581665960537","State":"Failed","JobId":"j2","CreateTime":"2022-08-09 14:54:43+0800","StartTime":"-","EndTime":"","Code":"InvalidInput","Message":"the input file has no video stream"}"#,
    r#"],"Topology":{"Dependencies":{"Start":"Snapshot_1581665960536,Transcode_1581665960537","Snapshot_1581665960536":"End","Transcode_1581665960537":"End"},"#,
    r#""Nodes":{"Start":{"Type":"Start","Input":{"QueueId":"p1","ObjectPrefix":"wk-test/"}},"Snapshot_1581665960536":{"Type":"Snapshot","Operation":{"TemplateId":"t1","Output":{"Region":"ap-chongqing","Bucket":"test-1234567890","Object":"snap/${Number}.jpg"}}},"Transcode_1581665960537":{"Type":"Transcode"}}}}"#,
    "\n",
    r#"{"RunId":"i2","WorkflowId":"w1","Object":"b.mov","CreateTime":"2022-08-09T15:00:00+08:00","State":"Running"}"#,
    "\n",
);

#[tokio::test]
async fn ndjson_detail_fields_are_served_as_loaded() {
    let dataset = Dataset::from_ndjson(NDJSON).unwrap();
    let loaded = dataset.records()[0].details.clone().unwrap();
    // --dump writes them back unchanged.
    let mut dumped = Vec::new();
    dataset.to_ndjson(&mut dumped).unwrap();
    assert_eq!(
        Dataset::from_ndjson(std::str::from_utf8(&dumped).unwrap()).unwrap(),
        dataset
    );

    let emulator = start(dataset).await;
    let addr = emulator.local_addr();
    let (reply, output) = describe(addr, "run 1+ü").await;
    let detail = output.execution;
    assert_eq!(detail.run_id, "run 1+ü");
    assert_eq!(detail.workflow_name.as_deref(), Some("workflow-1"));
    assert_eq!(detail.state, ExecutionState::Failed);
    assert_eq!(detail.topology.as_ref(), loaded.topology.as_ref());
    let tasks = loaded.tasks.as_ref().unwrap();
    assert_eq!(&detail.tasks, tasks);
    // Times keep the text they were loaded with; `-` and empty are unset.
    for text in [
        "<CreateTime>2022-08-09T14:54:17+0800</CreateTime>",
        "<CreateTime>2022-08-09 14:54:43+0800</CreateTime>",
        "<Name>workflow-1</Name>",
        "<Message>the input file has no video stream</Message>",
        "<Object>snap/${Number}.jpg</Object>",
    ] {
        assert!(reply.body.contains(text), "{text} in {}", reply.body);
    }
    assert_eq!(detail.tasks[1].start_time, None);
    assert_eq!(detail.tasks[1].end_time, None);
    let nodes = detail
        .topology
        .as_ref()
        .and_then(|topology| topology.child("Nodes"))
        .map(|nodes| {
            nodes
                .children()
                .iter()
                .map(|node| node.name.as_str())
                .collect::<Vec<_>>()
        });
    assert_eq!(
        nodes.as_deref(),
        Some(&["Start", "Snapshot_1581665960536", "Transcode_1581665960537"][..])
    );

    // The record without details gets derived ones, consistent with it.
    let (_, output) = describe(addr, "i2").await;
    let detail = output.execution;
    assert_eq!(detail.workflow_id, "w1");
    assert_eq!(detail.object, "b.mov");
    assert_eq!(
        detail.create_time.as_ref().map(|time| time.as_str()),
        Some("2022-08-09T15:00:00+08:00")
    );
    assert_eq!(
        detail.tasks.last().map(|task| &task.state),
        Some(&JobState::Running)
    );
    let dependencies = detail
        .topology
        .as_ref()
        .and_then(|topology| topology.child("Dependencies"))
        .unwrap();
    assert!(
        dependencies
            .child("Start")
            .and_then(XmlTree::text)
            .is_some()
    );
    emulator.shutdown().await;
}

#[test]
fn bad_ndjson_detail_fields_name_the_line() {
    let line = |run_id: &str, extra: &str| {
        format!(
            r#"{{"RunId":"{run_id}","WorkflowId":"w","Object":"o","CreateTime":"2022-08-09T14:54:17+08:00","State":"Success"{extra}}}"#
        )
    };
    for (field, needle) in [
        (r#","Tasks":[{"Type":"Transcode","Name":"T_1"}]"#, "State"),
        (
            r#","Tasks":[{"Type":"Transcode","Name":"T_1","State":"Success","EndTime":"later"}]"#,
            "Tasks[0].EndTime",
        ),
        (r#","Topology":[1,2]"#, "line 2"),
    ] {
        let text = format!("{}\n{}\n", line("i1", ""), line("i2", field));
        let error = Dataset::from_ndjson(&text).unwrap_err().to_string();
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(error.contains(needle), "{needle}: {error}");
    }
}
