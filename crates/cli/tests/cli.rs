//! The real `cos-ci` binary against an in-process emulator on 127.0.0.1
//! (fixed-seed dataset): output formats, paging, filters, `get`, `sign`, the
//! error line and exit code of each bad input, and that no secret is ever
//! printed.

mod common;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::OnceLock;

use common::{Run, closed_port_url, isolated, isolation, run};

use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig, FaultConfig, FaultKind,
};
use cos_ci_proto::{CiTimestamp, ExecutionState};

const SEED: u64 = 7;
const EXECUTIONS: usize = 250;
/// A session token that must never be printed.
const SESSION_TOKEN: &str = "sessionTOKENmustNeverBePrinted42";
fn dataset() -> Dataset {
    Dataset::generate(EXECUTIONS, SEED)
}

fn emulator() -> &'static BackgroundEmulator {
    static EMULATOR: OnceLock<BackgroundEmulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        BackgroundEmulator::start(EmulatorConfig {
            dataset: dataset(),
            seed: SEED,
            log_requests: false,
            ..EmulatorConfig::default()
        })
        .expect("start the emulator")
    })
}

/// Run `cos-ci args` with exactly `env` (plus PATH-like basics).
fn cos_ci(args: &[&str], env: &[(&str, &str)]) -> Run {
    run(isolated(args).envs(env.iter().copied()))
}

/// The emulator's credentials, as a user would export them.
fn default_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
    ]
}

/// `workflow-executions list` against the emulator (unless `extra` has
/// `--endpoint`), plus `extra`.
fn list(extra: &[&str]) -> Run {
    list_with_env(extra, &default_env())
}

fn list_with_env(extra: &[&str], env: &[(&str, &str)]) -> Run {
    let endpoint = emulator().base_url();
    cos_ci(&list_args(extra, &endpoint), env)
}

/// `workflow-executions list` with the emulator's bucket and region and
/// `endpoint`, unless `extra` gives its own, plus `extra`.
fn list_args<'a>(extra: &[&'a str], endpoint: &'a str) -> Vec<&'a str> {
    executions_args("list", extra, endpoint)
}

/// `workflow-executions <command>`, aimed as [`list_args`] is.
fn executions_args<'a>(command: &'a str, extra: &[&'a str], endpoint: &'a str) -> Vec<&'a str> {
    let mut args = vec!["workflow-executions", command];
    // The emulator's, unless the case gives its own.
    for (flag, value) in [
        ("--bucket", DEFAULT_BUCKET),
        ("--region", DEFAULT_REGION),
        ("--endpoint", endpoint),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    args
}

/// Replace what changes between runs (port, request ids) with placeholders.
fn redact(text: &str) -> String {
    let mut out = text.replace(&emulator().base_url(), "[emulator]");
    for (prefix, end) in [("(RequestId: ", ')'), ("\"RequestId\": \"", '"')] {
        let mut redacted = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(start) = rest.find(prefix) {
            let (head, tail) = rest.split_at(start + prefix.len());
            redacted.push_str(head);
            redacted.push_str("[request-id]");
            rest = tail.find(end).map_or("", |stop| &tail[stop..]);
        }
        redacted.push_str(rest);
        out = redacted;
    }
    out
}

fn ndjson_run_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("one JSON per line");
            value["RunId"].as_str().expect("RunId").to_owned()
        })
        .collect()
}

