//! The command line, as clap derives it, plus the checks clap cannot make
//! (each naming the flag that was wrong).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cos_ci_client::Credentials;
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
    /// variables count as unset. `env` is `std::env::var` in the binary.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Credentials, CliError> {
        let from_env = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| env(name).filter(|value| !value.is_empty()))
        };
        let secret_id = self
            .secret_id
            .clone()
            .or_else(|| from_env(&["TENCENTCLOUD_SECRET_ID", "COS_SECRET_ID"]))
            .ok_or_else(|| {
                CliError::usage(
                    "missing credentials: no secret id; pass --secret-id or set \
                     TENCENTCLOUD_SECRET_ID (or COS_SECRET_ID)",
                )
            })?;
        let secret_key = self
            .secret_key
            .clone()
            .or_else(|| from_env(&["TENCENTCLOUD_SECRET_KEY", "COS_SECRET_KEY"]))
            .ok_or_else(|| {
                CliError::usage(
                    "missing credentials: no secret key; set TENCENTCLOUD_SECRET_KEY \
                     (or COS_SECRET_KEY) or pass --secret-key",
                )
            })?;
        let session_token = self
            .session_token
            .clone()
            .or_else(|| from_env(&["TENCENTCLOUD_SESSION_TOKEN"]));
        let credentials = Credentials::new(secret_id, secret_key);
        Ok(match session_token {
            Some(token) => credentials.with_session_token(token),
            None => credentials,
        })
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
}

/// Longest `--timeout`: an hour is already far beyond any sane page.
const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// Most `--max-attempts`.
const MAX_ATTEMPTS: u32 = 10;

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
                text.parse::<f64>()
                    .ok()
                    .filter(|secs| (0.001..=MAX_TIMEOUT_SECS).contains(secs))
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                    .ok_or_else(|| {
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
    fn pairs() {
        assert_eq!(split_pair("--param", "a=b=c", false).unwrap(), ("a", "b=c"));
        assert_eq!(split_pair("--param", "acl", true).unwrap(), ("acl", ""));
        assert!(split_pair("--header", "host", false).is_err());
        assert!(split_pair("--header", "=x", false).is_err());
    }
}
