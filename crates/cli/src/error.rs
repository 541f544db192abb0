//! What can go wrong, as one line for people and an exit code for scripts.

use std::borrow::Cow;
use std::fmt;
use std::io;

use cos_ci_client::{ConfigError, Error as ClientError};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a bug in cos-ci itself (never expected).
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code: bad usage or input (flags, values, configuration, credentials).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the service answered with an error or an unreadable body.
pub const EXIT_SERVICE: u8 = 3;
/// Exit code: no answer (connection failure, timeout, deadline exceeded).
pub const EXIT_NETWORK: u8 = 4;

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
    /// Bucket, region, endpoint or credentials that cannot work.
    #[error("{}", describe_config(.0))]
    Config(#[from] ConfigError),
    /// A call to the service failed.
    #[error("{}", describe_client(.error, .endpoint))]
    Client {
        /// The failure.
        error: ClientError,
        /// Where the request went, for network errors.
        endpoint: String,
    },
    /// Writing the output failed (other than the reader going away).
    #[error("cannot write output: {0}")]
    Output(io::Error),
    /// Could not set up the async runtime.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
}

impl CliError {
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

    /// A failed call to `endpoint`.
    pub fn client(error: ClientError, endpoint: impl fmt::Display) -> Self {
        CliError::Client {
            error,
            endpoint: endpoint.to_string(),
        }
    }

    /// The process exit code: 2 usage/input, 3 service, 4 network/timeout.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::InvalidFlag { .. } | CliError::Config(_) => EXIT_USAGE,
            CliError::Client { error, .. } => client_exit_code(error),
            CliError::Output(_) | CliError::Runtime(_) => EXIT_INTERNAL,
        }
    }

    /// The line printed on stderr: `error: ...`, on one line.
    pub fn to_line(&self) -> String {
        one_line(&format!("error: {self}"))
    }
}

/// Exit code for a failed call.
pub fn client_exit_code(error: &ClientError) -> u8 {
    match error {
        ClientError::Config(_) | ClientError::InvalidRequest(_) => EXIT_USAGE,
        ClientError::Service(_) | ClientError::MalformedResponse(_) | ClientError::Paging(_) => {
            EXIT_SERVICE
        }
        ClientError::Transport(_) | ClientError::DeadlineExceeded { .. } => EXIT_NETWORK,
        ClientError::Usage(_) => EXIT_INTERNAL,
        // The error enum is non-exhaustive: a kind added later is not known
        // to be the user's input, the service or the network.
        _ => EXIT_INTERNAL,
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
        // Already "service error: HTTP 403 AccessDenied: ... (RequestId: ...)".
        ClientError::Service(_) => error.to_string(),
        ClientError::MalformedResponse(_) => format!("unreadable response: {error}"),
        ClientError::Transport(_) | ClientError::DeadlineExceeded { .. } => {
            format!("no answer from {endpoint}: {error}")
        }
        ClientError::Config(config) => describe_config(config),
        _ => error.to_string(),
    }
}

/// Control characters (newlines from a body excerpt, say) become spaces so
/// the message stays one line.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_client::{TransportError, TransportErrorKind};
    use cos_ci_proto::{ServiceError, ValidationError};

    #[test]
    fn exit_codes() {
        let service = ClientError::Service(ServiceError {
            status: 403,
            code: Some("AccessDenied".into()),
            message: Some("no\nway".into()),
            request_id: Some("req-1".into()),
            trace_id: None,
            body_excerpt: None,
        });
        let error = CliError::client(service, "http://x");
        assert_eq!(error.exit_code(), EXIT_SERVICE);
        assert_eq!(
            error.to_line(),
            "error: service error: HTTP 403 AccessDenied: no way (RequestId: req-1)"
        );

        let transport =
            ClientError::Transport(TransportError::new(TransportErrorKind::Connect, "refused"));
        let error = CliError::client(transport, "http://127.0.0.1:1");
        assert_eq!(error.exit_code(), EXIT_NETWORK);
        assert!(error.to_line().contains("http://127.0.0.1:1"));

        let invalid = ClientError::InvalidRequest(ValidationError::new("size", "bad"));
        assert_eq!(CliError::client(invalid, "x").exit_code(), EXIT_USAGE);
        assert_eq!(CliError::usage("x").exit_code(), EXIT_USAGE);
    }
}
