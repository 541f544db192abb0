//! The request side: wire query encoding, decoding and validation.

use std::collections::BTreeSet;

use cos_ci_proto::query::{decode_query, encode_query};
use cos_ci_proto::{
    CiAction, CiTimestamp, Cursor, JobDetail, ListJobs, ListWorkflowExecutions, Order, PageSize,
    QueryError, StateFilter, TimeWindowed, ValidationError, WorkflowExecution,
};
use cos_ci_testkit::list_request_with_every_parameter;
use proptest::prelude::*;

fn from_wire_query(wire: &str) -> Result<ListWorkflowExecutions, QueryError> {
    ListWorkflowExecutions::from_wire("/workflowexecution", wire, b"")
}

fn ts(text: &str) -> CiTimestamp {
    CiTimestamp::parse(text).unwrap()
}

#[test]
fn wire_query_with_every_parameter() {
    let request = list_request_with_every_parameter();
    request.validate().unwrap();
    insta::assert_snapshot!(request.wire_query());
    insta::assert_debug_snapshot!(request.query_pairs());
}

#[test]
fn unset_parameters_are_not_sent() {
    let request = ListWorkflowExecutions::default();
    assert_eq!(request.wire_query(), "");
    assert!(request.query_pairs().is_empty());
    let request = ListWorkflowExecutions {
        workflow_id: Some("w1".to_owned()),
        ..Default::default()
    };
    assert_eq!(request.wire_query(), "workflowId=w1");
    assert_eq!(ListWorkflowExecutions::METHOD, http::Method::GET);
    assert_eq!(request.path(), "/workflowexecution");
    assert_eq!(request.query_pairs(), request.query_pairs());
}

#[test]
fn time_offsets_and_spaces_are_percent_encoded() {
    let request = ListWorkflowExecutions {
        name: Some("a b+c".to_owned()),
        start_creation_time: Some(ts("2022-08-09T14:00:00+08:00")),
        ..Default::default()
    };
    assert_eq!(
        request.wire_query(),
        "name=a%20b%2Bc&startCreationTime=2022-08-09T14%3A00%3A00%2B0800"
    );
}

#[test]
fn page_size_bounds_are_errors_not_clamps() {
    for good in [1, 10, 99, 100] {
        assert_eq!(PageSize::new(good).map(PageSize::get), Ok(good));
    }
    for bad in [0, 101, 1000, u32::MAX] {
        let error = PageSize::new(bad).unwrap_err();
        assert_eq!(error.parameter, "size");
        assert_eq!(error.rule, format!("must be between 1 and 100, got {bad}"));
    }
    assert_eq!(PageSize::default().get(), 10);
}

