//! The response side: parsing pages, writing them, and every error form.

use cos_ci_proto::{
    CiAction, CiTimestamp, ExecutionState, ListWorkflowExecutions, ListWorkflowExecutionsOutput,
    ResponseError, ServiceError, WorkflowExecution, XmlDocument, check_status,
};
use std::sync::LazyLock;

use cos_ci_testkit::fixture;
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;

/// The sample response of the API page (2025-09-09), verbatim.
static SAMPLE: LazyLock<String> = LazyLock::new(|| fixture("list_workflow_executions.xml"));

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}

fn parse(
    status: u16,
    headers: &HeaderMap,
    body: &str,
) -> Result<ListWorkflowExecutionsOutput, ResponseError> {
    let status = StatusCode::from_u16(status).unwrap();
    ListWorkflowExecutions::parse_response(status, headers, body.as_bytes())
}

/// Display, then the full value, for error snapshots.
fn describe(result: Result<ListWorkflowExecutionsOutput, ResponseError>) -> String {
    match result {
        Ok(output) => panic!("expected an error, got {output:?}"),
        Err(error) => format!("{error}\n\n{error:#?}"),
    }
}

#[test]
fn sample_response_parsed() {
    let ci_headers = headers(&[("x-ci-request-id", "NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0")]);
    let output = parse(200, &ci_headers, &SAMPLE).unwrap();
    assert_eq!(output.next_token.as_deref(), Some("115716"));
    assert_eq!(output.executions.len(), 2);
    assert_eq!(output.executions[0].state, ExecutionState::Success);
    insta::assert_yaml_snapshot!(output);
}

#[test]
fn sample_response_written_back_is_the_same() {
    let output = ListWorkflowExecutionsOutput::from_xml(SAMPLE.as_bytes()).unwrap();
    assert_eq!(
        output.to_xml(),
        *SAMPLE,
        "the writer uses the service's layout"
    );
}

#[test]
fn one_result_is_still_a_list_and_no_results_is_empty() {
    let one = "<Response><WorkflowExecutionList><RunId>r1</RunId><WorkflowId>w</WorkflowId>\
               <Object>o</Object><CreateTime>2019-07-07T12:12:12+0800</CreateTime>\
               <State>Failed</State></WorkflowExecutionList><NextToken></NextToken></Response>";
    let output = ListWorkflowExecutionsOutput::from_xml(one.as_bytes()).unwrap();
    assert_eq!(output.executions.len(), 1);
    assert_eq!(output.next_token, None, "empty NextToken is the last page");
    assert_eq!(output.request_id, None);
    let none =
        ListWorkflowExecutionsOutput::from_xml(b"<Response><RequestId>x</RequestId></Response>");
    assert_eq!(
        none,
        Ok(ListWorkflowExecutionsOutput {
            request_id: Some("x".to_owned()),
            ..Default::default()
        })
    );
    let self_closed =
        ListWorkflowExecutionsOutput::from_xml(b"<?xml version=\"1.0\"?>\n<Response/>\n");
    assert_eq!(self_closed, Ok(ListWorkflowExecutionsOutput::default()));
}

