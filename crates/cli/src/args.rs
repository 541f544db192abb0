//! The command line as clap derives it: the subcommands, and the flags
//! every subcommand shares, each defined once here and `#[command(flatten)]`-ed
//! into the subcommands (a subcommand's own flags live in its module under
//! `commands/`). Values are parsed by [`crate::flags`] on the protocol
//! types, so a bad value is refused with the flag's name before anything
//! runs.

use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::sync::Arc;

use cos_ci_client::credentials::SourceKind;
use cos_ci_client::{CredentialChain, CredentialProvider, RetryPolicy, SecretString, WaitPolicy};
use cos_ci_hyper::SystemFiles;
use cos_ci_proto::types::check_time_range;
use cos_ci_proto::{CiTimestamp, Order, PageSize};

use crate::commands::callbacks::ListenArgs;
use crate::commands::credentials::ShowArgs;
use crate::commands::failures::{FAILURES_HELP, FailuresArgs};
use crate::commands::get::GetArgs;
use crate::commands::jobs::{JobCancelArgs, JobGetArgs, JobSubmitArgs, JobWaitArgs, JobsListArgs};
use crate::commands::list::ListArgs;
use crate::commands::queues::QueuesListArgs;
use crate::commands::sign::SignArgs;
use crate::commands::summary::SummaryArgs;
use crate::commands::wait::ExecutionWaitArgs;
use crate::commands::workflows::{
    WorkflowCreateArgs, WorkflowIdArgs, WorkflowTriggerArgs, WorkflowUpdateArgs, WorkflowsListArgs,
};
use crate::error::CliError;
use crate::flags::{self, TimeArg, WireChoice};

/// The exit codes as `--help` states them (the README says the same).
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 ok; 2 bad usage or input; 3 the service answered with an error (or what \
         was asked for does not exist); 4 network error or timeout, or --wait-timeout passed \
         first (the run or job goes on); 5 a run or job waited for (--wait, wait) ended Failed \
         or Cancel."
    };
}

/// The exit codes as a constant, for the waiting commands' `--help`.
pub const EXIT_CODES_HELP: &str = exit_codes!();

/// `cos-ci`: Tencent Cloud Infinite workflows, runs, jobs and queues from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "cos-ci",
    version,
    about = "Tencent Cloud Infinite (CI) media workflows, workflow runs, jobs, queues and \
             callbacks from a terminal, and COS request signatures",
    after_help = concat!(
        "Credentials, the first source found wins: --secret-id/--secret-key/--session-token; \
         TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or COS_SECRET_ID, COS_SECRET_KEY) \
         with TENCENTCLOUD_TOKEN, TENCENTCLOUD_SESSION_TOKEN or TENCENTCLOUD_SECURITY_TOKEN; \
         the tccli profile (--profile, else TCCLI_PROFILE, else default); \
         ~/.tencentcloud/credentials (or TENCENTCLOUD_CREDENTIALS_FILE); TKE OIDC \
         (TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN); the CVM \
         instance role. `cos-ci credentials show` says which.\n",
        exit_codes!()
    )
)]
pub struct Cli {
    /// More diagnostics on stderr (-v requests, -vv details, -vvv everything).
    /// Secrets are never printed.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Built once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Workflows: list, show, create, update, delete, pause, activate,
    /// trigger (`/workflow`, `/triggerworkflow`).
    #[command(subcommand)]
    Workflows(WorkflowsCommand),
    /// Workflow executions (runs): list, show, summarize, list the failed
    /// ones with why, wait (`GET /workflowexecution`, `GET /workflowexecution/<RunId>`).
    #[command(name = "workflow-executions", subcommand)]
    WorkflowExecutions(WorkflowExecutionsCommand),
    /// Media jobs: list, show, submit, cancel, wait (`/jobs`).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Media-processing queues (`GET /queue`).
    #[command(subcommand)]
    Queues(QueuesCommand),
    /// Receive the notifications CI sends when a job or a run ends.
    #[command(subcommand)]
    Callbacks(CallbacksCommand),
    /// Print the `Authorization` value for a request (a debugging aid).
    Sign(SignArgs),
    /// Where credentials come from.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
}

/// `cos-ci credentials ...`
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Show which source the credentials come from and when they expire
    /// (fetching them first for an instance role or TKE OIDC). Never shows
    /// a secret key or token.
    Show(ShowArgs),
}

