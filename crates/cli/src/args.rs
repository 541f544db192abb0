//! The command line, as clap derives it, plus the checks clap cannot make
//! (each naming the flag that was wrong).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cos_ci_client::{ConfigError, CredentialPart, Credentials, RetryPolicy};
use cos_ci_proto::{CiAction, CiTimestamp, ListWorkflowExecutions, Order, PageSize, StateFilter};

use crate::error::CliError;

/// `cos-ci`: Tencent Cloud Infinite workflow executions from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "cos-ci",
    version,
    about = "List Tencent Cloud Infinite (CI) workflow executions and compute COS request signatures",
    after_help = "Credentials come from --secret-id/--secret-key/--session-token, else from \
                  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SESSION_TOKEN, \
                  else from COS_SECRET_ID, COS_SECRET_KEY.\n\
                  Exit codes: 0 ok, 2 bad usage or input, 3 service error, 4 network error or timeout."
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
    /// Workflow executions (`GET /workflowexecution`).
    #[command(name = "workflow-executions", subcommand)]
    WorkflowExecutions(WorkflowExecutionsCommand),
    /// Print the `Authorization` value for a request (a debugging aid).
    Sign(SignArgs),
}

/// `cos-ci workflow-executions ...`
#[derive(Debug, Subcommand)]
pub enum WorkflowExecutionsCommand {
    /// List workflow executions: one page, or every page with --all.
    List(ListArgs),
}

/// Where the bucket lives and how to reach it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Bucket with its APPID, e.g. examplebucket-1250000000.
    #[arg(long, env = "COS_CI_BUCKET", value_name = "BUCKET")]
    pub bucket: String,
    /// Region, e.g. ap-beijing.
    #[arg(long, env = "COS_CI_REGION", value_name = "REGION")]
    pub region: String,
    /// Base URL to send requests to instead of `https://<bucket>.ci.<region>.myqcloud.com`
    /// (an emulator, a private domain).
    #[arg(long, env = "COS_CI_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
}

/// Credentials given as flags. The environment is consulted in
/// [`CredentialArgs::resolve`], not by clap, so that `--help` can never show
/// a secret taken from the environment.
#[derive(Args)]
pub struct CredentialArgs {
    /// SecretId (else TENCENTCLOUD_SECRET_ID, else COS_SECRET_ID).
    #[arg(long, value_name = "ID")]
    pub secret_id: Option<String>,
    /// SecretKey (else TENCENTCLOUD_SECRET_KEY, else COS_SECRET_KEY).
    /// Prefer the environment: flags are visible to other local users.
    #[arg(long, value_name = "KEY")]
    pub secret_key: Option<String>,
    /// Session token of temporary credentials (else TENCENTCLOUD_SESSION_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub session_token: Option<String>,
}

impl fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("CredentialArgs")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &redacted(&self.secret_key))
            .field("session_token", &redacted(&self.session_token))
            .finish()
    }
}

impl CredentialArgs {
    /// Flags first, then `TENCENTCLOUD_*`, then `COS_*`; empty environment
    /// variables count as unset. `env` is `std::env::var_os` in the binary.
    ///
    /// Each value is checked with the client's own rule
    /// ([`CredentialPart::check`]: printable ASCII, e.g. no CR left by a
    /// Windows credentials file); an error names the flag or variable the
    /// value came from, never the value. A variable that is set but not
    /// UTF-8 is an error of its own, not "missing".
    pub fn resolve(&self, env: impl Fn(&str) -> Option<OsString>) -> Result<Credentials, CliError> {
        let secret_id = pick(
            CredentialPart::SecretId,
            (&self.secret_id, "--secret-id"),
            &["TENCENTCLOUD_SECRET_ID", "COS_SECRET_ID"],
            &env,
        )?
        .ok_or_else(|| {
            CliError::usage(
                "missing credentials: no secret id; pass --secret-id or set \
                 TENCENTCLOUD_SECRET_ID (or COS_SECRET_ID)",
            )
        })?;
        let secret_key = pick(
            CredentialPart::SecretKey,
            (&self.secret_key, "--secret-key"),
            &["TENCENTCLOUD_SECRET_KEY", "COS_SECRET_KEY"],
            &env,
        )?
        .ok_or_else(|| {
            CliError::usage(
                "missing credentials: no secret key; set TENCENTCLOUD_SECRET_KEY \
                 (or COS_SECRET_KEY) or pass --secret-key",
            )
        })?;
        let session_token = pick(
            CredentialPart::SessionToken,
            (&self.session_token, "--session-token"),
            &["TENCENTCLOUD_SESSION_TOKEN"],
            &env,
        )?;
        let credentials = Credentials::new(secret_id, secret_key);
        Ok(match session_token {
            Some(token) => credentials.with_session_token(token),
            None => credentials,
        })
    }
}

