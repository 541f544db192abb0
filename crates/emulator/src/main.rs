//! `cos-ci-emulator`: run the local Cloud Infinite server, or dump its data.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cos_ci_client::ConfigError;
use cos_ci_emulator::{
    DEFAULT_BUCKET, DEFAULT_FAIL_PATTERN, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, Emulator, EmulatorConfig, FaultConfig, FaultKind, Latency, Skew,
    check_bucket_and_region, parse_latency, queues_from_ndjson, workflows_from_ndjson,
};

/// A local Cloud Infinite server (workflow executions, workflows, jobs and
/// queues) that checks signatures. Prints `listening on http://ADDR` as
/// its first line of stdout, then serves until Ctrl-C or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "cos-ci-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The bucket served (`<name>-<appid>`).
    #[arg(long, default_value = DEFAULT_BUCKET)]
    bucket: String,
    /// The bucket's region.
    #[arg(long, default_value = DEFAULT_REGION)]
    region: String,
    /// The accepted secret id.
    #[arg(long, default_value = DEFAULT_SECRET_ID, requires = "secret_key")]
    secret_id: String,
    /// The accepted secret key (prefer the environment variable).
    #[arg(long, env = "COS_CI_EMULATOR_SECRET_KEY", hide_env_values = true, default_value = DEFAULT_SECRET_KEY, hide_default_value = true)]
    secret_key: String,
    /// Require temporary credentials: requests must carry this token in
    /// `x-ci-security-token` or `x-cos-security-token`.
    #[arg(long, env = "COS_CI_EMULATOR_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,
    /// Stand in for the CVM instance metadata service with this role name:
    /// `/latest/meta-data/cam/security-credentials/` lists it and
    /// `.../NAME` issues temporary credentials (point cos-ci at it with
    /// TENCENTCLOUD_METADATA_ENDPOINT).
    #[arg(long, value_name = "NAME", value_parser = parse_role)]
    metadata_role: Option<String>,
    /// Stand in for STS: `POST /` with `X-TC-Action:
    /// AssumeRoleWithWebIdentity` issues temporary credentials (any provider
    /// id and role ARN; the token must not be empty). Point cos-ci at it
    /// with TENCENTCLOUD_STS_ENDPOINT.
    #[arg(long)]
    sts: bool,
    /// How long issued temporary credentials live: 1h, 90s, 15m or seconds.
    /// The API accepts them until then and answers 403 AccessDenied after.
    #[arg(long, value_name = "DUR", default_value = "1h", value_parser = parse_lifetime)]
    credential_lifetime: Duration,
    /// Generate this many executions (ignored with --data).
    #[arg(long, default_value_t = 1000)]
    executions: usize,
    /// Seed for generated data, fault injection and request ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Bunch the generated create times: SHARE:SPAN puts SHARE of the
    /// executions in one period covering SPAN of the time, e.g. 0.9:0.1.
    #[arg(long, value_name = "SHARE:SPAN")]
    skew: Option<Skew>,
    /// Load executions from an NDJSON file instead of generating them.
    #[arg(long, value_name = "FILE.ndjson")]
    data: Option<PathBuf>,
    /// Load workflows from an NDJSON file (one `MediaWorkflow` per line);
    /// workflow ids the executions use that it lacks are still derived.
    #[arg(long, value_name = "FILE.ndjson")]
    workflows: Option<PathBuf>,
    /// Load queues from an NDJSON file (one `QueueList` entry per line),
    /// served besides the bucket's default transcoding queue.
    #[arg(long, value_name = "FILE.ndjson")]
    queues: Option<PathBuf>,
    /// How long a job (or one task of a triggered run) takes: `2s`,
    /// `500ms`, `1.5` (seconds); `0` ends it at once.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    task_duration: Duration,
    /// A job whose input key contains this text fails (and a triggered run's
    /// last task); empty: nothing fails.
    #[arg(long, default_value = DEFAULT_FAIL_PATTERN)]
    fail_pattern: String,
    /// Share of requests that fail (0.0 to 1.0), deterministic for the seed.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    faults: f64,
    /// Which faults to inject, comma-separated: 503,429,500,close,truncate,slow.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "503,429,500,close,truncate,slow"
    )]
    fault_kinds: Vec<FaultKind>,
    /// Simulated network latency added to every response, e.g. 20ms (units
    /// ns, us, ms, s; at most 60s).
    #[arg(long, value_name = "DUR", default_value = "0", value_parser = parse_latency)]
    latency: Duration,
    /// Up to this much more latency per response, drawn uniformly (and
    /// reproducibly, from --seed), e.g. 5ms.
    #[arg(long, value_name = "DUR", default_value = "0", value_parser = parse_latency)]
    latency_jitter: Duration,
    /// Print the dataset as NDJSON and exit.
    #[arg(long)]
    dump: bool,
    /// Do not log requests on stderr.
    #[arg(long)]
    quiet: bool,
}

