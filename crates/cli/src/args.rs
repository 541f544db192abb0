//! The command line as clap derives it: the subcommands, and the flags
//! every subcommand shares, each defined once here and `#[command(flatten)]`-ed
//! into the subcommands (a subcommand's own flags live in its module under
//! `commands/`). Values are parsed by [`crate::flags`] on the protocol
//! types, so a bad value is refused with the flag's name before anything
//! runs.

use std::fmt;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cos_ci_client::Credentials;

use crate::commands::get::GetArgs;
use crate::commands::list::ListArgs;
use crate::commands::sign::SignArgs;
use crate::error::CliError;
use crate::flags;

/// `cos-ci`: Tencent Cloud Infinite workflow executions from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "cos-ci",
    version,
    about = "List and inspect Tencent Cloud Infinite (CI) workflow executions and compute COS request signatures",
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
    /// Workflow executions (`GET /workflowexecution`, `GET /workflowexecution/<RunId>`).
    #[command(name = "workflow-executions", subcommand)]
    WorkflowExecutions(WorkflowExecutionsCommand),
    /// Print the `Authorization` value for a request (a debugging aid).
    Sign(SignArgs),
}

/// `cos-ci workflow-executions ...`
// Built once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum WorkflowExecutionsCommand {
    /// List workflow executions: one page, or every page with --all.
    List(ListArgs),
    /// Show one workflow execution: its state, then its tasks in topology
    /// order, with the code and message of each failed task.
    Get(GetArgs),
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

/// How long each request may take and how often it is tried.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Seconds allowed for each attempt of a request (default 30).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = flags::timeout)]
    pub timeout: Option<Duration>,
    /// Attempts per request, including the first, 1 to 10 (default 5).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::attempts)]
    pub max_attempts: Option<u32>,
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
}