/// One credential part: the flag if given, else the first set (non-empty)
/// variable of `names`; checked, with errors naming where it came from.
fn pick(
    part: CredentialPart,
    (flag_value, flag): (&Option<String>, &'static str),
    names: &[&'static str],
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Option<String>, CliError> {
    if let Some(value) = flag_value {
        part.check(value)
            .map_err(|error| CliError::invalid_flag(flag, config_reason(error)))?;
        return Ok(Some(value.clone()));
    }
    for &name in names {
        let Some(value) = env(name).filter(|value| !value.is_empty()) else {
            continue;
        };
        let invalid = |message: String| CliError::InvalidEnv {
            variable: name,
            message,
        };
        let value = value
            .into_string()
            .map_err(|_| invalid("is set but not valid UTF-8".to_owned()))?;
        part.check(&value)
            .map_err(|error| invalid(config_reason(error)))?;
        return Ok(Some(value));
    }
    Ok(None)
}

/// The rule a credential broke, without the part's name (the flag or
/// variable is named instead).
fn config_reason(error: ConfigError) -> String {
    match error {
        ConfigError::InvalidCredentials { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// `--order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    /// Oldest first.
    Asc,
    /// Newest first (the service's default).
    Desc,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::Asc => Order::Asc,
            OrderArg::Desc => Order::Desc,
        }
    }
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per execution, one per line.
    Ndjson,
}

/// `cos-ci workflow-executions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Only executions of this workflow.
    #[arg(long, value_name = "ID")]
    pub workflow_id: Option<String>,
    /// Only executions for this exact object key.
    #[arg(long, value_name = "KEY")]
    pub name: Option<String>,
    /// Comma-separated states: All, Success, Failed, Running, Cancel.
    #[arg(long, value_name = "STATES")]
    pub states: Option<String>,
    /// Sort by creation time.
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<OrderArg>,
    /// Created at or after this time: 2022-08-09T14:00:00+08:00 or 2022-08-09T14:00:00+0800.
    #[arg(long, value_name = "TIME")]
    pub start_time: Option<String>,
    /// Created at or before this time (same forms as --start-time).
    #[arg(long, value_name = "TIME")]
    pub end_time: Option<String>,
    /// Only executions started by this batch job.
    #[arg(long, value_name = "JOB")]
    pub job_id: Option<String>,
    /// Executions per page, 1 to 100 (the service's default is 10).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub size: Option<String>,
    /// Start from this page token (printed by a previous listing).
    #[arg(long, value_name = "TOKEN")]
    pub next_token: Option<String>,
    /// Follow every page.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Follow pages until this many executions are listed.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub limit: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// Seconds allowed for each attempt of a request (default 30).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Attempts per request, including the first, 1 to 10 (default 5).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_attempts: Option<String>,
    /// Seconds allowed for each request in all, retries and waits included,
    /// up to 86400. Default: 180, or longer if --timeout and --max-attempts
    /// need it (attempts × timeout + backoff + 1 s). --timeout may not
    /// exceed it.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub deadline: Option<String>,
}

/// Longest `--timeout`: an hour is already far beyond any sane page.
const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// Longest `--deadline`: a day (the client's own limit).
const MAX_DEADLINE_SECS: f64 = 86_400.0;
/// Most `--max-attempts`.
const MAX_ATTEMPTS: u32 = 10;

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

impl ListArgs {
    /// The request the flags describe, checked; errors name the flag.
    pub fn request(&self) -> Result<ListWorkflowExecutions, CliError> {
        let size = self
            .size
            .as_deref()
            .map(|text| {
                text.parse::<PageSize>()
                    .map_err(|error| CliError::invalid_flag("--size", error.rule))
            })
            .transpose()?;
        let request = ListWorkflowExecutions {
            workflow_id: self.workflow_id.clone(),
            name: self.name.clone(),
            order: self.order.map(Order::from),
            size,
            states: self.states.as_deref().map(parse_states).transpose()?,
            start_creation_time: parse_time("--start-time", self.start_time.as_deref())?,
            end_creation_time: parse_time("--end-time", self.end_time.as_deref())?,
            next_token: self.next_token.clone(),
            job_id: self.job_id.clone(),
        };
        request
            .validate()
            .map_err(|error| CliError::invalid_flag(flag_for(error.parameter), error.rule))?;
        Ok(request)
    }

    /// `--timeout` as a duration, if given.
    pub fn timeout(&self) -> Result<Option<Duration>, CliError> {
        self.timeout
            .as_deref()
            .map(|text| {
                parse_seconds(text, MAX_TIMEOUT_SECS).ok_or_else(|| {
                        CliError::invalid_flag(
                            "--timeout",
                            format!(
                                "must be a number of seconds between 0.001 and {MAX_TIMEOUT_SECS}, got `{}`",
                                excerpt(text)
                            ),
                        )
                    })
            })
            .transpose()
    }

    /// `--max-attempts`, if given.
    pub fn max_attempts(&self) -> Result<Option<u32>, CliError> {
        self.max_attempts
            .as_deref()
            .map(|text| {
                text.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_ATTEMPTS).contains(n))
                    .ok_or_else(|| {
                        CliError::invalid_flag(
                            "--max-attempts",
                            format!(
                                "must be a whole number between 1 and {MAX_ATTEMPTS}, got `{}`",
                                excerpt(text)
                            ),
                        )
                    })
            })
            .transpose()
    }

    /// `--deadline` as a duration, if given.
    pub fn deadline(&self) -> Result<Option<Duration>, CliError> {
        self.deadline
            .as_deref()
            .map(|text| {
                parse_seconds(text, MAX_DEADLINE_SECS).ok_or_else(|| {
                    CliError::invalid_flag(
                        "--deadline",
                        format!(
                            "must be a number of seconds between 0.001 and {MAX_DEADLINE_SECS}, got `{}`",
                            excerpt(text)
                        ),
                    )
                })
            })
            .transpose()
    }

    /// `--timeout`, `--max-attempts` and `--deadline` made consistent: an
    /// attempt can never outlast the deadline (an explicit `--timeout`
    /// longer than an explicit `--deadline` is an error, a default timeout
    /// is shortened to it), and without `--deadline` the deadline leaves
    /// every attempt its whole timeout
    /// ([`RetryPolicy::deadline_for`], at least
    /// [`RetryPolicy::DEFAULT_TOTAL_DEADLINE`]).
    /// `default_timeout` is the transport's own.
    pub fn time_limits(&self, default_timeout: Duration) -> Result<TimeLimits, CliError> {
        let timeout = self.timeout()?;
        let deadline = self.deadline()?;
        let policy = RetryPolicy {
            max_attempts: self
                .max_attempts()?
                .unwrap_or(RetryPolicy::default().max_attempts),
            ..RetryPolicy::default()
        };
        let attempt_timeout = match (timeout, deadline) {
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
        let deadline = deadline.unwrap_or_else(|| {
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

    /// `None` for one page; `Some(None)` for --all; `Some(Some(n))` for
    /// --limit n.
    pub fn following(&self) -> Result<Option<Option<u64>>, CliError> {
        match (&self.limit, self.all) {
            (Some(text), _) => {
                let limit = text
                    .parse::<u64>()
                    .ok()
                    .filter(|limit| *limit >= 1)
                    .ok_or_else(|| {
                        CliError::invalid_flag(
                            "--limit",
                            format!(
                                "must be a whole number of at least 1, got `{}`",
                                excerpt(text)
                            ),
                        )
                    })?;
                Ok(Some(Some(limit)))
            }
            (None, true) => Ok(Some(None)),
            (None, false) => Ok(None),
        }
    }
}

/// A number of seconds from 0.001 to `max`, as a duration.
fn parse_seconds(text: &str, max: f64) -> Option<Duration> {
    text.parse::<f64>()
        .ok()
        .filter(|secs| (0.001..=max).contains(secs))
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
}

/// The flag that sets a wire parameter, for error messages.
fn flag_for(parameter: &str) -> &'static str {
    match parameter {
        "workflowId" => "--workflow-id",
        "name" => "--name",
        "orderByTime" => "--order",
        "size" => "--size",
        "states" => "--states",
        "startCreationTime" => "--start-time",
        "endCreationTime" => "--end-time",
        "nextToken" => "--next-token",
        "jobId" => "--job-id",
        _ => "a listing flag",
    }
}

/// `Success,Failed` → a set. Names match case-insensitively (the wire
/// spelling is always what is sent); empty items are errors.
fn parse_states(text: &str) -> Result<BTreeSet<StateFilter>, CliError> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(CliError::invalid_flag(
                    "--states",
                    format!("has an empty item in `{}`", excerpt(text)),
                ));
            }
            // The CLI forgives case; the wire spelling is what is sent, and
            // an unknown name gets the protocol crate's own message.
            let canonical = StateFilter::ALL
                .iter()
                .find(|state| state.as_str().eq_ignore_ascii_case(item))
                .map_or(item, |state| state.as_str());
            canonical
                .parse::<StateFilter>()
                .map_err(|error| CliError::invalid_flag("--states", error.rule))
        })
        .collect()
}