/// `cos-ci workflow-executions ...`
// Built once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum WorkflowExecutionsCommand {
    /// List workflow executions: one page, or every page with --all.
    List(ListArgs),
    /// Show one workflow execution: its state, then its tasks in topology
    /// order, with the code and message of each failed task (--jobs: and
    /// each task's job, with its progress and output keys).
    Get(GetArgs),
    /// Count executions by state, workflow, hour or day, with the failure
    /// rate of each (of the executions that ended, the share that failed),
    /// listing several creation-time windows at once.
    Summary(SummaryArgs),
    /// The failed runs, each with its failed tasks' Code and Message: the
    /// listing of Failed executions, then each one's details. Bounded by
    /// default: with no time flag the last 24 hours, and the first 50
    /// failed runs (newest first unless --order asc) unless --limit or
    /// --all says otherwise.
    #[command(after_help = FAILURES_HELP)]
    Failures(FailuresArgs),
    /// Follow a run until it ends, showing each task's progress; exit 0 on
    /// Success, 5 on Failed or Cancel, 4 when --wait-timeout passes first.
    #[command(after_help = EXIT_CODES_HELP)]
    Wait(ExecutionWaitArgs),
}

/// `cos-ci workflows ...`
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// List workflows: one page, or every page with --all.
    List(WorkflowsListArgs),
    /// Show one workflow: state, times and its topology drawn as a graph.
    Get(WorkflowIdArgs),
    /// Create a workflow from a `<Request>` XML or JSON file.
    Create(WorkflowCreateArgs),
    /// Replace a workflow's definition from a `<Request>` XML or JSON file.
    Update(WorkflowUpdateArgs),
    /// Delete a workflow.
    Delete(WorkflowIdArgs),
    /// Stop a workflow from running on new objects.
    Pause(WorkflowIdArgs),
    /// Let a paused workflow run on new objects again.
    Activate(WorkflowIdArgs),
    /// Run a workflow on one object; prints the RunId (--wait: follow the
    /// run to its end). Never retried: see the error's advice if no answer
    /// came.
    #[command(after_help = EXIT_CODES_HELP)]
    Trigger(WorkflowTriggerArgs),
}

/// `cos-ci jobs ...`
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs of one tag: one page, or every page with --all.
    List(JobsListArgs),
    /// Show one or several jobs (JOB_ID[,JOB_ID...]); ids with no job are
    /// listed as missing.
    Get(JobGetArgs),
    /// Submit a job (--wait: follow it to its end). Never retried: see
    /// the error's advice if no answer came.
    #[command(after_help = EXIT_CODES_HELP)]
    Submit(JobSubmitArgs),
    /// Cancel a job that has not started.
    Cancel(JobCancelArgs),
    /// Follow a job until it ends, with a progress bar; exit 0 on Success,
    /// 5 on Failed or Cancel, 4 when --wait-timeout passes first.
    #[command(after_help = EXIT_CODES_HELP)]
    Wait(JobWaitArgs),
}

/// `cos-ci queues ...`
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum QueuesCommand {
    /// List media-processing queues: one page, or every page with --all.
    List(QueuesListArgs),
}

/// `cos-ci callbacks ...`
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CallbacksCommand {
    /// Receive job (TaskFinish) and workflow (WorkflowFinish) notifications
    /// over HTTP, XML or JSON, and print each as one record (--confirm:
    /// check it against the service, since notifications are not signed).
    Listen(ListenArgs),
}

/// Everything needed to call the service: where, as whom, and how
/// patiently. Flattened into every subcommand that calls it.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub request: RequestArgs,
}

/// Where the bucket lives and how to reach it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Bucket with its APPID, e.g. examplebucket-1250000000.
    #[arg(long, env = "COS_CI_BUCKET", value_name = "BUCKET")]
    pub bucket: String,
    /// Region, e.g. ap-beijing (else TENCENTCLOUD_REGION, else the tccli
    /// profile's default region in ~/.tccli/PROFILE.configure).
    #[arg(long, env = "COS_CI_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Base URL to send requests to instead of `https://<bucket>.ci.<region>.myqcloud.com`
    /// (an emulator, a private domain).
    #[arg(long, env = "COS_CI_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
}

