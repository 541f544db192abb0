//! The real `cos-ci` binary against in-process emulators on 127.0.0.1 for
//! workflows, runs, jobs, queues and callbacks: every command, the waits'
//! exit codes (0 Success, 5 Failed or Cancel, 4 at --wait-timeout), a
//! run's tasks against `jobs list --workflow-id`, notifications from the
//! emulator to `callbacks listen` in XML and JSON, relative time flags,
//! and errors that name their flag.
//!
//! Each test that changes what the emulator holds starts its own (they
//! are cheap), so tests never see each other's workflows or jobs. Ids the
//! emulator draws at run time, times and request ids are redacted before
//! snapshots.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig,
};
use serde_json::Value;

use common::{Run, isolated, run};

const SEED: u64 = 3;
const EXECUTIONS: usize = 30;

/// An emulator whose jobs and tasks take `task_duration`.
fn start(task_duration: Duration) -> BackgroundEmulator {
    BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::generate(EXECUTIONS, SEED),
        seed: SEED,
        task_duration,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator")
}

/// A shared emulator for tests that only read what it was started with.
fn reading() -> &'static BackgroundEmulator {
    static EMULATOR: OnceLock<BackgroundEmulator> = OnceLock::new();
    EMULATOR.get_or_init(|| start(Duration::from_millis(300)))
}

/// `cos-ci args` aimed at `emulator` (through the environment, as a user
/// would export it), with the emulator's credentials.
fn cos_ci(emulator: &BackgroundEmulator, args: &[&str]) -> Run {
    run(&mut command(emulator, args))
}

fn command(emulator: &BackgroundEmulator, args: &[&str]) -> Command {
    let mut command = isolated(args);
    command
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
        .env("COS_CI_BUCKET", DEFAULT_BUCKET)
        .env("COS_CI_REGION", DEFAULT_REGION)
        .env("COS_CI_ENDPOINT", emulator.base_url());
    command
}

/// `run` exited with `code`, or panic showing it.
#[track_caller]
fn expect(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{run:#?}");
}

/// Poll faster than the default second, so waits end soon after the run.
const QUICK: [&str; 2] = ["--poll-interval", "0.05"];

/// One JSON value per stdout line.
fn ndjson(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON value per line"))
        .collect()
}

/// Every item the listing `args` gives with `--all --output ndjson`
/// added; it exited 0.
#[track_caller]
fn list_all(emulator: &BackgroundEmulator, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.extend(["--all", "--output", "ndjson"]);
    let run = cos_ci(emulator, &args);
    expect(&run, 0);
    ndjson(&run.stdout)
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).expect("one JSON document")
}

/// The text at `path` (element names) in the JSON document on `run`'s
/// stdout; `run` exited 0.
#[track_caller]
fn json_text(run: &Run, path: &[&str]) -> String {
    expect(run, 0);
    let document = json(&run.stdout);
    let value = path.iter().fold(&document, |value, key| &value[*key]);
    value
        .as_str()
        .unwrap_or_else(|| panic!("no text at {path:?} in {document}"))
        .to_owned()
}

/// Ids drawn at run time (`i…` runs, `j…` jobs, `w…` workflows created
/// here, `p…` queues: a letter and 32 hex digits), times (`2026-…T…`, any
/// offset form), request ids and the emulator's address, replaced by
/// placeholders.
fn redact(emulator: &BackgroundEmulator, text: &str) -> String {
    let text = text.replace(&emulator.base_url(), "[emulator]");
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        let at_word_start = index == 0 || !chars[index - 1].is_ascii_alphanumeric();
        // An id: one letter, 32 lowercase hex digits, not followed by more.
        if at_word_start
            && matches!(chars[index], 'i' | 'j' | 'w' | 'p')
            && index + 33 <= chars.len()
            && chars[index + 1..index + 33]
                .iter()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(c))
            && chars
                .get(index + 33)
                .is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            out.push_str(match chars[index] {
                'i' => "[run]",
                'j' => "[job]",
                'w' => "[workflow]",
                _ => "[queue]",
            });
            index += 33;
            continue;
        }
        // A time: YYYY-MM-DD, `T` or a space, HH:MM:SS, an offset.
        if at_word_start && let Some(length) = time_at(&chars[index..]) {
            out.push_str("[time]");
            index += length;
            continue;
        }
        out.push(chars[index]);
        index += 1;
    }
    // Request ids in JSON.
    let mut redacted = String::with_capacity(out.len());
    let mut rest = out.as_str();
    let prefix = "\"RequestId\": \"";
    while let Some(start) = rest.find(prefix) {
        let (head, tail) = rest.split_at(start + prefix.len());
        redacted.push_str(head);
        redacted.push_str("[request-id]");
        rest = tail.find('"').map_or("", |stop| &tail[stop..]);
    }
    redacted.push_str(rest);
    redacted
}