#[test]
fn tolerated_variations() {
    // CreationTime synonym, unknown elements (leaf and nested), entities,
    // CDATA, a state we do not know, a missing CreateTime, comments.
    let body = "\u{feff}<?xml version='1.0' encoding='utf-8'?>
<!-- proxy was here -->
<Response>
  <RequestId>req-1</RequestId>
  <Extra><Nested>1</Nested></Extra>
  <WorkflowExecutionList>
    <RunId>r1</RunId>
    <WorkflowId>w1</WorkflowId>
    <Object>dir/a &amp; b &lt;1&gt; &#x6587;.mp4</Object>
    <CreationTime>2020-12-01 11:00:41+0800</CreationTime>
    <State>Paused</State>
    <Topology><Nodes><Start/></Nodes></Topology>
  </WorkflowExecutionList>
  <WorkflowExecutionList>
    <RunId><![CDATA[r2]]></RunId>
    <WorkflowId>w1</WorkflowId>
    <Object>b.mp4</Object>
    <State>Running</State>
  </WorkflowExecutionList>
  <NextToken>e65e4d260e1042debdfb7e4560a19d3d</NextToken>
</Response>
";
    let output = ListWorkflowExecutionsOutput::from_xml(body.as_bytes()).unwrap();
    let first = &output.executions[0];
    assert_eq!(first.object, "dir/a & b <1> 文.mp4");
    assert_eq!(
        first.create_time.as_ref().map(CiTimestamp::as_str),
        Some("2020-12-01 11:00:41+0800")
    );
    assert_eq!(first.state, ExecutionState::Other("Paused".to_owned()));
    let second = &output.executions[1];
    assert_eq!(second.run_id, "r2");
    assert_eq!(second.create_time, None);
    assert_eq!(second.state, ExecutionState::Running);
    assert_eq!(
        output.next_token.as_deref(),
        Some("e65e4d260e1042debdfb7e4560a19d3d")
    );
    // CreateTime wins over the old synonym when both are present.
    let both = "<Response><WorkflowExecutionList><RunId>r</RunId>\
                <CreationTime>2019-07-07T12:12:12+0800</CreationTime>\
                <CreateTime>2022-08-09T14:54:17+08:00</CreateTime></WorkflowExecutionList></Response>";
    let output = ListWorkflowExecutionsOutput::from_xml(both.as_bytes()).unwrap();
    assert_eq!(
        output.executions[0]
            .create_time
            .as_ref()
            .map(CiTimestamp::as_str),
        Some("2022-08-09T14:54:17+08:00")
    );
}

#[test]
fn request_id_falls_back_to_the_header() {
    let body = "<Response><NextToken>7</NextToken></Response>";
    let output = parse(200, &headers(&[("x-ci-request-id", "hdr-1")]), body).unwrap();
    assert_eq!(output.request_id.as_deref(), Some("hdr-1"));
    let output = parse(200, &headers(&[("x-ci-request-id", "hdr-1")]), &SAMPLE).unwrap();
    assert_eq!(
        output.request_id.as_deref(),
        Some("NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0"),
        "body wins"
    );
}

#[test]
fn malformed_bodies_are_typed_errors() {
    let table: &[(&str, &[u8], &str)] = &[
        ("empty", b"", "body is empty"),
        ("whitespace", b" \n ", "body is empty"),
        ("wrong root", b"<Result></Result>", "expected root element <Response>, found <Result>"),
        ("html 200", b"<html><body>hi</body></html>", "found <html>"),
        ("json 200", b"{\"Response\":{}}", "not XML"),
        ("plain text", b"OK", "not XML"),
        ("truncated in text", b"<Response><WorkflowExecutionList><RunId>i1", "truncated"),
        ("truncated in tag", b"<Response><WorkflowExecutionList><RunId", "XML error"),
        ("truncated after item", b"<Response><WorkflowExecutionList><RunId>i1</RunId></WorkflowExecutionList>", "truncated"),
        ("mismatched", b"<Response><CreationTime>x</CreateTime></Response>", "XML error"),
        ("invalid utf-8", b"<Response><RequestId>\xff\xfe</RequestId></Response>", "not valid UTF-8"),
        ("unknown entity", b"<Response><RequestId>&nbsp;</RequestId></Response>", "unknown entity"),
        ("two roots", b"<Response></Response><Response></Response>", "content after the root element"),
        ("missing RunId", b"<Response><WorkflowExecutionList><State>Success</State></WorkflowExecutionList></Response>", "<WorkflowExecutionList> #1: missing <RunId>"),
        ("duplicate RunId", b"<Response><WorkflowExecutionList><RunId>a</RunId><RunId>b</RunId></WorkflowExecutionList></Response>", "<RunId> appears more than once"),
        ("bad time", b"<Response><WorkflowExecutionList><RunId>a</RunId><CreateTime>soon</CreateTime></WorkflowExecutionList></Response>", "<WorkflowExecutionList> #1: <CreateTime>: invalid timestamp"),
        ("leaf with children", b"<Response><NextToken><A/></NextToken></Response>", "unexpected element <A> inside <NextToken>"),
    ];
    let hdrs = headers(&[("x-ci-request-id", "hdr-9")]);
    for (case, body, reason) in table {
        match ListWorkflowExecutions::parse_response(StatusCode::OK, &hdrs, body) {
            Err(ResponseError::Malformed(error)) => {
                assert!(error.reason.contains(reason), "{case}: {}", error.reason);
                assert_eq!(error.status, 200);
                assert_eq!(error.expected, "<Response>");
                assert_eq!(error.request_id.as_deref(), Some("hdr-9"));
                assert!(error.body_excerpt.chars().count() <= 200);
            }
            other => panic!("{case}: {other:?}"),
        }
    }
}

