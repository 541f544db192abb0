//! What can go wrong, as one line for people and an exit code for scripts.

use std::borrow::Cow;
use std::fmt;
use std::io;

use cos_ci_client::{ConfigError, CredentialError, Error as ClientError};

use crate::terminal::printable;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a bug in cos-ci itself (never expected).
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code: bad usage or input (flags, values, configuration, credentials).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the service answered with an error or an unreadable body.
pub const EXIT_SERVICE: u8 = 3;
/// Exit code: no answer (connection failure, timeout, deadline exceeded),
/// or a wait that reached `--wait-timeout` before the end.
pub const EXIT_NETWORK: u8 = 4;
/// Exit code: a workflow run or job that was waited for ended `Failed` or
/// `Cancel`.
pub const EXIT_ENDED_BADLY: u8 = 5;

/// A failure of one `cos-ci` run. `Display` is a single line without the
/// leading `error: ` and never contains a secret key or session token (the
/// lower crates never put them in errors, and this type adds none).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage not caught by clap, e.g. missing credentials.
    #[error("{0}")]
    Usage(String),
    /// A flag with a value that breaks a rule.
    #[error("invalid {flag}: {message}")]
    InvalidFlag {
        /// The flag, e.g. `--size` (or an argument, e.g. `RUN_ID`).
        flag: Cow<'static, str>,
        /// What was wrong.
        message: String,
    },
    /// An environment variable with a value that cannot work.
    #[error("invalid environment variable {variable}: {message}")]
    InvalidEnv {
        /// The variable, e.g. `TENCENTCLOUD_SECRET_ID`.
        variable: Cow<'static, str>,
        /// What was wrong (never the value of a secret).
        message: String,
    },
    /// Bucket, region, endpoint or credentials that cannot work.
    #[error("{}", describe_config(.0))]
    Config(#[from] ConfigError),
    /// No credentials: none anywhere (every place looked at is named), a
    /// broken source, or a failed instance-role or STS fetch.
    #[error("{}", describe_credentials(.0))]
    Credentials(CredentialError),
    /// A call to the service failed.
    #[error("{}", describe_client(.error, .endpoint))]
    Client {
        /// The failure.
        error: ClientError,
        /// Where the request went, for network errors.
        endpoint: String,
    },
    /// The service answered, but what was asked for does not exist (every
    /// job id of `jobs get`, the workflow of `workflows get`).
    #[error("{0}")]
    NotFound(String),
    /// A run or job that was waited for ended `Failed` or `Cancel`.
    #[error("{0}")]
    EndedBadly(String),
    /// `--wait-timeout` passed before the run or job ended; it goes on.
    #[error("{0}")]
    WaitTimedOut(String),
    /// An error with advice on what to check next (e.g. whether a trigger
    /// that got no answer started a run anyway).
    #[error("{error}; {hint}")]
    Hinted {
        /// The error.
        error: Box<CliError>,
        /// What to do about it.
        hint: String,
    },
    /// Some of several calls failed, each already reported on stderr; what
    /// the others gave was printed. The exit code is the failures' (3 when
    /// any got an answer from the service, 4 when none did).
    #[error("{message}")]
    Partial {
        /// What was left out, in one line.
        message: String,
        /// The exit code.
        exit_code: u8,
    },
    /// Writing the output failed (other than the reader going away).
    #[error("cannot write output: {0}")]
    Output(io::Error),
    /// Could not set up the async runtime.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
}

impl CliError {
    /// [`CliError::Partial`] for calls that failed with these exit codes:
    /// as for one call, 3 when the service answered any of them, 4 only
    /// when none got an answer.
    pub fn partial(message: String, failed: &[u8]) -> Self {
        let exit_code = if failed.iter().all(|&code| code == EXIT_NETWORK) {
            EXIT_NETWORK
        } else {
            EXIT_SERVICE
        };
        CliError::Partial { message, exit_code }
    }

    /// A usage error with this message.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// A bad value for `flag`.
    pub fn invalid_flag(flag: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        CliError::InvalidFlag {
            flag: flag.into(),
            message: message.into(),
        }
    }

