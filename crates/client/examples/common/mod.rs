//! What the blocking-transport examples share around their transport: the
//! command line (`--endpoint`, `--bucket`, `--region`) and the credentials
//! in the environment, made into a `Config`, and the exit status. Each
//! example's transport stays whole in its own file.

use std::process::ExitCode;

use cos_ci_client::{Config, Credentials};

/// Run `list` with the `Config` the command line and the environment
/// describe, and print how many executions it found.
pub(crate) fn main(list: impl FnOnce(Config) -> Result<usize, String>) -> ExitCode {
    match config_from_args().and_then(list) {
        Ok(count) => {
            println!("{count} executions");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn config_from_args() -> Result<Config, String> {
    let mut endpoint = None;
    let mut bucket = None;
    let mut region = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--endpoint" => endpoint = Some(value),
            "--bucket" => bucket = Some(value),
            "--region" => region = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let mut config = Config::new(
        bucket.as_deref().ok_or("--bucket is required")?,
        region.as_deref().ok_or("--region is required")?,
        credentials_from_env()?,
    )
    .map_err(|e| e.to_string())?;
    if let Some(url) = endpoint {
        config = config.with_endpoint(&url).map_err(|e| e.to_string())?;
    }
    Ok(config)
}

/// Fixed credentials from the id and key variables `CredentialChain`'s
/// environment source knows, and the token from
/// `TENCENTCLOUD_SESSION_TOKEN` only; a real program would resolve the
/// whole chain (all its token variables, profiles, files, roles), which
/// these examples leave out.
fn credentials_from_env() -> Result<Credentials, String> {
    let env = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok());
    let secret_id = env(&["TENCENTCLOUD_SECRET_ID", "COS_SECRET_ID"])
        .ok_or("set TENCENTCLOUD_SECRET_ID (or COS_SECRET_ID)")?;
    let secret_key = env(&["TENCENTCLOUD_SECRET_KEY", "COS_SECRET_KEY"])
        .ok_or("set TENCENTCLOUD_SECRET_KEY (or COS_SECRET_KEY)")?;
    let credentials = Credentials::new(secret_id, secret_key);
    Ok(match env(&["TENCENTCLOUD_SESSION_TOKEN"]) {
        Some(token) => credentials.with_session_token(token),
        None => credentials,
    })
}
