//! `cargo xtask demo`: the emulator in-process with a few thousand seeded
//! executions, then the real `cos-ci` binary against it, each command
//! printed before it runs so a reader sees how the CLI is used: three
//! listings, then a workflow triggered twice and waited for, once on an
//! object that succeeds (exit 0) and once on one whose key holds `fail`
//! (exit 5, the failed task named), then `workflow-executions failures`:
//! which runs failed in the last hour and why, in one command.
//!
//! The binary is built in the dev profile, together with xtask: `cargo
//! xtask` has just built this xtask (which links the emulator, the hyper
//! client and the CLI's library) in that profile, the workspace compiles
//! dependencies with `opt-level = 2` even there, and building both packages
//! in one command unifies features as xtask's own build did, so `cos-ci`
//! only adds its `main`.
//! A release build would compile every dependency again, minutes on a
//! fresh 2-core clone, for no visible gain in a demo.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use cos_ci_cli::commands::workflows::shell_word;
use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig,
};
use cos_ci_proto::{CiTimestamp, ExecutionState};

const EXECUTIONS: usize = 3_000;
const SEED: u64 = 2026;
const FILTER_START: &str = "2026-01-12T00:00:00+08:00";
/// The API's own offset form, to show both are accepted.
const FILTER_END: &str = "2026-01-19T00:00:00+0800";
/// How long each task of a triggered run takes in the emulator: short, so
/// the demo's two runs end in about a second each.
const TASK_DURATION: Duration = Duration::from_millis(300);

