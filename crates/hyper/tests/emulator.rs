//! cos-ci-hyper against the real emulator on 127.0.0.1: paging, retries
//! through injected faults, typed auth errors, timeouts and the body cap.

use std::collections::HashSet;
use std::time::Duration;

use cos_ci_client::{Credentials, Error, PagingOptions, RetryPolicy, TransportErrorKind};
use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig, ExecutionRecord, FaultConfig,
    FaultKind,
};
use cos_ci_hyper::{HyperClient, TransportOptions};
use cos_ci_proto::{
    CiTimestamp, DescribeWorkflowExecution, JobState, ListWorkflowExecutions,
    ListWorkflowExecutionsOutput, PageSize, WorkflowTask,
};

mod common;
use common::{TraceLog, config_at, config_for, default_credentials, run_ids, serve, start};

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

fn page_of(size: u32) -> ListWorkflowExecutions {
    ListWorkflowExecutions {
        size: Some(PageSize::new(size).unwrap()),
        ..Default::default()
    }
}

/// The first page of `size` executions, which must be full.
async fn full_page(client: &HyperClient, size: u32) -> ListWorkflowExecutionsOutput {
    let page = client
        .list_workflow_executions(page_of(size))
        .await
        .unwrap();
    assert_eq!(page.executions.len(), size as usize);
    page
}

async fn all_run_ids(
    client: &HyperClient,
    request: ListWorkflowExecutions,
) -> Result<Vec<String>, Error> {
    run_ids(client.list_all_workflow_executions(request, PagingOptions::all())).await
}

fn assert_exactly(ids: &[String], dataset: &Dataset) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an execution was listed twice");
    let expected: HashSet<&String> = dataset.records().iter().map(|r| &r.run_id).collect();
    assert_eq!(unique, expected, "listed set differs from the dataset");
}