#[test]
fn table_of_one_page() {
    let run = list(&["--size", "5"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!("table_one_page_stdout", run.stdout);
    assert!(run.stderr.starts_with("NextToken: "), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
}

#[test]
fn ndjson_of_one_page_with_next_token_last_on_stderr() {
    let run = list(&["--size", "5", "--output", "ndjson"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!("ndjson_one_page_stdout", run.stdout);
    let token = run
        .stderr
        .lines()
        .last()
        .and_then(|line| line.strip_prefix("NextToken: "))
        .expect("NextToken line");

    // The token continues exactly where the first page stopped.
    assert_resumes_exactly(
        ndjson_run_ids(&run.stdout),
        &["--size", "5", "--output", "ndjson", "--next-token", token],
        &["--size", "10", "--output", "ndjson"],
    );
}

/// The listing `resumed`, from where one that listed `first` stopped,
/// goes on exactly: `first` and then its executions are the listing
/// `whole`.
#[track_caller]
fn assert_resumes_exactly(first: Vec<String>, resumed: &[&str], whole: &[&str]) {
    let resumed = list(resumed);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    let whole = list(whole);
    assert_eq!(whole.code, 0, "{whole:?}");
    let mut joined = first;
    joined.extend(ndjson_run_ids(&resumed.stdout));
    assert_eq!(joined, ndjson_run_ids(&whole.stdout));
}

#[test]
fn json_of_one_page() {
    let run = list(&["--size", "2", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!("json_one_page_stdout", redact(&run.stdout));
}

#[test]
fn all_pages_list_every_execution_once_without_progress_when_piped() {
    let run = list(&["--all", "--size", "100", "--output", "ndjson"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "", "no progress or summary when piped: {run:?}");
    let ids = ndjson_run_ids(&run.stdout);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "listed twice");
    let expected: HashSet<String> = dataset()
        .records()
        .iter()
        .map(|r| r.run_id.clone())
        .collect();
    assert_eq!(ids.len(), EXECUTIONS);
    assert_eq!(unique, expected.iter().collect());

    let table = list(&["--all", "--size", "100"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(
        table.stdout.lines().count(),
        EXECUTIONS + 1,
        "header + rows"
    );
    assert_eq!(table.stderr, "listed 250 executions in 3 pages\n");

    let json = list(&["--all", "--size", "100", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("one document");
    assert_eq!(value["Count"], EXECUTIONS);
    assert_eq!(
        value["WorkflowExecutionList"].as_array().map(Vec::len),
        Some(EXECUTIONS)
    );
}

#[test]
fn limit_stops_after_that_many_and_says_where_to_resume() {
    let run = list(&["--limit", "7", "--size", "5", "--output", "ndjson"]);
    assert_eq!(run.code, 0, "{run:?}");
    let first = ndjson_run_ids(&run.stdout);
    assert_eq!(first.len(), 7);
    let token = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("NextToken: "))
        .expect("a NextToken line after stopping at the limit")
        .to_owned();

    // JSON carries the same token in the document.
    let json = list(&["--limit", "7", "--size", "5", "--output", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("one document");
    assert_eq!(document["Count"], 7);
    assert_eq!(document["NextToken"], token.as_str());

    // Resuming continues exactly after the seventh execution.
    assert_resumes_exactly(
        first,
        &["--next-token", &token, "--limit", "3", "--output", "ndjson"],
        &["--limit", "10", "--size", "10", "--output", "ndjson"],
    );
}

#[test]
fn filtered_listing_matches_the_dataset() {
    let records = dataset().into_records();
    let workflow = records.first().expect("a record").workflow_id.clone();
    let start = CiTimestamp::parse("2026-01-12T00:00:00+08:00").expect("time");
    let end = CiTimestamp::parse("2026-02-01T00:00:00+0800").expect("time");
    let mut expected: Vec<_> = records
        .iter()
        .filter(|r| r.workflow_id == workflow)
        .filter(|r| matches!(r.state, ExecutionState::Failed | ExecutionState::Running))
        .filter(|r| r.create_time >= start && r.create_time <= end)
        .collect();
    expected.sort_by(|a, b| {
        (a.create_time.unix_seconds(), &a.run_id).cmp(&(b.create_time.unix_seconds(), &b.run_id))
    });
    let expected: Vec<String> = expected.iter().map(|r| r.run_id.clone()).collect();
    assert!(expected.len() >= 3, "the filter should match a few records");

    let run = list(&[
        "--workflow-id",
        &workflow,
        "--states",
        "Failed,Running",
        "--start-time",
        "2026-01-12T00:00:00+08:00",
        "--end-time",
        "2026-02-01T00:00:00+0800",
        "--order",
        "asc",
        "--size",
        "4",
        "--all",
        "--output",
        "ndjson",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(ndjson_run_ids(&run.stdout), expected);
    insta::assert_snapshot!("filtered_ndjson_stdout", run.stdout);
}

/// §2.8 CI-1 of the protocol reference: the Authorization byte for byte.
#[test]
fn sign_reproduces_the_ci_1_vector() {
    let run = cos_ci(
        &[
            "sign",
            "--method",
            "GET",
            "--path",
            "/workflowexecution",
            "--param",
            "workflowId=web6ac56c1ef54dbfa44d7f4103203be9",
            "--param",
            "size=10",
            "--param",
            "states=Success,Failed",
            "--param",
            "startCreationTime=2022-08-09T14:00:00+0800",
            "--param",
            "nextToken=115716",
            "--header",
            "host=examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
            "--key-time",
            "1557989151;1557996351",
        ],
        &[
            ("COS_SECRET_ID", "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"),
            ("COS_SECRET_KEY", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=host&q-url-param-list=nexttoken;size;startcreationtime;states;workflowid&q-signature=e1d933cc7922cb0ec5c46479b4cca63e66924bd2\n"
    );
}

#[test]
fn sign_with_a_session_token_signs_it_and_reproduces_the_ci_2_vector() {
    let run = cos_ci(
        &[
            "sign",
            "--method",
            "GET",
            "--path",
            "/workflowexecution/i166ee19017b011eda8a5525400c540df",
            "--header",
            "host=examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
            "--key-time",
            "1557989151;1557996351",
        ],
        &[
            (
                "TENCENTCLOUD_SECRET_ID",
                "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
            ),
            (
                "TENCENTCLOUD_SECRET_KEY",
                "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
            ),
            ("TENCENTCLOUD_SESSION_TOKEN", "tok en+/="),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=host;x-ci-security-token&q-url-param-list=&q-signature=8309f91876914dddac012f95509b09a424ad60e5\n"
    );
    assert!(run.stderr.contains("x-ci-security-token"), "{run:?}");
    assert!(
        !run.stderr.contains("tok en"),
        "the token itself is never printed"
    );
}

/// Environment variables for one run.
type Env<'a> = [(&'a str, &'a str)];

/// One case of an error catalogue snapshot: its name, the exit code and
/// what it said on stderr.
fn write_case(report: &mut String, name: &str, code: i32, stderr: &str) {
    writeln!(report, "## {name}\nexit {code}\n{}", stderr.trim_end()).unwrap();
}

/// The bad-input catalogue: each case's exit code and stderr, nothing on
/// stdout, never a panic.
#[test]
fn errors_are_one_line_with_the_right_exit_code() {
    let wrong_key = [
        ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
        (
            "TENCENTCLOUD_SECRET_KEY",
            "wrongSecretKey000000000000000000",
        ),
    ];
    let only_id = [("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)];
    let default = default_env();
    let unreachable = closed_port_url();
    let long_value = "v".repeat(66_000);
    let crlf_id = [
        (
            "TENCENTCLOUD_SECRET_ID",
            "AKIDcosciEMULATOR0000000000000000\r",
        ),
        ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
    ];
    let non_ascii_id = [
        ("TENCENTCLOUD_SECRET_ID", "AKIDcosciEMULATÖR"),
        ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
    ];
    // A case sets flags (with the emulator's credentials in the
    // environment) or the environment (with no flags).
    enum Given<'a> {
        Flags(Vec<&'a str>),
        Vars(&'a Env<'a>),
    }
    use Given::{Flags, Vars};
    let cases: Vec<(&str, Given<'_>)> = vec![
        ("size 0", Flags(vec!["--size", "0"])),
        ("size 101", Flags(vec!["--size", "101"])),
        ("size not a number", Flags(vec!["--size", "ten"])),
        ("limit 0", Flags(vec!["--limit", "0"])),
        ("unknown state", Flags(vec!["--states", "Success,Done"])),
        ("empty state item", Flags(vec!["--states", "Success,"])),
        ("bad start time", Flags(vec!["--start-time", "yesterday"])),
        (
            "bad end time",
            Flags(vec!["--end-time", "2022-02-30T00:00:00+0800"]),
        ),
        (
            "start after end",
            Flags(vec![
                "--start-time",
                "2022-08-10T00:00:00+08:00",
                "--end-time",
                "2022-08-09T00:00:00+08:00",
            ]),
        ),
        ("empty workflow id", Flags(vec!["--workflow-id", ""])),
        ("bad order", Flags(vec!["--order", "newest"])),
        ("parallel 0", Flags(vec!["--all", "--parallel", "0"])),
        ("parallel 33", Flags(vec!["--all", "--parallel", "33"])),
        ("parallel of one page", Flags(vec!["--parallel", "4"])),
        ("bad output", Flags(vec!["--output", "xml"])),
        ("all and limit", Flags(vec!["--all", "--limit", "3"])),
        ("malformed endpoint", Flags(vec!["--endpoint", "ftp//nope"])),
        (
            "endpoint with a path",
            Flags(vec!["--endpoint", "http://127.0.0.1:1/ci"]),
        ),
        (
            "endpoint port 65536",
            Flags(vec!["--endpoint", "http://127.0.0.1:65536"]),
        ),
        (
            "endpoint port 99999999999",
            Flags(vec!["--endpoint", "http://127.0.0.1:99999999999"]),
        ),
        ("bad bucket", Flags(vec!["--bucket", "Example"])),
        ("bad region", Flags(vec!["--region", "beijing"])),
        ("timeout not a number", Flags(vec!["--timeout", "soon"])),
        ("max attempts 0", Flags(vec!["--max-attempts", "0"])),
        ("max pages 0", Flags(vec!["--max-pages", "0"])),
        ("negative limit", Flags(vec!["--limit", "-1"])),
        ("deadline 0", Flags(vec!["--deadline", "0"])),
        (
            "timeout longer than the deadline",
            Flags(vec!["--timeout", "300", "--deadline", "120"]),
        ),
        ("66 KB name", Flags(vec!["--name", &long_value])),
        (
            "66 KB workflow id",
            Flags(vec!["--workflow-id", &long_value]),
        ),
        ("66 KB next token", Flags(vec!["--next-token", &long_value])),
        ("secret id from a CRLF file", Vars(&crlf_id)),
        (
            "session token with a line feed",
            Flags(vec!["--session-token", "token\n"]),
        ),
        ("non-ASCII secret id", Vars(&non_ascii_id)),
        ("unknown flag", Flags(vec!["--colour", "red"])),
        ("missing credentials", Vars(&[])),
        ("missing secret key", Vars(&only_id)),
        ("wrong secret key", Vars(&wrong_key)),
        (
            "unreachable endpoint",
            Flags(vec!["--endpoint", &unreachable]),
        ),
    ];
    let mut report = String::new();
    for (name, given) in cases {
        let run = match given {
            Flags(extra) => list_with_env(&extra, &default),
            Vars(env) => list_with_env(&[], env),
        };
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        assert!(!run.stderr.contains("panicked"), "{name}: {run:?}");
        let (home, closed) = isolation();
        let stderr = redact(&run.stderr)
            .replace(unreachable, "[closed-port]")
            .replace(closed, "[closed-port]")
            .replace(&home.display().to_string(), "[home]");
        write_case(&mut report, name, run.code, &stderr);
    }
    let bad_sign: Vec<(&str, Vec<&str>)> = vec![
        (
            "sign bad key time",
            vec!["--method", "GET", "--path", "/", "--key-time", "10;5"],
        ),
        (
            "sign header without value",
            vec![
                "--method",
                "GET",
                "--path",
                "/",
                "--header",
                "host",
                "--key-time",
                "1;2",
            ],
        ),
        (
            "sign bad method",
            vec!["--method", "GE T", "--path", "/", "--key-time", "1;2"],
        ),
        (
            "sign malformed key time",
            vec!["--method", "GET", "--path", "/", "--key-time", "soon"],
        ),
        (
            "sign relative path",
            vec!["--method", "GET", "--path", "x", "--key-time", "1;2"],
        ),
    ];
    for (name, extra) in bad_sign {
        let mut args = vec!["sign"];
        args.extend(extra);
        let run = cos_ci(&args, &default);
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        write_case(&mut report, name, run.code, &run.stderr);
    }
    insta::assert_snapshot!("error_catalogue", report);
}

#[test]
fn help_exits_zero_and_never_shows_environment_secrets() {
    let env = [
        ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
        ("TENCENTCLOUD_SESSION_TOKEN", SESSION_TOKEN),
    ];
    for args in [
        vec!["--help"],
        vec!["workflow-executions", "list", "--help"],
        vec!["workflow-executions", "get", "--help"],
        vec!["sign", "--help"],
    ] {
        let run = cos_ci(&args, &env);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Usage"), "{run:?}");
        assert!(!run.stdout.contains(DEFAULT_SECRET_KEY));
        assert!(!run.stdout.contains(SESSION_TOKEN));
    }
}

/// Neither the secret key nor the session token appears on stdout or stderr,
/// even at the most verbose level, on success and on each kind of failure.
#[test]
fn secrets_never_printed_even_with_vvv() {
    let wrong_key = "wrongSecretKey000000000000000000";
    let flags_ok = [
        "-vvv",
        "--secret-id",
        DEFAULT_SECRET_ID,
        "--secret-key",
        DEFAULT_SECRET_KEY,
        "--session-token",
        SESSION_TOKEN,
        "--size",
        "3",
    ];
    let env_with_token = [
        ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
        ("TENCENTCLOUD_SESSION_TOKEN", SESSION_TOKEN),
    ];
    let env_wrong = [
        ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", wrong_key),
        ("TENCENTCLOUD_SESSION_TOKEN", SESSION_TOKEN),
    ];
    let runs = [
        list_with_env(&flags_ok, &[]),
        list_with_env(
            &["-vvv", "--all", "--size", "100", "--output", "ndjson"],
            &env_with_token,
        ),
        list_with_env(&["-vvv"], &env_wrong),
        list_with_env(&["-vvv", "--size", "0"], &env_with_token),
        list_with_env(&["-vvv", "--endpoint", closed_port_url()], &env_with_token),
        cos_ci(
            &[
                &["-vvv"][..],
                &executions_args("get", &["i0nope"], &emulator().base_url()),
            ]
            .concat(),
            &env_with_token,
        ),
        cos_ci(
            &[
                "-vvv",
                "sign",
                "--method",
                "GET",
                "--path",
                "/",
                "--header",
                "host=h",
                "--key-time",
                "1;2",
            ],
            &env_with_token,
        ),
    ];
    assert!(
        runs[0].stderr.contains("ci.request"),
        "verbose output expected: {:?}",
        runs[0]
    );
    for run in runs {
        for secret in [DEFAULT_SECRET_KEY, wrong_key, SESSION_TOKEN] {
            assert!(!run.stdout.contains(secret), "secret on stdout: {run:?}");
            assert!(!run.stderr.contains(secret), "secret on stderr: {run:?}");
        }
    }
}

#[test]
fn bucket_region_and_endpoint_come_from_the_environment() {
    let endpoint = emulator().base_url();
    let mut env = default_env();
    env.extend([
        ("COS_CI_BUCKET", DEFAULT_BUCKET),
        ("COS_CI_REGION", DEFAULT_REGION),
        ("COS_CI_ENDPOINT", endpoint.as_str()),
    ]);
    let run = cos_ci(
        &[
            "workflow-executions",
            "list",
            "--size",
            "1",
            "--output",
            "ndjson",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1);
}

/// With a fifth of requests failing (503, 429, 500, closed connections, cut
/// bodies, slow answers) `--all` still lists every execution exactly once.
#[test]
fn all_pages_survive_injected_faults() {
    const FAULTY_EXECUTIONS: usize = 10_000;
    let dataset = Dataset::generate(FAULTY_EXECUTIONS, SEED + 1);
    let expected: HashSet<String> = dataset.records().iter().map(|r| r.run_id.clone()).collect();
    let faulty = BackgroundEmulator::start(EmulatorConfig {
        dataset,
        seed: SEED,
        faults: FaultConfig::with_rate(0.2),
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .expect("start the faulty emulator");
    let endpoint = faulty.base_url();
    let run = list_with_env(
        &[
            "--endpoint",
            &endpoint,
            "--all",
            "--size",
            "100",
            "--output",
            "ndjson",
        ],
        &default_env(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let ids = ndjson_run_ids(&run.stdout);
    assert_eq!(ids.len(), FAULTY_EXECUTIONS, "none missing, none twice");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
}

/// A server on 127.0.0.1 that answers every request with `response`, or
/// never answers when `response` is `None`. Returns its base URL.
fn fake_server(response: Option<&'static str>) -> String {
    fake_server_bytes(response.map(|text| text.as_bytes().to_vec()))
}

/// [`fake_server`] with any bytes as the response.
fn fake_server_bytes(response: Option<Vec<u8>>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(response) = &response else {
                // Keep the connection open and silent.
                held.push(stream);
                continue;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            // The client may hang up mid-body (a body over its cap).
            let _ = stream.write_all(response);
        }
    });
    url
}

/// An HTTP/1.1 response with `status`, extra header lines and `body`
/// (`Content-Length` set to `declared`, or the body's length).
fn http_response(status: &str, headers: &[&str], body: &[u8], declared: Option<usize>) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nConnection: close\r\nx-ci-request-id: fake-req-1\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\n\r\n",
        declared.unwrap_or(body.len())
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `workflow-executions list` against `url` with the default credentials.
fn list_at(url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--endpoint", url];
    args.extend_from_slice(extra);
    list_with_env(&args, &default_env())
}

/// Whatever the server sent, if it answered, the exit code is 3 and the
/// line has its status, Code and RequestId; exit 4 is only for no answer.
#[test]
fn answers_the_server_sent_exit_3_with_status_code_and_request_id() {
    let error_xml = |code: &str| {
        format!(
            "<?xml version='1.0' encoding='utf-8' ?><Error><Code>{code}</Code>\
             <Message>try later</Message><RequestId>body-req-7</RequestId></Error>"
        )
        .into_bytes()
    };
    let throttled = fake_server_bytes(Some(http_response(
        "429 Too Many Requests",
        &["Retry-After: 86400"],
        &error_xml("SlowDown"),
        None,
    )));
    let unavailable = fake_server_bytes(Some(http_response(
        "503 Service Unavailable",
        &["Retry-After: 59"],
        &error_xml("ServiceUnavailable"),
        None,
    )));
    // Declares 17 MB (over the 16 MiB cap) and sends the start of it.
    let mut huge = b"<?xml version='1.0'?><Error><Code>InternalError</Code><Message>".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 100_000));
    let oversized = fake_server_bytes(Some(http_response(
        "500 Internal Server Error",
        &["Content-Type: application/xml"],
        &huge,
        Some(17_000_000),
    )));
    let long_token = format!(
        "<Response><RequestId>page-req</RequestId><NextToken>{}</NextToken></Response>",
        "t".repeat(70_000)
    );
    let endless_token = fake_server_bytes(Some(http_response(
        "200 OK",
        &["Content-Type: application/xml"],
        long_token.as_bytes(),
        None,
    )));
    let nested_json = fake_server_bytes(Some(http_response(
        "400 Bad Request",
        &["Content-Type: application/json"],
        br#"{"Error":{"Code":"InvalidParameter","Message":"size is bad"},"RequestId":"json-req-1"}"#,
        None,
    )));
    let mut report = String::new();
    for (name, url, extra) in [
        ("429 with Retry-After: 86400", &throttled, vec![]),
        (
            "503 with Retry-After: 59 and --deadline 5",
            &unavailable,
            vec!["--deadline", "5"],
        ),
        ("500 with a 17 MB body", &oversized, vec![]),
        ("NextToken of 70,000 bytes", &endless_token, vec!["--all"]),
        ("JSON error nested under Error", &nested_json, vec![]),
    ] {
        let started = std::time::Instant::now();
        let run = list_at(url, &extra);
        assert_eq!(run.code, 3, "{name}: {run:?}");
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        assert!(!run.stderr.contains("no answer"), "{name}: {run:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name}"
        );
        let mut stderr = run.stderr.replace(url.as_str(), "[server]");
        // The time taken varies from run to run.
        if let Some(start) = stderr.find(" attempt(s) in ")
            && let Some(end) = stderr[start..].find(" at the overall deadline")
        {
            stderr.replace_range(start + " attempt(s) in ".len()..start + end, "[elapsed]");
        }
        write_case(&mut report, name, run.code, &stderr);
    }
    insta::assert_snapshot!("answers_the_server_sent", report);
}

/// A 10 MB `<Message>` is cut to the documented length with a marker,
/// not printed as one 10 MB line.
#[test]
fn a_huge_error_message_is_cut_with_a_marker() {
    let body = format!(
        "<Error><Code>InvalidArgument</Code><Message>{}</Message><RequestId>r-1</RequestId></Error>",
        "m".repeat(10_000_000)
    );
    let url = fake_server_bytes(Some(http_response(
        "400 Bad Request",
        &[],
        body.as_bytes(),
        None,
    )));
    let run = list_at(&url, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.len() < 1_300, "{} bytes", run.stderr.len());
    assert!(
        run.stderr.contains(&format!(
            "{}… [{} more bytes cut] (RequestId: r-1)",
            "m".repeat(20),
            10_000_000 - 1024
        )),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(200)..]
    );
}

/// Bidirectional overrides and invisible characters from the server are
/// escaped in the table and in error lines; JSON output keeps them exact.
#[test]
fn data_and_errors_cannot_drive_the_terminal() {
    let object = "invoice\u{202e}fdp.exe\u{200b}\u{2066}";
    let page = cos_ci_proto::ListWorkflowExecutionsOutput {
        request_id: Some("page-req".into()),
        executions: vec![cos_ci_proto::WorkflowExecution {
            run_id: "i1\u{feff}".into(),
            workflow_id: "w\u{061c}1".into(),
            object: object.into(),
            create_time: None,
            state: ExecutionState::Success,
        }],
        next_token: Some("next\u{202e}".into()),
    };
    let url = fake_server_bytes(Some(http_response(
        "200 OK",
        &["Content-Type: application/xml"],
        cos_ci_proto::XmlDocument::to_xml(&page).as_bytes(),
        None,
    )));
    let table = list_at(&url, &[]);
    assert_eq!(table.code, 0, "{table:?}");
    let hostile = ['\u{202e}', '\u{200b}', '\u{2066}', '\u{feff}', '\u{061c}'];
    for text in [&table.stdout, &table.stderr] {
        assert!(!text.contains(hostile), "{text:?}");
    }
    assert!(
        table
            .stdout
            .contains("invoice\\u{202e}fdp.exe\\u{200b}\\u{2066}"),
        "{table:?}"
    );
    assert_eq!(table.stderr, "NextToken: next\\u{202e}\n");
    let json = list_at(&url, &["--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["WorkflowExecutionList"][0]["Object"], object);
    assert_eq!(value["NextToken"], "next\u{202e}");

    let error = fake_server_bytes(Some(http_response(
        "403 Forbidden",
        &[],
        "<Error><Code>Access\u{202e}Denied</Code><Message>see \u{2067}file\u{2069} \u{1b}[2J</Message></Error>".as_bytes(),
        None,
    )));
    let run = list_at(&error, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.stderr.contains(hostile), "{run:?}");
    assert!(!run.stderr.contains('\u{1b}'), "{run:?}");
    assert_eq!(
        run.stderr,
        "error: service error: HTTP 403 Access\\u{202e}Denied: see \\u{2067}file\\u{2069} \\u{1b}[2J (RequestId: fake-req-1)\n"
    );
}

/// The overall deadline is a flag: it ends the call when it passes, and
/// the error names it.
#[test]
fn the_deadline_flag_ends_the_call_and_is_named() {
    let silent = fake_server(None);
    let started = std::time::Instant::now();
    let run = list_at(&silent, &["--deadline", "0.5"]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 4, "{run:?}");
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    assert!(
        run.stderr.contains("at the overall deadline of 500ms"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("(what was left of the call's overall deadline)"),
        "{run:?}"
    );
}

/// A credential variable that is set but not UTF-8 says so (it is not
/// "missing", and the next variable is not used instead).
#[cfg(unix)]
#[test]
fn a_credential_variable_that_is_not_utf8_says_so() {
    use std::os::unix::ffi::OsStrExt;
    let endpoint = emulator().base_url();
    let mut command = isolated(&list_args(&[], &endpoint));
    command
        .env(
            "TENCENTCLOUD_SECRET_ID",
            std::ffi::OsStr::from_bytes(b"AKID\xff\xfe"),
        )
        .env("COS_SECRET_ID", DEFAULT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY);
    let output = command.output().expect("run cos-ci");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: invalid environment variable TENCENTCLOUD_SECRET_ID: is set but not valid UTF-8\n"
    );
}

/// What a proxy or a hung server does: typed errors, the right exit codes.
#[test]
fn broken_servers_give_service_and_network_exit_codes() {
    let html_ok = fake_server(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 27\r\nConnection: close\r\n\r\n<html><b>welcome</b></html>",
    ));
    let html_502 = fake_server(Some(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 30\r\nConnection: close\r\n\r\n<html>upstream is down</html>\n",
    ));
    let silent = fake_server(None);
    let mut report = String::new();
    for (name, url, extra) in [
        ("HTML page with 200", &html_ok, vec![]),
        ("HTML page with 502", &html_502, vec!["--max-attempts", "1"]),
        (
            "server never answers",
            &silent,
            vec!["--timeout", "0.2", "--max-attempts", "2"],
        ),
    ] {
        let run = list_at(url, &extra);
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        let stderr = run.stderr.replace(url.as_str(), "[server]");
        write_case(&mut report, name, run.code, &stderr);
    }
    insta::assert_snapshot!("broken_servers", report);
}

/// Every flag value is parsed by clap on the protocol types: `--order` and
/// `--states` take any case and send the wire spelling.
#[test]
fn order_and_states_take_any_case() {
    let expected = list(&["--order", "Asc", "--size", "20", "--output", "ndjson"]);
    assert_eq!(expected.code, 0, "{expected:?}");
    let ids = ndjson_run_ids(&expected.stdout);
    for order in ["asc", "ASC"] {
        let run = list(&["--order", order, "--size", "20", "--output", "ndjson"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(ndjson_run_ids(&run.stdout), ids, "--order {order}");
    }
    let times: Vec<i64> = expected
        .stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
            CiTimestamp::parse(value["CreateTime"].as_str().expect("CreateTime"))
                .expect("time")
                .unix_seconds()
        })
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "oldest first"
    );

    let failed = list(&[
        "--states",
        "failed,RUNNING",
        "--size",
        "20",
        "--output",
        "ndjson",
    ]);
    assert_eq!(failed.code, 0, "{failed:?}");
    for line in failed.stdout.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert!(
            matches!(value["State"].as_str(), Some("Failed" | "Running")),
            "{line}"
        );
    }
}

/// `--max-pages N` follows pages but stops with exit 3 when the listing
/// has more, after printing the N pages and where to resume.
#[test]
fn max_pages_caps_a_listing_and_says_where_to_resume() {
    let run = list(&["--max-pages", "2", "--size", "5", "--output", "ndjson"]);
    assert_eq!(run.code, 3, "{run:?}");
    let first = ndjson_run_ids(&run.stdout);
    assert_eq!(first.len(), 10, "two pages of five");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    let token = lines[0]
        .strip_prefix("NextToken: ")
        .expect("NextToken first");
    assert_eq!(
        lines[1],
        "error: stopped after 2 pages (the page limit); the listing has more"
    );
    // The token continues right after the tenth execution.
    assert_resumes_exactly(
        first,
        &["--next-token", token, "--size", "5", "--output", "ndjson"],
        &["--limit", "15", "--size", "15", "--output", "ndjson"],
    );

    // A cap the listing fits in is no error.
    let whole = list(&["--max-pages", "3", "--size", "100", "--output", "ndjson"]);
    assert_eq!(whole.code, 0, "{whole:?}");
    assert_eq!(ndjson_run_ids(&whole.stdout).len(), EXECUTIONS);
    assert_eq!(whole.stderr, "");
}

/// Display width of the text before byte `index` of `line`.
fn display_column(line: &str, index: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    line[..index].width()
}

/// Chinese object keys (two columns per character on a terminal) keep the
/// table aligned: every row's Object starts under the header's.
#[test]
fn chinese_object_keys_line_up_in_the_table() {
    let run = list(&["--size", "100"]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut lines = run.stdout.lines();
    let header = lines.next().expect("header");
    let column = display_column(header, header.find("Object").expect("Object"));
    let mut wide = 0;
    for (line, execution) in lines.zip(dataset_page(100)) {
        let at = line
            .rfind(&execution.object)
            .expect("the object ends the row");
        assert_eq!(display_column(line, at), column, "{line}");
        wide += usize::from(!execution.object.is_ascii());
    }
    assert!(wide > 0, "the page should hold non-ASCII keys");
}

/// The first `n` executions of the default listing (newest first).
fn dataset_page(n: usize) -> Vec<cos_ci_emulator::ExecutionRecord> {
    let mut records = dataset().into_records();
    records.sort_by(|a, b| {
        (b.create_time.unix_seconds(), &b.run_id).cmp(&(a.create_time.unix_seconds(), &a.run_id))
    });
    records.truncate(n);
    records
}

/// `workflow-executions get RUN_ID` against `endpoint`, plus `extra`.
fn get(endpoint: &str, run_id: &str, extra: &[&str]) -> Run {
    let mut args = executions_args("get", extra, endpoint);
    args.insert(2, run_id);
    cos_ci(&args, &default_env())
}

/// Executions with their details given: a fan-out topology whose tasks
/// come back out of order (one with a Chinese node name, one not in the
/// topology), and a run with no task yet.
const DETAILED: &str = concat!(
    r#"{"RunId":"i0fan0out00000000000000000000000a","WorkflowId":"w0fan0out000000000000000000000000","Object":"视频/测试 19.mov","CreateTime":"2026-02-01T10:00:00+08:00","State":"Failed","WorkflowName":"转码工作流","#,
    r#""Topology":{"Dependencies":{"Start":"截图_1,Transcode_1","截图_1":"End","Transcode_1":"Watermark_1","Watermark_1":"End"},"#,
    r#""Nodes":{"Start":{"Type":"Start"},"截图_1":{"Type":"Snapshot"},"Transcode_1":{"Type":"Transcode"},"Watermark_1":{"Type":"Watermark"}}},"#,
    r#""Tasks":["#,
    r#"{"Type":"Notify","Name":"Notify_1","State":"Success","JobId":"j00000000000000000000000000000003","CreateTime":"2026-02-01T10:00:01+08:00","StartTime":"2026-02-01T10:00:01+08:00","EndTime":"2026-02-01T10:00:02+08:00","Code":"Success","Message":"success"},"#,
    r#"{"Type":"Transcode","Name":"Transcode_1","State":"Failed","JobId":"j00000000000000000000000000000002","CreateTime":"2026-02-01T10:00:01+08:00","StartTime":"2026-02-01T10:00:02+08:00","EndTime":"2026-02-01T10:00:05+08:00","Code":"InvalidInput","Message":"the input file has no video stream"},"#,
    r#"{"Type":"Snapshot","Name":"截图_1","State":"Success","JobId":"j00000000000000000000000000000001","CreateTime":"2026-02-01T10:00:01+08:00","StartTime":"2026-02-01T10:00:01+08:00","EndTime":"2026-02-01T10:00:03+08:00","Code":"Success","Message":"success"}"#,
    r#"]}"#,
    "\n",
    r#"{"RunId":"i0queued0000000000000000000000000","WorkflowId":"w0fan0out000000000000000000000000","Object":"input/a.mp4","CreateTime":"2026-02-01T11:00:00+08:00","State":"Running","Tasks":[]}"#,
    "\n",
);

fn detailed_emulator() -> &'static BackgroundEmulator {
    static EMULATOR: OnceLock<BackgroundEmulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        BackgroundEmulator::start(EmulatorConfig {
            dataset: Dataset::from_ndjson(DETAILED).expect("the detailed dataset"),
            seed: SEED,
            log_requests: false,
            ..EmulatorConfig::default()
        })
        .expect("start the detailed emulator")
    })
}

/// A generated failed run: the table (execution, tasks, the failure line)
/// and the whole answer as JSON. Exit 0: the command succeeded even though
/// the run failed.
#[test]
fn get_shows_a_failed_run_as_a_table_and_as_json() {
    let failed = dataset_page(EXECUTIONS)
        .into_iter()
        .find(|record| {
            // One that got past its first task.
            record.state == ExecutionState::Failed
                && record.to_detail(DEFAULT_BUCKET, DEFAULT_REGION).tasks.len() > 1
        })
        .expect("a failed execution");
    let endpoint = emulator().base_url();
    let table = get(&endpoint, &failed.run_id, &[]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(table.stderr, "");
    assert!(table.stdout.contains("\nfailed: "), "{table:?}");
    insta::assert_snapshot!("get_failed_table_stdout", table.stdout);

    let json = get(&endpoint, &failed.run_id, &["--output", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("one document");
    assert_eq!(value["WorkflowExecution"]["RunId"], failed.run_id.as_str());
    insta::assert_snapshot!("get_failed_json_stdout", redact(&json.stdout));

    let ndjson = get(&endpoint, &failed.run_id, &["--output", "ndjson"]);
    assert_eq!(ndjson.stdout.lines().count(), 1, "{ndjson:?}");
    let line: serde_json::Value = serde_json::from_str(&ndjson.stdout).expect("one line");
    assert_eq!(line["WorkflowExecution"], value["WorkflowExecution"]);

    // Followed to its jobs: each task's job is found, as the task shows it.
    let jobs = get(&endpoint, &failed.run_id, &["--jobs"]);
    assert_eq!(jobs.code, 0, "{jobs:?}");
    assert!(!jobs.stdout.contains("missing"), "{jobs:?}");
    insta::assert_snapshot!("get_failed_jobs_table_stdout", jobs.stdout);
    let jobs = get(&endpoint, &failed.run_id, &["--jobs", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&jobs.stdout).expect("one document");
    let tasks = value["WorkflowExecution"]["Tasks"]
        .as_array()
        .expect("tasks");
    let found = value["JobsDetail"].as_array().expect("the jobs");
    assert_eq!(found.len(), tasks.len(), "{value}");
    for (task, job) in tasks.iter().zip(found) {
        for (task_field, job_field) in [("JobId", "JobId"), ("State", "State"), ("Type", "Tag")] {
            assert_eq!(task[task_field], job[job_field], "{value}");
        }
        assert_eq!(job["Workflow"]["RunId"], failed.run_id.as_str());
    }
}

/// Tasks in topology order (breadth-first from Start, then the rest), a
/// Chinese node name aligned by display width, and a run with no tasks.
#[test]
fn get_orders_tasks_by_topology() {
    let endpoint = detailed_emulator().base_url();
    let run = get(&endpoint, "i0fan0out00000000000000000000000a", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!("get_topology_table_stdout", run.stdout);
    let table: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("Name "))
        .take_while(|line| !line.is_empty())
        .collect();
    let names: Vec<&str> = table
        .iter()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(names, ["截图_1", "Transcode_1", "Notify_1"]);
    // Where the second column (Type) starts, in display columns.
    let type_column = |line: &str| {
        let gap = line.find("  ").expect("a gap after the name");
        let start = gap + line[gap..].find(|c: char| c != ' ').expect("a type");
        display_column(line, start)
    };
    let header = type_column(table[0]);
    for line in &table[1..] {
        assert_eq!(type_column(line), header, "{line}");
    }

    let queued = get(&endpoint, "i0queued0000000000000000000000000", &[]);
    assert_eq!(queued.code, 0, "{queued:?}");
    assert!(queued.stdout.ends_with("\n\nno tasks\n"), "{queued:?}");
}

/// `get`'s bad input and the service's answer for an unknown run.
#[test]
fn get_errors() {
    let endpoint = emulator().base_url();
    let mut report = String::new();
    for (name, run_id, extra) in [
        ("unknown run id", "i0nope", vec![]),
        ("run id with a slash", "a/b", vec![]),
        ("bad output", "i0nope", vec!["--output", "xml"]),
        ("bad timeout", "i0nope", vec!["--timeout", "0"]),
    ] {
        let run = get(&endpoint, run_id, &extra);
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        write_case(&mut report, name, run.code, &redact(&run.stderr));
    }
    insta::assert_snapshot!("get_errors", report);
}

/// `--parallel N` prints exactly what the sequential listing prints, for
/// both orders, with filters and with `--limit` (only the NextToken line,
/// which a windowed listing cannot give, differs).
#[test]
fn parallel_listing_prints_exactly_the_sequential_listing() {
    for extra in [
        &["--order", "asc"][..],
        &["--order", "desc"],
        &["--states", "Failed,Running"],
        &[
            "--start-time",
            "2026-01-10T00:00:00+08:00",
            "--end-time",
            "2026-02-01T00:00:00+08:00",
        ],
    ] {
        let mut sequential_args = vec!["--all", "--size", "7", "--output", "ndjson"];
        sequential_args.extend_from_slice(extra);
        let sequential = list(&sequential_args);
        assert_eq!(sequential.code, 0, "{sequential:?}");
        assert!(!sequential.stdout.is_empty());
        for workers in ["1", "3", "8"] {
            let mut args = sequential_args.clone();
            args.extend(["--parallel", workers]);
            let parallel = list(&args);
            assert_eq!(parallel.code, 0, "{parallel:?}");
            assert_eq!(parallel.stdout, sequential.stdout, "{args:?}");
            assert_eq!(parallel.stderr, "", "{args:?}");
        }
    }
    let sequential = list(&["--limit", "40", "--size", "7", "--output", "ndjson"]);
    let parallel = list(&[
        "--limit",
        "40",
        "--size",
        "7",
        "--output",
        "ndjson",
        "--parallel",
        "8",
    ]);
    assert_eq!(parallel.code, 0, "{parallel:?}");
    assert_eq!(parallel.stdout, sequential.stdout);
    assert!(sequential.stderr.starts_with("NextToken: "));
    assert_eq!(parallel.stderr, "");
    // The table and its summary line.
    let table = list(&["--all", "--size", "50", "--parallel", "4"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(table.stdout.lines().count(), EXECUTIONS + 1);
    assert!(
        table.stderr.starts_with("listed 250 executions in "),
        "{table:?}"
    );
}

fn summary(extra: &[&str]) -> Run {
    let endpoint = emulator().base_url();
    cos_ci(
        &executions_args("summary", extra, &endpoint),
        &default_env(),
    )
}

/// `summary` against the emulator: counts that agree with the dataset, by
/// state, workflow and day; a table when piped (no bars), JSON for
/// scripts, NDJSON rows.
#[test]
fn summary_counts_by_state_workflow_and_day() {
    let by_state = summary(&["--by", "state"]);
    assert_eq!(by_state.code, 0, "{by_state:?}");
    assert_eq!(by_state.stderr, "");
    insta::assert_snapshot!("summary_by_state_table", by_state.stdout);
    assert!(!by_state.stdout.contains('█'), "no bars when piped");

    // The counts are the dataset's.
    let records = dataset().into_records();
    let failed = records
        .iter()
        .filter(|r| r.state == ExecutionState::Failed)
        .count();
    let total_line = by_state.stdout.lines().last().unwrap().to_owned();
    let fields: Vec<&str> = total_line.split_whitespace().collect();
    assert_eq!(fields[..2], ["Total", "250"]);
    assert_eq!(fields[3], failed.to_string());

    let by_workflow = summary(&["--by", "workflow", "--parallel", "3"]);
    assert_eq!(by_workflow.code, 0, "{by_workflow:?}");
    insta::assert_snapshot!("summary_by_workflow_table", by_workflow.stdout);

    let by_day = summary(&[
        "--by",
        "day",
        "--start-time",
        "2026-01-05T00:00:00+08:00",
        "--end-time",
        "2026-01-11T23:59:59+08:00",
        "--output",
        "json",
    ]);
    assert_eq!(by_day.code, 0, "{by_day:?}");
    insta::assert_snapshot!("summary_by_day_json", by_day.stdout);
    let document: serde_json::Value = serde_json::from_str(&by_day.stdout).unwrap();
    let in_range = records
        .iter()
        .filter(|r| {
            let t = r.create_time.unix_seconds();
            (1_767_542_400..1_767_542_400 + 7 * 86_400).contains(&t)
        })
        .count();
    assert_eq!(document["Total"]["Executions"], in_range);
    assert_eq!(document["Rows"].as_array().map(Vec::len), Some(7));

    let rows = summary(&["--by", "state", "--output", "ndjson", "--states", "failed"]);
    assert_eq!(rows.code, 0, "{rows:?}");
    let lines: Vec<serde_json::Value> = rows
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["Key"], "Failed");
    assert_eq!(lines[0]["Executions"], failed);
    assert_eq!(lines[0]["FailureRate"], 1.0);

    // --since: nothing in the dataset is that recent... or that old.
    let recent = summary(&["--since", "1h", "--output", "json"]);
    assert_eq!(recent.code, 0, "{recent:?}");
    let document: serde_json::Value = serde_json::from_str(&recent.stdout).unwrap();
    let expected_recent = records
        .iter()
        .filter(|r| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            r.create_time.unix_seconds() >= now - 3600
        })
        .count();
    assert_eq!(document["Total"]["Executions"], expected_recent);
}

#[test]
fn summary_errors_name_the_flag() {
    let mut report = String::new();
    for (name, extra) in [
        ("by what", &["--by", "minute"][..]),
        ("since not a duration", &["--since", "soon"]),
        (
            "since and start time",
            &["--since", "1d", "--start-time", "2026-01-05T00:00:00+08:00"],
        ),
        ("parallel 0", &["--parallel", "0"]),
        (
            "start after end",
            &[
                "--start-time",
                "2026-01-06T00:00:00+08:00",
                "--end-time",
                "2026-01-05T00:00:00+08:00",
            ],
        ),
    ] {
        let run = summary(extra);
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        write_case(&mut report, name, run.code, &redact(&run.stderr));
    }
    insta::assert_snapshot!("summary_errors", report);
}

/// `workflow-executions failures` against `endpoint`, plus `extra`.
fn failures_at(endpoint: &str, extra: &[&str]) -> Run {
    cos_ci(
        &executions_args("failures", extra, endpoint),
        &default_env(),
    )
}

/// The whole of the generated dataset's time range (all of it lies in 2026).
const ALL_OF_2026: [&str; 4] = [
    "--start-time",
    "2026-01-01T00:00:00+08:00",
    "--end-time",
    "2026-12-31T23:59:59+08:00",
];

/// The generated dataset's failed runs, newest first, each with its failed
/// tasks' (Name, Code, Message) as the emulator's details give them.
fn failed_runs() -> Vec<(String, Vec<[String; 3]>)> {
    dataset_page(EXECUTIONS)
        .into_iter()
        .filter(|record| record.state == ExecutionState::Failed)
        .map(|record| {
            let detail = record.to_detail(DEFAULT_BUCKET, DEFAULT_REGION);
            let tasks = detail
                .tasks
                .into_iter()
                .filter(|task| task.state == cos_ci_proto::JobState::Failed)
                .map(|task| {
                    [
                        task.name,
                        task.code.unwrap_or_default(),
                        task.message.unwrap_or_default(),
                    ]
                })
                .collect();
            (record.run_id, tasks)
        })
        .collect()
}

/// The runs of `failures --output ndjson`, as `failed_runs` gives them.
fn ndjson_failed_runs(stdout: &str) -> Vec<(String, Vec<[String; 3]>)> {
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    stdout
        .lines()
        .map(|line| {
            let run: serde_json::Value = serde_json::from_str(line).expect("one JSON per line");
            let tasks = run["FailedTasks"]
                .as_array()
                .expect("FailedTasks")
                .iter()
                .map(|task| {
                    [
                        text(&task["Name"]),
                        text(&task["Code"]),
                        text(&task["Message"]),
                    ]
                })
                .collect();
            (text(&run["RunId"]), tasks)
        })
        .collect()
}

/// One command from "which runs failed?" to each failed task's Code and
/// Message: the dataset's failed runs, newest first, bounded by --limit
/// (50 by default) and, without a time flag, by the last 24 hours.
#[test]
fn failures_show_each_failed_run_with_its_failed_tasks() {
    let endpoint = emulator().base_url();
    let expected = failed_runs();
    assert!(expected.len() > 5, "{}", expected.len());

    let mut args = ALL_OF_2026.to_vec();
    args.extend(["--limit", "5"]);
    let table = failures_at(&endpoint, &args);
    assert_eq!(table.code, 0, "{table:?}");
    insta::assert_snapshot!("failures_table_stdout", table.stdout);
    assert!(
        table
            .stderr
            .starts_with("5 failed runs, 5 failed tasks\nNextToken: "),
        "{table:?}"
    );

    args.extend(["--output", "ndjson"]);
    let ndjson = failures_at(&endpoint, &args);
    assert_eq!(ndjson.code, 0, "{ndjson:?}");
    insta::assert_snapshot!("failures_ndjson_stdout", ndjson.stdout);
    assert_eq!(ndjson_failed_runs(&ndjson.stdout), expected[..5]);

    // By default the first 50; with --all every one, whatever the
    // concurrency, in the same order.
    let mut first_50 = ALL_OF_2026.to_vec();
    first_50.extend(["--output", "ndjson"]);
    let run = failures_at(&endpoint, &first_50);
    assert_eq!(
        ndjson_failed_runs(&run.stdout),
        expected[..expected.len().min(50)]
    );
    assert_eq!(
        run.stderr.contains("stopped at --limit 50: "),
        expected.len() > 50,
        "{run:?}"
    );
    for concurrency in ["1", "32"] {
        let mut every = ALL_OF_2026.to_vec();
        every.extend(["--all", "--output", "ndjson", "--concurrency", concurrency]);
        let run = failures_at(&endpoint, &every);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stderr, "", "{run:?}");
        assert_eq!(ndjson_failed_runs(&run.stdout), expected);
    }

    let mut json = ALL_OF_2026.to_vec();
    json.extend(["--limit", "3", "--output", "json"]);
    let run = failures_at(&endpoint, &json);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).expect("one document");
    assert_eq!(document["Count"], 3);
    assert_eq!(document["Runs"][0]["RunId"], expected[0].0.as_str());
    assert_eq!(document["Runs"][0]["State"], "Failed");
    assert!(document["NextToken"].is_string(), "{document}");

    // No time flag: the last 24 hours.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let recent = dataset_page(EXECUTIONS)
        .iter()
        .filter(|r| r.state == ExecutionState::Failed)
        .filter(|r| r.create_time.unix_seconds() >= now - 86_400)
        .count();
    let run = failures_at(&endpoint, &["--output", "ndjson"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), recent.min(50), "{run:?}");
}

/// Failed runs given whole: two failed tasks (a Chinese workflow name, a
/// message on two lines), a failed run whose details show no failed task,
/// and a run that succeeded.
const FAILED_RUNS: &str = concat!(
    r#"{"RunId":"i0two0failed000000000000000000000","WorkflowId":"w0media000000000000000000000000000","Object":"视频/测试 19.mov","CreateTime":"2026-02-01T12:00:00+08:00","State":"Failed","WorkflowName":"转码工作流","#,
    r#""Tasks":["#,
    r#"{"Type":"Snapshot","Name":"Snapshot_1","State":"Success","JobId":"j00000000000000000000000000000011","StartTime":"2026-02-01T12:00:01+08:00","EndTime":"2026-02-01T12:00:02+08:00","Code":"Success","Message":"success"},"#,
    r#"{"Type":"Transcode","Name":"Transcode_1","State":"Failed","JobId":"j00000000000000000000000000000012","StartTime":"2026-02-01T12:00:02+08:00","EndTime":"2026-02-01T12:00:05+08:00","Code":"InvalidInput","Message":"the input file has no video stream"},"#,
    r#"{"Type":"Watermark","Name":"Watermark_1","State":"Failed","JobId":"j00000000000000000000000000000013","StartTime":"2026-02-01T12:00:02+08:00","EndTime":"2026-02-01T12:00:03+08:00","Code":"InternalError","Message":"the job failed\non an internal error"}"#,
    r#"]}"#,
    "\n",
    r#"{"RunId":"i0no0failed0task00000000000000000","WorkflowId":"w0media000000000000000000000000000","Object":"input/b.mp4","CreateTime":"2026-02-01T11:00:00+08:00","State":"Failed","Tasks":[]}"#,
    "\n",
    r#"{"RunId":"i0succeeded00000000000000000000000","WorkflowId":"w0media000000000000000000000000000","Object":"input/c.mp4","CreateTime":"2026-02-01T10:30:00+08:00","State":"Success","Tasks":[]}"#,
    "\n",
    r#"{"RunId":"i0one0failed000000000000000000000","WorkflowId":"w0media000000000000000000000000000","Object":"input/d.mp4","CreateTime":"2026-02-01T10:00:00+08:00","State":"Failed","WorkflowName":"snapshots","#,
    r#""Tasks":[{"Type":"Snapshot","Name":"Snapshot_1","State":"Failed","JobId":"j00000000000000000000000000000031","Code":"InvalidParameter","Message":"the snapshot time is after the end of the video"}]}"#,
    "\n",
);

/// The failed runs of [`FAILED_RUNS`], newest first.
const FAILED_RUN_IDS: [&str; 3] = [
    "i0two0failed000000000000000000000",
    "i0no0failed0task00000000000000000",
    "i0one0failed000000000000000000000",
];

/// An emulator serving [`FAILED_RUNS`] with `faults` under `seed`.
fn failed_runs_emulator(seed: u64, faults: FaultConfig) -> BackgroundEmulator {
    BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::from_ndjson(FAILED_RUNS).expect("the failed runs"),
        seed,
        faults,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator")
}

/// A run with two failed tasks gets two rows, one with none gets a row of
/// `-` (never left out); Chinese text lines up; a message's newline is
/// escaped in the table and kept in NDJSON.
#[test]
fn failures_of_given_runs_one_row_per_failed_task() {
    let emulator = failed_runs_emulator(SEED, FaultConfig::default());
    let endpoint = emulator.base_url();
    let table = failures_at(&endpoint, &ALL_OF_2026);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(table.stderr, "3 failed runs, 3 failed tasks\n");
    insta::assert_snapshot!("failures_given_table_stdout", table.stdout);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let code = display_column(lines[0], lines[0].find("Code").unwrap());
    for line in &lines[1..] {
        let at = line.find("  InvalidInput").or(line.find("  InternalError"));
        if let Some(at) = at {
            assert_eq!(display_column(line, at + 2), code, "{line}");
        }
    }

    let mut args = ALL_OF_2026.to_vec();
    args.extend(["--output", "ndjson"]);
    let ndjson = failures_at(&endpoint, &args);
    let runs = ndjson_failed_runs(&ndjson.stdout);
    let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, FAILED_RUN_IDS);
    assert_eq!(runs[0].1[1][2], "the job failed\non an internal error");
    assert!(runs[1].1.is_empty());
}

/// A details call that fails loses only its own run: the others are
/// printed in order, the failure is one line on stderr naming the run,
/// and the exit code is 3 for a service error, 4 for no answer.
#[test]
fn failures_go_on_when_one_runs_details_fail() {
    for (kind, code, said) in [
        (
            FaultKind::InternalError500,
            3,
            "service error: HTTP 500 InternalError",
        ),
        (FaultKind::CloseConnection, 4, "no answer from "),
    ] {
        let faults = FaultConfig {
            rate: 0.3,
            kinds: vec![kind],
        };
        // A seed under which the listing (request 0) goes through and
        // exactly one of the three details calls (requests 1 to 3, one at
        // a time with --concurrency 1) fails.
        let (seed, failed) = (0..10_000u64)
            .find_map(|seed| {
                let failing: Vec<u64> = (0..4)
                    .filter(|n| faults.fault_for(seed, *n).is_some())
                    .collect();
                match failing[..] {
                    [n] if n > 0 => Some((seed, (n - 1) as usize)),
                    _ => None,
                }
            })
            .expect("a seed");
        let emulator = failed_runs_emulator(seed, faults);
        let mut args = ALL_OF_2026.to_vec();
        args.extend([
            "--concurrency",
            "1",
            "--max-attempts",
            "1",
            "--output",
            "ndjson",
        ]);
        let run = failures_at(&emulator.base_url(), &args);
        assert_eq!(run.code, code, "{kind}: {run:?}");
        let printed: Vec<String> = ndjson_failed_runs(&run.stdout)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut others = FAILED_RUN_IDS.to_vec();
        let lost = others.remove(failed);
        assert_eq!(printed, others, "{kind}: {run:?}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{kind}: {run:?}");
        assert!(
            lines[0].starts_with(&format!("error: run {lost}: {said}")),
            "{kind}: {run:?}"
        );
        assert_eq!(
            lines[1],
            "error: the details of 1 of 3 failed runs could not be fetched (each is named above)"
        );
    }
}

/// `failures --parallel N` prints exactly what the sequential listing
/// prints, over enough failed runs spread in time (some 450 over six
/// weeks, five pages) for the windows to matter: the table and its
/// summary line, JSON, and with --limit the runs and the "stopped at"
/// hint, which only lacks the NextToken a windowed listing cannot give.
#[test]
fn failures_in_parallel_print_exactly_the_sequential_listing() {
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::generate(3_000, SEED + 2),
        seed: SEED,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator");
    let endpoint = emulator.base_url();
    let failures = |extra: &[&str], workers: &str| {
        let mut args = ALL_OF_2026.to_vec();
        args.extend(["--concurrency", "32"]);
        args.extend_from_slice(extra);
        if workers != "1" {
            args.extend(["--parallel", workers]);
        }
        let run = failures_at(&endpoint, &args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        run
    };
    for output in ["table", "json"] {
        let sequential = failures(&["--all", "--output", output], "1");
        assert!(sequential.stdout.lines().count() > 400, "{sequential:?}");
        for workers in ["4", "32"] {
            let parallel = failures(&["--all", "--output", output], workers);
            assert_eq!(parallel.stdout, sequential.stdout, "{output} {workers}");
            assert_eq!(parallel.stderr, sequential.stderr, "{output} {workers}");
        }
    }
    let stopped = |limit: &str, next_token: &str| {
        format!(
            "stopped at --limit {limit}: more failed runs match (raise --limit, pass --all{next_token})\n"
        )
    };
    for (limit, extra) in [
        ("150", &[][..]),
        // The page limit is reached with the runs asked for: more match.
        ("100", &["--max-pages", "1"]),
    ] {
        let mut args = vec!["--limit", limit, "--output", "ndjson"];
        args.extend_from_slice(extra);
        let sequential = failures(&args, "1");
        let parallel = failures(&args, "4");
        assert_eq!(parallel.stdout, sequential.stdout, "{args:?}");
        assert_eq!(sequential.stdout.lines().count().to_string(), limit);
        assert!(
            sequential.stderr.starts_with("NextToken: "),
            "{sequential:?}"
        );
        assert!(
            sequential
                .stderr
                .ends_with(&stopped(limit, ", or go on with --next-token")),
            "{sequential:?}"
        );
        assert_eq!(parallel.stderr, stopped(limit, ""), "{args:?}");
    }
    // A limit the failed runs just reach: nothing more to say.
    let every = failures(&["--all", "--output", "ndjson"], "1");
    let count = every.stdout.lines().count().to_string();
    let parallel = failures(&["--limit", &count, "--output", "ndjson"], "4");
    assert_eq!(parallel.stdout, every.stdout);
    assert_eq!(parallel.stderr, "");
}

#[test]
fn failures_flag_errors_exit_2_naming_the_flag() {
    let endpoint = emulator().base_url();
    let mut report = String::new();
    for (name, extra) in [
        ("concurrency 0", &["--concurrency", "0"][..]),
        ("concurrency 33", &["--concurrency", "33"]),
        ("parallel 0", &["--all", "--parallel", "0"]),
        ("parallel 33", &["--all", "--parallel", "33"]),
        ("parallel of one page", &["--parallel", "4"]),
        ("limit 0", &["--limit", "0"]),
        ("all and limit", &["--all", "--limit", "3"]),
        ("states are fixed", &["--states", "Success"]),
        (
            "since and start time",
            &["--since", "1h", "--start-time", "-2h"],
        ),
        (
            "start after end",
            &[
                "--start-time",
                "2026-01-06T00:00:00+08:00",
                "--end-time",
                "2026-01-05T00:00:00+08:00",
            ],
        ),
        ("empty workflow id", &["--workflow-id", ""]),
    ] {
        let run = failures_at(&endpoint, extra);
        assert_eq!(run.stdout, "", "{name}: {run:?}");
        assert_eq!(run.code, 2, "{name}: {run:?}");
        write_case(&mut report, name, run.code, &redact(&run.stderr));
    }
    insta::assert_snapshot!("failures_errors", report);
}
