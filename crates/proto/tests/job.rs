//! Jobs and queues: the wire forms both ways, the documented samples,
//! kept unknown elements, submission rules.

use cos_ci_proto::{
    CancelJob, CiAction, CreateJobs, Cursor, DescribeJobs, JobRequest, JobState, JobStateFilter,
    ListJobs, ListQueues, PaginatedAction, QueryError, QueueState, XmlDocument, XmlTree,
};
use cos_ci_testkit::fixture;
use http::{HeaderMap, StatusCode};

mod common;

#[test]
fn list_sample_keeps_what_the_service_sends() {
    let output = common::parse_ok::<ListJobs>(fixture("list_jobs.xml"));
    assert_eq!(output.jobs.len(), 2);
    let running = &output.jobs[0];
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.progress, Some(30));
    assert_eq!(running.end_time, None, "`-` is unset");
    assert_eq!(running.message, None);
    let done = &output.jobs[1];
    let operation = done.operation.as_ref().unwrap();
    let file = operation
        .media_result
        .as_ref()
        .unwrap()
        .output_file
        .as_ref()
        .unwrap();
    assert_eq!(file.keys(), ["trans/game.mp4"]);
    assert_eq!(done.input.as_ref().unwrap().cos_headers.len(), 2);
    assert_eq!(
        done.workflow.as_ref().unwrap().run_id.as_deref(),
        Some("i166ee19017b011eda8a5525400c540df")
    );
    // An element the model does not name is kept, and written back.
    let watermark = operation.other.get("DigitalWatermark").unwrap();
    assert_eq!(
        watermark.child("Message").and_then(XmlTree::text),
        Some("cos-ci")
    );
    let again = common::parse_ok::<ListJobs>(output.to_xml().as_bytes());
    assert_eq!(again, output);
    let request = ListJobs {
        tag: "Transcode".to_owned(),
        ..Default::default()
    };
    assert_eq!(
        request.next_cursor(&output),
        Some(Cursor::Token("225508".to_owned()))
    );
    insta::assert_yaml_snapshot!(output);
    insta::assert_json_snapshot!("list_jobs_json", output.jobs[1]);
}

#[test]
fn list_requires_a_tag_and_knows_job_states() {
    let none: &[(&str, &str)] = &[];
    match ListJobs::from_request("/jobs", none, b"") {
        Err(QueryError::Invalid(error)) => assert_eq!(error.parameter, "tag"),
        other => panic!("{other:?}"),
    }
    let request = ListJobs::from_wire(
        "/jobs",
        "tag=Transcode&workflowId=w1&inputObject=a%2Fb.mp4&states=Failed,Pause&size=100",
        b"",
    )
    .unwrap();
    assert_eq!(request.input_object.as_deref(), Some("a/b.mp4"));
    assert!(
        request
            .states
            .as_ref()
            .unwrap()
            .contains(&JobStateFilter::Pause)
    );
    assert_eq!(
        request.wire_query(),
        "tag=Transcode&workflowId=w1&inputObject=a%2Fb.mp4&states=Failed%2CPause&size=100"
    );
}

#[test]
fn describe_takes_several_ids_in_one_segment() {
    let request = DescribeJobs {
        job_ids: vec!["j1".to_owned(), "j2".to_owned()],
    };
    assert_eq!(request.path(), "/jobs/j1,j2");
    let none: &[(&str, &str)] = &[];
    assert_eq!(
        DescribeJobs::from_request("/jobs/j1%2Cj2", none, b""),
        Ok(request.clone())
    );
    assert_eq!(
        DescribeJobs::from_request("/jobs/j1,j2", none, b""),
        Ok(request)
    );
    assert!(DescribeJobs { job_ids: vec![] }.validate().is_err());
    let output = common::parse_ok::<DescribeJobs>(b"<Response><NonExistJobIds>j3,j4</NonExistJobIds><NonExistJobIds>j5</NonExistJobIds></Response>");
    assert_eq!(output.missing_ids(), ["j3", "j4", "j5"]);
}

#[test]
fn submission_sends_the_documented_request_and_checks_its_rules() {
    let request = JobRequest::from_xml(fixture("create_job_request.xml").as_bytes()).unwrap();
    let create = CreateJobs {
        request: request.clone(),
    };
    create.validate().unwrap();
    let body = create.body().unwrap();
    assert_eq!(
        String::from_utf8(body.bytes).unwrap(),
        fixture("create_job_request.xml")
    );
    // Each change breaks one rule, and the error names the parameter where
    // one is given.
    type Change = fn(&mut JobRequest);
    let breakages: [(Change, Option<&str>); 5] = [
        (
            |bad| bad.operation.template_id = None,
            Some("Operation.TemplateId"),
        ),
        (|bad| bad.operation.output = None, Some("Operation.Output")),
        (|bad| bad.operation.job_level = Some(3), None),
        (
            |bad| bad.operation.user_data = Some("tab\there".to_owned()),
            None,
        ),
        (
            |bad| bad.callback_format = Some("YAML".to_owned()),
            Some("CallBackFormat"),
        ),
    ];
    for (change, parameter) in breakages {
        let mut bad = request.clone();
        change(&mut bad);
        let error = CreateJobs { request: bad }.validate().unwrap_err();
        if let Some(parameter) = parameter {
            assert_eq!(error.parameter, parameter);
        }
    }
}

#[test]
fn cancel_is_a_signed_sub_resource_and_an_empty_answer() {
    let cancel = CancelJob {
        job_id: "j1".to_owned(),
    };
    common::assert_sub_resource(&cancel, http::Method::PUT, "/jobs/j1", "cancel");
    assert!(CancelJob::parse_response(StatusCode::OK, &HeaderMap::new(), b"").is_ok());
}

#[test]
fn queues_sample_and_filters() {
    let output = common::parse_ok::<ListQueues>(fixture("list_queues.xml"));
    assert_eq!(output.queues[0].state, QueueState::Active);
    assert_eq!(output.queues[0].max_concurrent, Some(10));
    assert_eq!(output.non_exist_pids, ["p1"]);
    assert!(output.queues[0].other.get("BucketId").is_some());
    let request =
        ListQueues::from_wire("/queue", "state=All&category=CateAll&pageNumber=2", b"").unwrap();
    assert_eq!(request.cursor(), Some(Cursor::Page(2)));
    assert!(ListQueues::from_wire("/queue", "category=Bogus", b"").is_err());
    // Page numbers count from 1, as in every page-number listing.
    assert!(matches!(
        ListQueues::from_wire("/queue", "pageNumber=0", b""),
        Err(QueryError::Invalid(error)) if error.parameter == "pageNumber"
    ));
}