/// The length of a timestamp starting `chars`, if one does.
fn time_at(chars: &[char]) -> Option<usize> {
    let pattern = "dddd-dd-ddTdd:dd:dd";
    if chars.len() < pattern.len() {
        return None;
    }
    for (c, p) in chars.iter().zip(pattern.chars()) {
        let ok = match p {
            'd' => c.is_ascii_digit(),
            'T' => *c == 'T' || *c == ' ',
            other => *c == other,
        };
        if !ok {
            return None;
        }
    }
    let rest = &chars[pattern.len()..];
    let offset = match rest {
        ['Z', ..] => 1,
        ['+' | '-', a, b, ':', c, d, ..] if [a, b, c, d].iter().all(|c| c.is_ascii_digit()) => 6,
        ['+' | '-', a, b, c, d, ..] if [a, b, c, d].iter().all(|c| c.is_ascii_digit()) => 5,
        _ => return None,
    };
    Some(pattern.len() + offset)
}

/// The workflows an emulator serves, as `workflows list --all` lists them.
fn workflow_ids(emulator: &BackgroundEmulator) -> Vec<String> {
    list_all(emulator, &["workflows", "list"])
        .iter()
        .map(|workflow| workflow["WorkflowId"].as_str().unwrap().to_owned())
        .collect()
}

/// A workflow whose topology is Snapshot then Transcode (the emulator
/// derives one per workflow id of its executions; most have two tasks).
fn two_task_workflow(emulator: &BackgroundEmulator) -> String {
    for id in workflow_ids(emulator) {
        let run = cos_ci(emulator, &["workflows", "get", &id, "--output", "json"]);
        expect(&run, 0);
        let dependencies = &json(&run.stdout)["MediaWorkflow"]["Topology"]["Dependencies"];
        if dependencies
            .as_object()
            .is_some_and(|edges| edges.len() == 3)
        {
            return id;
        }
    }
    panic!("no two-task workflow");
}

