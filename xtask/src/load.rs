//! `cargo xtask load`: the emulator under sustained load, and under a
//! slow-client attack, from outside its process.
//!
//! 1. Builds the `cos-ci-emulator` binary and xtask (release unless
//!    `--dev`; then the measuring runs in the release xtask as
//!    `load-inner`) and starts the emulator on 127.0.0.1 with a generated
//!    dataset.
//! 2. **Sustained listing**: requests pages at a fixed rate for a bounded
//!    time through `HyperClient` (one attempt each, so no error is hidden
//!    by a retry), following `NextToken` round the dataset so the whole
//!    index is paged, at most `--concurrency` in flight. Open loop: each
//!    request has a scheduled start, and its latency runs from then, so a
//!    server that falls behind shows in the latency instead of slowing the
//!    load down. A request that finds `--concurrency` requests in flight is
//!    not sent and is counted as skipped.
//! 3. **Slow clients**: `--slow-clients` connections each send a request
//!    line, then one header byte every 500 ms, never finishing (and
//!    reconnect when cut off), while a good request on a fresh connection
//!    is started every second (the attack lasts until the last one is
//!    answered); reports how long the good ones wait.
//! 4. The emulator's `VmRSS` (and `VmHWM`) from `/proc/<pid>/status`
//!    before, between and after.
//!
//! Prints a Markdown block for `docs/reliability.md`. Not part of `cargo
//! xtask test`: it takes about a minute and its figures depend on the
//! machine.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cos_ci_client::{Config, Credentials, Error, RetryPolicy};
use cos_ci_emulator::{DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};
use cos_ci_hyper::{HyperClient, TransportOptions};
use cos_ci_proto::{ListWorkflowExecutions, PageSize};
use tokio::io::AsyncWriteExt;

const USAGE: &str = "usage: cargo xtask load [--seconds N] [--rate REQ_PER_S] [--concurrency N] \
     [--executions N] [--page-size N] [--slow-clients N] [--slow-seconds N] [--dev]";

/// What to run; every field has a flag.
#[derive(Debug, Clone)]
struct Settings {
    seconds: f64,
    rate: f64,
    concurrency: usize,
    executions: usize,
    page_size: u32,
    slow_clients: usize,
    slow_seconds: f64,
    release: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seconds: 20.0,
            rate: 200.0,
            concurrency: 32,
            executions: 100_000,
            page_size: 100,
            slow_clients: 300,
            slow_seconds: 15.0,
            release: true,
        }
    }
}

impl Settings {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut settings = Settings::default();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            if flag == "--dev" {
                settings.release = false;
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let bad = || format!("bad value `{value}` for {flag}\n{USAGE}");
            let number = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v > 0.0 && v.is_finite())
            };
            let count = || value.parse::<usize>().ok();
            match flag.as_str() {
                "--seconds" => settings.seconds = number().ok_or_else(bad)?,
                "--rate" => settings.rate = number().ok_or_else(bad)?,
                "--concurrency" => {
                    settings.concurrency = count().filter(|n| *n > 0).ok_or_else(bad)?
                }
                "--executions" => {
                    settings.executions = count().filter(|n| *n > 0).ok_or_else(bad)?
                }
                "--page-size" => {
                    settings.page_size = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| PageSize::new(*n).is_ok())
                        .ok_or_else(bad)?
                }
                "--slow-clients" => settings.slow_clients = count().ok_or_else(bad)?,
                "--slow-seconds" => settings.slow_seconds = number().ok_or_else(bad)?,
                _ => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
            }
        }
        Ok(settings)
    }

    fn command_line(&self) -> String {
        let mut line = format!(
            "cargo xtask load --seconds {} --rate {} --concurrency {} --executions {} \
             --page-size {} --slow-clients {} --slow-seconds {}",
            self.seconds,
            self.rate,
            self.concurrency,
            self.executions,
            self.page_size,
            self.slow_clients,
            self.slow_seconds
        );
        if !self.release {
            line.push_str(" --dev");
        }
        line
    }
}