#[test]
fn validation_rules() {
    let base = ListWorkflowExecutions::default;
    let table: Vec<(&str, ListWorkflowExecutions, &str, &str)> = vec![
        (
            "empty workflowId",
            ListWorkflowExecutions {
                workflow_id: Some(String::new()),
                ..base()
            },
            "workflowId",
            "must not be empty",
        ),
        (
            "empty name",
            ListWorkflowExecutions {
                name: Some(String::new()),
                ..base()
            },
            "name",
            "must not be empty",
        ),
        (
            "empty nextToken",
            ListWorkflowExecutions {
                next_token: Some(String::new()),
                ..base()
            },
            "nextToken",
            "must not be empty",
        ),
        (
            "empty jobId",
            ListWorkflowExecutions {
                job_id: Some(String::new()),
                ..base()
            },
            "jobId",
            "must not be empty",
        ),
        (
            "name one byte over the object-key limit",
            ListWorkflowExecutions {
                name: Some("n".repeat(851)),
                ..base()
            },
            "name",
            "at most 850 bytes, got 851 bytes",
        ),
        (
            "workflowId of 66 KB",
            ListWorkflowExecutions {
                workflow_id: Some("w".repeat(66_000)),
                ..base()
            },
            "workflowId",
            "at most 128 bytes",
        ),
        (
            "nextToken of 66 KB",
            ListWorkflowExecutions {
                next_token: Some("t".repeat(66_000)),
                ..base()
            },
            "nextToken",
            "at most 1024 bytes",
        ),
        (
            "jobId too long",
            ListWorkflowExecutions {
                job_id: Some("j".repeat(129)),
                ..base()
            },
            "jobId",
            "at most 128 bytes",
        ),
        (
            "empty states",
            ListWorkflowExecutions {
                states: Some(BTreeSet::new()),
                ..base()
            },
            "states",
            "at least one value",
        ),
        (
            "start after end",
            ListWorkflowExecutions {
                start_creation_time: Some(ts("2022-08-09T14:00:01+0800")),
                end_creation_time: Some(ts("2022-08-09T06:00:00Z")),
                ..base()
            },
            "startCreationTime",
            "must not be after endCreationTime",
        ),
    ];
    for (case, request, parameter, rule) in table {
        let error = request.validate().expect_err(case);
        assert_eq!(error.parameter, parameter, "{case}");
        assert!(error.rule.contains(rule), "{case}: {}", error.rule);
        assert!(
            error
                .to_string()
                .starts_with(&format!("invalid parameter `{parameter}`: "))
        );
        assert_eq!(
            CiAction::validate(&request),
            Err(error),
            "{case}: trait agrees"
        );
    }
    // Equal bounds are a valid one-second window; other combinations are fine.
    let ok = [
        ListWorkflowExecutions {
            start_creation_time: Some(ts("2022-08-09T14:00:00+0800")),
            end_creation_time: Some(ts("2022-08-09T06:00:00Z")),
            ..base()
        },
        ListWorkflowExecutions {
            states: Some(BTreeSet::from([StateFilter::All])),
            ..base()
        },
        list_request_with_every_parameter(),
        base(),
        // Each length limit itself is allowed (multi-byte names count bytes).
        ListWorkflowExecutions {
            name: Some("视".repeat(283)),
            workflow_id: Some("w".repeat(128)),
            job_id: Some("j".repeat(128)),
            next_token: Some("t".repeat(1024)),
            ..base()
        },
    ];
    for request in ok {
        assert_eq!(request.validate(), Ok(()), "{request:?}");
    }
}

#[test]
fn decodes_what_the_official_python_sdk_sends() {
    // Python always sends these, with empty strings for unset values.
    let wire = "workflowId=w1&name=&orderByTime=Desc&states=All&size=10&nextToken=";
    let request = from_wire_query(wire).unwrap();
    assert_eq!(
        request,
        ListWorkflowExecutions {
            workflow_id: Some("w1".to_owned()),
            order: Some(Order::Desc),
            states: Some(BTreeSet::from([StateFilter::All])),
            size: Some(PageSize::new(10).unwrap()),
            ..Default::default()
        }
    );
}

#[test]
fn decodes_both_offset_forms_and_keeps_plus_literal() {
    let plain = "startCreationTime=2022-08-09T14%3A00%3A00%2B0800";
    let colon = "startCreationTime=2022-08-09T14:00:00%2B08:00";
    let a = from_wire_query(plain).unwrap();
    let b = from_wire_query(colon).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.start_creation_time.unwrap().offset_seconds(), 8 * 3600);
    // A raw `+` is a literal plus (never a space): here it is a valid offset.
    let raw_plus = from_wire_query("startCreationTime=2022-08-09T14:00:00+0800");
    assert_eq!(raw_plus.unwrap(), b);
    let name = from_wire_query("name=a+b%20c").unwrap();
    assert_eq!(name.name.as_deref(), Some("a+b c"));
}