impl TargetArgs {
    /// The region: `--region` (or `COS_CI_REGION`), else
    /// `TENCENTCLOUD_REGION`, else the tccli profile's default region
    /// (`_sys_param.region` of `~/.tccli/<profile>.configure`).
    pub fn region(
        &self,
        credentials: &CredentialArgs,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<String, CliError> {
        if let Some(region) = &self.region {
            return Ok(region.clone());
        }
        if let Some(value) = env("TENCENTCLOUD_REGION").filter(|value| !value.is_empty()) {
            return value.into_string().map_err(|_| {
                CliError::invalid_env("TENCENTCLOUD_REGION", "is set but not valid UTF-8")
            });
        }
        let from_profile = credentials
            .chain()
            .profile_region(env, &SystemFiles)
            .map_err(CliError::from_credentials)?;
        match from_profile {
            Some(found) => {
                tracing::debug!(region = %found.region, file = %found.path.display(), "region from the tccli profile");
                Ok(found.region)
            }
            None => Err(CliError::usage(
                "missing region: pass --region, or set COS_CI_REGION or TENCENTCLOUD_REGION, \
                 or a region in the tccli profile (~/.tccli/<profile>.configure)",
            )),
        }
    }
}

/// Credentials given as flags, and which source to use. The environment
/// and files are consulted in [`CredentialArgs::resolve`], not by clap, so
/// that `--help` can never show a secret taken from the environment. The
/// secret key and token are [`SecretString`]s from the moment clap parses
/// them (through `From<String>`): never printed (`Debug` shows
/// `<redacted>`), wiped on drop.
#[derive(Args, Default, Debug)]
pub struct CredentialArgs {
    /// SecretId (else TENCENTCLOUD_SECRET_ID, else COS_SECRET_ID, else the
    /// rest of the chain: see `cos-ci --help`).
    #[arg(long, value_name = "ID")]
    pub secret_id: Option<String>,
    /// SecretKey (else TENCENTCLOUD_SECRET_KEY, else COS_SECRET_KEY).
    /// Prefer the environment: flags are visible to other local users.
    #[arg(long, value_name = "KEY")]
    pub secret_key: Option<SecretString>,
    /// Session token of temporary credentials (else TENCENTCLOUD_TOKEN,
    /// TENCENTCLOUD_SESSION_TOKEN, TENCENTCLOUD_SECURITY_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub session_token: Option<SecretString>,
    /// Use this tccli profile (~/.tccli/NAME.credential, and its region from
    /// NAME.configure); the environment's credentials are then not used.
    /// Default: TCCLI_PROFILE, else `default`.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Use only this source of credentials: flags, env, profile, file,
    /// tke-oidc or cvm-role (default: each in that order).
    #[arg(long, value_name = "SOURCE", value_parser = flags::credential_source)]
    pub credential_source: Option<SourceKind>,
}

impl CredentialArgs {
    /// The provider chain these flags describe (see [`CredentialChain`]).
    pub fn chain(&self) -> CredentialChain {
        CredentialChain {
            secret_id: self.secret_id.clone(),
            secret_key: self.secret_key.clone(),
            session_token: self.session_token.clone(),
            profile: self.profile.clone(),
            only: self.credential_source,
            ..CredentialChain::default()
        }
    }

    /// Resolve the chain: flags, then the environment (`env` is
    /// `std::env::var_os` in the binary), the tccli profile, the SDKs'
    /// credentials file, TKE OIDC, the CVM instance role. Values are
    /// checked with the client's rule ([`cos_ci_client::CredentialPart::check`]);
    /// an error names the flag, variable or file, never the value. A
    /// variable that is set but not UTF-8 is an error of its own, not
    /// "missing". Fetching sources fetch on first use.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<CredentialProvider, CliError> {
        self.chain()
            .resolve(env, Arc::new(SystemFiles))
            .map_err(CliError::from_credentials)
    }
}

/// How long each request may take and how often it is tried.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Seconds allowed for each attempt of a request (default 30).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = flags::timeout)]
    pub timeout: Option<Duration>,
    /// Attempts per request, including the first, 1 to 10 (default 5).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::attempts)]
    pub max_attempts: Option<u32>,
    /// Seconds allowed for each request in all, retries and waits included,
    /// up to 86400. Default: 180, or longer if --timeout and --max-attempts
    /// need it (attempts × timeout + backoff + 1 s). --timeout may not
    /// exceed it.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = flags::deadline)]
    pub deadline: Option<Duration>,
}