/// A file in a fresh temporary folder of this test.
fn temp_file(test: &str, name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cos-ci-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn help_states_every_exit_code() {
    let run = cos_ci(reading(), &["--help"]);
    expect(&run, 0);
    assert!(
        run.stdout
            .contains("5 a run or job waited for (--wait, wait) ended Failed or Cancel"),
        "{}",
        run.stdout
    );
    for command in [
        &["workflows", "trigger", "--help"][..],
        &["workflow-executions", "wait", "--help"],
        &["jobs", "submit", "--help"],
        &["jobs", "wait", "--help"],
    ] {
        let run = cos_ci(reading(), command);
        expect(&run, 0);
        assert!(
            run.stdout.contains("Exit codes: 0 ok;") && run.stdout.contains("--wait-timeout"),
            "{command:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn workflows_list_pages_by_number_and_resumes_where_it_stopped() {
    let emulator = reading();
    let all = workflow_ids(emulator);
    assert!(all.len() >= 4, "{all:?}");

    let table = cos_ci(emulator, &["workflows", "list"]);
    expect(&table, 0);
    insta::assert_snapshot!("workflows_list_table", table.stdout);

    // --limit stops at a page boundary and says where to resume.
    let first = cos_ci(
        emulator,
        &["workflows", "list", "--limit", "3", "--output", "ndjson"],
    );
    expect(&first, 0);
    assert_eq!(
        first.stderr,
        "NextPageNumber: 2\nresume with --page-number 2 --page-size 3\n"
    );
    let rest = list_all(
        emulator,
        &[
            "workflows",
            "list",
            "--page-number",
            "2",
            "--page-size",
            "3",
        ],
    );
    let ids: Vec<String> = ndjson(&first.stdout)
        .iter()
        .chain(&rest)
        .map(|workflow| workflow["WorkflowId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, all, "resumed exactly where the first listing stopped");

    // One page of a small size says the same on stderr; JSON keeps stdout
    // one document and puts the page in it.
    let page = cos_ci(emulator, &["workflows", "list", "--page-size", "2"]);
    expect(&page, 0);
    assert_eq!(
        page.stderr,
        "NextPageNumber: 2\nresume with --page-number 2 --page-size 2\n"
    );
    let limited = cos_ci(
        emulator,
        &["workflows", "list", "--limit", "2", "--output", "json"],
    );
    expect(&limited, 0);
    let document = json(&limited.stdout);
    assert_eq!(document["Count"], 2);
    assert_eq!(document["NextPageNumber"], 2);
    assert_eq!(document["MediaWorkflowList"].as_array().unwrap().len(), 2);

    // --ids: the ids with no workflow are named on stderr.
    let ids = format!("wnothere,{}", all[1]);
    let by_id = cos_ci(
        emulator,
        &["workflows", "list", "--ids", &ids, "--output", "ndjson"],
    );
    expect(&by_id, 0);
    assert_eq!(ndjson(&by_id.stdout).len(), 1);
    assert_eq!(by_id.stderr, "no workflow with id: wnothere\n");
}

#[test]
fn workflows_get_draws_the_topology() {
    let emulator = reading();
    let id = two_task_workflow(emulator);
    let run = cos_ci(emulator, &["workflows", "get", &id]);
    expect(&run, 0);
    insta::assert_snapshot!("workflows_get_table", redact(emulator, &run.stdout));
    let run = cos_ci(emulator, &["workflows", "get", &id, "--output", "json"]);
    expect(&run, 0);
    insta::assert_snapshot!("workflows_get_json", redact(emulator, &run.stdout));

    let missing = cos_ci(emulator, &["workflows", "get", "wnothere"]);
    expect(&missing, 3);
    assert_eq!(missing.stderr, "error: no workflow with id wnothere\n");
}

const WORKFLOW_XML: &str = r#"<Request>
  <MediaWorkflow>
    <Name>demo-flow</Name>
    <Topology>
      <Dependencies>
        <Start>Snapshot_1,Transcode_1</Start>
        <Snapshot_1>End</Snapshot_1>
        <Transcode_1>End</Transcode_1>
      </Dependencies>
      <Nodes>
        <Start><Type>Start</Type><Input><ObjectPrefix>uploads/</ObjectPrefix></Input></Start>
        <Snapshot_1><Type>Snapshot</Type><Operation><TemplateId>t-snap</TemplateId><Output><Region>ap-beijing</Region><Bucket>examplebucket-1250000000</Bucket><Object>snap/${InputName}_${Number}.jpg</Object></Output></Operation></Snapshot_1>
        <Transcode_1><Type>Transcode</Type><Operation><TemplateId>t-720p</TemplateId><Output><Region>ap-beijing</Region><Bucket>examplebucket-1250000000</Bucket><Object>hd/${InputName}.mp4</Object></Output></Operation></Transcode_1>
      </Nodes>
    </Topology>
  </MediaWorkflow>
</Request>
"#;

/// The same kind of workflow as JSON: numbers and one-member lists in
/// whichever form, wrapped in "Request".
const WORKFLOW_JSON: &str = r#"{"Request": {"MediaWorkflow": {"Name": "demo-flow-2", "State": "Active",
  "Topology": {"Dependencies": {"Start": "Transcode_1", "Transcode_1": "End"},
    "Nodes": {"Start": {"Type": "Start", "Input": {"ObjectPrefix": "uploads/"}},
              "Transcode_1": {"Type": "Transcode", "Operation": {"TemplateId": "t-720p", "JobLevel": 1,
                 "Output": {"Region": "ap-beijing", "Bucket": "examplebucket-1250000000", "Object": "hd/${InputName}.mp4"}}}}}}}}"#;

#[test]
fn workflows_are_created_updated_paused_activated_and_deleted() {
    let emulator = start(Duration::from_millis(200));
    let xml = temp_file("crud", "workflow.xml", WORKFLOW_XML);
    let json_file = temp_file("crud", "workflow.json", WORKFLOW_JSON);
    let xml = xml.to_str().unwrap();
    let json_file = json_file.to_str().unwrap();

    let created = cos_ci(&emulator, &["workflows", "create", "--file", xml]);
    expect(&created, 0);
    insta::assert_snapshot!("workflows_create_table", redact(&emulator, &created.stdout));
    let created = cos_ci(
        &emulator,
        &["workflows", "create", "--file", xml, "--output", "json"],
    );
    let id = json_text(&created, &["MediaWorkflow", "WorkflowId"]);

    let updated = cos_ci(
        &emulator,
        &["workflows", "update", &id, "--file", json_file],
    );
    expect(&updated, 0);
    assert!(
        updated.stdout.contains("Name:        demo-flow-2"),
        "{updated:?}"
    );
    assert!(
        updated.stdout.contains("  Start -> Transcode_1 -> End\n"),
        "{updated:?}"
    );

    let paused = cos_ci(&emulator, &["workflows", "pause", &id]);
    expect(&paused, 0);
    assert_eq!(
        paused.stdout,
        format!("paused workflow {id}: it no longer runs on new objects\n")
    );
    let state = |emulator: &BackgroundEmulator| {
        let run = cos_ci(emulator, &["workflows", "get", &id, "--output", "json"]);
        json_text(&run, &["MediaWorkflow", "State"])
    };
    assert_eq!(state(&emulator), "Paused");
    // A paused workflow does not run: the service's answer, exit 3.
    let refused = cos_ci(&emulator, &trigger(&id, "uploads/a.mp4", &[]));
    expect(&refused, 3);
    assert!(refused.stderr.contains("is paused"), "{refused:?}");

    let activated = cos_ci(
        &emulator,
        &["workflows", "activate", &id, "--output", "ndjson"],
    );
    expect(&activated, 0);
    assert!(json(&activated.stdout)["RequestId"].is_string());
    assert_eq!(state(&emulator), "Active");

    let deleted = cos_ci(&emulator, &["workflows", "delete", &id]);
    expect(&deleted, 0);
    assert_eq!(deleted.stdout, format!("deleted workflow {id}\n"));
    expect(&cos_ci(&emulator, &["workflows", "get", &id]), 3);
    expect(&cos_ci(&emulator, &["workflows", "delete", &id]), 3);
}

#[test]
fn trigger_wait_ends_0_on_success_and_5_on_failure_naming_the_failed_task() {
    let emulator = reading();
    let workflow = two_task_workflow(emulator);
    let mut args = trigger(&workflow, "in/ok.mp4", &["--wait"]);
    args.extend(QUICK);
    let ok = cos_ci(emulator, &args);
    expect(&ok, 0);
    assert!(ok.stdout.contains("State:         Success"), "{ok:?}");
    // Piped: plain progress lines, no escape sequences.
    assert!(!ok.stderr.contains('\u{1b}'), "{ok:?}");
    let lines: Vec<&str> = ok.stderr.lines().collect();
    assert!(lines[0].starts_with("started run i"), "{lines:?}");
    assert!(
        lines.iter().any(|line| line.ends_with(": Success")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .filter(|line| line.starts_with("task "))
            .any(|line| line.contains("(Transcode): succeeded, job j")),
        "{lines:?}"
    );
    insta::assert_snapshot!("trigger_wait_success_stdout", redact(emulator, &ok.stdout));

    args[5] = "in/fail/clip.mp4";
    let failed = cos_ci(emulator, &args);
    expect(&failed, 5);
    insta::assert_snapshot!(
        "trigger_wait_failed_stdout",
        redact(emulator, &failed.stdout)
    );
    // The last line names the failed task: Name, Type, JobId, Code, Message.
    let last = redact(emulator, failed.stderr.lines().last().unwrap());
    insta::assert_snapshot!(last, @"error: run [run] ended Failed at task Transcode_1647718967773 (Transcode, job [job]): InvalidInput: the input file has no video stream");

    // JSON: stdout is the run's one document.
    args[5] = "in/ok2.mp4";
    args.extend(["--output", "json"]);
    let run = cos_ci(emulator, &args);
    expect(&run, 0);
    let document = json(&run.stdout);
    assert_eq!(document["WorkflowExecution"]["State"], "Success");
    assert_eq!(document["WorkflowExecution"]["Object"], "in/ok2.mp4");
}

#[test]
fn a_run_started_elsewhere_is_waited_for_and_a_wait_timeout_exits_4() {
    let emulator = start(Duration::from_secs(120));
    let workflow = two_task_workflow(&emulator);
    let triggered = cos_ci(&emulator, &trigger(&workflow, "in/slow.mp4", &[]));
    expect(&triggered, 0);
    let run_id = triggered
        .stdout
        .strip_prefix("RunId:  ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .expect("the RunId")
        .to_owned();
    let started = Instant::now();
    let waited = cos_ci(
        &emulator,
        &[
            "workflow-executions",
            "wait",
            &run_id,
            "--wait-timeout",
            "300ms",
            "--poll-interval",
            "0.1",
        ],
    );
    expect(&waited, 4);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(waited.stdout, "", "nothing ended: nothing to show");
    assert_eq!(
        waited.stderr.lines().last().unwrap(),
        format!(
            "error: stopped waiting after 300ms: run {run_id} is still Running and goes on; \
             follow it with `cos-ci workflow-executions wait {run_id}`"
        )
    );
    // --wait-timeout is a --wait flag for trigger.
    let misuse = cos_ci(
        &emulator,
        &trigger(&workflow, "a.mp4", &["--wait-timeout", "1m"]),
    );
    expect(&misuse, 2);
    assert_eq!(
        misuse.stderr,
        "error: invalid --wait-timeout: only applies with --wait\n"
    );

    // A quick emulator: a run triggered without --wait is followed by
    // `workflow-executions wait` to its end.
    let quick = reading();
    let workflow = two_task_workflow(quick);
    let triggered = cos_ci(
        quick,
        &trigger(&workflow, "in/fail-later.mp4", &["--output", "json"]),
    );
    let run_id = json_text(&triggered, &["InstanceId"]);
    let mut args = vec!["workflow-executions", "wait", &run_id, "--output", "ndjson"];
    args.extend(QUICK);
    let waited = cos_ci(quick, &args);
    expect(&waited, 5);
    assert_eq!(
        ndjson(&waited.stdout)[0]["WorkflowExecution"]["State"],
        "Failed"
    );
    let missing = cos_ci(quick, &["workflow-executions", "wait", "inothere"]);
    expect(&missing, 3);
}

#[test]
fn a_runs_tasks_and_jobs_list_by_workflow_agree() {
    let emulator = start(Duration::from_millis(200));
    let workflow = two_task_workflow(&emulator);
    let mut args = trigger(&workflow, "in/agree.mp4", &["--wait", "--output", "json"]);
    args.extend(QUICK);
    let run = cos_ci(&emulator, &args);
    expect(&run, 0);
    let execution = json(&run.stdout)["WorkflowExecution"].clone();
    let run_id = execution["RunId"].as_str().unwrap().to_owned();
    let mut from_tasks: Vec<(String, String)> = execution["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| {
            (
                task["Type"].as_str().unwrap().to_owned(),
                task["JobId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    from_tasks.sort();
    assert_eq!(from_tasks.len(), 2);

    let mut from_jobs = Vec::new();
    for tag in ["Snapshot", "Transcode"] {
        let listed = list_all(
            &emulator,
            &["jobs", "list", "--tag", tag, "--workflow-id", &workflow],
        );
        for job in listed {
            assert_eq!(job["Workflow"]["RunId"], run_id.as_str());
            from_jobs.push((
                job["Tag"].as_str().unwrap().to_owned(),
                job["JobId"].as_str().unwrap().to_owned(),
            ));
        }
    }
    from_jobs.sort();
    assert_eq!(from_jobs, from_tasks);

    // `get --jobs` fetches them in one call and shows their results.
    let shown = cos_ci(
        &emulator,
        &["workflow-executions", "get", &run_id, "--jobs"],
    );
    expect(&shown, 0);
    insta::assert_snapshot!("execution_get_jobs_table", redact(&emulator, &shown.stdout));
    let shown = cos_ci(
        &emulator,
        &[
            "workflow-executions",
            "get",
            &run_id,
            "--jobs",
            "--output",
            "json",
        ],
    );
    expect(&shown, 0);
    let document = json(&shown.stdout);
    assert_eq!(document["JobsDetail"].as_array().unwrap().len(), 2);
    assert_eq!(document["WorkflowExecution"]["RunId"], run_id.as_str());
}

/// `workflows trigger` of `workflow` on `object`, plus `extra`.
fn trigger<'a>(workflow: &'a str, object: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "workflows",
        "trigger",
        "--workflow-id",
        workflow,
        "--object",
        object,
    ];
    args.extend_from_slice(extra);
    args
}

/// `jobs submit` of a Transcode job on `input`, plus `extra`.
fn submit<'a>(input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "jobs",
        "submit",
        "--tag",
        "Transcode",
        "--input",
        input,
        "--template-id",
        "t1",
        "--output-object",
        "out/${InputName}.mp4",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn jobs_submit_wait_ends_0_on_success_and_5_on_failure() {
    let emulator = reading();
    let mut extra = vec!["--wait"];
    extra.extend(QUICK);
    let ok = cos_ci(emulator, &submit("in/job-ok.mp4", &extra));
    expect(&ok, 0);
    insta::assert_snapshot!(
        "jobs_submit_wait_success_stdout",
        redact(emulator, &ok.stdout)
    );
    let lines: Vec<&str> = ok.stderr.lines().collect();
    assert!(lines[0].starts_with("submitted job j"), "{lines:?}");
    assert!(lines.last().unwrap().ends_with(": 100%"), "{lines:?}");
    assert!(lines.iter().any(|line| line.ends_with(": Success")));

    let failed = cos_ci(emulator, &submit("in/job-fail.mp4", &extra));
    expect(&failed, 5);
    let last = redact(emulator, failed.stderr.lines().last().unwrap());
    insta::assert_snapshot!(last, @"error: job [job] ended Failed: InvalidInput: the input file has no video stream");

    // Without --wait: the job as submitted.
    let submitted = cos_ci(emulator, &submit("in/job-json.mp4", &["--output", "json"]));
    expect(&submitted, 0);
    let job = &json(&submitted.stdout)["JobsDetail"];
    assert_eq!(job["State"], "Submitted");
    assert_eq!(job["Operation"]["Output"]["Bucket"], DEFAULT_BUCKET);
    assert_eq!(job["Operation"]["Output"]["Region"], DEFAULT_REGION);
}

#[test]
fn jobs_get_shows_one_or_several_and_names_the_missing() {
    let emulator = start(Duration::from_millis(100));
    let mut ids = Vec::new();
    for input in ["in/a.mp4", "in/b.mp4"] {
        let run = cos_ci(&emulator, &submit(input, &["--output", "json"]));
        ids.push(json_text(&run, &["JobsDetail", "JobId"]));
    }
    std::thread::sleep(Duration::from_millis(300));
    let one = cos_ci(&emulator, &["jobs", "get", &ids[0]]);
    expect(&one, 0);
    insta::assert_snapshot!("jobs_get_one_table", redact(&emulator, &one.stdout));
    let several = format!("{},{},jnothere", ids[0], ids[1]);
    let run = cos_ci(&emulator, &["jobs", "get", &several]);
    expect(&run, 0);
    insta::assert_snapshot!("jobs_get_several_table", redact(&emulator, &run.stdout));
    let run = cos_ci(&emulator, &["jobs", "get", &several, "--output", "json"]);
    expect(&run, 0);
    let document = json(&run.stdout);
    assert_eq!(document["JobsDetail"].as_array().unwrap().len(), 2);
    assert!(
        document["NonExistJobIds"].to_string().contains("jnothere"),
        "{document}"
    );
    let none = cos_ci(&emulator, &["jobs", "get", "jnothere,jnorhere"]);
    expect(&none, 3);
    assert_eq!(none.stderr, "error: no job with id jnothere, jnorhere\n");
}

#[test]
fn a_cancelled_job_waited_for_exits_5_and_a_job_wait_timeout_exits_4() {
    let emulator = start(Duration::from_secs(120));
    let submitted = cos_ci(&emulator, &submit("in/cancel.mp4", &["--output", "json"]));
    let job_id = json_text(&submitted, &["JobsDetail", "JobId"]);
    let other = cos_ci(&emulator, &submit("in/slow.mp4", &["--output", "json"]));
    let other = json_text(&other, &["JobsDetail", "JobId"]);

    let waited = cos_ci(
        &emulator,
        &[
            "jobs",
            "wait",
            &other,
            "--wait-timeout",
            "0.3",
            "--poll-interval",
            "0.1",
        ],
    );
    expect(&waited, 4);
    assert_eq!(
        waited.stderr.lines().last().unwrap(),
        format!(
            "error: stopped waiting after 300ms: job {other} is still Submitted (0%) and goes \
             on; follow it with `cos-ci jobs wait {other}`"
        )
    );

    let cancelled = cos_ci(&emulator, &["jobs", "cancel", &job_id]);
    expect(&cancelled, 0);
    assert_eq!(cancelled.stdout, format!("cancelled job {job_id}\n"));
    let mut args = vec!["jobs", "wait", &job_id];
    args.extend(QUICK);
    let waited = cos_ci(&emulator, &args);
    expect(&waited, 5);
    assert!(
        waited.stdout.contains("State:         Cancel"),
        "{waited:?}"
    );
    assert_eq!(
        waited.stderr.lines().last().unwrap(),
        format!("error: job {job_id} ended Cancel: the job was cancelled before it started")
    );
    // Cancelled already: the service says no, exit 3.
    expect(&cos_ci(&emulator, &["jobs", "cancel", &job_id]), 3);
    // No such job: exit 3 at once rather than waiting for it.
    let missing = cos_ci(&emulator, &["jobs", "wait", "jnothere"]);
    expect(&missing, 3);
    assert_eq!(missing.stderr, "error: no job with id jnothere\n");
}

#[test]
fn queues_are_listed() {
    let emulator = reading();
    let run = cos_ci(emulator, &["queues", "list"]);
    expect(&run, 0);
    insta::assert_snapshot!("queues_list_table", redact(emulator, &run.stdout));
    let queues = list_all(
        emulator,
        &[
            "queues",
            "list",
            "--state",
            "active",
            "--category",
            "transcoding",
        ],
    );
    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0]["State"], "Active");
    let missing = cos_ci(emulator, &["queues", "list", "--queue-ids", "pnothere"]);
    expect(&missing, 0);
    assert_eq!(
        missing.stderr,
        "no queue with id: pnothere\nno queues found\n"
    );
}

/// A running `cos-ci callbacks listen --listen 127.0.0.1:0 …`: its URL,
/// read from the first line of its stderr.
struct Listener {
    child: Child,
    url: String,
}

fn listen(emulator: &BackgroundEmulator, extra: &[&str]) -> Listener {
    let mut args = vec!["callbacks", "listen", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = command(emulator, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cos-ci callbacks listen");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    // Keep draining stderr so the child never blocks on it.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
    });
    Listener { child, url }
}

impl Listener {
    /// Wait (up to 30 s) for it to exit; its exit code and stdout.
    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("callbacks listen did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        (status.code().unwrap_or(-1), stdout)
    }
}

#[test]
fn job_callbacks_from_the_emulator_arrive_in_xml_and_json() {
    let emulator = start(Duration::from_millis(200));
    for (format, input) in [("xml", "in/cb.mp4"), ("json", "in/cb-fail.mp4")] {
        let listener = listen(
            &emulator,
            &["--count", "1", "--output", "ndjson", "--confirm"],
        );
        let submitted = cos_ci(
            &emulator,
            &submit(
                input,
                &[
                    "--callback",
                    &listener.url,
                    "--callback-format",
                    format,
                    "--output",
                    "json",
                ],
            ),
        );
        let job_id = json_text(&submitted, &["JobsDetail", "JobId"]);
        let (code, stdout) = listener.finish();
        assert_eq!(code, 0, "{stdout}");
        let records = ndjson(&stdout);
        assert_eq!(records.len(), 1, "{stdout}");
        let record = &records[0];
        assert_eq!(record["EventName"], "TaskFinish");
        assert_eq!(record["JobId"], job_id.as_str());
        assert_eq!(record["Format"], format.to_uppercase());
        assert_eq!(record["Confirmed"], true, "{record}");
        if format == "xml" {
            assert_eq!(record["State"], "Success");
        } else {
            assert_eq!(record["State"], "Failed");
            assert_eq!(record["Code"], "InvalidInput");
            assert_eq!(record["Message"], "the input file has no video stream");
        }
    }
}

#[test]
fn a_workflow_callback_arrives_and_is_printed() {
    let emulator = start(Duration::from_millis(150));
    let listener = listen(&emulator, &["--count", "1"]);
    let workflow = WORKFLOW_XML.replace(
        "<ObjectPrefix>uploads/</ObjectPrefix>",
        &format!(
            "<ObjectPrefix>uploads/</ObjectPrefix><NotifyConfig><Url>{}</Url><Type>Url</Type>\
             <Event>WorkflowFinish</Event><ResultFormat>JSON</ResultFormat></NotifyConfig>",
            listener.url
        ),
    );
    let file = temp_file("workflow-callback", "workflow.xml", &workflow);
    let created = cos_ci(
        &emulator,
        &[
            "workflows",
            "create",
            "--file",
            file.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    let workflow_id = json_text(&created, &["MediaWorkflow", "WorkflowId"]);
    let triggered = cos_ci(&emulator, &trigger(&workflow_id, "uploads/fail.mp4", &[]));
    expect(&triggered, 0);
    let (code, stdout) = listener.finish();
    assert_eq!(code, 0, "{stdout}");
    // A workflow notification's tasks carry no Code or Message.
    insta::assert_snapshot!(redact(&emulator, &stdout), @"WorkflowFinish  run [run]  Failed   [JSON]");
}

#[test]
fn the_listener_refuses_what_is_not_a_notification() {
    let emulator = reading();
    let listener = listen(emulator, &["--count", "1", "--output", "json"]);
    let post = |body: &str| -> String {
        use std::io::Write;
        let address = listener
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    };
    assert_eq!(post("hello"), "HTTP/1.1 400 Bad Request");
    assert_eq!(
        post("{\"EventName\":\"TaskFinish\"}"),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        post(
            r#"{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","State":"Success","Progress":"100"}}"#
        ),
        "HTTP/1.1 200 OK"
    );
    let (code, stdout) = listener.finish();
    assert_eq!(code, 0);
    let document = json(&stdout);
    assert_eq!(document["Count"], 1);
    assert_eq!(document["Notifications"][0]["JobId"], "j1");
}

#[test]
fn relative_times_select_what_was_just_created() {
    let emulator = start(Duration::from_millis(100));
    let submitted = cos_ci(&emulator, &submit("in/recent.mp4", &["--output", "json"]));
    let job_id = json_text(&submitted, &["JobsDetail", "JobId"]);
    let listed = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["jobs", "list", "--tag", "Transcode", "--output", "ndjson"];
        all.extend_from_slice(args);
        let run = cos_ci(&emulator, &all);
        expect(&run, 0);
        ndjson(&run.stdout)
            .iter()
            .map(|job| job["JobId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed(&["--since", "1h"]), [job_id.as_str()]);
    assert_eq!(
        listed(&["--start-time", "-10m", "--end-time", "now"]),
        [job_id.as_str()]
    );
    assert!(listed(&["--end-time", "-1h"]).is_empty());
    assert!(
        listed(&[
            "--start-time",
            "2000-01-01T00:00:00+08:00",
            "--end-time",
            "-1h"
        ])
        .is_empty()
    );

    // Executions: the generated ones are old; a run triggered now is not.
    let workflow = two_task_workflow(&emulator);
    expect(
        &cos_ci(&emulator, &trigger(&workflow, "in/now.mp4", &[])),
        0,
    );
    let recent = list_all(
        &emulator,
        &["workflow-executions", "list", "--since", "10m"],
    );
    assert_eq!(recent.len(), 1, "{recent:?}");
    assert_eq!(recent[0]["Object"], "in/now.mp4");
}

/// A server that reads a request and closes without answering: a
/// trigger sent there may or may not have started a run.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            drop(stream);
        }
    });
    format!("http://{address}")
}

#[test]
fn a_trigger_or_submission_without_an_answer_says_how_to_check() {
    let endpoint = silent_server();
    let emulator = reading();
    let trigger = |endpoint: &str| {
        let mut command = command(
            emulator,
            &trigger("w1", "in/a b.mp4", &["--max-attempts", "3"]),
        );
        let output = command.env("COS_CI_ENDPOINT", endpoint).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, stderr) = trigger(&endpoint);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: no answer from {endpoint}: TriggerMediaWorkflow: the connection failed after \
             the request may have reached the service ("
        )),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "it was not retried because it is not idempotent: check whether it took effect \
             before sending it again; for example with `cos-ci workflow-executions list \
             --workflow-id w1 --name 'in/a b.mp4' --since 1h`\n"
        ),
        "{stderr}"
    );
    // A refused connection surely sent nothing: no such advice.
    let (code, stderr) = trigger(cos_ci_testkit::closed_port_url());
    assert_eq!(code, 4, "{stderr}");
    assert!(!stderr.contains("may have"), "{stderr}");

    let output = command(emulator, &submit("in/x.mp4", &[]))
        .env("COS_CI_ENDPOINT", &endpoint)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("CreateMediaJobs: the connection failed after the request may have"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "for example with `cos-ci jobs list --tag Transcode --input-object in/x.mp4 --since 1h`\n"
        ),
        "{stderr}"
    );
}