/// Every error form through `parse_response`, one snapshot each (named
/// after the case): CI's XML, an `<Error>` in a 200, a proxy's HTML, an
/// empty 503, a JSON error and a cut-off page.
#[test]
fn error_responses() {
    /// Snapshot name, status, headers, body.
    type Case = (
        &'static str,
        u16,
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: [Case; 6] = [
        (
            "error_ci_xml_403",
            403,
            &[("x-ci-request-id", "other")],
            "<?xml version='1.0' encoding='utf-8' ?>
<Error>
\t<Code>AccessDenied</Code>
\t<Message>Strict signature missing header that must be signed</Message>
\t<RequestId>NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0</RequestId>
\t<TraceId>OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OTBjYzE2MjAxN2M1MzJiOTdkZjMxMDVlYTZjN2FiMmI0</TraceId>
</Error>",
        ),
        (
            "error_200_with_error_body",
            200,
            &[("x-ci-request-id", "hdr-req"), ("x-ci-trace-id", "hdr-trace")],
            "<Error><Code>InternalError</Code><Message>try again</Message><Resource>/workflowexecution</Resource></Error>",
        ),
        (
            "error_html_502",
            502,
            &[("x-cos-request-id", "cos-req")],
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        ),
        ("error_empty_503", 503, &[], ""),
        (
            "error_json",
            401,
            &[("content-type", "application/json")],
            r#"{"code": 40001, "message": "invalid signature", "request_id": "json-req"}"#,
        ),
        (
            "error_truncated_xml",
            200,
            &[("x-ci-request-id", "NjJm")],
            "<Response>\n<RequestId>NjJm</RequestId>\n<WorkflowExecutionList>\n<RunId>i166ee19017b011eda8a5525400c540df</RunId>\n<WorkflowId>web6ac",
        ),
    ];
    for (name, status, pairs, body) in cases {
        insta::assert_snapshot!(name, describe(parse(status, &headers(pairs), body)));
    }
}

/// The `{"Error":{"Code","Message"},"RequestId"}` shape keeps its Code and
/// Message, bare or inside `"Response"`; the flat shape still works.
#[test]
fn error_json_nested_shapes() {
    let json = headers(&[("content-type", "application/json")]);
    let nested =
        r#"{"Error":{"Code":"InvalidParameter","Message":"size is bad"},"RequestId":"req-9"}"#;
    let wrapped =
        r#"{"Response":{"Error":{"Code":"AuthFailure","Message":"no"},"RequestId":"req-3"}}"#;
    let inner_id = r#"{"error":{"code":"E1","message":"m","request_id":"in"},"RequestId":"out"}"#;
    let cases = [
        (nested, "InvalidParameter", "size is bad", "req-9"),
        (wrapped, "AuthFailure", "no", "req-3"),
        (inner_id, "E1", "m", "in"),
    ];
    for (body, code, message, request_id) in cases {
        let error = ServiceError::from_response(StatusCode::BAD_REQUEST, &json, body.as_bytes());
        assert_eq!(error.code.as_deref(), Some(code), "{body}");
        assert_eq!(error.message.as_deref(), Some(message), "{body}");
        assert_eq!(error.request_id.as_deref(), Some(request_id), "{body}");
        assert_eq!(error.body_excerpt, None, "{body}");
    }
    assert_eq!(
        ServiceError::from_response(StatusCode::BAD_REQUEST, &json, nested.as_bytes()).to_string(),
        "HTTP 400 InvalidParameter: size is bad (RequestId: req-9)"
    );
    // An "Error" that is not an object is not an error shape by itself.
    let odd = ServiceError::from_response(StatusCode::BAD_GATEWAY, &json, br#"{"Error":"x"}"#);
    assert_eq!(odd.code, None);
    assert_eq!(odd.body_excerpt.as_deref(), Some(r#"{"Error":"x"}"#));
}

/// Every string the service supplies is capped, with a marker saying how
/// much was cut, however large the body (a 10 MB `<Message>` here).
#[test]
fn error_fields_are_capped_with_a_marker() {
    use cos_ci_proto::{MAX_ID_CHARS, MAX_MESSAGE_CHARS};
    let huge_message = "m".repeat(10_000_000);
    let huge_code = "C".repeat(5_000);
    let body = format!(
        "<Error><Code>{huge_code}</Code><Message>{huge_message}</Message>\
         <RequestId>{}</RequestId><TraceId>{}</TraceId></Error>",
        "r".repeat(300),
        "t".repeat(300)
    );
    let error =
        ServiceError::from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body.as_bytes());
    let message = error.message.as_deref().unwrap();
    assert_eq!(
        message,
        format!(
            "{}… [{} more bytes cut]",
            "m".repeat(MAX_MESSAGE_CHARS),
            10_000_000 - MAX_MESSAGE_CHARS
        )
    );
    let code = error.code.as_deref().unwrap();
    assert_eq!(
        code,
        format!("{}… [4872 more bytes cut]", "C".repeat(MAX_ID_CHARS))
    );
    assert!(
        error
            .request_id
            .as_deref()
            .unwrap()
            .ends_with("… [172 more bytes cut]")
    );
    assert!(
        error
            .trace_id
            .as_deref()
            .unwrap()
            .ends_with("… [172 more bytes cut]")
    );
    assert!(
        error.to_string().len() < 2_000,
        "{}",
        error.to_string().len()
    );
    // Multi-byte text is cut on a character boundary; the marker counts bytes.
    let body = format!("<Error><Message>{}</Message></Error>", "错".repeat(2_000));
    let error =
        ServiceError::from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body.as_bytes());
    let message = error.message.unwrap();
    assert!(message.starts_with(&"错".repeat(MAX_MESSAGE_CHARS)));
    assert!(message.ends_with(&format!(
        "… [{} more bytes cut]",
        3 * (2_000 - MAX_MESSAGE_CHARS)
    )));
    // JSON bodies and header fallbacks too; short values stay as they are.
    let json = format!(r#"{{"code":"E","message":"{}"}}"#, "j".repeat(5_000));
    let long_id = "h".repeat(1_000);
    let mut map = HeaderMap::new();
    map.insert("x-ci-request-id", HeaderValue::from_str(&long_id).unwrap());
    let error = ServiceError::from_response(StatusCode::BAD_REQUEST, &map, json.as_bytes());
    assert_eq!(error.code.as_deref(), Some("E"));
    assert!(error.message.unwrap().ends_with("… [3976 more bytes cut]"));
    assert!(
        error
            .request_id
            .unwrap()
            .ends_with("… [872 more bytes cut]")
    );
}

/// A body cut short by a size cap keeps the `<Error>` children that are
/// complete before the cut.
#[test]
fn partial_error_bodies_keep_what_is_complete() {
    let ids = headers(&[("x-ci-request-id", "hdr-id")]);
    let prefix = format!(
        "<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>{}",
        "x".repeat(5_000)
    );
    let error = ServiceError::from_partial_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &ids,
        prefix.as_bytes(),
    );
    assert_eq!(error.code.as_deref(), Some("SlowDown"));
    assert_eq!(error.message, None);
    assert_eq!(error.request_id.as_deref(), Some("hdr-id"));
    assert_eq!(error.to_string(), "HTTP 503 SlowDown (RequestId: hdr-id)");
    // A cut inside a multi-byte character, and a body that is not XML.
    let mut cut = "<Error><Code>E</Code><Message>错".as_bytes().to_vec();
    cut.pop();
    let error = ServiceError::from_partial_response(StatusCode::BAD_REQUEST, &ids, &cut);
    assert_eq!(error.code.as_deref(), Some("E"));
    let error = ServiceError::from_partial_response(StatusCode::BAD_GATEWAY, &ids, b"<html>busy");
    assert_eq!(error.code, None);
    assert_eq!(error.body_excerpt.as_deref(), Some("<html>busy"));
}

/// A `NextToken` longer than a request may carry cannot be followed: the
/// page is unreadable (exit 3 in the CLI), not a request error later.
#[test]
fn next_token_too_long_to_send_back_cannot_be_sent() {
    // The page itself parses (the paginator refuses to follow such a token,
    // see `cos-ci-client`'s paginator tests); sending it back is invalid.
    use cos_ci_proto::action::MAX_NEXT_TOKEN_BYTES;
    let over = format!(
        "<Response><NextToken>{}</NextToken></Response>",
        "t".repeat(70_000)
    );
    let page = parse(200, &headers(&[("x-ci-request-id", "rid")]), &over).unwrap();
    let next = ListWorkflowExecutions {
        next_token: page.next_token,
        ..Default::default()
    };
    let error = next.validate().unwrap_err();
    assert_eq!(error.parameter, "nextToken");
    assert!(
        error
            .rule
            .contains(&format!("at most {MAX_NEXT_TOKEN_BYTES} bytes"))
    );
}

/// The limit is the paging style's, so every token listing over a
/// creation-time range has it, jobs as well as executions.
#[test]
fn a_job_listing_refuses_a_next_token_too_long_to_send() {
    use cos_ci_proto::ListJobs;
    use cos_ci_proto::action::MAX_NEXT_TOKEN_BYTES;
    let listing = |bytes: usize| ListJobs {
        tag: "Transcode".to_owned(),
        next_token: Some("t".repeat(bytes)),
        ..Default::default()
    };
    assert!(listing(MAX_NEXT_TOKEN_BYTES).validate().is_ok());
    let error = listing(MAX_NEXT_TOKEN_BYTES + 1).validate().unwrap_err();
    assert_eq!(error.parameter, "nextToken");
}

#[test]
fn error_forms_details() {
    // Every child optional; an empty <Error/> keeps the status and headers.
    let error = ServiceError::from_response(
        StatusCode::NOT_FOUND,
        &headers(&[("x-ci-request-id", "r"), ("x-ci-trace-id", "t")]),
        b"<Error/>",
    );
    assert_eq!(error.code, None);
    assert_eq!(
        (error.request_id.as_deref(), error.trace_id.as_deref()),
        (Some("r"), Some("t"))
    );
    assert_eq!(error.body_excerpt, None);
    assert_eq!(error.to_string(), "HTTP 404 Not Found (RequestId: r)");
    // Display stays one line whatever the body's fields contain.
    let error = ServiceError::from_response(
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        "<Error><Code>Access\nDenied</Code><Message>a\r\nb\u{2028}c</Message>\
         <RequestId>Nj\rJm</RequestId></Error>"
            .as_bytes(),
    );
    assert_eq!(
        error.to_string(),
        "HTTP 403 Access Denied: a b c (RequestId: Nj Jm)"
    );
    // A truncated <Error> is not half-read: the excerpt is kept instead.
    let error = ServiceError::from_response(
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        b"<Error><Code>AccessDenied</Code>",
    );
    assert_eq!(error.code, None);
    assert_eq!(
        error.body_excerpt.as_deref(),
        Some("<Error><Code>AccessDenied</Code>")
    );
    // Long bodies are cut to 200 characters, multi-byte safe.
    let long = "错".repeat(1000);
    let error =
        ServiceError::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), long.as_bytes());
    assert_eq!(error.body_excerpt.map(|e| e.chars().count()), Some(200));
    // Non-2xx with a <Response> body is still an error.
    assert!(
        matches!(parse(500, &HeaderMap::new(), &SAMPLE), Err(ResponseError::Service(e)) if e.status == 500)
    );
    // check_status lets a normal page through.
    assert_eq!(
        check_status(StatusCode::OK, &HeaderMap::new(), SAMPLE.as_bytes()),
        Ok(())
    );
    // The error document the emulator writes reads back the same.
    let original = ServiceError {
        status: 403,
        code: Some("AccessDenied".to_owned()),
        message: Some("a < b & c".to_owned()),
        request_id: Some("rid".to_owned()),
        trace_id: Some("tid".to_owned()),
        body_excerpt: None,
    };
    let back = ServiceError::from_response(
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        original.write_xml().as_bytes(),
    );
    assert_eq!(back, original);
}

