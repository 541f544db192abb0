//! `cos-ci-emulator`: run the local Cloud Infinite server, or dump its data.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cos_ci_client::ConfigError;
use cos_ci_emulator::{
    DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, Emulator,
    EmulatorConfig, FaultConfig, FaultKind, Latency, Skew, check_bucket_and_region, parse_latency,
};

/// A local Cloud Infinite server for workflow executions (the list and each
/// execution's details) that checks signatures. Prints `listening on http://ADDR` as its first line of stdout,
/// then serves until Ctrl-C or SIGTERM.
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

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a rate between 0.0 and 1.0")),
    }
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
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            Dataset::from_ndjson(&text).map_err(|error| format!("{}: {error}", path.display()))?
        }
        None => Dataset::generate_with(args.executions, args.seed, args.skew),
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
        secret_key: args.secret_key,
        session_token: args.session_token,
        dataset,
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
        "cos-ci-emulator: {} executions; host {} or {}; secret id {secret_id}; faults {:.3} of {}; latency {latency}",
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
