//! The `cos-ci-emulator` binary: `--dump`, the first stdout line, serving,
//! and a clean exit on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cos_ci_emulator::Dataset;

const BINARY: &str = env!("CARGO_BIN_EXE_cos-ci-emulator");

/// The binary with `args`, serving: started with its stdout piped, and the
/// address read from its first line.
fn serve(args: &[&str], configure: impl FnOnce(&mut Command)) -> (Child, SocketAddr) {
    let mut command = Command::new(BINARY);
    command.args(args).stdout(Stdio::piped());
    configure(&mut command);
    let mut child = command.spawn().unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let addr = first_line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {first_line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// SIGTERM by pid: the process this test started.
fn sigterm(child: &Child) -> std::process::ExitStatus {
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `--dump` prints the dataset the same flags generate, as
/// `Dataset::generate_with` makes it (`--skew` bunches it).
#[test]
fn dump_prints_the_generated_dataset() {
    let skew = cos_ci_emulator::Skew {
        share: 0.9,
        span: 0.1,
    };
    for (args, expected) in [
        (
            &["--executions", "25", "--seed", "9", "--dump"][..],
            Dataset::generate(25, 9),
        ),
        (
            &[
                "--executions",
                "40",
                "--seed",
                "9",
                "--skew",
                "0.9:0.1",
                "--dump",
            ],
            Dataset::generate_with(40, 9, Some(skew)),
        ),
    ] {
        let text = String::from_utf8(succeeds(args)).unwrap();
        assert_eq!(Dataset::from_ndjson(&text).unwrap(), expected, "{args:?}");
    }
}

/// The binary with `args`, run to a successful end: its stdout.
fn succeeds(args: &[&str]) -> Vec<u8> {
    let output = Command::new(BINARY).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}");
    output.stdout
}

/// The binary with `args` refuses to start: exit code 2, nothing on
/// stdout; what it says on stderr.
fn refused_at_start(args: &[&str]) -> String {
    let output = Command::new(BINARY).args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--faults", "1.5"][..],
        &["--fault-kinds", "teapot"],
        &["--data", "/nonexistent.ndjson"],
        &["--latency", "20"],
        &["--latency", "-1ms"],
        &["--latency-jitter", "2m"],
        &["--skew", "0.9"],
        &["--skew", "1.5:0.1"],
        &["--credential-lifetime", "0"],
        &["--credential-lifetime", "1d"],
        &["--credential-lifetime", "13h"],
        &["--metadata-role", "a/b"],
        &["--workflows", "/nonexistent.ndjson"],
        &["--queues", "/nonexistent.ndjson"],
        &["--task-duration", "soon"],
        &["--task-duration", "-1s"],
    ] {
        refused_at_start(args);
    }
}

/// The bucket and region follow the client's own rules, checked before
/// anything is generated or bound.
#[test]
fn a_bucket_or_region_no_client_could_name_is_refused_at_start() {
    for (args, message) in [
        (
            &["--bucket", "Example"][..],
            "cos-ci-emulator: error: --bucket: invalid bucket `Example`: expected <name>-<appid>, e.g. examplebucket-1250000000\n",
        ),
        (
            &["--bucket", "bucket_x-1250000000"],
            "cos-ci-emulator: error: --bucket: invalid bucket `bucket_x-1250000000`: the name may contain only lower-case letters, digits and '-'\n",
        ),
        (
            &["--region", "ap beijing"],
            "cos-ci-emulator: error: --region: invalid region `ap beijing`: may contain only lower-case letters, digits and '-', e.g. ap-beijing\n",
        ),
    ] {
        assert_eq!(refused_at_start(args), message, "{args:?}");
    }
}

#[test]
#[cfg(unix)]
fn serves_after_printing_its_address_and_stops_on_sigterm() {
    let (mut child, addr) = serve(
        &[
            "--executions",
            "40",
            "--quiet",
            "--latency",
            "5ms",
            "--latency-jitter",
            "1ms",
        ],
        |command| {
            command.stderr(Stdio::null());
        },
    );
    let reply = runtime().block_on(common::signed_list(addr, &[("size", "100")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.elements("RunId").len(), 40);

    assert!(sigterm(&child).success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn data_file_is_served_as_loaded() {
    let mut text = Vec::new();
    Dataset::generate(12, 4).to_ndjson(&mut text).unwrap();
    let path = temp_file("data", &text);
    let stdout = succeeds(&[
        "--data",
        path.to_str().unwrap(),
        "--executions",
        "99",
        "--dump",
    ]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(stdout, text);
}

#[test]
#[cfg(unix)]
fn secrets_never_reach_the_logs() {
    const KEY: &str = "emulatorTestSecretKey12345";
    const TOKEN: &str = "emulatorTestSessionToken67890";
    let (child, addr) = serve(
        &[
            "--executions",
            "5",
            "--secret-id",
            "AKIDlogtest",
            "--session-token",
            TOKEN,
        ],
        |command| {
            command
                .env("COS_CI_EMULATOR_SECRET_KEY", KEY)
                .stderr(Stdio::piped());
        },
    );
    let host = addr.to_string();
    let credentials = cos_ci_sign::Credentials::new("AKIDlogtest", KEY);
    let auth = common::authorization(
        &credentials,
        "GET",
        "/workflowexecution",
        &[],
        &[("host", &host)],
        common::valid_key_time(),
    );
    let statuses: Vec<u16> = runtime().block_on(async {
        let mut statuses = Vec::new();
        for token in [TOKEN, "wrong", ""] {
            let mut headers = vec![("Host", host.as_str()), ("Authorization", auth.as_str())];
            if !token.is_empty() {
                headers.push(("x-cos-security-token", token));
            }
            let target = format!("/workflowexecution?x-cos-security-token={TOKEN}");
            let plain = common::send(
                addr,
                &common::request_text("GET", "/workflowexecution", &headers),
            )
            .await;
            let with_query =
                common::send(addr, &common::request_text("GET", &target, &headers)).await;
            statuses.extend([plain.status, with_query.status]);
        }
        statuses
    });
    assert_eq!(statuses[0], 200, "{statuses:?}");
    let _ = sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GET /workflowexecution 200"), "{stderr}");
    assert!(
        stderr.contains("AKIDlogtest"),
        "the secret id is not secret: {stderr}"
    );
    for secret in [KEY, TOKEN, "q-signature", auth.as_str()] {
        assert!(!stderr.contains(secret), "`{secret}` leaked: {stderr}");
    }
}

fn temp_file(name: &str, text: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "cos-ci-emulator-test-{}-{name}.ndjson",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

const WORKFLOW_LINE: &str = r#"{"WorkflowId":"w0123456789abcdef0123456789abcdef","Name":"loaded-flow","State":"Active","CreateTime":"2026-01-01T00:00:00+0800","Topology":{"Dependencies":{"Start":"Transcode_1","Transcode_1":"End"},"Nodes":{"Start":{"Type":"Start","Input":{"QueueId":"p0123456789abcdef0123456789abcdef"}},"Transcode_1":{"Type":"Transcode","Operation":{"TemplateId":"t1"}}}}}"#;
const QUEUE_LINE: &str = r#"{"QueueId":"p0123456789abcdef0123456789abcdef","Name":"loaded-queue","State":"Active","Category":"Transcoding"}"#;

#[test]
fn a_bad_workflows_or_queues_file_exits_2_naming_the_line() {
    let workflows = temp_file(
        "bad-workflows",
        format!("{WORKFLOW_LINE}\n{{\"Name\":\"x\"}}\n"),
    );
    let queues = temp_file("bad-queues", format!("{QUEUE_LINE}\n{QUEUE_LINE}\n"));
    for (flag, path) in [("--workflows", &workflows), ("--queues", &queues)] {
        let stderr = refused_at_start(&[flag, path.to_str().unwrap()]);
        assert!(
            stderr.contains(path.to_str().unwrap()) && stderr.contains("line 2"),
            "{flag}: {stderr}"
        );
    }
    let _ = std::fs::remove_file(workflows);
    let _ = std::fs::remove_file(queues);
}

#[test]
#[cfg(unix)]
fn loaded_workflows_and_queues_are_served_and_runs_end_at_once() {
    use cos_ci_proto::{
        DescribeWorkflowExecution, ExecutionState, ListQueues, ListWorkflows, TriggerWorkflow,
    };
    let workflows = temp_file("workflows", WORKFLOW_LINE);
    let queues = temp_file("queues", QUEUE_LINE);
    let (mut child, addr) = serve(
        &[
            "--executions",
            "10",
            "--quiet",
            "--task-duration",
            "0",
            "--workflows",
            workflows.to_str().unwrap(),
            "--queues",
            queues.to_str().unwrap(),
        ],
        |command| {
            command.stderr(Stdio::null());
        },
    );
    let credentials = cos_ci_client::Credentials::new(
        cos_ci_emulator::DEFAULT_SECRET_ID,
        cos_ci_emulator::DEFAULT_SECRET_KEY,
    );
    runtime().block_on(async {
        let call = |action| cos_ci_testkit::call(addr, credentials.clone(), action);
        let listed = call(&ListWorkflows::default()).await.unwrap();
        // The loaded one and those the generated executions use.
        let used: std::collections::HashSet<String> = Dataset::generate(10, 1)
            .records()
            .iter()
            .map(|record| record.workflow_id.clone())
            .collect();
        assert_eq!(listed.total_count, Some(used.len() as u64 + 1));
        assert!(listed.workflows.iter().any(|w| w.name == "loaded-flow"));
        let queues = cos_ci_testkit::call(addr, credentials.clone(), &ListQueues::default())
            .await
            .unwrap();
        assert_eq!(queues.total_count, Some(2));
        let trigger = TriggerWorkflow {
            workflow_id: "w0123456789abcdef0123456789abcdef".into(),
            object: "in/a.mp4".into(),
            name: None,
        };
        let run = cos_ci_testkit::call(addr, credentials.clone(), &trigger)
            .await
            .unwrap();
        let describe = DescribeWorkflowExecution {
            run_id: run.instance_id,
        };
        let detail = cos_ci_testkit::call(addr, credentials.clone(), &describe)
            .await
            .unwrap();
        assert_eq!(detail.execution.state, ExecutionState::Success);
    });
    assert!(sigterm(&child).success());
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_file(workflows);
    let _ = std::fs::remove_file(queues);
}
