//! `cos-ci credentials show`: which source won and when the credentials
//! expire. Never a secret key or token; the secret id is shortened.

use std::ffi::OsString;
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use cos_ci_client::{CredentialProvider, ProvidedCredentials};
use cos_ci_hyper::{SystemFiles, TransportOptions};

use crate::args::CredentialArgs;
use crate::error::CliError;
use crate::output::utc_time;
use crate::runner::warn_if_expired;
use crate::terminal::printable;

/// `cos-ci credentials show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Output format.
    #[arg(long = "output", value_enum, default_value_t = ShowFormat::Table, value_name = "FORMAT")]
    pub format: ShowFormat,
}

/// What `credentials show --output` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ShowFormat {
    /// `name  value` lines for people.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

/// The credentials `provider` gives now: fixed ones as they are, fetched
/// ones fetched once (instance role, TKE OIDC) with their short timeouts.
pub fn fetch_now(provider: &CredentialProvider) -> Result<ProvidedCredentials, CliError> {
    if let Some(fixed) = provider.fixed_credentials() {
        return Ok(fixed.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime
        .block_on(cos_ci_hyper::fetch_credentials(
            provider,
            &TransportOptions::default(),
        ))
        .map_err(CliError::from_credentials)
}

/// Resolve, fetch if need be, print.
pub fn run(args: &ShowArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let provider = args.credentials.resolve(&env)?;
    warn_if_expired(&provider);
    let provided = fetch_now(&provider)?;
    let region = args
        .credentials
        .chain()
        .profile_region(&env, &SystemFiles)
        .ok()
        .flatten();
    let now = SystemTime::now();
    let source = provided.source();
    let credentials = provided.credentials();
    let secret_id = shortened(credentials.secret_id());
    let expires_at = provided.expires_at().map(utc_time);
    let mut out = io::stdout().lock();
    match args.format {
        ShowFormat::Json => {
            let document = serde_json::json!({
                "source": source.to_string(),
                "kind": source.kind().as_str(),
                "secret_id": secret_id,
                "temporary": credentials.is_temporary(),
                "expires_at": expires_at,
                "expires_in_seconds": provided.expires_at().map(|at| seconds_between(now, at)),
                "profile_region": region.as_ref().map(|found| found.region.clone()),
            });
            writeln!(out, "{document}")
        }
        ShowFormat::Table => {
            let mut lines = vec![
                ("source", source.to_string()),
                ("kind", source.kind().as_str().to_owned()),
                ("secret id", secret_id),
                (
                    "temporary",
                    if credentials.is_temporary() {
                        "yes (with a session token)".to_owned()
                    } else {
                        "no".to_owned()
                    },
                ),
            ];
            lines.push((
                "expires",
                match (provided.expires_at(), &expires_at) {
                    (Some(at), Some(text)) => format!("{text} ({})", relative(now, at)),
                    _ => "not known (long-term keys do not expire)".to_owned(),
                },
            ));
            if let Some(found) = &region {
                lines.push((
                    "region",
                    format!("{} (from {})", found.region, found.path.display()),
                ));
            }
            lines
                .iter()
                .try_for_each(|(name, value)| writeln!(out, "{name:<10} {}", printable(value)))
        }
    }
    .and_then(|()| out.flush())
    .map_err(CliError::Output)
}

/// `AKIDcosc…0000`: enough to tell keys apart, not the whole id.
fn shortened(secret_id: &str) -> String {
    let chars: Vec<char> = secret_id.chars().collect();
    if chars.len() <= 12 {
        let head: String = chars.iter().take(4).collect();
        return format!("{head}…");
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Whole seconds from `now` to `at`, negative once past.
fn seconds_between(now: SystemTime, at: SystemTime) -> i64 {
    match at.duration_since(now) {
        Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
        Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `in 59m 58s`, `expired 3s ago`.
fn relative(now: SystemTime, at: SystemTime) -> String {
    match at.duration_since(now) {
        Ok(ahead) => format!("in {}", human(ahead)),
        Err(behind) => format!("expired {} ago", human(behind.duration())),
    }
}

fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            shortened("AKIDcosciEMULATOR0000000000000000"),
            "AKIDcosc…0000"
        );
        assert_eq!(shortened("AKIDshort"), "AKID…");
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(relative(now, now + Duration::from_secs(3598)), "in 59m 58s");
        assert_eq!(
            relative(now + Duration::from_secs(3), now),
            "expired 3s ago"
        );
        assert_eq!(human(Duration::from_secs(90_000)), "1d 1h");
        assert_eq!(seconds_between(now + Duration::from_secs(2), now), -2);
        assert_eq!(
            utc_time(UNIX_EPOCH + Duration::from_secs(1_615_590_047)),
            "2021-03-12T23:00:47+00:00"
        );
    }
}
