//! `cos-ci-cli`: the `cos-ci` command-line tool, as a library so its parts
//! can be tested directly.
//!
//! What it is for: Tencent Cloud Infinite media workflows, their runs,
//! jobs and queues from a terminal or a script, through `cos-ci-hyper`:
//! listings (one page, or every page streamed, as a table, JSON or
//! NDJSON), details, workflow and job changes, triggering and submitting
//! with `--wait` (progress on stderr), a receiver for CI's job and
//! workflow notifications (`callbacks listen`), and the COS
//! `Authorization` value for a described request (`cos-ci sign`);
//! listings of executions can page several time windows at once
//! (`--parallel`), `workflow-executions summary` counts them by state,
//! workflow, hour or day, and `workflow-executions failures` shows the
//! failed ones with each failed task's Code and Message. Errors
//! are one line on stderr with a stable exit code: 0 ok, 2 bad usage or
//! input, 3 service error, 4 network error or timeout (or a wait's
//! `--wait-timeout`), 5 a run or job waited for ended `Failed` or
//! `Cancel`.
//!
//! How it is built: the shared flags are defined once ([`args`]) and
//! flattened into each subcommand; values are parsed by clap on the
//! protocol types ([`flags`]); every API action goes through one
//! [`runner`] (runtime, client, errors, exit codes) and one generic
//! [`output`] writer (table from the item's columns, JSON and NDJSON from
//! serde). A subcommand is a module under [`commands`].
//!
//! What it never does: print, log or put in an error the secret key or the
//! session token; panic on bad input; buffer more than one page of a
//! sequential listing (a few pages per window of a `--parallel` one); draw
//! progress with escape sequences when stderr is not a
//! terminal (plain lines then); read the clock except to resolve relative
//! times and to wait.

pub mod args;
pub mod commands;
pub mod error;
pub mod files;
pub mod flags;
pub mod output;
pub mod runner;
pub mod terminal;
pub mod watch;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

use clap::Parser;
use cos_ci_proto::{ActivateWorkflow, DeleteWorkflow, PauseWorkflow};

use crate::args::{
    CallbacksCommand, Cli, Command, CredentialsCommand, JobsCommand, QueuesCommand,
    WorkflowExecutionsCommand, WorkflowsCommand,
};
use crate::commands::{callbacks, get, jobs, wait, workflows};
use crate::error::{CliError, EXIT_INTERNAL, EXIT_OK};

/// Run `cos-ci` with these arguments (the first is the program name) and
/// this environment lookup (`std::env::var_os` in the binary, so that a
/// variable that is set but not UTF-8 is reported as such); returns the exit
/// code. Everything the user sees goes to stdout and stderr.
pub fn run<I, T>(argv: I, env: impl Fn(&str) -> Option<OsString>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with 0; usage errors to stderr
            // with 2, a bad value as one line naming the flag.
            match clap_error_line(&error) {
                Some(line) => {
                    let _ = writeln!(io::stderr(), "{line}");
                }
                None => {
                    let _ = error.print();
                }
            }
            return u8::try_from(error.exit_code()).unwrap_or(EXIT_INTERNAL);
        }
    };
    init_tracing(cli.verbose);
    match dispatch(&cli, env) {
        Ok(()) => EXIT_OK,
        // The reader went away (`cos-ci ... | head`): nothing more to say.
        Err(CliError::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(error) => {
            let _ = writeln!(io::stderr(), "{}", error.to_line());
            error.exit_code()
        }
    }
}

fn dispatch(cli: &Cli, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    match &cli.command {
        Command::WorkflowExecutions(WorkflowExecutionsCommand::List(args)) => {
            runner::list_windowed(args, env)
        }
        Command::WorkflowExecutions(WorkflowExecutionsCommand::Get(args)) => get::run(args, env),
        Command::WorkflowExecutions(WorkflowExecutionsCommand::Wait(args)) => wait::run(args, env),
        Command::WorkflowExecutions(WorkflowExecutionsCommand::Summary(args)) => {
            commands::summary::run(args, env)
        }
        Command::WorkflowExecutions(WorkflowExecutionsCommand::Failures(args)) => {
            commands::failures::run(args, env)
        }
        Command::Workflows(command) => match command {
            WorkflowsCommand::List(args) => runner::list(args, env),
            WorkflowsCommand::Get(args) => workflows::get(args, env),
            WorkflowsCommand::Create(args) => runner::call(args, env),
            WorkflowsCommand::Update(args) => runner::call(args, env),
            WorkflowsCommand::Delete(args) => workflows::change::<DeleteWorkflow>(args, env),
            WorkflowsCommand::Pause(args) => workflows::change::<PauseWorkflow>(args, env),
            WorkflowsCommand::Activate(args) => workflows::change::<ActivateWorkflow>(args, env),
            WorkflowsCommand::Trigger(args) => workflows::trigger(args, env),
        },
        Command::Jobs(command) => match command {
            JobsCommand::List(args) => runner::list(args, env),
            JobsCommand::Get(args) => jobs::get(args, env),
            JobsCommand::Submit(args) => jobs::submit(args, env),
            JobsCommand::Cancel(args) => jobs::cancel(args, env),
            JobsCommand::Wait(args) => jobs::wait(args, env),
        },
        Command::Queues(QueuesCommand::List(args)) => runner::list(args, env),
        Command::Callbacks(CallbacksCommand::Listen(args)) => callbacks::listen(args, env),
        Command::Credentials(CredentialsCommand::Show(args)) => {
            commands::credentials::run(args, env)
        }
        Command::Sign(args) => {
            let (authorization, warning) = commands::sign::run(args, env)?;
            if let Some(warning) = warning {
                let _ = writeln!(io::stderr(), "{warning}");
            }
            let mut out = io::stdout().lock();
            writeln!(out, "{authorization}")
                .and_then(|()| out.flush())
                .map_err(CliError::Output)
        }
    }
}

/// A value refused by a [`flags`] parser, as the one line every other
/// input error is: `error: invalid --size: must be between 1 and 100, got 0`.
/// `None` for the other clap errors (they keep clap's own text).
pub fn clap_error_line(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use std::error::Error as _;
    if error.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let ContextValue::String(arg) = error.get(ContextKind::InvalidArg)? else {
        return None;
    };
    // `--size <N>` → `--size`; a positional argument is `<RUN_ID>`.
    let flag = arg.split(' ').next().unwrap_or(arg).to_owned();
    let flag = flag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let rule = error.source()?.to_string();
    Some(CliError::invalid_flag(flag, rule).to_line())
}

/// `-v`: cos-ci's own events and one line per request; `-vv`: everything
/// cos-ci records; `-vvv`: every crate at trace level. The lower crates
/// never record secrets, so no level can print one.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::fmt::format::FmtSpan;
    let (directives, spans) = match verbose {
        0 => return,
        1 => ("cos_ci=debug", FmtSpan::CLOSE),
        2 => ("cos_ci=trace", FmtSpan::NEW | FmtSpan::CLOSE),
        _ => ("trace", FmtSpan::NEW | FmtSpan::CLOSE),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
        .with_span_events(spans)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
}