/// How long a request may take: per attempt, how many attempts, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// One attempt (the transport's request timeout).
    pub attempt_timeout: Duration,
    /// Attempts, including the first.
    pub max_attempts: u32,
    /// The whole call, retries and waits included.
    pub deadline: Duration,
}

impl RequestArgs {
    /// `--timeout`, `--max-attempts` and `--deadline` made consistent: an
    /// attempt can never outlast the deadline (an explicit `--timeout`
    /// longer than an explicit `--deadline` is an error, a default timeout
    /// is shortened to it), and without `--deadline` the deadline leaves
    /// every attempt its whole timeout
    /// ([`RetryPolicy::deadline_for`], at least
    /// [`RetryPolicy::DEFAULT_TOTAL_DEADLINE`]).
    /// `default_timeout` is the transport's own.
    pub fn time_limits(&self, default_timeout: Duration) -> Result<TimeLimits, CliError> {
        let policy = RetryPolicy {
            max_attempts: self
                .max_attempts
                .unwrap_or(RetryPolicy::default().max_attempts),
            ..RetryPolicy::default()
        };
        let attempt_timeout = match (self.timeout, self.deadline) {
            (Some(timeout), Some(deadline)) if timeout > deadline => {
                return Err(CliError::invalid_flag(
                    "--timeout",
                    format!(
                        "{} s is longer than --deadline {} s; one attempt cannot outlast the whole request",
                        timeout.as_secs_f64(),
                        deadline.as_secs_f64()
                    ),
                ));
            }
            (Some(timeout), _) => timeout,
            (None, Some(deadline)) => default_timeout.min(deadline),
            (None, None) => default_timeout,
        };
        let deadline = self.deadline.unwrap_or_else(|| {
            policy
                .deadline_for(attempt_timeout)
                .max(RetryPolicy::DEFAULT_TOTAL_DEADLINE)
        });
        Ok(TimeLimits {
            attempt_timeout,
            max_attempts: policy.max_attempts,
            deadline,
        })
    }
}

/// `--output`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long = "output", value_enum, default_value_t = OutputFormat::Table, value_name = "FORMAT")]
    pub format: OutputFormat,
}

/// What `--output` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line: per item for a listing, the whole answer
    /// otherwise.
    Ndjson,
}

/// A creation-time range: `--start-time`, `--end-time` (absolute or
/// relative to now) or `--since`.
#[derive(Debug, Args)]
pub struct TimeRangeArgs {
    /// Created at or after this time: 2022-08-09T14:00:00+08:00,
    /// 2022-08-09T14:00:00+0800, or relative to now: -24h, -90m, -7d, now.
    /// Relative times are sent in +08:00, CI's own offset.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = flags::time)]
    pub start_time: Option<TimeArg>,
    /// Created at or before this time (same forms as --start-time).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = flags::time)]
    pub end_time: Option<TimeArg>,
    /// Created within this long before now: 2h, 90m, 7d, 1h30m (the same
    /// as --start-time -2h --end-time now).
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        value_parser = flags::duration,
        conflicts_with_all = ["start_time", "end_time"]
    )]
    pub since: Option<Duration>,
}

impl TimeRangeArgs {
    /// The range as timestamps when the time is `now` (the only clock
    /// read); start after end is an error naming the flags.
    pub fn resolve(
        &self,
        now: SystemTime,
    ) -> Result<(Option<CiTimestamp>, Option<CiTimestamp>), CliError> {
        if let Some(since) = self.since {
            return last(now, since);
        }
        let resolve = |value: &Option<TimeArg>, flag: &'static str| {
            value
                .as_ref()
                .map(|time| time.resolve(now))
                .transpose()
                .map_err(|error| CliError::invalid_flag(flag, error))
        };
        let start = resolve(&self.start_time, "--start-time")?;
        let end = resolve(&self.end_time, "--end-time")?;
        // The protocol checks this too, but would name `startCreationTime`.
        check_time_range(start.as_ref(), end.as_ref(), "--start-time", "--end-time")
            .map_err(|error| CliError::invalid_flag(error.parameter, error.rule))?;
        Ok((start, end))
    }

    /// [`TimeRangeArgs::resolve`], or the `default` before `now` when no
    /// time flag is given: for a command that must stay bounded unless the
    /// user says otherwise (`failures`).
    pub fn resolve_or_last(
        &self,
        now: SystemTime,
        default: Duration,
    ) -> Result<(Option<CiTimestamp>, Option<CiTimestamp>), CliError> {
        if self.start_time.is_none() && self.end_time.is_none() && self.since.is_none() {
            return last(now, default);
        }
        self.resolve(now)
    }
}

