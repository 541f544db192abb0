//! Callbacks over real sockets: a tiny HTTP server on 127.0.0.1 receives
//! what the emulator POSTs when a job or a run ends, in XML and in JSON.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use cos_ci_client::Credentials;
use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Emulator, EmulatorConfig, MAX_ATTEMPTS,
    queues_from_ndjson,
};
use cos_ci_proto::schema::XmlDocument;
use cos_ci_proto::{
    CancelJob, CiAction, CreateJobs, CreateWorkflow, JobDetail, JobRequest, JobState,
    TriggerWorkflow, WorkflowDefinition, WorkflowRequest, xml_record,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One POST received.
#[derive(Debug)]
struct Received {
    target: String,
    content_type: String,
    body: String,
}

/// A server on 127.0.0.1 that answers every request with `status` and
/// hands each one over.
async fn receiver(status: u16) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                let mut buffer = [0u8; 4096];
                let (head, length) = loop {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    bytes.extend_from_slice(&buffer[..read]);
                    if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
                        let length = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        bytes.drain(..end + 4);
                        break (head, length);
                    }
                };
                while bytes.len() < length {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&buffer[..read]);
                }
                let answer = format!(
                    "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let mut lines = head.lines();
                let target = lines
                    .next()
                    .and_then(|line| line.split(' ').nth(1))
                    .unwrap_or("")
                    .to_owned();
                assert!(head.starts_with("POST "), "{head}");
                let content_type = lines
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-type")
                            .then(|| value.trim().to_owned())
                    })
                    .unwrap_or_default();
                let _ = sender.send(Received {
                    target,
                    content_type,
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                });
            });
        }
    });
    (addr, received)
}

xml_record! {
    /// `TaskFinish` as sent.
    struct TaskFinish {
        event_name: String = "EventName",
        job: JobDetail = "JobsDetail",
    }
    root = "Response"
}

/// An emulator whose jobs and tasks take `task_duration`, and a receiver
/// for its callbacks.
struct Setup {
    emulator: Emulator,
    addr: SocketAddr,
    receiver: SocketAddr,
    received: mpsc::UnboundedReceiver<Received>,
}

/// The receiver answers every callback with `status`.
async fn setup(status: u16, task_duration: Duration) -> Setup {
    setup_with_queues(status, task_duration, |_| String::new()).await
}

/// As [`setup`], with the queues `queues` writes (as `--queues` NDJSON) for
/// the receiver's port.
async fn setup_with_queues(
    status: u16,
    task_duration: Duration,
    queues: impl FnOnce(u16) -> String,
) -> Setup {
    let (receiver, received) = receiver(status).await;
    let emulator = common::start_quiet(EmulatorConfig {
        task_duration,
        queues: queues_from_ndjson(&queues(receiver.port())).expect("the queues load"),
        ..EmulatorConfig::default()
    })
    .await;
    Setup {
        addr: emulator.local_addr(),
        emulator,
        receiver,
        received,
    }
}

impl Setup {
    /// `path` on the receiver, as `http://127.0.0.1:<port><path>`.
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.receiver.port())
    }

    /// The next callback received.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("a callback within 10 s")
            .expect("the receiver runs")
    }

    /// Assert that no callback comes within `wait`.
    async fn assert_no_more(&mut self, wait: Duration, why: &str) {
        assert!(
            tokio::time::timeout(wait, self.received.recv())
                .await
                .is_err(),
            "{why}"
        );
    }

    /// Assert that no callback comes within `wait`, then stop the emulator.
    async fn finish(mut self, wait: Duration, why: &str) {
        self.assert_no_more(wait, why).await;
        self.emulator.shutdown().await;
    }

    /// Submit `job` and cancel it before it starts (so it is reported at
    /// once); its id.
    async fn submit_and_cancel(&self, job: &CreateJobs) -> String {
        let job_id = ok(self.addr, job).await.job.job_id;
        ok(
            self.addr,
            &CancelJob {
                job_id: job_id.clone(),
            },
        )
        .await;
        job_id
    }
}

async fn ok<A: CiAction>(addr: SocketAddr, action: &A) -> A::Output {
    cos_ci_testkit::call(
        addr,
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
        action,
    )
    .await
    .unwrap_or_else(|error| panic!("{}: {error}", A::NAME))
}

fn job(object: &str, callback: String, format: Option<&str>) -> CreateJobs {
    CreateJobs {
        request: JobRequest {
            callback: Some(callback),
            callback_format: format.map(str::to_owned),
            ..cos_ci_testkit::transcode_job(object, "t1", "out/${InputName}.mp4")
        },
    }
}