fn parse_time(flag: &'static str, text: Option<&str>) -> Result<Option<CiTimestamp>, CliError> {
    text.map(|text| {
        CiTimestamp::parse(text).map_err(|error| CliError::invalid_flag(flag, error.to_string()))
    })
    .transpose()
}

/// `cos-ci sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// HTTP method, e.g. GET.
    #[arg(long, value_name = "METHOD")]
    pub method: String,
    /// The percent-DECODED path, e.g. /workflowexecution.
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// A query parameter, decoded, as key=value (or just key); repeatable.
    /// Every parameter is signed.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A header as key=value; repeatable. Every header given is signed, so
    /// include `host=<bucket>.ci.<region>.myqcloud.com`.
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
    /// Validity window as START;END in Unix seconds, e.g. '1557989151;1557996351'.
    #[arg(long, value_name = "START;END", allow_hyphen_values = true)]
    pub key_time: String,
}

/// `key=value` → `(key, value)`; `key` alone → `(key, "")` when
/// `value_optional`.
pub fn split_pair<'a>(
    flag: &'static str,
    text: &'a str,
    value_optional: bool,
) -> Result<(&'a str, &'a str), CliError> {
    let (key, value) = match text.split_once('=') {
        Some(pair) => pair,
        None if value_optional => (text, ""),
        None => {
            return Err(CliError::invalid_flag(
                flag,
                format!("expected KEY=VALUE, got `{}`", excerpt(text)),
            ));
        }
    };
    if key.is_empty() {
        return Err(CliError::invalid_flag(
            flag,
            format!("the key before `=` is empty in `{}`", excerpt(text)),
        ));
    }
    Ok((key, value))
}

