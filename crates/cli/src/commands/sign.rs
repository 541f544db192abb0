//! `cos-ci sign`: print the `Authorization` value for a described request.

use std::ffi::OsString;

use cos_ci_client::SESSION_TOKEN_HEADER;
use cos_ci_sign::{HeaderPolicy, KeyTime, SECURITY_TOKEN_NAMES, SignableRequest, Signer};

use crate::args::{SignArgs, excerpt, split_pair};
use crate::error::CliError;

/// The `Authorization` value for `args`: every header given is signed as
/// given ([`HeaderPolicy::All`]) and every parameter is signed. Returns
/// the value and, if there is one, a warning for stderr.
pub fn run(
    args: &SignArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(String, Option<String>), CliError> {
    let method = args.method.trim();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(CliError::invalid_flag(
            "--method",
            format!(
                "expected an HTTP method such as GET, got `{}`",
                excerpt(method)
            ),
        ));
    }
    if !args.path.starts_with('/') {
        return Err(CliError::invalid_flag(
            "--path",
            format!(
                "must be the decoded path starting with `/`, got `{}`",
                excerpt(&args.path)
            ),
        ));
    }
    let key_time: KeyTime = args.key_time.parse().map_err(|error| {
        CliError::invalid_flag(
            "--key-time",
            format!("{error}, e.g. '1557989151;1557996351'"),
        )
    })?;
    let params = args
        .params
        .iter()
        .map(|text| split_pair("--param", text, true))
        .collect::<Result<Vec<_>, _>>()?;
    let mut headers = args
        .headers
        .iter()
        .map(|text| split_pair("--header", text, false))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = args.credentials.resolve(env)?;
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
        method,
        path: &args.path,
        query: &params,
        headers: &headers,
    };
    let authorization =
        Signer::new(credentials.clone(), HeaderPolicy::All).authorization(&request, key_time);
    Ok((authorization.as_str().to_owned(), warning))
}