/// The range from `since` before `now` to `now` (`--since`).
fn last(
    now: SystemTime,
    since: Duration,
) -> Result<(Option<CiTimestamp>, Option<CiTimestamp>), CliError> {
    let at =
        |ago| flags::ago_from(now, ago).map_err(|error| CliError::invalid_flag("--since", error));
    Ok((Some(at(since)?), Some(at(Duration::ZERO)?)))
}

/// How long to wait for a run or job, and how often to look.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Stop waiting after this long (30s, 10m, 2h, or seconds) with exit 4;
    /// the run or job goes on. Default: wait as long as it takes.
    #[arg(long, value_name = "DURATION", value_parser = flags::wait_duration)]
    pub wait_timeout: Option<Duration>,
    /// First interval between polls (default 1s); it grows by half on each
    /// poll that shows no change, up to 15s or this, whichever is more.
    #[arg(long, value_name = "DURATION", value_parser = flags::wait_duration)]
    pub poll_interval: Option<Duration>,
}

impl WaitArgs {
    /// The waiter's policy for these flags.
    pub fn policy(&self) -> WaitPolicy {
        let default = WaitPolicy::default();
        let initial_interval = self.poll_interval.unwrap_or(default.initial_interval);
        WaitPolicy {
            initial_interval,
            max_interval: default.max_interval.max(initial_interval),
            deadline: self.wait_timeout,
        }
    }
}

/// Where a page-number listing (queues, workflows) starts, how large its
/// pages are and how far it follows them.
#[derive(Debug, Args)]
pub struct PageNumberArgs {
    /// Start from this page (printed by a previous listing as
    /// NextPageNumber; use the same --page-size).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::page_number)]
    pub page_number: Option<u32>,
    /// Items per page, 1 to 100 (the service's default is 10; 100 when
    /// following pages, or what --limit needs to end on a page boundary).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::page_size)]
    pub page_size: Option<PageSize>,
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// How a listing by token of what was created in a time range (jobs,
/// workflow executions) is sorted and bounded, where it starts, how large
/// its pages are and how far it follows them.
#[derive(Debug, Args)]
pub struct TokenListingArgs {
    /// Sort by creation time (any case).
    #[arg(long, value_name = "ORDER", value_parser = WireChoice::<Order>::new())]
    pub order: Option<Order>,
    #[command(flatten)]
    pub time: TimeRangeArgs,
    /// Items per page, 1 to 100 (the service's default is 10; 100 when
    /// following pages).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::page_size)]
    pub size: Option<PageSize>,
    /// Start from this page token (printed by a previous listing).
    #[arg(long, value_name = "TOKEN")]
    pub next_token: Option<String>,
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// How far a listing follows its pages. Without any of these flags one
/// page is printed.
#[derive(Debug, Args)]
pub struct PagingArgs {
    /// Follow every page.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Follow pages until this many items are listed.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::at_least_one)]
    pub limit: Option<u64>,
    /// Follow pages, but fail (exit 3) rather than request more than N
    /// pages; the NextToken to resume from is printed.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::at_least_one)]
    pub max_pages: Option<u64>,
}

impl PagingArgs {
    /// Whether to follow pages rather than print one.
    pub fn follows(&self) -> bool {
        self.all || self.limit.is_some() || self.max_pages.is_some()
    }