pub(crate) fn run() -> Result<(), String> {
    let binary = crate::build("cos-ci-cli", "cos-ci", false)?;

    eprintln!("xtask: starting the emulator with {EXECUTIONS} executions (seed {SEED})");
    let dataset = Dataset::generate(EXECUTIONS, SEED);
    let workflow = dataset
        .records()
        .first()
        .map(|record| record.workflow_id.clone())
        .ok_or("the generated dataset is empty")?;
    let expected_filtered = count_filtered(&dataset, &workflow)?;
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        dataset,
        seed: SEED,
        task_duration: TASK_DURATION,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .map_err(|e| format!("could not start the emulator: {e}"))?;
    let endpoint = emulator.base_url();
    println!("emulator listening on {endpoint} (bucket {DEFAULT_BUCKET}, region {DEFAULT_REGION})");
    println!(
        "credentials: the emulator's public default pair, passed to cos-ci in \
         TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY"
    );

    let cli = Cli {
        binary,
        endpoint: endpoint.clone(),
    };

    // 1. One page, as a table.
    cli.run_expecting(&list_args(&["--size", "10"]), 0)?;

    // 2. A filtered listing: one workflow, two states, one week, oldest first.
    let (_, filtered) = cli.run_shown_capturing(&list_args(&[
        "--workflow-id",
        &workflow,
        "--states",
        "Failed,Running",
        "--start-time",
        FILTER_START,
        "--end-time",
        FILTER_END,
        "--order",
        "asc",
        "--size",
        "10",
        "--all",
    ]))?;
    let listed = filtered
        .lines()
        .find_map(|line| line.strip_prefix("listed "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| format!("no summary line in the filtered listing's stderr: {filtered}"))?;
    println!("filtered listing: {listed} executions (expected {expected_filtered})");
    if listed != expected_filtered {
        return Err(format!(
            "the filtered listing returned {listed} executions, expected {expected_filtered}"
        ));
    }

    // 3. Everything, as NDJSON, piped into a count.
    let count = cli.count_ndjson(&["--all", "--size", "100", "--output", "ndjson"])?;
    println!("listed {count} executions (expected {EXECUTIONS})");
    if count != EXECUTIONS {
        return Err(format!("listed {count} executions, expected {EXECUTIONS}"));
    }

    // 4. A workflow run that succeeds and one that fails (the emulator
    // fails the last task of a run whose object key holds `fail`), each
    // triggered and followed to its end: exit 0, then exit 5.
    for (object, expected) in [("demo/ok.mp4", 0), ("demo/fail.mp4", 5)] {
        let code = cli.run_expecting(
            &[
                "workflows",
                "trigger",
                "--workflow-id",
                &workflow,
                "--object",
                object,
                "--wait",
                "--poll-interval",
                "0.1",
            ],
            expected,
        )?;
        println!("exit code {code} (expected {expected})");
    }

    // 5. Which runs failed, and why, in one command: the run that just
    // failed (the generated ones are older than an hour), with its failed
    // task's Code and Message.
    let (failures, _) =
        cli.run_shown_capturing(&["workflow-executions", "failures", "--since", "1h"])?;
    if !failures.contains("demo/fail.mp4") || failures.contains("demo/ok.mp4") {
        return Err(format!(
            "failures --since 1h should show the failed run on demo/fail.mp4 only:\n{failures}"
        ));
    }
    drop(emulator);
    println!("demo ok");
    Ok(())
}

/// The dataset's executions the filtered listing should return.
fn count_filtered(dataset: &Dataset, workflow: &str) -> Result<usize, String> {
    let start = CiTimestamp::parse(FILTER_START).map_err(|e| e.to_string())?;
    let end = CiTimestamp::parse(FILTER_END).map_err(|e| e.to_string())?;
    Ok(dataset
        .records()
        .iter()
        .filter(|r| r.workflow_id == workflow)
        .filter(|r| matches!(r.state, ExecutionState::Failed | ExecutionState::Running))
        .filter(|r| r.create_time >= start && r.create_time <= end)
        .count())
}

/// The `cos-ci` binary pointed at the emulator.
struct Cli {
    binary: PathBuf,
    endpoint: String,
}

impl Cli {
    /// `cos-ci workflow-executions list --bucket .. --region .. --endpoint ..`
    /// plus `extra`, printed as a user would type it.
    fn command(&self, extra: &[&str]) -> (Command, String) {
        self.any_command(&list_args(extra))
    }

    /// `cos-ci <group> <command> --bucket .. --region .. --endpoint ..`
    /// and the rest of `args`, printed as a user would type it.
    fn any_command(&self, args: &[&str]) -> (Command, String) {
        let args = with_connection(&self.endpoint, args);
        let shown = format!(
            "$ cos-ci {}",
            args.iter()
                .map(|a| shell_word(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut command = Command::new(&self.binary);
        with_credentials(command.args(&args));
        (command, shown)
    }

    /// Run `args` (any command) with its output on the terminal; an exit
    /// code other than `expected` is an error.
    fn run_expecting(&self, args: &[&str], expected: i32) -> Result<i32, String> {
        let (mut command, shown) = self.any_command(args);
        println!("\n{shown}");
        let status = command
            .status()
            .map_err(|e| format!("could not start cos-ci: {e}"))?;
        match status.code() {
            Some(code) if code == expected => Ok(code),
            _ => Err(format!(
                "cos-ci ended with {status}, expected exit code {expected}"
            )),
        }
    }

    /// Run `args` (any command); return its stdout and stderr, each also
    /// echoed.
    fn run_shown_capturing(&self, args: &[&str]) -> Result<(String, String), String> {
        let (mut command, shown) = self.any_command(args);
        println!("\n{shown}");
        let output = command
            .output()
            .map_err(|e| format!("could not start cos-ci: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        print!("{stdout}");
        eprint!("{stderr}");
        if output.status.success() {
            Ok((stdout, stderr))
        } else {
            Err(format!("cos-ci failed ({})", output.status))
        }
    }

    /// Run with stdout piped here; count the distinct `RunId`s, line by line.
    fn count_ndjson(&self, extra: &[&str]) -> Result<usize, String> {
        let (mut command, shown) = self.command(extra);
        println!("\n{shown} | wc -l");
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start cos-ci: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut run_ids = HashSet::new();
        let mut lines = 0usize;
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading cos-ci's output: {e}"))?;
            lines += 1;
            // Cheap check without a JSON parser: the first field is RunId.
            let run_id = line
                .strip_prefix("{\"RunId\":\"")
                .and_then(|rest| rest.split('"').next())
                .ok_or_else(|| format!("line {lines} is not an execution: {line}"))?;
            run_ids.insert(run_id.to_owned());
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for cos-ci: {e}"))?;
        if !status.success() {
            return Err(format!("cos-ci failed ({status})"));
        }
        println!("{lines}");
        if run_ids.len() != lines {
            return Err(format!(
                "{lines} lines but {} distinct run ids: an execution was listed twice",
                run_ids.len()
            ));
        }
        Ok(lines)
    }
}

/// `workflow-executions list` and then `extra`.
pub(crate) fn list_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["workflow-executions", "list"];
    args.extend_from_slice(extra);
    args
}

/// `args` (`<group> <command> ...`) with the emulator's bucket and region
/// and `endpoint` right after the command, where a user would put them.
pub(crate) fn with_connection<'a>(endpoint: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let (command, rest) = args.split_at(args.len().min(2));
    let mut args = command.to_vec();
    args.extend([
        "--bucket",
        DEFAULT_BUCKET,
        "--region",
        DEFAULT_REGION,
        "--endpoint",
        endpoint,
    ]);
    args.extend_from_slice(rest);
    args
}

/// The emulator's public default pair as cos-ci's credential variables,
/// and no session token left over from the caller's environment.
pub(crate) fn with_credentials(command: &mut Command) -> &mut Command {
    command
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
        .env_remove("TENCENTCLOUD_SESSION_TOKEN")
}
