//! Workflows: every action's wire form both ways, bodies, sub-resources,
//! page-number paging and the documented samples.

use cos_ci_proto::{
    ActivateWorkflow, CiAction, CreateWorkflow, Cursor, DeleteWorkflow, EmptyOutput, ListWorkflows,
    PageSize, PaginatedAction, PauseWorkflow, QueryError, TriggerWorkflow, UpdateWorkflow,
    WorkflowRequest, WorkflowState, XmlDocument,
};
use cos_ci_testkit::fixture;
use http::{HeaderMap, HeaderValue, StatusCode};

mod common;

fn no_query() -> &'static [(&'static str, &'static str)] {
    &[]
}

#[test]
fn activate_and_pause_are_bare_sub_resources_signed_with_an_empty_value() {
    let activate = ActivateWorkflow {
        workflow_id: "w1".to_owned(),
    };
    common::assert_sub_resource(&activate, http::Method::PUT, "/workflow/w1", "active");
    assert_eq!(
        ActivateWorkflow::from_request("/workflow/w1", &[("active", "")], b""),
        Ok(activate)
    );
    let pause = PauseWorkflow {
        workflow_id: "w1".to_owned(),
    };
    assert_eq!(pause.wire_query(), "paused");
    // The sub-resource of the other action is not a parameter of this one.
    assert_eq!(
        PauseWorkflow::from_request("/workflow/w1", &[("active", "")], b""),
        Err(QueryError::UnknownParameter("active".to_owned()))
    );
}

#[test]
fn an_empty_200_is_success_with_the_header_request_id() {
    let mut headers = HeaderMap::new();
    headers.insert("x-ci-request-id", HeaderValue::from_static("r-9"));
    let output = PauseWorkflow::parse_response(StatusCode::OK, &headers, b"").unwrap();
    assert_eq!(output.request_id.as_deref(), Some("r-9"));
    let output = PauseWorkflow::parse_response(
        StatusCode::OK,
        &headers,
        b"<Response><RequestId>b</RequestId></Response>",
    )
    .unwrap();
    assert_eq!(
        output,
        EmptyOutput {
            request_id: Some("b".to_owned())
        }
    );
    // Other actions still refuse an empty body.
    assert!(DeleteWorkflow::parse_response(StatusCode::OK, &headers, b"").is_err());
}

#[test]
fn list_sample_with_non_existent_ids() {
    let output = common::parse_ok::<ListWorkflows>(fixture("list_workflows.xml"));
    assert_eq!(output.workflows.len(), 1);
    assert_eq!(output.workflows[0].state, WorkflowState::Active);
    assert_eq!(output.non_exist_ids, ["A", "B"]);
    assert_eq!(output.total_count, Some(1));
    insta::assert_yaml_snapshot!(output);
    let request = ListWorkflows {
        ids: Some(vec!["wc666".to_owned(), "A".to_owned(), "B".to_owned()]),
        ..Default::default()
    };
    assert_eq!(request.wire_query(), "ids=wc666%2CA%2CB");
    assert_eq!(
        request.next_cursor(&output),
        None,
        "a short page is the last"
    );
}

#[test]
fn list_pages_by_number() {
    let request = ListWorkflows {
        page_size: Some(PageSize::new(1).unwrap()),
        ..Default::default()
    };
    let mut page = common::parse_ok::<ListWorkflows>(fixture("list_workflows.xml"));
    page.total_count = Some(3);
    assert_eq!(request.next_cursor(&page), Some(Cursor::Page(2)));
    let mut second = request.clone();
    second.set_cursor(Some(Cursor::Page(3)));
    assert_eq!(second.wire_query(), "pageNumber=3&pageSize=1");
    assert_eq!(second.next_cursor(&page), None, "page 3 of 3");
    let zero = ListWorkflows {
        page_number: Some(0),
        ..Default::default()
    };
    assert_eq!(zero.validate().unwrap_err().parameter, "pageNumber");
}

