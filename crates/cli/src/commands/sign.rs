//! `cos-ci sign`: print the `Authorization` value for a described request.

use std::ffi::OsString;

use clap::Args;
use cos_ci_client::SESSION_TOKEN_HEADER;
use cos_ci_sign::{HeaderPolicy, KeyTime, SECURITY_TOKEN_NAMES, SignableRequest, Signer};

use crate::args::CredentialArgs;
use crate::error::CliError;
use crate::flags;

/// `cos-ci sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// HTTP method, e.g. GET.
    #[arg(long, value_name = "METHOD", value_parser = flags::http_method)]
    pub method: String,
    /// The percent-DECODED path, e.g. /workflowexecution.
    #[arg(long, value_name = "PATH", value_parser = flags::decoded_path)]
    pub path: String,
    /// A query parameter, decoded, as key=value (or just key); repeatable.
    /// Every parameter is signed.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = flags::query_pair)]
    pub params: Vec<(String, String)>,
    /// A header as key=value; repeatable. Every header given is signed, so
    /// include `host=<bucket>.ci.<region>.myqcloud.com`.
    #[arg(long = "header", value_name = "KEY=VALUE", value_parser = flags::header_pair)]
    pub headers: Vec<(String, String)>,
    /// Validity window as START;END in Unix seconds, e.g. '1557989151;1557996351'.
    #[arg(long, value_name = "START;END", allow_hyphen_values = true, value_parser = flags::key_time)]
    pub key_time: KeyTime,
}

/// The `Authorization` value for `args`: every header given is signed as
/// given ([`HeaderPolicy::All`]) and every parameter is signed. Returns
/// the value and, if there is one, a warning for stderr.
pub fn run(
    args: &SignArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(String, Option<String>), CliError> {
    let params: Vec<(&str, &str)> = args
        .params
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let mut headers: Vec<(&str, &str)> = args
        .headers
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let provider = args.credentials.resolve(&env)?;
    let provided = crate::commands::credentials::fetch_now(&provider)?;
    let credentials = provided.credentials();
    if credentials.secret_id().is_empty() || credentials.expose_secret_key().is_empty() {
        return Err(CliError::usage(
            "missing credentials: the secret id and secret key must not be empty",
        ));
    }
    let mut warnings = Vec::new();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        warnings.push(
            "warning: no host header given; the service requires host to be signed \
             (add --header host=<bucket>.ci.<region>.myqcloud.com)",
        );
    }
    // A session token the user gave must not be silently ignored: sign it
    // in the header cos-ci itself sends it in, unless a token header was
    // given explicitly.
    if let Some(token) = credentials.expose_session_token() {
        let has_token_header = headers.iter().any(|(name, _)| {
            SECURITY_TOKEN_NAMES
                .iter()
                .any(|known| name.eq_ignore_ascii_case(known))
        });
        if !has_token_header {
            headers.push((SESSION_TOKEN_HEADER, token));
            warnings.push(
                "note: the session token is signed as the x-ci-security-token header; \
                 send it in that header",
            );
        }
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("\n"));
    let request = SignableRequest {
        method: &args.method,
        path: &args.path,
        query: &params,
        headers: &headers,
    };
    let authorization =
        Signer::new(credentials.clone(), HeaderPolicy::All).authorization(&request, args.key_time);
    Ok((authorization.as_str().to_owned(), warning))
}
