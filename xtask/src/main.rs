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

use std::path::PathBuf;
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

/// The workspace's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target"),
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    let xtask_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().map_or(xtask_dir.clone(), PathBuf::from)
}

/// Where `cargo build` puts the workspace's binary `name`, in release or
/// in the dev profile.
pub(crate) fn binary_path(release: bool, name: &str) -> PathBuf {
    target_dir()
        .join(if release { "release" } else { "debug" })
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo build` of `package` (release, or the dev profile) with xtask in
/// the same build; returns the path of its binary `name`. With xtask in
/// the same build, features unify exactly as in the build of xtask
/// itself, so every shared dependency is reused (`-p cos-ci-cli` alone
/// recompiles tokio, hyper, rustls, ...).
pub(crate) fn build(package: &str, name: &str, release: bool) -> Result<PathBuf, String> {
    let mut build = cargo();
    build
        .current_dir(workspace_root())
        .args(["build", "--package", package, "--package", "xtask"]);
    if release {
        build.arg("--release");
    }
    let profile = if release { "release" } else { "dev" };
    run(
        &format!("cargo build -p {package} -p xtask ({profile})"),
        build,
    )?;
    let binary = binary_path(release, name);
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "built {package} but found no binary at {}",
            binary.display()
        ))
    }
}

/// A step of `cargo xtask test`: what is shown, cargo's arguments, extra
/// environment.
type Step<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

/// `cargo xtask test`: the steps in order, up to the first that fails.
fn test() -> Result<(), String> {
    // What crates.io would receive: manifests, readme and license files,
    // and path dependencies turned into versioned ones. `--no-verify`
    // because verifying rebuilds every dependency from the packaged
    // sources (minutes); `--offline` because it needs nothing the build
    // steps above have not already fetched.
    let mut package = vec![
        "package",
        "--no-verify",
        "--offline",
        "--locked",
        "--allow-dirty",
    ];
    for name in PUBLISHED_CRATES {
        package.extend(["-p", name]);
    }
    let steps: [Step<'_>; 5] = [
        ("cargo fmt --check", &["fmt", "--all", "--check"], &[]),
        (
            "cargo clippy -D warnings",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
        (
            "cargo doc (rustdoc warnings denied)",
            &["doc", "--workspace", "--no-deps", "--locked"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        ),
        ("cargo package (published crates)", &package, &[]),
        ("cargo test", &["test", "--workspace", "--locked"], &[]),
    ];
    for (step, args, env) in steps {
        let mut command = cargo();
        command.args(args).envs(env.iter().copied());
        run(step, command)?;
    }
    Ok(())
}