#[tokio::test]
async fn a_finished_job_is_reported_in_xml_and_in_json() {
    let mut setup = setup(200, Duration::from_millis(200)).await;
    let addr = setup.addr;

    let url = setup.url("/jobs/done?from=emulator");
    let submitted = ok(addr, &job("in/a.mp4", url, None)).await.job;
    let callback = setup.next().await;
    assert_eq!(callback.target, "/jobs/done?from=emulator");
    assert_eq!(callback.content_type, "application/xml");
    let notice = TaskFinish::from_xml(callback.body.as_bytes())
        .unwrap_or_else(|error| panic!("{error}: {}", callback.body));
    assert_eq!(notice.event_name, "TaskFinish");
    assert_eq!(notice.job.job_id, submitted.job_id);
    assert_eq!(
        (notice.job.state, notice.job.progress),
        (JobState::Success, Some(100))
    );
    assert!(notice.job.end_time.is_some());
    let keys = notice
        .job
        .operation
        .and_then(|o| o.media_result)
        .and_then(|r| r.output_file)
        .map(|f| f.keys());
    assert_eq!(keys, Some(vec!["out/a.mp4".to_owned()]));

    // JSON, localhost, a failed job: every scalar a string.
    let url = format!("http://localhost:{}/cb", setup.receiver.port());
    let failed = ok(addr, &job("in/fail.mp4", url, Some("JSON"))).await.job;
    let callback = setup.next().await;
    assert_eq!(callback.content_type, "application/json");
    let json: Value = serde_json::from_str(&callback.body).unwrap();
    assert_eq!(json["EventName"], "TaskFinish");
    let detail = &json["JobsDetail"];
    assert_eq!(detail["JobId"], failed.job_id.as_str());
    assert_eq!(detail["State"], "Failed");
    assert_eq!(detail["Code"], "InvalidInput");
    assert_eq!(detail["Progress"], "0");
    assert_eq!(detail["Input"]["Object"], "in/fail.mp4");
    assert!(detail["Operation"]["TemplateId"].is_string());
    setup.emulator.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_job_is_reported_at_once() {
    let mut setup = setup(200, Duration::from_secs(600)).await;
    setup
        .submit_and_cancel(&job("in/a.mp4", setup.url("/"), None))
        .await;
    let callback = setup.next().await;
    assert_eq!(callback.target, "/");
    let notice = TaskFinish::from_xml(callback.body.as_bytes()).unwrap();
    assert_eq!(notice.job.state, JobState::Cancel);
    setup
        .finish(
            Duration::from_millis(300),
            "only once: the job's own end never sends a second one",
        )
        .await;
}

/// A two-task workflow whose `Start` notifies `url`; `extra` is added to its
/// `NotifyConfig`, `input` to its `Input`.
fn workflow_with_notify(url: &str, extra: &str, input: &str) -> CreateWorkflow {
    let topology = serde_json::from_str(&format!(
        r#"{{"Dependencies":{{"Start":"Snapshot_1","Snapshot_1":"Transcode_2","Transcode_2":"End"}},
            "Nodes":{{"Start":{{"Type":"Start","Input":{{"ObjectPrefix":"in/"{input},"NotifyConfig":{{"Url":"{url}","Type":"Url"{extra}}}}}}},
                     "Snapshot_1":{{"Type":"Snapshot","Operation":{{"TemplateId":"t1"}}}},
                     "Transcode_2":{{"Type":"Transcode","Operation":{{"TemplateId":"t2"}}}}}}}}"#
    ))
    .unwrap();
    CreateWorkflow {
        request: WorkflowRequest::new(WorkflowDefinition {
            name: "notified".into(),
            state: None,
            topology,
        }),
    }
}