fn arb_text() -> impl Strategy<Value = String> {
    // Any printable text, including XML-special characters and CR/LF/tab.
    proptest::string::string_regex("[\\PC\r\n\t]{0,20}").unwrap()
}

fn arb_execution() -> impl Strategy<Value = WorkflowExecution> {
    (
        proptest::string::string_regex("[\\PC]{1,20}").unwrap(),
        arb_text(),
        arb_text(),
        proptest::option::of((
            -2_000_000_000i64..4_000_000_000,
            -(23 * 60 + 59)..=(23 * 60 + 59),
            0..3usize,
        )),
        prop_oneof![
            Just("Success".to_owned()),
            Just("Failed".to_owned()),
            Just("Running".to_owned()),
            Just("Cancel".to_owned()),
            arb_text(),
        ],
    )
        .prop_map(
            |(run_id, workflow_id, object, time, state)| WorkflowExecution {
                run_id,
                workflow_id,
                object,
                create_time: time.map(|(unix, offset_minutes, form)| {
                    let ts = CiTimestamp::from_unix(unix, offset_minutes * 60).unwrap();
                    // Exercise every text form, not only the one from_unix writes.
                    match form {
                        0 => ts,
                        1 => CiTimestamp::parse(&ts.to_api_string()).unwrap(),
                        _ => CiTimestamp::parse(&ts.to_api_string().replacen('T', " ", 1)).unwrap(),
                    }
                }),
                state: ExecutionState::from(state.as_str()),
            },
        )
}

