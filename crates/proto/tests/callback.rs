//! Job and workflow notifications (reference §4): the documented XML and
//! JSON forms read by one declaration, the JSON shapes serde alone refuses
//! (numbers as strings, a one-member list as an object), and bodies that
//! are not notifications.

use cos_ci_proto::{
    BodyRules, CallbackError, CallbackEvent, CallbackFormat, CallbackNotification, ExecutionState,
    JobDetail, JobState, XmlDocument,
};
use cos_ci_testkit::fixture;

#[test]
fn a_job_notification_reads_the_same_from_xml_and_json() {
    let (xml, format) =
        CallbackNotification::parse(fixture("callback_task_finish.xml").as_bytes()).unwrap();
    assert_eq!(format, CallbackFormat::Xml);
    let (json, format) =
        CallbackNotification::parse(fixture("callback_task_finish.json").as_bytes()).unwrap();
    assert_eq!(format, CallbackFormat::Json);
    assert_eq!(xml.event(), CallbackEvent::TaskFinish);
    assert_eq!(xml.jobs.len(), 1);
    let job = &xml.jobs[0];
    assert_eq!(job.job_id, "j3feb7ccc28fc11eca50b6f68c211dc6c");
    assert_eq!(job.state, JobState::Success);
    assert_eq!(job.progress, Some(100));
    let operation = job.operation.as_ref().unwrap();
    assert_eq!(operation.job_level, Some(0));
    let file = operation
        .media_result
        .as_ref()
        .and_then(|result| result.output_file.as_ref())
        .unwrap();
    assert_eq!(file.keys(), ["output/transcode.mp4"]);
    assert_eq!(file.md5_info.len(), 1);
    // JSON numbers-as-strings and one-member objects mean the same.
    assert_eq!(json, xml);
    // And the document writes back as it was read.
    assert_eq!(
        CallbackNotification::from_xml(xml.to_xml().as_bytes()).unwrap(),
        xml
    );
}

#[test]
fn a_workflow_notification_reads_the_same_from_xml_and_json() {
    let (xml, _) =
        CallbackNotification::parse(fixture("callback_workflow_finish.xml").as_bytes()).unwrap();
    let (json, _) =
        CallbackNotification::parse(fixture("callback_workflow_finish.json").as_bytes()).unwrap();
    for notification in [&xml, &json] {
        assert_eq!(notification.event(), CallbackEvent::WorkflowFinish);
        assert!(notification.jobs.is_empty());
        let run = notification.workflow_execution.as_ref().unwrap();
        assert_eq!(run.run_id, "i166ee19017b011eda8a5525400c540df");
        assert_eq!(run.workflow_name.as_deref(), Some("workflow-3"));
        assert_eq!(run.cos_headers.len(), 2);
        assert_eq!(run.tasks.len(), 2);
        // The space form of the callback's times.
        let created = run.create_time.as_ref().unwrap();
        assert_eq!(created.as_str(), "2022-08-09 14:54:17+0800");
        assert_eq!(run.tasks[1].name, "Transcode_1581665960538");
    }
    assert_eq!(
        xml.workflow_execution.as_ref().unwrap().state,
        ExecutionState::Failed
    );
    assert_eq!(
        xml.workflow_execution.as_ref().unwrap().tasks[1].state,
        JobState::Failed
    );
    assert_eq!(
        json.workflow_execution.as_ref().unwrap().state,
        ExecutionState::Success
    );
}

/// Why the lenient reading exists: the records' serde derives (the CLI's
/// JSON output) refuse CI's JSON shapes.
#[test]
fn serde_alone_refuses_the_json_shapes_the_lenient_reading_accepts() {
    let numbers_as_strings = r#"{"JobId":"j1","Progress":"100"}"#;
    assert!(serde_json::from_str::<JobDetail>(numbers_as_strings).is_err());
    let one_member_object =
        r#"{"OutputFile":{"ObjectName":"a.mp4","Md5Info":{"Md5":"x","ObjectName":"a.mp4"}}}"#;
    assert!(serde_json::from_str::<cos_ci_proto::MediaResult>(one_member_object).is_err());

    let body = r#"{"JobsDetail":{"JobId":"j1","State":"Failed","Progress":100,"Code":"InvalidInput",
        "Operation":{"MediaResult":{"OutputFile":{"ObjectName":"a.mp4","Md5Info":{"Md5":"x","ObjectName":"a.mp4"}}}}}}"#;
    let (notification, format) = CallbackNotification::parse(body.as_bytes()).unwrap();
    assert_eq!(format, CallbackFormat::Json);
    assert_eq!(
        notification.event(),
        CallbackEvent::TaskFinish,
        "no EventName: the content says"
    );
    let job = &notification.jobs[0];
    assert_eq!(job.progress, Some(100), "a JSON number is accepted too");
    assert_eq!(job.code.as_deref(), Some("InvalidInput"));
    let file = job
        .operation
        .as_ref()
        .and_then(|operation| operation.media_result.as_ref())
        .and_then(|result| result.output_file.as_ref())
        .unwrap();
    assert_eq!(file.object_names, ["a.mp4"]);
    assert_eq!(file.md5_info.len(), 1);

    // Wrapped in "Response", with a BOM and leading space.
    let wrapped = format!("\u{feff}  {{\"Response\": {body}}}");
    let (again, _) = CallbackNotification::parse(wrapped.as_bytes()).unwrap();
    assert_eq!(again, notification);
}