#[tokio::test]
async fn a_finished_run_is_reported_with_its_tasks() {
    let mut setup = setup(200, Duration::from_millis(100)).await;
    let addr = setup.addr;
    let url = setup.url("/workflow");

    // XML, WorkflowFinish only (no Event listed).
    let workflow_id = ok(addr, &workflow_with_notify(&url, "", ""))
        .await
        .workflow
        .workflow_id;
    let trigger = |object: &str| TriggerWorkflow {
        workflow_id: workflow_id.clone(),
        object: object.to_owned(),
        name: None,
    };
    let run_id = ok(addr, &trigger("in/game.mp4")).await.instance_id;
    let callback = setup.next().await;
    assert_eq!(callback.content_type, "application/xml");
    let body = &callback.body;
    for text in [
        "<EventName>WorkflowFinish</EventName>",
        &format!("<RunId>{run_id}</RunId>"),
        &format!("<WorkflowId>{workflow_id}</WorkflowId>"),
        "<WorkflowName>notified</WorkflowName>",
        "<State>Success</State>",
        "<BucketId>examplebucket-1250000000</BucketId>",
        "<Object>in/game.mp4</Object>",
        "<Name>Snapshot_1</Name>",
        "<Name>Transcode_2</Name>",
        "<TemplateId>t2</TemplateId>",
    ] {
        assert!(body.contains(text), "{text} in {body}");
    }
    // CI's callback time form: a space, and `+0800`.
    let create_time = body
        .split("<CreateTime>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap();
    assert!(
        create_time.len() == 24
            && create_time.as_bytes()[10] == b' '
            && create_time.ends_with("+0800"),
        "{create_time}"
    );
    assert_eq!(body.matches("<Tasks>").count(), 2);

    // JSON with TaskFinish too, on a failing key: two tasks reported, then
    // the run, whose one failed task makes it Failed.
    let json_id = ok(
        addr,
        &workflow_with_notify(
            &url,
            r#","ResultFormat":"JSON","Event":"TaskFinish,WorkflowFinish""#,
            "",
        ),
    )
    .await
    .workflow
    .workflow_id;
    let run_id = ok(
        addr,
        &TriggerWorkflow {
            workflow_id: json_id.clone(),
            object: "in/fail.mp4".into(),
            name: None,
        },
    )
    .await
    .instance_id;
    let mut events = Vec::new();
    for _ in 0..3 {
        let callback = setup.next().await;
        assert_eq!(callback.content_type, "application/json");
        events.push(serde_json::from_str::<Value>(&callback.body).unwrap());
    }
    let tasks: Vec<&Value> = events
        .iter()
        .filter(|event| event["EventName"] == "TaskFinish")
        .collect();
    assert_eq!(tasks.len(), 2);
    for task in &tasks {
        assert_eq!(task["JobsDetail"]["Workflow"]["RunId"], run_id.as_str());
        assert_eq!(
            task["JobsDetail"]["Workflow"]["WorkflowId"],
            json_id.as_str()
        );
    }
    let finish = events
        .iter()
        .find(|event| event["EventName"] == "WorkflowFinish")
        .expect("WorkflowFinish");
    let execution = &finish["WorkflowExecution"];
    assert_eq!(execution["RunId"], run_id.as_str());
    assert_eq!(execution["State"], "Failed");
    let run_tasks = execution["Tasks"].as_array().expect("two tasks: an array");
    assert_eq!(run_tasks[0]["State"], "Success");
    assert_eq!(run_tasks[1]["State"], "Failed");
    assert_eq!(run_tasks[1]["Name"], "Transcode_2");
    setup.emulator.shutdown().await;
}

#[tokio::test]
async fn a_failing_receiver_is_tried_a_bounded_number_of_times() {
    let mut setup = setup(500, Duration::ZERO).await;
    ok(setup.addr, &job("in/a.mp4", setup.url("/"), None)).await;
    for _ in 0..MAX_ATTEMPTS {
        setup.next().await;
    }
    setup
        .finish(Duration::from_millis(3500), "no attempt after the last")
        .await;
}

/// Queue `p…0<index>`, `Active`, whose `NotifyConfig` is `config` plus a
/// `Url` to `path` on the receiver at `port`.
fn queue_line(index: u8, port: u16, path: &str, config: &str) -> String {
    format!(
        r#"{{"QueueId":"p{index:032x}","Name":"notify-{index}","State":"Active","NotifyConfig":{{"Url":"http://127.0.0.1:{port}{path}",{config}}}}}"#
    ) + "\n"
}

fn queue_id(index: u8) -> String {
    format!("p{index:032x}")
}

/// `job` submitted into queue `index`.
fn in_queue(index: u8, job: CreateJobs) -> CreateJobs {
    CreateJobs {
        request: JobRequest {
            queue_id: Some(queue_id(index)),
            ..job.request
        },
    }
}

/// A job with no `CallBack` of its own.
fn plain_job(object: &str) -> CreateJobs {
    CreateJobs {
        request: cos_ci_testkit::transcode_job(object, "t1", "out/${InputName}.mp4"),
    }
}

#[tokio::test]
async fn a_notifying_queue_reports_the_jobs_submitted_into_it() {
    let mut setup = setup_with_queues(200, Duration::from_millis(200), |port| {
        [
            queue_line(
                1,
                port,
                "/queue?q=1",
                r#""Event":"TaskFinish,WorkflowFinish","Type":"Url","State":"On","ResultFormat":"JSON""#,
            ),
            queue_line(2, port, "/off", r#""Event":"TaskFinish","State":"Off""#),
            queue_line(3, port, "/no-task", r#""Event":"WorkflowFinish","State":"On""#),
            queue_line(4, port, "/tdmq", r#""Event":"TaskFinish","State":"On","Type":"TDMQ""#),
        ]
        .concat()
    })
    .await;
    let addr = setup.addr;

    // Submitted first, so anything they wrongly sent would come first.
    for silent in [
        in_queue(2, plain_job("in/off.mp4")),
        in_queue(3, plain_job("in/no-task.mp4")),
        in_queue(4, plain_job("in/tdmq.mp4")),
        plain_job("in/default-queue.mp4"),
        in_queue(1, job("in/no.mp4", "no".into(), None)),
    ] {
        ok(addr, &silent).await;
    }
    let submitted = ok(addr, &in_queue(1, plain_job("in/a.mp4"))).await.job;
    let callback = setup.next().await;
    assert_eq!(callback.target, "/queue?q=1");
    assert_eq!(callback.content_type, "application/json");
    let json: Value = serde_json::from_str(&callback.body).unwrap();
    assert_eq!(json["EventName"], "TaskFinish");
    let detail = &json["JobsDetail"];
    assert_eq!(detail["JobId"], submitted.job_id.as_str());
    assert_eq!(detail["QueueId"], queue_id(1).as_str());
    assert_eq!(detail["State"], "Success");
    assert_eq!(detail["Progress"], "100");
    assert_eq!(detail["Input"]["Object"], "in/a.mp4");
    setup
        .assert_no_more(
            Duration::from_millis(500),
            "Off, no TaskFinish, TDMQ, the default queue and `no` send nothing",
        )
        .await;

    // A run's jobs follow their workflow's NotifyConfig, not their queue's:
    // only the run is reported here.
    let workflow_id = ok(
        addr,
        &workflow_with_notify(
            &setup.url("/workflow"),
            "",
            &format!(r#","QueueId":"{}""#, queue_id(1)),
        ),
    )
    .await
    .workflow
    .workflow_id;
    ok(
        addr,
        &TriggerWorkflow {
            workflow_id,
            object: "in/run.mp4".into(),
            name: None,
        },
    )
    .await;
    let callback = setup.next().await;
    assert_eq!(callback.target, "/workflow");
    assert!(
        callback
            .body
            .contains("<EventName>WorkflowFinish</EventName>"),
        "{}",
        callback.body
    );
    setup
        .finish(
            Duration::from_millis(500),
            "the queue's NotifyConfig does not report a run's jobs",
        )
        .await;
}

#[tokio::test]
async fn a_jobs_own_callback_wins_over_its_queues() {
    // Jobs that never end on their own: each is reported when cancelled.
    let mut setup = setup_with_queues(200, Duration::from_secs(600), |port| {
        queue_line(
            1,
            port,
            "/queue",
            r#""Event":"TaskFinish","State":"On","ResultFormat":"JSON""#,
        )
    })
    .await;

    // Its own CallBack (XML by default): there, and only there.
    let own = setup
        .submit_and_cancel(&in_queue(1, job("in/own.mp4", setup.url("/own"), None)))
        .await;
    // No CallBack but a CallBackFormat: the queue's Url in the job's format.
    let formatted = CreateJobs {
        request: JobRequest {
            callback_format: Some("XML".into()),
            ..plain_job("in/formatted.mp4").request
        },
    };
    let formatted = setup.submit_and_cancel(&in_queue(1, formatted)).await;
    // Deliveries run side by side, so in either order.
    let mut received = Vec::new();
    for _ in 0..2 {
        let callback = setup.next().await;
        assert_eq!(callback.content_type, "application/xml");
        let notice = TaskFinish::from_xml(callback.body.as_bytes()).unwrap();
        assert_eq!(notice.job.state, JobState::Cancel);
        received.push((notice.job.job_id, callback.target));
    }
    received.sort();
    let mut expected = vec![(own, "/own".to_owned()), (formatted, "/queue".to_owned())];
    expected.sort();
    assert_eq!(received, expected);
    setup
        .finish(
            Duration::from_millis(500),
            "one notification a job, however many places could take it",
        )
        .await;
}