    /// The client's paging options for these flags.
    pub fn options(&self) -> cos_ci_client::PagingOptions {
        cos_ci_client::PagingOptions {
            limit: self.limit,
            max_pages: self.max_pages,
            ..cos_ci_client::PagingOptions::default()
        }
    }
}

/// `--parallel`, for a listing by token over a creation-time range that
/// follows its pages (`list`, `failures`).
#[derive(Debug, Args)]
pub struct ParallelArgs {
    /// With --all, --limit or --max-pages: page this many creation-time
    /// windows at once (1 to 32), for the same output sooner. No NextToken
    /// is printed above 1.
    #[arg(long = "parallel", value_name = "N", default_value_t = 1, value_parser = flags::workers)]
    pub workers: usize,
}

impl ParallelArgs {
    /// Refuse `--parallel` above 1 when `paging` follows no pages: one
    /// page is one request.
    pub fn check(&self, paging: &PagingArgs) -> Result<(), CliError> {
        if self.workers > 1 && !paging.follows() {
            return Err(CliError::invalid_flag(
                "--parallel",
                "needs --all, --limit or --max-pages (one page is one request)",
            ));
        }
        Ok(())
    }

    /// Whether the listing goes by creation-time windows: `--parallel`
    /// above 1, pages followed.
    pub fn windowed(&self, paging: &PagingArgs) -> bool {
        self.workers > 1 && paging.follows()
    }
}

/// A subcommand's args `T` from `--bucket examplebucket-1250000000
/// --region ap-beijing <args>`, parsed as clap parses them within
/// `cos-ci`: for the tests of its flags.
#[cfg(test)]
pub(crate) fn parse_aimed<T: clap::FromArgMatches + Args>(args: &[&str]) -> Result<T, clap::Error> {
    let aimed = [
        "cos-ci",
        "--bucket",
        "examplebucket-1250000000",
        "--region",
        "ap-beijing",
    ];
    let mut matches = T::augment_args(clap::Command::new("cos-ci"))
        .try_get_matches_from(aimed.iter().chain(args))?;
    T::from_arg_matches_mut(&mut matches)
}

/// [`parse_aimed`], panicking on an error.
#[cfg(test)]
pub(crate) fn parsed<T: clap::FromArgMatches + Args>(args: &[&str]) -> T {
    parse_aimed(args).unwrap_or_else(|error| panic!("{args:?}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn credentials_precedence_and_redaction() {
        let flags = CredentialArgs {
            secret_key: Some("flag-key".into()),
            ..CredentialArgs::default()
        };
        let env = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some(String::new()),
            "COS_SECRET_ID" => Some("cos-id".into()),
            "TENCENTCLOUD_SECRET_KEY" => Some("env-key".into()),
            "TENCENTCLOUD_SESSION_TOKEN" => Some("env-token".into()),
            _ => None,
        };
        let env = |name: &str| env(name).map(OsString::from);
        let provider = flags.resolve(&env).unwrap();
        let credentials = provider.fixed_credentials().unwrap().credentials();
        assert_eq!(credentials.secret_id(), "cos-id");
        assert_eq!(credentials.expose_secret_key(), "flag-key");
        assert_eq!(credentials.expose_session_token(), Some("env-token"));
        assert!(!format!("{flags:?}").contains("flag-key"));

        // Limited to the environment, so that nothing is fetched.
        let none = CredentialArgs {
            credential_source: Some(SourceKind::Environment),
            ..CredentialArgs::default()
        };
        let error = none.resolve(&|_| None).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("TENCENTCLOUD_SECRET_ID"));
    }