#[tokio::test]
async fn one_page_then_every_page_of_thousands() {
    let dataset = Dataset::generate(3_000, 11);
    let (emu, client) = serve(dataset.clone()).await;

    let page = full_page(&client, 10).await;
    assert!(page.next_token.is_some());
    assert!(page.request_id.is_some());

    let ids = all_run_ids(&client, page_of(100)).await.unwrap();
    assert_eq!(ids.len(), 3_000);
    assert_exactly(&ids, &dataset);
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_returns_the_tasks_of_listed_executions() {
    let dataset = Dataset::generate(200, 12);
    let (emu, client) = serve(dataset.clone()).await;

    let page = full_page(&client, 40).await;
    for listed in &page.executions {
        let output = client
            .execute(DescribeWorkflowExecution {
                run_id: listed.run_id.clone(),
            })
            .await
            .unwrap();
        assert!(output.request_id.is_some());
        let detail = output.execution;
        assert_eq!(
            (
                &detail.run_id,
                &detail.workflow_id,
                &detail.object,
                &detail.state
            ),
            (
                &listed.run_id,
                &listed.workflow_id,
                &listed.object,
                &listed.state
            )
        );
        assert_eq!(
            detail.create_time.as_ref().map(CiTimestamp::as_str),
            listed.create_time.as_ref().map(CiTimestamp::as_str)
        );
        assert!(!detail.tasks.is_empty(), "{detail:?}");
        assert!(detail.tasks.iter().all(|task| task.job_id.is_some()));
        assert!(detail.topology.is_some());
    }

    // A run id that needs encoding, with tasks given as data.
    let mut record = dataset.records()[0].clone();
    record.run_id = "run 1+ü".to_owned();
    let task = WorkflowTask {
        task_type: "Transcode".into(),
        job_id: Some("j1".into()),
        create_time: Some(CiTimestamp::parse("2026-01-05T10:00:00+0800").unwrap()),
        name: "Transcode_1".into(),
        state: JobState::Failed,
        start_time: None,
        end_time: None,
        code: Some("InvalidInput".into()),
        message: Some("the input file has no video stream".into()),
    };
    record.details = Some(Box::new(cos_ci_emulator::ExecutionDetails {
        tasks: Some(vec![task.clone()]),
        ..Default::default()
    }));
    emu.insert(record.clone());
    let output = client
        .execute(DescribeWorkflowExecution {
            run_id: record.run_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(output.execution.run_id, record.run_id);
    assert_eq!(output.execution.tasks, [task]);

    let error = client
        .execute(DescribeWorkflowExecution {
            run_id: "i-no-such-run".into(),
        })
        .await
        .unwrap_err();
    let service = error
        .service_error()
        .unwrap_or_else(|| panic!("not a service error: {error}"));
    assert_eq!(
        (service.status, service.code.as_deref()),
        (400, Some("ResourceNotFound"))
    );
    assert!(!error.is_retryable());
    emu.shutdown().await;
}

#[tokio::test]
async fn filters_and_limits_travel_intact() {
    let dataset = Dataset::generate(1_000, 5);
    let (emu, client) = serve(dataset.clone()).await;

    let records = dataset.records();
    let first = &records[0];
    let count =
        |matches: &dyn Fn(&&ExecutionRecord) -> bool| records.iter().filter(matches).count();
    for (request, expected) in [
        (
            ListWorkflowExecutions {
                workflow_id: Some(first.workflow_id.clone()),
                ..page_of(7)
            },
            count(&|r| r.workflow_id == first.workflow_id),
        ),
        // Object keys with spaces and non-ASCII survive encoding and signing.
        (
            ListWorkflowExecutions {
                name: Some(first.object.clone()),
                ..page_of(100)
            },
            count(&|r| r.object == first.object),
        ),
    ] {
        let listed = all_run_ids(&client, request.clone()).await.unwrap();
        assert_eq!(listed.len(), expected, "{request:?}");
    }

    let limited =
        client.list_all_workflow_executions(page_of(100), cos_ci_client::PagingOptions::limit(250));
    assert_eq!(run_ids(limited).await.unwrap().len(), 250);
    emu.shutdown().await;
}

#[tokio::test]
async fn ten_thousand_through_twenty_percent_faults_exactly_once() {
    let faults = FaultConfig {
        rate: 0.2,
        kinds: FaultKind::ALL.to_vec(),
    };
    let dataset = Dataset::generate(10_000, 3);
    listed_exactly_once_through(faults, 99, dataset, quick_retries(), 100).await;
}

#[tokio::test]
async fn cut_bodies_and_closed_connections_mid_page_lose_nothing() {
    let faults = FaultConfig {
        rate: 0.4,
        kinds: vec![FaultKind::TruncateBody, FaultKind::CloseConnection],
    };
    let retry = RetryPolicy {
        max_attempts: 20,
        ..quick_retries()
    };
    listed_exactly_once_through(faults, 7, Dataset::generate(2_000, 8), retry, 50).await;
}

/// Every execution of `dataset`, listed `page` at a time by a client
/// retrying with `retry` through `faults` (drawn from `seed`), comes out
/// exactly once.
async fn listed_exactly_once_through(
    faults: FaultConfig,
    seed: u64,
    dataset: Dataset,
    retry: RetryPolicy,
    page: u32,
) {
    let emu = start(EmulatorConfig {
        dataset: dataset.clone(),
        faults,
        seed,
        ..Default::default()
    })
    .await;
    let client = HyperClient::new(config_for(&emu, default_credentials()).with_retry_policy(retry));
    let ids = all_run_ids(&client, page_of(page)).await.unwrap();
    assert_exactly(&ids, &dataset);
    emu.shutdown().await;
}

#[tokio::test]
async fn auth_failures_surface_as_typed_service_errors() {
    let emu = start(EmulatorConfig {
        dataset: Dataset::generate(10, 1),
        session_token: Some("emulator-session-token".into()),
        ..Default::default()
    })
    .await;
    let cases = [
        (
            Credentials::new(DEFAULT_SECRET_ID, "wrong-key")
                .with_session_token("emulator-session-token"),
            403,
            "AccessDenied",
        ),
        (
            Credentials::new("AKIDunknown", DEFAULT_SECRET_KEY)
                .with_session_token("emulator-session-token"),
            401,
            "SecretidNotExist",
        ),
        (default_credentials(), 0, ""),
        (
            default_credentials().with_session_token("another-token"),
            0,
            "",
        ),
    ];
    for (credentials, status, code) in cases {
        let client = HyperClient::new(config_for(&emu, credentials));
        let error = client
            .list_workflow_executions(page_of(10))
            .await
            .unwrap_err();
        let service = error
            .service_error()
            .unwrap_or_else(|| panic!("not a service error: {error}"));
        if status != 0 {
            assert_eq!(
                (service.status, service.code.as_deref()),
                (status, Some(code)),
                "{error}"
            );
        } else {
            // A missing or wrong token is refused with a 4xx CI error.
            assert!((400..500).contains(&service.status), "{error}");
        }
        assert!(service.request_id.is_some(), "{error}");
        assert!(!error.is_retryable());
    }
    let good = HyperClient::new(config_for(
        &emu,
        default_credentials().with_session_token("emulator-session-token"),
    ));
    full_page(&good, 10).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn a_skewed_clock_is_corrected_from_the_date_header() {
    let (emu, client) = serve(Dataset::generate(5, 1)).await;
    // Pretend our clock runs two hours slow.
    client.client().set_clock_offset_secs(-7_200);
    let page = client.list_workflow_executions(page_of(10)).await.unwrap();
    assert_eq!(page.executions.len(), 5);
    assert!(client.client().clock_offset_secs().abs() < 5);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_clearly() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, read nothing, answer nothing
        }
    });
    let config = config_at(&format!("http://{address}"), default_credentials()).with_retry_policy(
        RetryPolicy {
            max_attempts: 2,
            ..quick_retries()
        },
    );
    let options = TransportOptions {
        request_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let client = HyperClient::with_options(config, options);
    match client.list_workflow_executions(page_of(10)).await {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind, TransportErrorKind::Timeout);
            assert!(
                e.to_string().contains("no complete response within 300ms"),
                "{e}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    silent.abort();
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let config = config_at(cos_ci_testkit::closed_port_url(), default_credentials())
        .with_retry_policy(RetryPolicy {
            max_attempts: 2,
            ..quick_retries()
        });
    match HyperClient::new(config)
        .list_workflow_executions(page_of(10))
        .await
    {
        Err(Error::Transport(e)) => assert_eq!(e.kind, TransportErrorKind::Connect),
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_not_buffered_or_retried() {
    let emu = start(EmulatorConfig {
        dataset: Dataset::generate(200, 2),
        ..Default::default()
    })
    .await;
    let options = TransportOptions {
        max_response_bytes: 2_048,
        ..Default::default()
    };
    let client = HyperClient::with_options(config_for(&emu, default_credentials()), options);
    // The service answered: its status and request id are kept (only the
    // first bytes of the body were read).
    match client.list_workflow_executions(page_of(100)).await {
        Err(error @ Error::ResponseTooLarge { cap: 2_048, .. }) => {
            let Error::ResponseTooLarge { answer, .. } = &error else {
                unreachable!()
            };
            assert_eq!(answer.status, 200);
            assert!(error.request_id().is_some_and(|id| !id.is_empty()));
            assert!(error.is_answer());
            assert!(
                answer
                    .body_excerpt
                    .as_deref()
                    .is_some_and(|excerpt| excerpt.starts_with("<Response>")),
                "{answer:?}"
            );
        }
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    // A small page still fits.
    assert!(client.list_workflow_executions(page_of(2)).await.is_ok());
    emu.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn tracing_at_trace_level_never_records_secrets() {
    const TOKEN: &str = "very-secret-session-token";
    let emu = start(EmulatorConfig {
        dataset: Dataset::generate(30, 1),
        session_token: Some(TOKEN.into()),
        faults: FaultConfig {
            rate: 0.5,
            kinds: vec![FaultKind::ServiceUnavailable503],
        },
        ..Default::default()
    })
    .await;
    let (log, _guard) = TraceLog::capture();

    let config = config_for(&emu, default_credentials().with_session_token(TOKEN))
        .with_retry_policy(quick_retries());
    let client = HyperClient::new(config);
    assert_eq!(all_run_ids(&client, page_of(10)).await.unwrap().len(), 30);
    let bad = HyperClient::new(config_for(
        &emu,
        Credentials::new(DEFAULT_SECRET_ID, "nope"),
    ));
    let error = bad.list_workflow_executions(page_of(10)).await.unwrap_err();

    let log = log.text();
    assert!(log.contains("ci.request"), "spans were recorded: {log}");
    for secret in [DEFAULT_SECRET_KEY, TOKEN, "nope"] {
        assert!(!log.contains(secret), "secret leaked into tracing output");
        assert!(!format!("{error} {error:?} {client:?}").contains(secret));
    }
    assert!(
        !log.contains("q-signature"),
        "Authorization values are not logged"
    );
    emu.shutdown().await;
}