/// `cargo xtask load ...`: build, then measure. With a release build the
/// measuring runs in the release xtask (`load-inner`), so the load
/// generator's own parsing is not what limits the rate.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let settings = Settings::parse(args)?;
    let binary = crate::build("cos-ci-emulator", "cos-ci-emulator", settings.release)?;
    if settings.release && cfg!(debug_assertions) {
        let mut inner = Command::new(crate::binary_path(true, "xtask"));
        inner.arg("load-inner").args(args);
        return crate::run("xtask load-inner (release)", inner);
    }
    measure(&settings, &binary)
}

/// `cargo xtask load-inner ...`: measure with an emulator binary already
/// built by `load`.
pub(crate) fn inner(args: &[String]) -> Result<(), String> {
    let settings = Settings::parse(args)?;
    let binary = crate::binary_path(settings.release, "cos-ci-emulator");
    if !binary.is_file() {
        return Err(format!(
            "no emulator at {}; run `cargo xtask load`",
            binary.display()
        ));
    }
    measure(&settings, &binary)
}

fn measure(settings: &Settings, binary: &Path) -> Result<(), String> {
    let emulator = EmulatorProcess::start(binary, settings.executions)?;
    eprintln!(
        "xtask: load: emulator pid {} on {} with {} executions",
        emulator.pid(),
        emulator.addr,
        settings.executions
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;

    let rss_before = emulator.memory()?;
    eprintln!(
        "xtask: load: {} s at {} requests/s, at most {} in flight",
        settings.seconds, settings.rate, settings.concurrency
    );
    let sustained = runtime.block_on(sustained(settings, emulator.addr))?;
    let rss_after_load = emulator.memory()?;
    let slow = if settings.slow_clients > 0 {
        eprintln!(
            "xtask: load: {} slow clients for {} s",
            settings.slow_clients, settings.slow_seconds
        );
        Some(runtime.block_on(slow_clients(settings, emulator.addr)))
    } else {
        None
    };
    let rss_after_slow = emulator.memory()?;
    drop(emulator);

    report(
        settings,
        &sustained,
        slow.as_ref(),
        [rss_before, rss_after_load, rss_after_slow],
    );
    Ok(())
}

/// The emulator as a child process (its memory is its own). Killed and
/// reaped when dropped.
struct EmulatorProcess {
    child: Child,
    addr: SocketAddr,
}

/// `VmRSS` and `VmHWM` in KiB.
#[derive(Debug, Clone, Copy)]
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

impl EmulatorProcess {
    fn start(binary: &Path, executions: usize) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--seed", "1", "--quiet"])
            .args(["--executions", &executions.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|stdout| BufReader::new(stdout).read_line(&mut line));
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|addr| addr.parse().ok());
        match (read, addr) {
            (Some(Ok(_)), Some(addr)) => Ok(EmulatorProcess { child, addr }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the emulator did not say where it listens: {line:?}"
                ))
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn memory(&self) -> Result<Memory, String> {
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| format!("no {name} in {path}"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(addr: SocketAddr, options: TransportOptions) -> Result<HyperClient, String> {
    let config = Config::new(
        DEFAULT_BUCKET,
        DEFAULT_REGION,
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
    )
    .and_then(|config| config.with_endpoint(&format!("http://{addr}")))
    .map_err(|e| e.to_string())?
    // One attempt: a load test must see every failure, not a retry's success.
    .with_retry_policy(RetryPolicy::no_retries());
    Ok(HyperClient::with_options(config, options))
}

/// What the sustained phase measured.
struct Sustained {
    elapsed: Duration,
    scheduled: u64,
    skipped: u64,
    latencies: Vec<Duration>,
    executions: u64,
    errors: BTreeMap<String, u64>,
}

async fn sustained(settings: &Settings, addr: SocketAddr) -> Result<Sustained, String> {
    let client = client(
        addr,
        TransportOptions {
            request_timeout: Duration::from_secs(10),
            pool_max_idle_per_host: settings.concurrency,
            ..TransportOptions::default()
        },
    )?;
    let size = PageSize::new(settings.page_size).map_err(|e| e.to_string())?;
    // The token of the page to ask for next: requests walk the whole index
    // and start over, rather than all asking for the first page.
    let token: Arc<Mutex<Option<String>>> = Arc::default();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let executions = Arc::new(AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / settings.rate);
    let scheduled = (settings.seconds * settings.rate).round() as u64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut skipped = 0;
    let started = Instant::now();
    for n in 0..scheduled {
        let due = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            skipped += 1;
            continue;
        };
        let (client, token, executions) =
            (client.clone(), Arc::clone(&token), Arc::clone(&executions));
        tasks.spawn(async move {
            let next_token = token.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let request = ListWorkflowExecutions {
                size: Some(size),
                next_token,
                ..ListWorkflowExecutions::default()
            };
            let result = client.list_workflow_executions(request).await;
            let latency = due.elapsed();
            drop(permit);
            match result {
                Ok(page) => {
                    executions.fetch_add(page.executions.len() as u64, Ordering::Relaxed);
                    *token.lock().unwrap_or_else(PoisonError::into_inner) = page.next_token;
                    Ok(latency)
                }
                Err(error) => Err(error_kind(&error)),
            }
        });
    }
    let mut latencies = Vec::with_capacity(scheduled as usize);
    let mut errors = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(latency)) => latencies.push(latency),
            Ok(Err(kind)) => *errors.entry(kind).or_insert(0) += 1,
            Err(error) => *errors.entry(format!("task: {error}")).or_insert(0) += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Sustained {
        elapsed,
        scheduled,
        skipped,
        latencies,
        executions: executions.load(Ordering::Relaxed),
        errors,
    })
}

/// A short, stable name for an error, to count them by kind.
fn error_kind(error: &Error) -> String {
    match error {
        Error::Service(e) => format!("HTTP {} {}", e.status, e.code.as_deref().unwrap_or("")),
        Error::Transport(e) => format!("transport {:?}", e.kind),
        Error::MalformedResponse(_) => "malformed response".to_owned(),
        Error::DeadlineExceeded { .. } => "deadline".to_owned(),
        other => other.to_string().chars().take(60).collect(),
    }
}

/// What the slow-client phase measured.
struct Slow {
    connections_opened: u64,
    cut_by_server: u64,
    good: Vec<Result<Duration, String>>,
}

async fn slow_clients(settings: &Settings, addr: SocketAddr) -> Slow {
    let until = Instant::now() + Duration::from_secs_f64(settings.slow_seconds);
    let opened = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicU64::new(0));
    let mut attackers = tokio::task::JoinSet::new();
    for _ in 0..settings.slow_clients {
        let (opened, cut) = (Arc::clone(&opened), Arc::clone(&cut));
        attackers.spawn(trickle(addr, opened, cut));
    }
    // Let the slow connections take their places first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // A fresh connection each time: a pooled one would already be past the
    // accept queue the slow clients fill. One per second, each on its own
    // task, so a request that waits does not hold back the next one.
    let options = TransportOptions {
        request_timeout: Duration::from_secs(30),
        pool_max_idle_per_host: 0,
        ..TransportOptions::default()
    };
    let request = ListWorkflowExecutions {
        size: PageSize::new(10).ok(),
        ..ListWorkflowExecutions::default()
    };
    let mut good_requests = tokio::task::JoinSet::new();
    while Instant::now() + Duration::from_secs(1) < until {
        let next = Instant::now() + Duration::from_secs(1);
        let (options, request) = (options.clone(), request.clone());
        good_requests.spawn(async move {
            let client = client(addr, options)?;
            let started = Instant::now();
            client
                .list_workflow_executions(request)
                .await
                .map(|_| started.elapsed())
                .map_err(|error| error_kind(&error))
        });
        tokio::time::sleep_until(next.into()).await;
    }
    // The attack goes on until every good request has its answer.
    let mut good = Vec::new();
    while let Some(joined) = good_requests.join_next().await {
        good.push(joined.map_err(|e| e.to_string()).and_then(|result| result));
    }
    attackers.shutdown().await;
    Slow {
        connections_opened: opened.load(Ordering::Relaxed),
        cut_by_server: cut.load(Ordering::Relaxed),
        good,
    }
}