    /// A bad value of the variable `variable`.
    pub fn invalid_env(variable: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        CliError::InvalidEnv {
            variable: variable.into(),
            message: message.into(),
        }
    }

    /// A credential error, naming the flag or variable when one is to
    /// blame (`invalid --secret-key: …`, `invalid environment variable
    /// TENCENTCLOUD_SECRET_ID: …`).
    pub fn from_credentials(error: CredentialError) -> Self {
        match error {
            CredentialError::Invalid { place, reason } if place.starts_with("--") => {
                CliError::invalid_flag(place, reason)
            }
            CredentialError::Invalid { place, reason } if is_variable_name(&place) => {
                CliError::invalid_env(place, reason)
            }
            other => CliError::Credentials(other),
        }
    }

    /// A failed call to `endpoint`.
    pub fn client(error: ClientError, endpoint: impl fmt::Display) -> Self {
        CliError::Client {
            error,
            endpoint: endpoint.to_string(),
        }
    }

    /// This error with `hint` appended.
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        CliError::Hinted {
            error: Box::new(self),
            hint: hint.into(),
        }
    }

    /// The process exit code: 2 usage/input, 3 service, 4 network/timeout
    /// (and a wait's timeout), 5 a waited-for run or job ended badly.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::InvalidFlag { .. }
            | CliError::InvalidEnv { .. }
            | CliError::Config(_) => EXIT_USAGE,
            CliError::Credentials(error) => credential_exit_code(error),
            CliError::Client { error, .. } => client_exit_code(error),
            CliError::NotFound(_) => EXIT_SERVICE,
            CliError::EndedBadly(_) => EXIT_ENDED_BADLY,
            CliError::WaitTimedOut(_) => EXIT_NETWORK,
            CliError::Hinted { error, .. } => error.exit_code(),
            CliError::Partial { exit_code, .. } => *exit_code,
            CliError::Output(_) | CliError::Runtime(_) => EXIT_INTERNAL,
        }
    }

    /// The line printed on stderr: `error: ...`, on one line, with anything
    /// that could drive the terminal escaped.
    pub fn to_line(&self) -> String {
        printable(&format!("error: {self}")).into_owned()
    }
}

fn describe_credentials(error: &CredentialError) -> String {
    match error {
        CredentialError::NotFound { .. } => format!(
            "{error}. Set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, pass --secret-id and \
             --secret-key, or see `cos-ci --help` for the other sources"
        ),
        _ => error.to_string(),
    }
}

/// `TENCENTCLOUD_SECRET_ID`, `TKE_REGION`: upper-case letters, digits and
/// `_`.
fn is_variable_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Exit code for a credential failure: 2 when none were found or a source
/// is broken (configuration), 3 when the metadata service or STS refused, 4
/// when it did not answer.
pub fn credential_exit_code(error: &CredentialError) -> u8 {
    match error {
        CredentialError::Unreachable { .. } => EXIT_NETWORK,
        CredentialError::Refused { .. } => EXIT_SERVICE,
        CredentialError::NotFetched => EXIT_INTERNAL,
        _ => EXIT_USAGE,
    }
}

/// Exit code for a failed call: 3 whenever the service (or a proxy in
/// front of it) answered, even if the call then gave up at a limit; 4 only
/// when no answer came (network failures, timeouts).
pub fn client_exit_code(error: &ClientError) -> u8 {
    match error {
        ClientError::Config(_) | ClientError::InvalidRequest(_) => EXIT_USAGE,
        ClientError::Credentials(error) => credential_exit_code(error),
        ClientError::Usage(_) => EXIT_INTERNAL,
        error if error.is_answer() => EXIT_SERVICE,
        _ => EXIT_NETWORK,
    }
}

fn describe_config(error: &ConfigError) -> String {
    match error {
        ConfigError::InvalidBucket { .. } => format!("--bucket: {error}"),
        ConfigError::InvalidRegion { .. } => format!("--region: {error}"),
        ConfigError::InvalidEndpoint { .. } => format!("--endpoint: {error}"),
        _ => error.to_string(),
    }
}

