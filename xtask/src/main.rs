//! `cargo xtask`: the project's tasks.
//!
//! - `cargo xtask test`  — formatting check, clippy (warnings denied), the
//!   docs (rustdoc warnings denied), packaging of the published crates, and
//!   every test.
//! - `cargo xtask demo`  — the emulator plus the real `cos-ci` binary, end to end.
//! - `cargo xtask bench [parallel]` — the end-to-end listing benchmark
//!   (`parallel`: only the parallel-listing part).
//! - `cargo xtask load`  — sustained load and slow clients against the emulator
//!   binary (not part of `test`).
//! - `cargo xtask fuzz --seconds N` — run every fuzz target for N seconds (nightly).
//!
//! It only orchestrates other cargo commands; it never touches the network
//! beyond loopback.

use std::process::{Command, ExitCode};

mod bench;
mod demo;
mod fuzz;
mod load;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-inner") => bench::inner(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("load") => load::run(&args[1..]),
        Some("load-inner") => load::inner(&args[1..]),
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <test|demo|bench [parallel]|load|fuzz --seconds N>";

/// The crates published to crates.io; every other member says
/// `publish = false` in its Cargo.toml.
const PUBLISHED_CRATES: [&str; 4] = [
    "cos-ci-sign",
    "cos-ci-proto",
    "cos-ci-client",
    "cos-ci-hyper",
];

/// `cargo` for a nested build. `cargo run` gives xtask the variables it
/// sets for a package (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...); ring's
/// build script reruns when they change, so passing them on would
/// recompile ring, rustls and hyper on every run, and again for the next
/// plain `cargo` command.
fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_set_by_cargo_run) {
            cargo.env_remove(name);
        }
    }
    cargo
}

/// The variables `cargo run` sets for the package it runs.
pub(crate) fn is_set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
        )
}

fn run(step: &str, mut command: Command) -> Result<(), String> {
    eprintln!("xtask: {step}");
    let status = command
        .status()
        .map_err(|e| format!("{step}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

fn test() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy -D warnings", clippy)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run("cargo doc (rustdoc warnings denied)", doc)?;

    // What crates.io would receive: manifests, readme and license files,
    // and path dependencies turned into versioned ones. `--no-verify`
    // because verifying rebuilds every dependency from the packaged
    // sources (minutes); `--offline` because it needs nothing the build
    // steps above have not already fetched.
    let mut package = cargo();
    package.args([
        "package",
        "--no-verify",
        "--offline",
        "--locked",
        "--allow-dirty",
    ]);
    for name in PUBLISHED_CRATES {
        package.args(["-p", name]);
    }
    run("cargo package (published crates)", package)?;

    let mut test = cargo();
    test.args(["test", "--workspace", "--locked"]);
    run("cargo test", test)
}
