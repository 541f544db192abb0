//! Workflows, jobs and queues over real HTTP on 127.0.0.1: every route
//! end to end with signed calls of the typed actions (`cos_ci_testkit::call`),
//! and CI's errors for what the emulator refuses.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use cos_ci_client::Credentials;
use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig, MAX_BODY_BYTES,
};
use cos_ci_proto::{
    ActivateWorkflow, CancelJob, CiAction, CreateJobs, CreateWorkflow, DeleteWorkflow,
    DescribeJobs, DescribeWorkflowExecution, JobDetail, JobRequest, JobState, JobStateFilter,
    ListJobs, ListQueues, ListWorkflows, MediaQueue, Order, PageSize, PauseWorkflow, QueueCategory,
    QueueState, QueueStateFilter, ResponseError, ServiceError, TriggerWorkflow, UpdateWorkflow,
    WorkflowRequest, WorkflowState, XmlDocument, XmlTree,
};
use cos_ci_testkit::{call, emulator_client, fixture, send};

fn credentials() -> Credentials {
    Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
}

async fn ok<A: CiAction>(addr: SocketAddr, action: &A) -> A::Output {
    match call(addr, credentials(), action).await {
        Ok(output) => output,
        Err(error) => panic!("{} refused: {error}", A::NAME),
    }
}

/// The service error a call gets (it must get one).
async fn refused<A: CiAction>(addr: SocketAddr, action: &A) -> ServiceError {
    match call(addr, credentials(), action).await {
        Err(ResponseError::Service(error)) => error,
        Err(other) => panic!("{} malformed: {other}", A::NAME),
        Ok(_) => panic!("{} was served", A::NAME),
    }
}

fn code(error: &ServiceError) -> (u16, &str) {
    (error.status, error.code.as_deref().unwrap_or(""))
}

/// Assert that `error` is CI's `expected` (status, `Code`) and that its
/// message mentions `needle`.
#[track_caller]
fn assert_refusal(error: &ServiceError, expected: (u16, &str), needle: &str) {
    assert_eq!(code(error), expected, "{error:?}");
    common::assert_mentions(error, needle);
}

/// The job `job_id`, described alone (it must exist).
async fn describe_job(addr: SocketAddr, job_id: &str) -> JobDetail {
    ok(
        addr,
        &DescribeJobs {
            job_ids: vec![job_id.to_owned()],
        },
    )
    .await
    .jobs
    .remove(0)
}

/// `action` signed as the client signs it, sent with `body` in place of
/// its own (only `Content-Type` is signed, not the body).
async fn with_body<A: CiAction>(addr: SocketAddr, action: &A, body: Vec<u8>) -> ServiceError {
    let request = emulator_client(addr, credentials())
        .prepare(action, std::time::SystemTime::now())
        .expect("a valid action");
    let (parts, _) = request.into_parts();
    let response = send(addr, http::Request::from_parts(parts, Bytes::from(body))).await;
    assert_ne!(response.status(), 200, "{:?}", response.body());
    ServiceError::from_response(response.status(), response.headers(), response.body())
}

fn definition(name: &str) -> WorkflowRequest {
    let mut request = WorkflowRequest::from_xml(fixture("create_workflow_request.xml").as_bytes())
        .expect("the fixture parses");
    request.workflow.name = name.to_owned();
    request.workflow.state = None;
    request
}