#[test]
fn errors_name_their_flag() {
    let emulator = reading();
    let missing = temp_file(
        "errors",
        "missing-name.json",
        r#"{"MediaWorkflow": {"Topology": {}}}"#,
    );
    let missing = missing.to_str().unwrap();
    let bad = temp_file("errors", "bad.txt", "name: x");
    let bad = bad.to_str().unwrap();
    // A job listing and a submission that pass every check but the case's.
    let jobs_list = |extra: &[&'static str]| [&["jobs", "list", "--tag", "T"][..], extra].concat();
    let submit = |extra: &[&'static str]| {
        [&["jobs", "submit", "--tag", "T", "--input", "a"][..], extra].concat()
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("no --tag", vec!["jobs", "list"]),
        ("bad --since", jobs_list(&["--since", "2"])),
        ("negative --since", jobs_list(&["--since", "-2h"])),
        (
            "bad relative --start-time",
            jobs_list(&["--start-time", "-2x"]),
        ),
        (
            "--since with --start-time",
            jobs_list(&["--since", "2h", "--start-time", "-1h"]),
        ),
        (
            "start after end",
            jobs_list(&["--start-time", "-1h", "--end-time", "-2h"]),
        ),
        ("bad job --states", jobs_list(&["--states", "Done"])),
        (
            "bad --page-number",
            vec!["workflows", "list", "--page-number", "0"],
        ),
        (
            "bad --page-size",
            vec!["queues", "list", "--page-size", "101"],
        ),
        (
            "empty id in --ids",
            vec!["workflows", "list", "--ids", "a,,b"],
        ),
        (
            "bad queue --state",
            vec!["queues", "list", "--state", "sleeping"],
        ),
        ("no --input", vec!["jobs", "submit", "--tag", "Transcode"]),
        (
            "no template",
            vec![
                "jobs",
                "submit",
                "--tag",
                "Transcode",
                "--input",
                "a",
                "--output-object",
                "o",
            ],
        ),
        ("bad --callback", submit(&["--callback", "ftp://x"])),
        (
            "format without --callback",
            submit(&["--callback-format", "json"]),
        ),
        (
            "--wait-timeout without --wait",
            submit(&["--wait-timeout", "1m"]),
        ),
        (
            "bad --wait-timeout",
            vec!["jobs", "wait", "j1", "--wait-timeout", "0s"],
        ),
        ("two ids to wait for", vec!["jobs", "wait", "j1,j2"]),
        (
            "missing --file",
            vec!["workflows", "create", "--file", "/nonexistent/cos-ci.xml"],
        ),
        ("not a document", vec!["workflows", "create", "--file", bad]),
        (
            "no workflow name",
            vec!["workflows", "update", "w1", "--file", missing],
        ),
        (
            "--confirm without a bucket",
            vec!["callbacks", "listen", "--confirm"],
        ),
        (
            "bad --listen",
            vec!["callbacks", "listen", "--listen", "localhost"],
        ),
    ];
    let mut report = String::new();
    for (name, args) in &cases {
        let mut command = command(emulator, args);
        if args[0] == "callbacks" {
            command.env_remove("COS_CI_BUCKET");
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        let code = output.status.code().unwrap_or(-1);
        assert_eq!(code, 2, "{name}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        report.push_str(&format!("## {name}\n{first}\n"));
    }
    let tmp = std::env::temp_dir()
        .join(format!("cos-ci-errors-{}", std::process::id()))
        .display()
        .to_string();
    let report = redact(emulator, &report.replace(&tmp, "[tmp]"));
    insta::assert_snapshot!("workflows_jobs_error_catalogue", report);
}
