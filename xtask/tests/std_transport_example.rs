//! The client's `std_transport` example — the sans-IO client over a blocking
//! `std::net::TcpStream` with hand-written HTTP/1.1 — run exactly as its docs
//! say, against an emulator, paging through every execution.

use std::process::Command;

use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig, FaultConfig, FaultKind,
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

#[test]
fn std_transport_pages_through_every_execution() {
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::generate(1_234, 9),
        log_requests: false,
        ..Default::default()
    })
    .unwrap();
    let output = run_example(&emulator);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim_end().lines().last(), Some("1234 executions"));
}

#[test]
fn std_transport_retries_through_faults() {
    let emulator = BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::generate(777, 2),
        faults: FaultConfig {
            rate: 0.3,
            kinds: vec![
                FaultKind::ServiceUnavailable503,
                FaultKind::InternalError500,
                FaultKind::CloseConnection,
                FaultKind::TruncateBody,
            ],
        },
        seed: 5,
        log_requests: false,
        ..Default::default()
    })
    .unwrap();
    let output = run_example(&emulator);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim_end().lines().last(), Some("777 executions"));
}