/// `--credential-lifetime`: `1h`, `15m`, `90s` or a number of seconds,
/// 1 s to 12 h (STS's own maximum).
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let multiplier = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "`{text}` is not a duration such as 1h, 15m, 90s or 3600"
            ));
        }
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .filter(|s| (1..=43_200).contains(s))
        .ok_or_else(|| format!("`{text}` is not a duration between 1s and 12h"))?;
    Ok(Duration::from_secs(seconds))
}

/// A CAM role name: 1 to 128 of letters, digits and `+=,.@_-`.
fn parse_role(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if valid {
        Ok(text.to_owned())
    } else {
        Err("a role name is 1 to 128 letters, digits and +=,.@_-".to_owned())
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a rate between 0.0 and 1.0")),
    }
}

/// `2s`, `500ms`, `1.5s`, or plain seconds (`0`, `1.5`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration such as 2s, 500ms or 0");
    let (number, scale) = if let Some(millis) = text.strip_suffix("ms") {
        (millis, 0.001)
    } else if let Some(seconds) = text.strip_suffix('s') {
        (seconds, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() || value < 0.0 || value * scale > 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(value * scale))
}

fn read_file(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(io::stderr(), "cos-ci-emulator: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    check_bucket_and_region(&args.bucket, &args.region).map_err(|error| match error {
        ConfigError::InvalidRegion { .. } => format!("--region: {error}"),
        _ => format!("--bucket: {error}"),
    })?;
    let dataset = match &args.data {
        Some(path) => Dataset::from_ndjson(&read_file(path)?)
            .map_err(|error| format!("{}: {error}", path.display()))?,
        None => Dataset::generate_with(args.executions, args.seed, args.skew),
    };
    let workflows = match &args.workflows {
        Some(path) => Some(
            workflows_from_ndjson(&read_file(path)?)
                .map_err(|error| format!("{}: {error}", path.display()))?,
        ),
        None => None,
    };
    let queues = match &args.queues {
        Some(path) => queues_from_ndjson(&read_file(path)?)
            .map_err(|error| format!("{}: {error}", path.display()))?,
        None => Vec::new(),
    };
    if args.dump {
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        dataset
            .to_ndjson(&mut out)
            .and_then(|()| out.flush())
            .map_err(|error| format!("cannot write: {error}"))?;
        return Ok(());
    }
    let config = EmulatorConfig {
        listen: args.listen,
        bucket: args.bucket,
        region: args.region,
        secret_id: args.secret_id,
        secret_key: args.secret_key.into(),
        session_token: args.session_token.map(Into::into),
        metadata_role: args.metadata_role,
        sts: args.sts,
        credential_lifetime: args.credential_lifetime,
        dataset,
        workflows,
        queues,
        task_duration: args.task_duration,
        fail_pattern: args.fail_pattern,
        faults: FaultConfig {
            rate: args.faults,
            kinds: args.fault_kinds,
        },
        latency: Latency {
            base: args.latency,
            jitter: args.latency_jitter,
        },
        seed: args.seed,
        log_requests: !args.quiet,
        ..EmulatorConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    runtime.block_on(serve(config))
}

async fn serve(config: EmulatorConfig) -> Result<(), String> {
    let listen = config.listen;
    let secret_id = config.secret_id.clone();
    let faults = config.faults.clone();
    let latency = config.latency;
    let metadata_role = config.metadata_role.clone();
    let sts = config.sts;
    let lifetime = config.credential_lifetime;
    let lifecycle = format!(
        "task duration {:?}, fail pattern {:?}",
        config.task_duration, config.fail_pattern
    );
    // Installed before the address is printed, so a supervisor that sends
    // SIGTERM right after reading it gets a graceful stop, not a kill.
    let stop = StopSignal::install();
    let emulator = Emulator::start(config)
        .await
        .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
    {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on {}", emulator.base_url())
            .and_then(|()| stdout.flush())
            .map_err(|error| format!("cannot write: {error}"))?;
    }
    let _ = writeln!(
        io::stderr(),
        "cos-ci-emulator: {} executions; host {} or {}; secret id {secret_id}; faults {:.3} of {}; latency {latency}; {lifecycle}",
        emulator.len(),
        emulator.virtual_host(),
        emulator.local_addr(),
        faults.rate,
        faults
            .kinds
            .iter()
            .map(|kind| kind.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    if let Some(role) = &metadata_role {
        let _ = writeln!(
            io::stderr(),
            "cos-ci-emulator: instance metadata for role {role} at {}; temporary credentials live {}s",
            emulator.base_url(),
            lifetime.as_secs()
        );
    }
    if sts {
        let _ = writeln!(
            io::stderr(),
            "cos-ci-emulator: STS AssumeRoleWithWebIdentity at {}/; temporary credentials live {}s",
            emulator.base_url(),
            lifetime.as_secs()
        );
    }
    stop.wait().await;
    let _ = writeln!(io::stderr(), "cos-ci-emulator: shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Ctrl-C, and SIGTERM on Unix.
struct StopSignal {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::terminate())
                .and_then(|terminate| Ok((terminate, signal(SignalKind::interrupt())?)))
                .ok();
            StopSignal { streams }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut terminate, mut interrupt)) = self.streams {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