fn describe_client(error: &ClientError, endpoint: &str) -> String {
    match error {
        ClientError::MalformedResponse(_) => format!("unreadable response: {error}"),
        ClientError::Config(config) => describe_config(config),
        // Service errors already read "service error: HTTP 403 AccessDenied:
        // ... (RequestId: ...)"; a call that gave up after an answer says
        // why and then gives that answer.
        error if error.is_answer() => error.to_string(),
        ClientError::Transport(_)
        | ClientError::DeadlineExceeded { .. }
        | ClientError::MaybeApplied { .. } => {
            format!("no answer from {endpoint}: {error}")
        }
        ClientError::Credentials(error) => describe_credentials(error),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_client::{TransportError, TransportErrorKind};
    use cos_ci_proto::{ServiceError, ValidationError};

    fn service_error(status: u16, code: &str, message: &str, request_id: &str) -> ClientError {
        ClientError::Service(ServiceError {
            status,
            code: Some(code.into()),
            message: Some(message.into()),
            request_id: Some(request_id.into()),
            trace_id: None,
            body_excerpt: None,
        })
    }

    #[test]
    fn exit_codes() {
        let service = service_error(403, "AccessDenied", "no\nway", "req-1");
        let error = CliError::client(service, "http://x");
        assert_eq!(error.exit_code(), EXIT_SERVICE);
        assert_eq!(
            error.to_line(),
            "error: service error: HTTP 403 AccessDenied: no way (RequestId: req-1)"
        );
        // Whatever reaches an error line, nothing can drive the terminal.
        let line = CliError::usage("bad \u{1b}[2J\u{202e}value\n").to_line();
        assert_eq!(line, "error: bad \\u{1b}[2J\\u{202e}value\\n");

        let transport =
            ClientError::Transport(TransportError::new(TransportErrorKind::Connect, "refused"));
        let error = CliError::client(transport, "http://127.0.0.1:1");
        assert_eq!(error.exit_code(), EXIT_NETWORK);
        assert!(error.to_line().contains("http://127.0.0.1:1"));

        // The service answered before the call gave up: its answer, exit 3.
        let answered = ClientError::RetryAfterTooLong {
            retry_after: std::time::Duration::from_secs(86_400),
            limit: std::time::Duration::from_secs(60),
            last_error: Box::new(service_error(429, "SlowDown", "slow down", "req-2")),
        };
        let error = CliError::client(answered, "http://x");
        assert_eq!(error.exit_code(), EXIT_SERVICE);
        assert_eq!(
            error.to_line(),
            "error: service error: HTTP 429 SlowDown: slow down (RequestId: req-2); \
             not retried: Retry-After 86400s is over the 60s limit"
        );
        let timed_out = ClientError::DeadlineExceeded {
            attempts: 1,
            elapsed: std::time::Duration::from_secs(2),
            deadline: std::time::Duration::from_secs(2),
            last_error: Some(Box::new(ClientError::Transport(TransportError::new(
                TransportErrorKind::Timeout,
                "slow",
            )))),
        };
        let error = CliError::client(timed_out, "http://x");
        assert_eq!(error.exit_code(), EXIT_NETWORK);
        assert!(
            error
                .to_line()
                .starts_with("error: no answer from http://x: ")
        );

        let hinted = CliError::client(
            ClientError::Transport(TransportError::new(
                TransportErrorKind::ConnectionClosed,
                "closed",
            )),
            "http://x",
        )
        .with_hint("check first");
        assert_eq!(hinted.exit_code(), EXIT_NETWORK);
        assert!(
            hinted.to_line().ends_with("closed; check first"),
            "{hinted}"
        );
        assert_eq!(
            CliError::EndedBadly("run i1 ended Failed".into()).exit_code(),
            5
        );
        assert_eq!(
            CliError::WaitTimedOut("still running".into()).exit_code(),
            4
        );
        assert_eq!(CliError::NotFound("no job j1".into()).exit_code(), 3);

        let invalid = ClientError::InvalidRequest(ValidationError::new("size", "bad"));
        assert_eq!(CliError::client(invalid, "x").exit_code(), EXIT_USAGE);
        assert_eq!(CliError::usage("x").exit_code(), EXIT_USAGE);
    }
}
