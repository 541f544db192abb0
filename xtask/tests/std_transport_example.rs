//! The client's `std_transport` example — the sans-IO client over a blocking
//! `std::net::TcpStream` with hand-written HTTP/1.1 — run exactly as its docs
//! say, against an emulator, paging through every execution.

use std::process::Command;

use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig, FaultConfig,
};

fn run_example(emulator: &BackgroundEmulator) -> std::process::Output {
    // Cargo is free while tests run, so building here is cheap (already built
    // by `cargo test`) and makes this test work on its own too.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "-p",
            "cos-ci-client",
            "--example",
            "std_transport",
            "--",
        ])
        .args(["--endpoint", &emulator.base_url()])
        .args(["--bucket", DEFAULT_BUCKET, "--region", DEFAULT_REGION])
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
        .env_remove("TENCENTCLOUD_SESSION_TOKEN")
        .output()
        .expect("cargo runs")
}

/// The example, run against an emulator started with `config`, lists all
/// `expected` executions and says so on its last line.
fn lists_every_execution(config: EmulatorConfig, expected: usize) {
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        log_requests: false,
        ..config
    })
    .unwrap();
    let output = run_example(&emulator);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last_line = format!("{expected} executions");
    assert_eq!(stdout.trim_end().lines().last(), Some(last_line.as_str()));
}

#[test]
fn std_transport_pages_through_every_execution() {
    lists_every_execution(
        EmulatorConfig {
            dataset: Dataset::generate(1_234, 9),
            ..Default::default()
        },
        1_234,
    );
}

#[test]
fn std_transport_retries_through_faults() {
    lists_every_execution(
        EmulatorConfig {
            dataset: Dataset::generate(777, 2),
            faults: FaultConfig::immediate(0.3),
            seed: 5,
            ..Default::default()
        },
        777,
    );
}