/// Assert that `id` has the form of CI's ids: `prefix` and 32 hex digits.
#[track_caller]
fn assert_id(id: &str, prefix: char) {
    assert!(
        id.len() == 33 && id.starts_with(prefix) && id[1..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{id} is not a `{prefix}` id"
    );
}

#[tokio::test]
async fn seeded_workflows_list_by_page_and_agree_with_execution_details() {
    let dataset = Dataset::generate(60, 8);
    let emulator = common::start_quiet(EmulatorConfig {
        dataset: dataset.clone(),
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();

    let all = ok(addr, &ListWorkflows::default()).await;
    assert_eq!(all.total_count, Some(5));
    assert_eq!((all.page_number, all.page_size), (Some(1), Some(10)));
    assert_eq!(all.workflows.len(), 5);
    for record in dataset.records().iter().take(10) {
        let workflow = all
            .workflows
            .iter()
            .find(|workflow| workflow.workflow_id == record.workflow_id)
            .expect("every execution's workflow is listed");
        let detail = ok(
            addr,
            &DescribeWorkflowExecution {
                run_id: record.run_id.clone(),
            },
        )
        .await
        .execution;
        assert_eq!(Some(&workflow.name), detail.workflow_name.as_ref());
        assert_eq!(workflow.topology, detail.topology);
        assert_eq!(workflow.state, WorkflowState::Active);
    }

    // Pages of two: 2, 2, 1, then none; no workflow twice.
    let mut seen = Vec::new();
    for (page, expected) in [(1, 2), (2, 2), (3, 1), (4, 0)] {
        let output = ok(
            addr,
            &ListWorkflows {
                page_number: Some(page),
                page_size: Some(PageSize::new(2).unwrap()),
                ..ListWorkflows::default()
            },
        )
        .await;
        assert_eq!(output.workflows.len(), expected, "page {page}");
        assert_eq!(output.total_count, Some(5));
        seen.extend(output.workflows.into_iter().map(|w| w.workflow_id));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);

    // By ids, the missing ones named; by name.
    let first = &all.workflows[0];
    let output = ok(
        addr,
        &ListWorkflows {
            ids: Some(vec![
                first.workflow_id.clone(),
                "wmissing".into(),
                "A".into(),
            ]),
            ..ListWorkflows::default()
        },
    )
    .await;
    assert_eq!(output.workflows.len(), 1);
    assert_eq!(output.workflows[0].workflow_id, first.workflow_id);
    assert_eq!(output.non_exist_ids, ["wmissing", "A"]);
    let output = ok(
        addr,
        &ListWorkflows {
            name: Some(first.name.clone()),
            ..ListWorkflows::default()
        },
    )
    .await;
    assert!(
        output
            .workflows
            .iter()
            .all(|workflow| workflow.name == first.name)
    );
    assert!(!output.workflows.is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn workflows_are_created_updated_paused_activated_and_deleted() {
    let emulator = common::start_quiet(EmulatorConfig {
        dataset: Dataset::generate(5, 1),
        task_duration: Duration::ZERO,
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();

    let created = ok(
        addr,
        &CreateWorkflow {
            request: definition("转码-flow_1"),
        },
    )
    .await
    .workflow;
    let id = created.workflow_id.clone();
    assert_id(&id, 'w');
    assert_eq!(created.name, "转码-flow_1");
    assert_eq!(created.state, WorkflowState::Active);
    assert_eq!(created.bucket_id.as_deref(), Some(cos_ci_testkit::BUCKET));
    let create_time = created.create_time.clone().expect("CreateTime");
    assert!(create_time.as_str().ends_with("+0800"));
    assert_eq!(created.update_time.as_ref(), Some(&create_time));
    assert!(created.topology.is_some());
    let by_id = ListWorkflows {
        ids: Some(vec![id.clone()]),
        ..ListWorkflows::default()
    };
    let listed = ok(addr, &by_id).await;
    assert_eq!(listed.workflows, std::slice::from_ref(&created));

    let mut renamed = definition("renamed");
    renamed.workflow.state = Some(WorkflowState::Paused);
    let updated = ok(
        addr,
        &UpdateWorkflow {
            workflow_id: id.clone(),
            request: renamed,
        },
    )
    .await
    .workflow;
    assert_eq!(
        (updated.name.as_str(), &updated.state),
        ("renamed", &WorkflowState::Paused)
    );
    assert_eq!(updated.create_time.as_ref(), Some(&create_time));

    let trigger = TriggerWorkflow {
        workflow_id: id.clone(),
        object: "test/a.mp4".into(),
        name: None,
    };
    let activate = ActivateWorkflow {
        workflow_id: id.clone(),
    };
    let pause = PauseWorkflow {
        workflow_id: id.clone(),
    };
    let delete = DeleteWorkflow {
        workflow_id: id.clone(),
    };
    assert_refusal(
        &refused(addr, &trigger).await,
        (400, "InvalidArgument"),
        "paused",
    );

    ok(addr, &activate).await;
    let run = ok(addr, &trigger).await;
    assert_id(&run.instance_id, 'i');
    ok(addr, &pause).await;
    let state = |output: cos_ci_proto::ListWorkflowsOutput| output.workflows[0].state.clone();
    assert_eq!(state(ok(addr, &by_id).await), WorkflowState::Paused);
    ok(addr, &activate).await;
    assert_eq!(state(ok(addr, &by_id).await), WorkflowState::Active);

    let deleted = ok(addr, &delete).await;
    assert_eq!(deleted.workflow_id.as_deref(), Some(id.as_str()));
    // Then it is unknown everywhere; its run stays.
    for error in [
        refused(addr, &trigger).await,
        refused(addr, &delete).await,
        refused(addr, &pause).await,
        refused(
            addr,
            &UpdateWorkflow {
                workflow_id: id.clone(),
                request: definition("again"),
            },
        )
        .await,
    ] {
        assert_refusal(&error, (400, "ResourceNotFound"), &id);
    }
    let listed = ok(addr, &by_id).await;
    assert!(listed.workflows.is_empty());
    assert_eq!(listed.non_exist_ids, std::slice::from_ref(&id));
    let execution = ok(
        addr,
        &DescribeWorkflowExecution {
            run_id: run.instance_id,
        },
    )
    .await;
    assert_eq!(execution.execution.workflow_id, id);
    emulator.shutdown().await;
}

#[tokio::test]
async fn empty_answers_and_sub_resources() {
    let emulator = common::start_quiet(EmulatorConfig {
        dataset: Dataset::generate(5, 1),
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();
    let id = ok(addr, &ListWorkflows::default()).await.workflows[0]
        .workflow_id
        .clone();
    // `?paused` answers an empty 200, as CI does.
    let request = emulator_client(addr, credentials())
        .prepare(
            &PauseWorkflow {
                workflow_id: id.clone(),
            },
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert!(request.uri().to_string().ends_with("?paused"));
    let response = send(addr, request).await;
    assert_eq!(response.status(), 200);
    assert!(response.body().is_empty());
    assert_eq!(
        response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    assert!(response.headers().contains_key("x-ci-request-id"));

    // Signed, but without the sub-resource a route needs, or with two.
    let reply = common::signed(addr, "PUT", "/jobs/j1", &[]).await;
    common::assert_error(&reply, 400, "InvalidArgument");
    assert!(reply.body.contains("?cancel"), "{}", reply.body);
    let path = format!("/workflow/{id}");
    let reply = common::signed(addr, "PUT", &path, &[("active", ""), ("paused", "")]).await;
    common::assert_error(&reply, 400, "InvalidArgument");
    assert!(reply.body.contains("paused"), "{}", reply.body);
    // A method no route of the path has.
    let reply = common::signed(addr, "POST", &path, &[]).await;
    assert_eq!(reply.status, 405, "{}", reply.body);
    reply.assert_message_mentions("PUT or DELETE");
    emulator.shutdown().await;
}

#[tokio::test]
async fn bodies_are_checked_as_ci_checks_them() {
    let emulator = common::start_quiet(EmulatorConfig::default()).await;
    let addr = emulator.local_addr();
    let create = CreateWorkflow {
        request: definition("flow"),
    };
    let with_name = |name: &str| {
        fixture("create_workflow_request.xml")
            .replace("<Name>workflow-1</Name>", &format!("<Name>{name}</Name>"))
            .into_bytes()
    };
    for (body, expected, needle) in [
        (Vec::new(), (400, "MissingContent"), "body"),
        (b"<Request><MediaWorkflow>".to_vec(), (400, "InvalidContent"), "body"),
        (b"{\"json\":1}".to_vec(), (400, "InvalidContent"), "body"),
        (with_name("bad name!"), (400, "InvalidArgument"), "Name"),
        (with_name(&"x".repeat(129)), (400, "InvalidArgument"), "Name"),
        (
            fixture("create_workflow_request.xml").replace("<State>Paused</State>", "<State>Asleep</State>").into_bytes(),
            (400, "InvalidArgument"),
            "State",
        ),
        (
            fixture("create_workflow_request.xml")
                .replace("<Start>Transcode_1581665960537</Start>", "<Start>Nowhere_1</Start>")
                .into_bytes(),
            (400, "InvalidArgument"),
            "Topology",
        ),
        (
            fixture("create_workflow_request.xml")
                .replace(
                    "<ObjectPrefix>test/</ObjectPrefix>",
                    "<ObjectPrefix>test/</ObjectPrefix><NotifyConfig><Url>http://example.com/cb</Url></NotifyConfig>",
                )
                .into_bytes(),
            (400, "InvalidArgument"),
            "NotifyConfig.Url",
        ),
        (vec![b' '; MAX_BODY_BYTES + 1], (413, "InvalidContent"), "larger"),
    ] {
        assert_refusal(&with_body(addr, &create, body).await, expected, needle);
    }
    // The longest name and Chinese pass.
    let output = ok(
        addr,
        &CreateWorkflow {
            request: definition(&"工".repeat(128)),
        },
    )
    .await;
    assert_eq!(output.workflow.name.chars().count(), 128);
    emulator.shutdown().await;
}

fn job_request(object: &str) -> JobRequest {
    let mut request = cos_ci_testkit::transcode_job(
        object,
        "t1460606b9752148c4ab182f55163ba7cd",
        "output/${InputName}.mp4",
    );
    request.operation.user_data = Some("This is my data.".into());
    request
}

/// The job [`job_request`] makes for `object`, submitted (it must be
/// accepted), as the submission answers it.
async fn submit(addr: SocketAddr, object: &str) -> JobDetail {
    ok(
        addr,
        &CreateJobs {
            request: job_request(object),
        },
    )
    .await
    .job
}

#[tokio::test]
async fn jobs_are_submitted_described_cancelled_and_listed() {
    let emulator = common::start_quiet(EmulatorConfig {
        task_duration: Duration::from_secs(60),
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();

    let submitted = submit(addr, "input/demo.mp4").await;
    let job_id = submitted.job_id.clone();
    assert_id(&job_id, 'j');
    assert_eq!(submitted.state, JobState::Submitted);
    assert_eq!(submitted.progress, Some(0));
    assert_eq!(submitted.tag, "Transcode");
    assert_eq!(submitted.start_time, None);
    let queue_id = submitted.queue_id.clone().expect("the default queue");
    assert_id(&queue_id, 'p');
    let operation = submitted.operation.as_ref().unwrap();
    assert_eq!(operation.user_data.as_deref(), Some("This is my data."));
    assert!(operation.template_name.is_some());
    assert!(
        submitted
            .creation_time
            .as_ref()
            .unwrap()
            .as_str()
            .ends_with("+0800")
    );

    // Described alone and with unknown ids.
    let described = ok(
        addr,
        &DescribeJobs {
            job_ids: vec![job_id.clone(), "jnope".into()],
        },
    )
    .await;
    assert_eq!(described.jobs.len(), 1);
    assert_eq!(described.jobs[0].job_id, job_id);
    assert_eq!(described.missing_ids(), ["jnope"]);

    // Not started yet (a quarter of a minute): it cancels, once.
    let cancel = CancelJob {
        job_id: job_id.clone(),
    };
    ok(addr, &cancel).await;
    let cancelled = describe_job(addr, &job_id).await;
    assert_eq!(cancelled.state, JobState::Cancel);
    assert!(cancelled.end_time.is_some());
    let error = refused(addr, &cancel).await;
    assert_eq!(code(&error), (400, "InvalidArgument"), "{error:?}");
    let error = refused(
        addr,
        &CancelJob {
            job_id: "j0000".into(),
        },
    )
    .await;
    assert_eq!(code(&error), (400, "ResourceNotFound"), "{error:?}");

    // 24 more, then every filter and token paging.
    for index in 0..24 {
        let object = if index % 2 == 0 {
            "in/a.mp4"
        } else {
            "in/b.mp4"
        };
        submit(addr, object).await;
    }
    let mut listed = Vec::new();
    let mut request = ListJobs {
        tag: "Transcode".into(),
        size: Some(PageSize::new(10).unwrap()),
        order: Some(Order::Asc),
        ..ListJobs::default()
    };
    let mut pages = 0;
    loop {
        let page = ok(addr, &request).await;
        pages += 1;
        listed.extend(page.jobs.into_iter().map(|job| job.job_id));
        match page.next_token {
            Some(token) => request.next_token = Some(token),
            None => break,
        }
    }
    assert_eq!((pages, listed.len()), (3, 25));
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25);
    let base = ListJobs {
        tag: "Transcode".into(),
        ..ListJobs::default()
    };
    // Each filter, on one page large enough for every job.
    let all = ListJobs {
        size: Some(PageSize::new(100).unwrap()),
        ..base.clone()
    };
    let creation = submitted.creation_time.unwrap();
    let before =
        cos_ci_proto::CiTimestamp::from_unix(creation.unix_seconds() - 1, 8 * 3600).unwrap();
    for (filtered, expected) in [
        (
            ListJobs {
                input_object: Some("in/a.mp4".into()),
                ..all.clone()
            },
            12,
        ),
        (
            ListJobs {
                queue_id: Some(queue_id.clone()),
                ..all.clone()
            },
            25,
        ),
        (
            ListJobs {
                queue_id: Some("pother".into()),
                ..all.clone()
            },
            0,
        ),
        (
            ListJobs {
                states: Some([JobStateFilter::Cancel].into()),
                ..all.clone()
            },
            1,
        ),
        (
            ListJobs {
                states: Some([JobStateFilter::Submitted, JobStateFilter::Running].into()),
                ..all.clone()
            },
            24,
        ),
        (
            ListJobs {
                tag: "Snapshot".into(),
                ..all.clone()
            },
            0,
        ),
        (
            ListJobs {
                workflow_id: Some("wnone".into()),
                ..all.clone()
            },
            0,
        ),
        (
            ListJobs {
                start_creation_time: Some(creation),
                ..all.clone()
            },
            25,
        ),
        (
            ListJobs {
                end_creation_time: Some(before),
                ..all.clone()
            },
            0,
        ),
    ] {
        let count = ok(addr, &filtered).await.jobs.len();
        assert_eq!(count, expected, "{filtered:?}");
    }
    // Newest first by default.
    let newest = ok(addr, &base).await.jobs;
    assert_eq!(newest.len(), 10);
    assert_eq!(newest.last().map(|job| &job.job_id), listed.get(15));
    emulator.shutdown().await;
}

#[tokio::test]
async fn job_submissions_ci_refuses() {
    let paused = MediaQueue {
        queue_id: "p00000000000000000000000000000001".into(),
        name: Some("paused".into()),
        state: QueueState::Paused,
        ..MediaQueue::default()
    };
    let emulator = common::start_quiet(EmulatorConfig {
        task_duration: Duration::ZERO,
        queues: vec![paused.clone()],
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();
    let with = |change: &dyn Fn(&mut JobRequest)| {
        let mut request = job_request("in/a.mp4");
        change(&mut request);
        CreateJobs { request }
    };
    for (action, expected, needle) in [
        (
            with(&|r| r.queue_id = Some(paused.queue_id.clone())),
            (403, "QueuePaused"),
            "paused",
        ),
        (
            with(&|r| r.queue_id = Some("pnothere".into())),
            (400, "ResourceNotFound"),
            "pnothere",
        ),
        (
            with(&|r| r.callback = Some("http://callback.demo.com".into())),
            (400, "InvalidArgument"),
            "CallBack",
        ),
        (
            with(&|r| r.callback = Some("https://127.0.0.1/cb".into())),
            (400, "InvalidArgument"),
            "CallBack",
        ),
    ] {
        assert_refusal(&refused(addr, &action).await, expected, needle);
    }
    // `no`, and TDMQ, are accepted.
    ok(addr, &with(&|r| r.callback = Some("no".into()))).await;
    ok(
        addr,
        &with(&|r| {
            r.callback = Some("http://example.com".into());
            r.callback_type = Some("TDMQ".into());
        }),
    )
    .await;
    // The documented sample, as is, names a queue this bucket lacks.
    let sample = JobRequest::from_xml(fixture("create_job_request.xml").as_bytes()).unwrap();
    let error = refused(addr, &CreateJobs { request: sample }).await;
    assert_eq!(code(&error), (400, "ResourceNotFound"), "{error:?}");
    // Server-side rules on a body the client would not send.
    let create = with(&|_| {});
    let body = create
        .request
        .to_xml()
        .replace("</Operation>", "<JobLevel>7</JobLevel></Operation>");
    assert_refusal(
        &with_body(addr, &create, body.into_bytes()).await,
        (400, "InvalidArgument"),
        "JobLevel",
    );

    // With no duration a job ends at once: it succeeds, and cancelling it
    // is refused; a key with `fail` fails.
    let done = ok(addr, &with(&|_| {})).await.job;
    assert_eq!(
        done.state,
        JobState::Submitted,
        "the answer to a submission"
    );
    let error = refused(
        addr,
        &CancelJob {
            job_id: done.job_id.clone(),
        },
    )
    .await;
    assert_refusal(&error, (400, "InvalidArgument"), "Success");
    let job = describe_job(addr, &done.job_id).await;
    assert_eq!((job.state, job.progress), (JobState::Success, Some(100)));
    let result = job
        .operation
        .and_then(|operation| operation.media_result)
        .and_then(|result| result.output_file)
        .expect("MediaResult.OutputFile");
    assert_eq!(result.keys(), ["output/a.mp4"]);
    assert_eq!(result.bucket.as_deref(), Some(cos_ci_testkit::BUCKET));
    let failed = submit(addr, "in/fail-01.mp4").await;
    let failed = describe_job(addr, &failed.job_id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.code.as_deref(), Some("InvalidInput"));
    assert_eq!(
        failed.message.as_deref(),
        Some("the input file has no video stream")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn queues_page_and_filter() {
    let queue = |index: usize, state: QueueState, category: &str| MediaQueue {
        queue_id: format!("p{index:032x}"),
        name: Some(format!("queue-{index}")),
        state,
        category: Some(category.to_owned()),
        ..MediaQueue::default()
    };
    let mut queues: Vec<MediaQueue> = (1..=10)
        .map(|i| queue(i, QueueState::Active, "Transcoding"))
        .collect();
    queues.extend((11..=13).map(|i| queue(i, QueueState::Paused, "Transcoding")));
    queues.push(queue(14, QueueState::Active, "SpeedTranscoding"));
    let emulator = common::start_quiet(EmulatorConfig {
        queues,
        dataset: Dataset::generate(5, 1),
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();
    let list = |request: ListQueues| async move { ok(addr, &request).await };

    // Transcoding by default: the default queue and 13 more.
    let first = list(ListQueues::default()).await;
    assert_eq!(first.total_count, Some(14));
    assert_eq!(first.queues.len(), 10);
    assert_eq!(first.queues[0].name.as_deref(), Some("default"));
    let mut seen = Vec::new();
    for page in 1..=3 {
        let output = list(ListQueues {
            page_number: Some(page),
            page_size: Some(PageSize::new(5).unwrap()),
            ..ListQueues::default()
        })
        .await;
        assert_eq!(output.page_number, Some(page));
        seen.extend(output.queues.into_iter().map(|q| q.queue_id));
    }
    assert_eq!(seen.len(), 14);
    let all = list(ListQueues {
        category: Some(QueueCategory::CateAll),
        ..ListQueues::default()
    })
    .await;
    assert_eq!(all.total_count, Some(15));
    let speed = list(ListQueues {
        category: Some(QueueCategory::SpeedTranscoding),
        ..ListQueues::default()
    })
    .await;
    assert_eq!(speed.queues.len(), 1);
    let paused = list(ListQueues {
        state: Some(QueueStateFilter::Paused),
        ..ListQueues::default()
    })
    .await;
    assert_eq!(paused.total_count, Some(3));
    assert!(paused.queues.iter().all(|q| q.state == QueueState::Paused));
    let by_id = list(ListQueues {
        queue_ids: Some(vec![format!("p{:032x}", 3), "pnope".into()]),
        ..ListQueues::default()
    })
    .await;
    assert_eq!(by_id.queues.len(), 1);
    assert_eq!(by_id.non_exist_pids, ["pnope"]);
    let error = refused(
        addr,
        &ListQueues {
            queue_ids: Some((0..11).map(|i| format!("p{i}")).collect()),
            ..ListQueues::default()
        },
    )
    .await;
    assert_eq!(code(&error), (400, "InvalidArgument"), "{error:?}");
    // The default queue is the one derived topologies start from.
    let default_id = first.queues[0].queue_id.clone();
    let workflows = ok(addr, &ListWorkflows::default()).await;
    for workflow in &workflows.workflows {
        let queue = workflow
            .topology
            .as_ref()
            .and_then(|t| t.child("Nodes"))
            .and_then(|n| n.child("Start"))
            .and_then(|s| s.child("Input"))
            .and_then(|i| i.child("QueueId"))
            .and_then(XmlTree::text);
        assert_eq!(queue, Some(default_id.as_str()));
    }
    emulator.shutdown().await;
}