#[test]
fn create_and_update_send_the_request_document() {
    let request =
        WorkflowRequest::from_xml(fixture("create_workflow_request.xml").as_bytes()).unwrap();
    assert_eq!(request.workflow.name, "workflow-1");
    assert_eq!(request.workflow.state, Some(WorkflowState::Paused));
    let create = CreateWorkflow {
        request: request.clone(),
    };
    let body = create.body().unwrap();
    assert_eq!(body.content_type, "application/xml");
    assert_eq!(
        String::from_utf8(body.bytes.clone()).unwrap(),
        fixture("create_workflow_request.xml"),
        "written in the service's layout"
    );
    assert_eq!(
        CreateWorkflow::from_request("/workflow", no_query(), &body.bytes),
        Ok(create)
    );
    let update = UpdateWorkflow {
        workflow_id: "w1".to_owned(),
        request,
    };
    assert_eq!(update.path(), "/workflow/w1");
    assert_eq!(UpdateWorkflow::METHOD, http::Method::PUT);
    assert!(matches!(
        UpdateWorkflow::from_request("/workflow/w1", no_query(), b"<Request>"),
        Err(QueryError::BadBody(_))
    ));
}

#[test]
fn workflow_names_follow_the_documented_rules() {
    let mut request =
        WorkflowRequest::from_xml(fixture("create_workflow_request.xml").as_bytes()).unwrap();
    for good in ["a", "工作流-1_x", &"n".repeat(128)] {
        request.workflow.name = good.to_owned();
        assert_eq!(
            CreateWorkflow {
                request: request.clone()
            }
            .validate(),
            Ok(()),
            "{good}"
        );
    }
    for bad in ["", "has space", "dot.name", &"n".repeat(129), "emoji🙂"] {
        request.workflow.name = bad.to_owned();
        let error = CreateWorkflow {
            request: request.clone(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(error.parameter, "Name", "{bad}");
    }
}

#[test]
fn trigger_requires_its_workflow_and_object() {
    let trigger = TriggerWorkflow {
        workflow_id: "w1".to_owned(),
        object: "dir/游戏 1+1.mp4".to_owned(),
        name: None,
    };
    assert_eq!(TriggerWorkflow::METHOD, http::Method::POST);
    assert_eq!(
        trigger.wire_query(),
        "workflowId=w1&object=dir%2F%E6%B8%B8%E6%88%8F%201%2B1.mp4"
    );
    assert_eq!(
        TriggerWorkflow::from_wire("/triggerworkflow", &trigger.wire_query(), b""),
        Ok(trigger)
    );
    match TriggerWorkflow::from_request("/triggerworkflow", &[("workflowId", "w1")], b"") {
        Err(QueryError::Invalid(error)) => {
            assert_eq!(error.parameter, "object");
            assert_eq!(error.rule, "is required");
        }
        other => panic!("{other:?}"),
    }
    let empty = TriggerWorkflow::default();
    assert_eq!(empty.validate().unwrap_err().parameter, "workflowId");
    let output = common::parse_ok::<TriggerWorkflow>(b"<Response><RequestId>r</RequestId><InstanceId>i6fc78ca77d6011eba0ac5254008618d9</InstanceId></Response>");
    assert_eq!(output.instance_id, "i6fc78ca77d6011eba0ac5254008618d9");
}

#[test]
fn delete_answers_with_the_id() {
    let delete = DeleteWorkflow {
        workflow_id: "w1".to_owned(),
    };
    assert_eq!(DeleteWorkflow::METHOD, http::Method::DELETE);
    assert_eq!(delete.path(), "/workflow/w1");
    let output = common::parse_ok::<DeleteWorkflow>(
        b"<Response><RequestId>r</RequestId><WorkflowId>w1</WorkflowId></Response>",
    );
    assert_eq!(output.workflow_id.as_deref(), Some("w1"));
}