/// One slow client, until its task is aborted: a request line, then a
/// header byte every 500 ms; when the server cuts it off, it connects again.
async fn trickle(addr: SocketAddr, opened: Arc<AtomicU64>, cut: Arc<AtomicU64>) {
    loop {
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        opened.fetch_add(1, Ordering::Relaxed);
        let head = format!("GET /workflowexecution HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ");
        if stream.write_all(head.as_bytes()).await.is_err() {
            cut.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if stream.write_all(b"a").await.is_err() {
                cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Option<Duration> {
    let last = sorted.len().checked_sub(1)?;
    let index = ((last as f64) * fraction).round() as usize;
    sorted.get(index.min(last)).copied()
}

fn ms(duration: Option<Duration>) -> String {
    duration.map_or_else(
        || "n/a".to_owned(),
        |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
    )
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn report(settings: &Settings, load: &Sustained, slow: Option<&Slow>, memory: [Memory; 3]) {
    let ok = load.latencies.len() as u64;
    let failed: u64 = load.errors.values().sum();
    let errors = if load.errors.is_empty() {
        "none".to_owned()
    } else {
        load.errors
            .iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!();
    println!("Command: `{}`", settings.command_line());
    println!(
        "Emulator: {} build, separate process, {} executions; load generator: xtask's own \
         ({} build, one tokio thread, `HyperClient`, one attempt per request).",
        if settings.release { "release" } else { "dev" },
        settings.executions,
        if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
    );
    println!("Machine: {}.", crate::bench::machine());
    println!();
    println!("| measure | figure |");
    println!("| --- | --- |");
    println!(
        "| requests scheduled / sent / skipped (all {} in flight) | {} / {} / {} |",
        settings.concurrency,
        load.scheduled,
        load.scheduled - load.skipped,
        load.skipped
    );
    println!(
        "| pages (of {}) answered / failed | {ok} / {failed} |",
        settings.page_size
    );
    println!("| errors | {errors} |");
    println!(
        "| throughput | {:.0} pages/s, {:.0} executions/s over {:.1} s |",
        ok as f64 / load.elapsed.as_secs_f64(),
        load.executions as f64 / load.elapsed.as_secs_f64(),
        load.elapsed.as_secs_f64()
    );
    println!(
        "| latency from the scheduled start: p50 / p99 / max | {} / {} / {} |",
        ms(percentile(&load.latencies, 0.5)),
        ms(percentile(&load.latencies, 0.99)),
        ms(load.latencies.last().copied())
    );
    let [before, after_load, after_slow] = memory;
    println!(
        "| emulator VmRSS: started / after the load / after the slow clients | {} / {} / {} |",
        mib(before.rss_kib),
        mib(after_load.rss_kib),
        mib(after_slow.rss_kib)
    );
    println!(
        "| emulator VmHWM (peak) at the end | {} |",
        mib(after_slow.hwm_kib)
    );
    if let Some(slow) = slow {
        let mut waits: Vec<Duration> = slow
            .good
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        waits.sort();
        let failures: Vec<&String> = slow.good.iter().filter_map(|r| r.as_ref().err()).collect();
        println!(
            "| slow clients: connections held open (reconnecting when cut) / cut off by the server | {} / {} (`--slow-clients {}` for {} s) |",
            slow.connections_opened,
            slow.cut_by_server,
            settings.slow_clients,
            settings.slow_seconds
        );
        println!(
            "| good requests meanwhile (fresh connection each, one started per second): answered / failed | {} / {} |",
            waits.len(),
            failures.len()
        );
        println!(
            "| their wait: min / p50 / max | {} / {} / {} |",
            ms(waits.first().copied()),
            ms(percentile(&waits, 0.5)),
            ms(waits.last().copied())
        );
    }
}