#[test]
fn bodies_that_are_not_notifications_are_refused() {
    let cases: &[(&str, &str)] = &[
        ("", "the body is empty"),
        ("   \n", "the body is empty"),
        ("hello", "neither XML nor JSON"),
        ("{\"JobsDetail\": [", "unreadable JSON"),
        ("[1, 2]", "neither XML nor JSON"),
        (
            "{\"EventName\": \"TaskFinish\"}",
            "neither JobsDetail nor WorkflowExecution",
        ),
        (
            "<Response><EventName>TaskFinish</EventName></Response>",
            "neither JobsDetail",
        ),
        ("<Error><Code>x</Code></Error>", "unreadable notification"),
        (
            "<Response><JobsDetail><State>Success</State></JobsDetail></Response>",
            "JobId",
        ),
        // A key cannot smuggle markup into the document.
        (
            "{\"JobsDetail\": {\"JobId\": \"j1\", \"a><b\": \"x\"}}",
            "not a valid element name",
        ),
        ("{\"WorkflowExecution\": {\"State\": \"Success\"}}", "RunId"),
    ];
    for (body, expected) in cases {
        let error = CallbackNotification::parse(body.as_bytes()).unwrap_err();
        assert!(error.to_string().contains(expected), "{body:?}: {error}");
    }
    assert!(matches!(
        CallbackNotification::parse(b"").unwrap_err(),
        CallbackError::Empty
    ));
}

/// The same lenient reading serves every document: the CLI reads
/// `--file` requests with it.
#[test]
fn any_document_reads_its_json_form() {
    use cos_ci_proto::{JobRequest, WorkflowRequest, XmlTree};
    let workflow = r#"{"Request": {"MediaWorkflow": {"Name": "demo", "State": "Active",
        "Topology": {"Dependencies": {"Start": "Transcode_1", "Transcode_1": "End"},
                     "Nodes": {"Start": {"Type": "Start", "Input": {"ObjectPrefix": "in/"}},
                               "Transcode_1": {"Type": "Transcode", "Operation": {"TemplateId": "t1"}}}}}}}"#;
    let request = WorkflowRequest::from_json(workflow.as_bytes()).unwrap();
    assert_eq!(request.workflow.name, "demo");
    let dependencies = request.workflow.topology.child("Dependencies").unwrap();
    assert_eq!(
        dependencies.child("Start").and_then(XmlTree::text),
        Some("Transcode_1")
    );
    // Unwrapped, the same.
    let unwrapped = &workflow[r#"{"Request": "#.len()..workflow.len() - 1];
    assert_eq!(
        WorkflowRequest::from_json(unwrapped.as_bytes()).unwrap(),
        request
    );
    let job = r#"{"Tag": "Transcode", "Input": {"Object": "in/a.mp4"},
        "Operation": {"TemplateId": "t1", "JobLevel": 1, "WatermarkTemplateId": ["w1", "w2"],
                      "Output": {"Region": "ap-beijing", "Bucket": "b-1250000000", "Object": "out/a.mp4"}}}"#;
    let job = JobRequest::from_json(job.as_bytes()).unwrap();
    assert_eq!(job.operation.job_level, Some(1));
    assert_eq!(job.operation.watermark_template_ids, ["w1", "w2"]);
    assert!(job.check_body().is_ok());
    let error = JobRequest::from_json(b"{\"Tag\": ").unwrap_err();
    assert!(error.to_string().contains("unreadable JSON"), "{error}");
}
