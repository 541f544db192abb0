//! The `cos-ci-emulator` binary: `--dump`, the first stdout line, serving,
//! and a clean exit on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cos_ci_emulator::Dataset;

const BINARY: &str = env!("CARGO_BIN_EXE_cos-ci-emulator");

#[test]
fn dump_prints_the_generated_dataset() {
    let output = Command::new(BINARY)
        .args(["--executions", "25", "--seed", "9", "--dump"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        Dataset::from_ndjson(&text).unwrap(),
        Dataset::generate(25, 9)
    );
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--faults", "1.5"][..],
        &["--fault-kinds", "teapot"],
        &["--data", "/nonexistent.ndjson"],
    ] {
        let output = Command::new(BINARY).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
#[cfg(unix)]
fn serves_after_printing_its_address_and_stops_on_sigterm() {
    let mut child = Command::new(BINARY)
        .args(["--executions", "40", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).unwrap();
    let address = first_line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {first_line:?}"));
    let addr: SocketAddr = address.parse().unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(common::signed_list(addr, &[("size", "100")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.elements("RunId").len(), 40);

    // SIGTERM by pid: the process this test started.
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
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