    #[test]
    fn secret_flags_are_parsed_into_secrets() {
        #[derive(Debug, Parser)]
        struct Flags {
            #[command(flatten)]
            credentials: CredentialArgs,
        }
        let argv = [
            "cos-ci",
            "--secret-key",
            "k3y-s3cret",
            "--session-token",
            "t0ken-s3cret",
        ];
        let flags = Flags::try_parse_from(argv).unwrap();
        let shown = format!("{flags:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let secret = |text: &str| Some(SecretString::from(text));
        assert_eq!(flags.credentials.secret_key, secret("k3y-s3cret"));
        assert_eq!(flags.credentials.session_token, secret("t0ken-s3cret"));
    }

    #[test]
    fn credential_errors_name_the_flag_or_variable_never_the_value() {
        let none = CredentialArgs::default;
        /// Flags, environment, the error line's start.
        type Case<'a> = (CredentialArgs, &'a [(&'a str, &'a str)], &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                none(),
                &[
                    ("TENCENTCLOUD_SECRET_ID", "AKIDx\r"),
                    ("COS_SECRET_KEY", "k"),
                ],
                "invalid environment variable TENCENTCLOUD_SECRET_ID: contains a carriage return (CR) at byte 5",
            ),
            (
                none(),
                &[("COS_SECRET_ID", "AKIDx"), ("COS_SECRET_KEY", "kéy")],
                "invalid environment variable COS_SECRET_KEY: contains a non-ASCII character at byte 1",
            ),
            (
                CredentialArgs {
                    session_token: Some("tok\nen".into()),
                    ..none()
                },
                &[("COS_SECRET_ID", "AKIDx"), ("COS_SECRET_KEY", "k")],
                "invalid --session-token: contains a line feed (LF) at byte 3",
            ),
            (
                CredentialArgs {
                    secret_id: Some("AKID\u{202e}x".into()),
                    ..none()
                },
                &[("COS_SECRET_KEY", "k")],
                "invalid --secret-id: contains a non-ASCII character at byte 4",
            ),
        ];
        for (flags, vars, expected) in cases {
            let env = |name: &str| {
                vars.iter()
                    .find(|(var, _)| *var == name)
                    .map(|(_, value)| OsString::from(*value))
            };
            let error = flags.resolve(&env).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{error}");
            assert!(error.to_string().starts_with(expected), "{error}");
            assert!(!error.to_string().contains("kéy"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_variable_that_is_not_utf8_is_not_missing() {
        use std::os::unix::ffi::OsStringExt;
        let none = CredentialArgs::default();
        let env = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some(OsString::from_vec(b"AKID\xff".to_vec())),
            "COS_SECRET_ID" => Some(OsString::from("fallback-must-not-be-used")),
            "TENCENTCLOUD_SECRET_KEY" => Some(OsString::from("k")),
            _ => None,
        };
        let error = none.resolve(&env).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "invalid environment variable TENCENTCLOUD_SECRET_ID: is set but not valid UTF-8"
        );
    }

    /// The shared request flags alone, as clap parses them.
    fn request(args: &[&str]) -> Result<RequestArgs, clap::Error> {
        #[derive(Debug, Parser)]
        struct Flags {
            #[command(flatten)]
            request: RequestArgs,
        }
        let argv = std::iter::once("cos-ci").chain(args.iter().copied());
        Flags::try_parse_from(argv).map(|flags| flags.request)
    }

    #[test]
    fn deadline_timeout_and_attempts_agree() {
        let default = Duration::from_secs(30);
        let limits = |args: &[&str]| request(args).unwrap().time_limits(default);
        // Defaults: five whole attempts fit in the 180 s default.
        assert_eq!(
            limits(&[]).unwrap(),
            TimeLimits {
                attempt_timeout: default,
                max_attempts: 5,
                deadline: Duration::from_secs(180),
            }
        );
        // The case that used to end at a hidden 120 s: the attempt gets 300 s.
        let long = limits(&["--timeout", "300", "--max-attempts", "1"]).unwrap();
        assert_eq!(long.attempt_timeout, Duration::from_secs(300));
        assert_eq!(long.deadline, Duration::from_secs(301));
        assert_eq!(
            limits(&["--timeout", "60"]).unwrap().deadline,
            Duration::from_secs(5 * 60 + 3 + 1)
        );
        // An explicit deadline wins, and shortens the default timeout.
        let short = limits(&["--deadline", "10"]).unwrap();
        assert_eq!(short.deadline, Duration::from_secs(10));
        assert_eq!(short.attempt_timeout, Duration::from_secs(10));
        assert_eq!(
            limits(&["--deadline", "100", "--timeout", "20"]).unwrap(),
            TimeLimits {
                attempt_timeout: Duration::from_secs(20),
                max_attempts: 5,
                deadline: Duration::from_secs(100),
            }
        );
        let error = limits(&["--timeout", "300", "--deadline", "120"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "invalid --timeout: 300 s is longer than --deadline 120 s; one attempt cannot outlast the whole request"
        );
        // A bad value is refused by clap, naming the flag.
        for bad in ["0", "-1", "NaN", "86401", "soon"] {
            let error = request(&["--deadline", bad]).unwrap_err();
            let line = crate::clap_error_line(&error).expect("one line");
            assert!(
                line.starts_with("error: invalid --deadline: "),
                "{bad}: {line}"
            );
        }
    }
}
