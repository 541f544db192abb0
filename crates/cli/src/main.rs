//! The `cos-ci` binary: see the `cos_ci_cli` library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Every expected failure is a typed error; this only keeps a bug from
    // printing a backtrace instead of one line.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in cos-ci (please report it): {info}");
    }));
    ExitCode::from(cos_ci_cli::run(std::env::args_os(), |name| {
        std::env::var_os(name)
    }))
}