#[test]
fn query_errors() {
    let table: Vec<(&str, QueryError)> = vec![
        ("bogus=1", QueryError::UnknownParameter("bogus".to_owned())),
        (
            "workflowid=w1",
            QueryError::UnknownParameter("workflowid".to_owned()),
        ),
        (
            "size=10&size=20",
            QueryError::DuplicateParameter("size".to_owned()),
        ),
        (
            "name=&name=a",
            QueryError::DuplicateParameter("name".to_owned()),
        ),
        (
            "name=%zz",
            QueryError::BadEncoding {
                near: "name=%zz".to_owned(),
            },
        ),
        (
            "name=%4",
            QueryError::BadEncoding {
                near: "name=%4".to_owned(),
            },
        ),
        (
            "name=%FF",
            QueryError::BadEncoding {
                near: "name=%FF".to_owned(),
            },
        ),
        (
            "size=0",
            invalid("size", "must be between 1 and 100, got 0"),
        ),
        (
            "size=101",
            invalid("size", "must be between 1 and 100, got 101"),
        ),
        (
            "size=99999999999999",
            invalid("size", "must be between 1 and 100, got 4294967295"),
        ),
        (
            "size=ten",
            invalid("size", "must be an integer between 1 and 100, got `ten`"),
        ),
        (
            "size=-1",
            invalid("size", "must be an integer between 1 and 100, got `-1`"),
        ),
        (
            "size=%2B5",
            invalid("size", "must be an integer between 1 and 100, got `+5`"),
        ),
        (
            "orderByTime=desc",
            invalid(
                "orderByTime",
                "unknown value `desc`; expected one of Desc, Asc",
            ),
        ),
        (
            "states=Success,Bogus",
            invalid(
                "states",
                "unknown value `Bogus`; expected one of All, Success, Failed, Running, Cancel",
            ),
        ),
        (
            "states=Success,,Failed",
            invalid("states", "has an empty item in its comma-separated list"),
        ),
        (
            "states=%2C",
            invalid("states", "has an empty item in its comma-separated list"),
        ),
    ];
    for (wire, expected) in table {
        assert_eq!(from_wire_query(wire), Err(expected), "{wire}");
    }
    match from_wire_query("endCreationTime=yesterday") {
        Err(QueryError::Invalid(error)) => {
            assert_eq!(error.parameter, "endCreationTime");
            assert!(
                error.rule.contains("invalid timestamp `yesterday`"),
                "{}",
                error.rule
            );
        }
        other => panic!("{other:?}"),
    }
    match from_wire_query(
        "startCreationTime=2022-08-10T00%3A00%3A00Z&endCreationTime=2022-08-09T00%3A00%3A00Z",
    ) {
        Err(QueryError::Invalid(error)) => assert_eq!(error.parameter, "startCreationTime"),
        other => panic!("{other:?}"),
    }
}

/// Both listings over a creation-time range take their order, bounds,
/// size and token from the one paging style: sent after the action's own
/// parameters, the range checked, read and set through `TimeWindowed`.
#[test]
fn listings_by_creation_time_share_their_paging_parameters() {
    let created = ts("2022-08-09T14:00:00+0800");
    creation_time_listing(
        ListWorkflowExecutions {
            workflow_id: Some("w1".to_owned()),
            ..Default::default()
        },
        "workflowId=w1",
        WorkflowExecution {
            run_id: "r1".to_owned(),
            create_time: Some(created.clone()),
            ..Default::default()
        },
    );
    creation_time_listing(
        ListJobs {
            tag: "Transcode".to_owned(),
            ..Default::default()
        },
        "tag=Transcode",
        JobDetail {
            job_id: "r1".to_owned(),
            creation_time: Some(created),
            ..Default::default()
        },
    );
}

fn creation_time_listing<A: TimeWindowed + PartialEq + std::fmt::Debug>(
    mut request: A,
    own: &str,
    item: A::Item,
) {
    let (early, late) = (
        ts("2022-08-09T14:00:00+0800"),
        ts("2022-08-10T14:00:00+0800"),
    );
    assert_eq!(request.order(), Order::Desc, "the service's default");
    assert_eq!(request.creation_bounds(), (None, None));
    request.set_order(Order::Asc);
    request.set_creation_bounds(Some(early.clone()), Some(late.clone()));
    request.set_page_size(100);
    request.set_cursor(Some(Cursor::Token("t1".to_owned())));
    assert_eq!(request.order(), Order::Asc);
    assert_eq!(request.creation_bounds(), (Some(&early), Some(&late)));
    let wire = request.wire_query();
    assert_eq!(
        wire,
        format!(
            "{own}&orderByTime=Asc&startCreationTime=2022-08-09T14%3A00%3A00%2B0800\
             &endCreationTime=2022-08-10T14%3A00%3A00%2B0800&size=100&nextToken=t1"
        )
    );
    assert_eq!(A::from_wire(A::PATH, &wire, b"").unwrap(), request);
    assert_eq!(A::item_time(&item), Some(&early));
    assert_eq!(A::item_id(&item), "r1");

    request.set_creation_bounds(Some(late), Some(early));
    assert_eq!(
        request.validate(),
        Err(ValidationError {
            parameter: "startCreationTime",
            rule: "must not be after endCreationTime \
                   (2022-08-10T14:00:00+0800 is after 2022-08-09T14:00:00+0800)"
                .into(),
        })
    );
}