/// The first 60 characters of user input, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(args: &[&str]) -> ListArgs {
        let mut argv = vec![
            "cos-ci",
            "workflow-executions",
            "list",
            "--bucket",
            "examplebucket-1250000000",
            "--region",
            "ap-beijing",
        ];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::WorkflowExecutions(WorkflowExecutionsCommand::List(args)),
                ..
            }) => args,
            other => panic!("unexpected parse: {other:?}"),
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn builds_the_request() {
        let request = list(&[
            "--workflow-id",
            "w1",
            "--states",
            "success,Failed",
            "--order",
            "asc",
            "--size",
            "100",
            "--start-time",
            "2022-08-09T14:00:00+08:00",
            "--end-time",
            "2022-08-10T14:00:00+0800",
        ])
        .request()
        .unwrap();
        assert_eq!(
            request.wire_query(),
            "workflowId=w1&orderByTime=Asc&size=100&states=Success%2CFailed&startCreationTime=2022-08-09T14%3A00%3A00%2B0800&endCreationTime=2022-08-10T14%3A00%3A00%2B0800"
        );
    }

    #[test]
    fn errors_name_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--size", "0"], "--size"),
            (&["--size", "101"], "--size"),
            (&["--size", "ten"], "--size"),
            (&["--states", "Done"], "--states"),
            (&["--states", "Success,,Failed"], "--states"),
            (&["--start-time", "yesterday"], "--start-time"),
            (&["--end-time", "2022-13-01T00:00:00+0800"], "--end-time"),
            (&["--workflow-id", ""], "--workflow-id"),
            (
                &[
                    "--start-time",
                    "2022-08-10T00:00:00Z",
                    "--end-time",
                    "2022-08-09T00:00:00Z",
                ],
                "--start-time",
            ),
        ];
        for (args, flag) in cases {
            let error = list(args).request().unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
            assert!(
                error.to_string().starts_with(&format!("invalid {flag}: ")),
                "{args:?}: {error}"
            );
        }
    }

    #[test]
    fn limit_and_all() {
        assert_eq!(list(&[]).following().unwrap(), None);
        assert_eq!(list(&["--all"]).following().unwrap(), Some(None));
        assert_eq!(list(&["--limit", "5"]).following().unwrap(), Some(Some(5)));
        assert!(list(&["--limit", "0"]).following().is_err());
        assert!(list(&["--limit", "-1"]).following().is_err());
    }

    #[test]
    fn timeout_and_attempts() {
        assert_eq!(
            list(&["--timeout", "0.5"]).timeout().unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(list(&[]).timeout().unwrap(), None);
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(list(&["--timeout", bad]).timeout().is_err(), "{bad}");
        }
        assert_eq!(
            list(&["--max-attempts", "1"]).max_attempts().unwrap(),
            Some(1)
        );
        for bad in ["0", "11", "x"] {
            assert!(
                list(&["--max-attempts", bad]).max_attempts().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_precedence_and_redaction() {
        let flags = CredentialArgs {
            secret_id: None,
            secret_key: Some("flag-key".into()),
            session_token: None,
        };
        let env = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some(String::new()),
            "COS_SECRET_ID" => Some("cos-id".into()),
            "TENCENTCLOUD_SECRET_KEY" => Some("env-key".into()),
            "TENCENTCLOUD_SESSION_TOKEN" => Some("env-token".into()),
            _ => None,
        };
        let env = |name: &str| env(name).map(OsString::from);
        let credentials = flags.resolve(env).unwrap();
        assert_eq!(credentials.secret_id(), "cos-id");
        assert_eq!(credentials.expose_secret_key(), "flag-key");
        assert_eq!(credentials.expose_session_token(), Some("env-token"));
        assert!(!format!("{flags:?}").contains("flag-key"));

        let none = CredentialArgs {
            secret_id: None,
            secret_key: None,
            session_token: None,
        };
        let error = none.resolve(|_| None).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("TENCENTCLOUD_SECRET_ID"));
    }

    #[test]
    fn credential_errors_name_the_flag_or_variable_never_the_value() {
        let none = || CredentialArgs {
            secret_id: None,
            secret_key: None,
            session_token: None,
        };
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
            let error = flags.resolve(env).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{error}");
            assert!(error.to_string().starts_with(expected), "{error}");
            assert!(!error.to_string().contains("kéy"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_variable_that_is_not_utf8_is_not_missing() {
        use std::os::unix::ffi::OsStringExt;
        let none = CredentialArgs {
            secret_id: None,
            secret_key: None,
            session_token: None,
        };
        let env = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some(OsString::from_vec(b"AKID\xff".to_vec())),
            "COS_SECRET_ID" => Some(OsString::from("fallback-must-not-be-used")),
            "TENCENTCLOUD_SECRET_KEY" => Some(OsString::from("k")),
            _ => None,
        };
        let error = none.resolve(env).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "invalid environment variable TENCENTCLOUD_SECRET_ID: is set but not valid UTF-8"
        );
    }

    #[test]
    fn deadline_timeout_and_attempts_agree() {
        let default = Duration::from_secs(30);
        let limits = |args: &[&str]| list(args).time_limits(default);
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
        for bad in ["0", "-1", "NaN", "86401", "soon"] {
            let error = limits(&["--deadline", bad]).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid --deadline: "),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn pairs() {
        assert_eq!(split_pair("--param", "a=b=c", false).unwrap(), ("a", "b=c"));
        assert_eq!(split_pair("--param", "acl", true).unwrap(), ("acl", ""));
        assert!(split_pair("--header", "host", false).is_err());
        assert!(split_pair("--header", "=x", false).is_err());
    }
}