fn arb_output() -> impl Strategy<Value = ListWorkflowExecutionsOutput> {
    (
        proptest::option::of(proptest::string::string_regex("[\\PC]{1,40}").unwrap()),
        proptest::collection::vec(arb_execution(), 0..=100),
        proptest::option::of(proptest::string::string_regex("[\\PC]{1,40}").unwrap()),
    )
        .prop_map(
            |(request_id, executions, next_token)| ListWorkflowExecutionsOutput {
                request_id,
                executions,
                next_token,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn parse_of_write_is_identity(output in arb_output()) {
        let xml = output.to_xml();
        let parsed = ListWorkflowExecutionsOutput::from_xml(xml.as_bytes());
        prop_assert_eq!(&parsed, &Ok(output.clone()));
        // The original texts survive too, not only the instants.
        let texts = |o: &ListWorkflowExecutionsOutput| {
            o.executions.iter().map(|e| e.create_time.as_ref().map(|t| t.as_str().to_owned())).collect::<Vec<_>>()
        };
        prop_assert_eq!(texts(&parsed.unwrap()), texts(&output));
        // And the JSON form the CLI prints reads back the same.
        let json = serde_json::to_string(&output).unwrap();
        let from_json: ListWorkflowExecutionsOutput = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_json, output);
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic(output in arb_output(), cut in 0.0f64..1.0) {
        let xml = output.to_xml();
        let trimmed = xml.trim_end();
        let mut at = ((trimmed.len() as f64) * cut) as usize;
        while !trimmed.is_char_boundary(at) {
            at -= 1;
        }
        let body = &trimmed.as_bytes()[..at];
        let result = ListWorkflowExecutions::parse_response(StatusCode::OK, &HeaderMap::new(), body);
        prop_assert!(matches!(result, Err(ResponseError::Malformed(_))), "{:?}", result);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256), status in 100u16..600) {
        let status = StatusCode::from_u16(status).unwrap();
        let _ = ListWorkflowExecutions::parse_response(status, &HeaderMap::new(), &body);
        let _ = ServiceError::from_response(status, &HeaderMap::new(), &body).to_string();
    }
}
