//! What every test of the `cos-ci` binary shares: running it with nothing
//! of the caller's environment, its HOME a folder of the test's and both
//! credential endpoints (instance metadata, STS) on a closed port unless
//! the test says otherwise, so that it never reads the caller's `~/.tccli`
//! or reaches a real host.

// Each test file uses its own part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// One run of the binary.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// `cos-ci args` with HOME = `home`, both credential endpoints at
/// `closed`, and nothing else of the caller's environment.
pub(crate) fn command(args: &[&str], home: &Path, closed: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos-ci"));
    command
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("TENCENTCLOUD_METADATA_ENDPOINT", closed)
        .env("TENCENTCLOUD_STS_ENDPOINT", closed);
    command
}

/// Run `command` to its end.
pub(crate) fn run(command: &mut Command) -> Run {
    command.output().expect("run cos-ci").into()
}

/// An empty HOME shared by this test file's runs, and a closed port for
/// the credential endpoints.
pub(crate) fn isolation() -> (&'static Path, &'static str) {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    let home = HOME.get_or_init(|| {
        let home = std::env::temp_dir().join(format!(
            "cos-ci-{}-home-{}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        std::fs::create_dir_all(&home).expect("create an empty home");
        home
    });
    (home, closed_port_url())
}

/// `cos-ci args` with [`isolation`]'s HOME and closed port.
pub(crate) fn isolated(args: &[&str]) -> Command {
    let (home, closed) = isolation();
    command(args, home, closed)
}

pub(crate) use cos_ci_testkit::closed_port_url;

/// `run` exited with `code` and said `text` on stderr.
#[track_caller]
pub(crate) fn assert_said(run: &Run, code: i32, text: &str) {
    assert_eq!(run.code, code, "{run:?}");
    assert!(run.stderr.contains(text), "{text:?} not on stderr: {run:?}");
}