fn invalid(parameter: &'static str, rule: &str) -> QueryError {
    QueryError::Invalid(ValidationError {
        parameter,
        rule: rule.to_owned(),
    })
}

/// The splitting itself is the sign crate's (its unit tests pin these same
/// cases); this crate's functions must give exactly what it gives.
#[test]
fn decode_query_splits_and_decodes() {
    assert_eq!(decode_query(""), Ok(vec![]));
    let wire = "a=1&&b&c=&d=x%3Dy=z&";
    assert_eq!(
        decode_query(wire),
        Ok(cos_ci_sign::decode_query(wire).unwrap())
    );
    assert_eq!(decode_query(wire).unwrap().len(), 4);
    assert_eq!(encode_query(&[("k y", "v/~+%")]), "k%20y=v%2F~%2B%25");
    assert_eq!(encode_query::<&str, &str>(&[]), "");
}

fn arb_text() -> impl Strategy<Value = String> {
    // Unicode names plus the characters that encoders get wrong.
    proptest::string::string_regex("[a-zA-Z0-9 +/%~&=?#,;:@!*'()\\-_.中文游戏🎬é]{1,24}").unwrap()
}

fn arb_timestamp() -> impl Strategy<Value = CiTimestamp> {
    (
        -2_000_000_000i64..4_000_000_000,
        -(23 * 60 + 59)..=(23 * 60 + 59),
    )
        .prop_map(|(unix, offset_minutes)| {
            CiTimestamp::from_unix(unix, offset_minutes * 60).unwrap()
        })
}

fn arb_request() -> impl Strategy<Value = ListWorkflowExecutions> {
    (
        (
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
            proptest::option::of(prop_oneof![Just(Order::Desc), Just(Order::Asc)]),
            proptest::option::of((1u32..=100).prop_map(|n| PageSize::new(n).unwrap())),
            proptest::option::of(proptest::collection::btree_set(
                proptest::sample::select(StateFilter::ALL.to_vec()),
                1..=5,
            )),
        ),
        (
            proptest::option::of(arb_timestamp()),
            proptest::option::of(arb_timestamp()),
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
        ),
    )
        .prop_map(
            |((workflow_id, name, order, size, states), (start, end, next_token, job_id))| {
                // Keep the window valid: order the two bounds.
                let (start_creation_time, end_creation_time) = match (start, end) {
                    (Some(a), Some(b)) if a.unix_seconds() > b.unix_seconds() => (Some(b), Some(a)),
                    other => other,
                };
                ListWorkflowExecutions {
                    workflow_id,
                    name,
                    order,
                    size,
                    states,
                    start_creation_time,
                    end_creation_time,
                    next_token,
                    job_id,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_of_encode_is_identity(request in arb_request()) {
        prop_assert_eq!(request.validate(), Ok(()));
        let wire = request.wire_query();
        // Only unreserved characters, `%XX`, `=` and `&` may appear on the wire.
        prop_assert!(wire.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b)), "{}", wire);
        let decoded = from_wire_query(&wire);
        prop_assert_eq!(decoded, Ok(request));
    }

    #[test]
    fn decoding_arbitrary_queries_never_panics(wire in "[a-zA-Z=&%+0-9,:T-]{0,64}") {
        let _ = from_wire_query(&wire);
    }
}
