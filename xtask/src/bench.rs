//! `cargo xtask bench`: the end-to-end listing benchmark.
//!
//! `bench` builds `cos-ci` and this xtask in release mode and re-runs itself
//! as `bench-inner`, which
//! 1. lists 10,000 executions (pages of 100) from an in-process emulator
//!    through `HyperClient::list_all_workflow_executions`, several times,
//!    and reports the median pages/s and executions/s;
//! 2. serves 1,000,000 executions and streams them all through the real
//!    `cos-ci` binary in a child process (`--all --output ndjson`), reading
//!    the child's peak RSS, so the emulator's own data is not counted.
//!
//! It prints a Markdown block to paste into `docs/performance.md`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cos_ci_client::{Config, Credentials};
use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig,
};
use cos_ci_hyper::HyperClient;
use cos_ci_proto::{ListWorkflowExecutions, PageSize};
use futures_util::StreamExt;

const THROUGHPUT_EXECUTIONS: usize = 10_000;
const PAGE_SIZE: u32 = 100;
const TIMED_RUNS: usize = 7;
const MEMORY_EXECUTIONS: usize = 1_000_000;
const SEED: u64 = 1;

/// `cargo xtask bench`: build `cos-ci` and xtask in release, then run
/// `bench-inner` from that build.
pub(crate) fn run() -> Result<(), String> {
    crate::demo::build_cli("release", &[])?;
    let mut inner = crate::cargo();
    inner.current_dir(crate::demo::workspace_root()).args([
        "run",
        "--quiet",
        "--release",
        "--package",
        "xtask",
        "--",
        "bench-inner",
    ]);
    crate::run("cargo run --release -p xtask -- bench-inner", inner)
}

/// `cargo xtask bench-inner`: the measurements (expects release builds).
pub(crate) fn inner() -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("xtask: warning: bench-inner is running a debug build; run `cargo xtask bench`");
    }
    let binary = crate::demo::target_dir()
        .join("release")
        .join(format!("cos-ci{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        return Err(format!(
            "no release cos-ci at {}; run `cargo xtask bench`",
            binary.display()
        ));
    }

    let throughput = throughput()?;
    let memory = memory(&binary)?;

    let runs: Vec<String> = throughput
        .durations
        .iter()
        .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
        .collect();
    let median = throughput.median.as_secs_f64();
    let pages = (THROUGHPUT_EXECUTIONS as f64 / f64::from(PAGE_SIZE)).ceil();
    println!();
    println!("Command: `cargo xtask bench` (release build; emulator in-process on 127.0.0.1).");
    println!("Machine: {}.", machine());
    println!();
    println!("| measure | figure |");
    println!("| --- | --- |");
    println!(
        "| list {THROUGHPUT_EXECUTIONS} executions, pages of {PAGE_SIZE}, through `HyperClient::list_all_workflow_executions` against the in-process emulator (median of {TIMED_RUNS}) | {:.1} ms |",
        median * 1e3
    );
    println!("| pages/s | {:.0} |", pages / median);
    println!(
        "| executions/s | {:.0} |",
        THROUGHPUT_EXECUTIONS as f64 / median
    );
    println!("| the {TIMED_RUNS} runs | {} |", runs.join(", "));
    println!(
        "| generate {MEMORY_EXECUTIONS} executions / start the emulator with them | {:.2} s / {:.2} s |",
        memory.generate.as_secs_f64(),
        memory.start.as_secs_f64()
    );
    println!(
        "| `cos-ci ... --all --size 100 --output ndjson` over {MEMORY_EXECUTIONS} executions: time | {:.2} s ({:.0} executions/s, CLI and emulator sharing the cores) |",
        memory.stream_time.as_secs_f64(),
        MEMORY_EXECUTIONS as f64 / memory.stream_time.as_secs_f64()
    );
    println!(
        "| peak RSS of that `cos-ci` process streaming {MEMORY_EXECUTIONS} executions | {} |",
        mib(memory.peak_all_kib)
    );
    println!(
        "| peak RSS of `cos-ci` listing one page of 1 (baseline) | {} |",
        mib(memory.peak_one_page_kib)
    );
    println!("| peak RSS measured with | {} |", memory.method);
    Ok(())
}

struct Throughput {
    durations: Vec<Duration>,
    median: Duration,
}

fn throughput() -> Result<Throughput, String> {
    eprintln!("xtask: bench: {THROUGHPUT_EXECUTIONS} executions, pages of {PAGE_SIZE}");
    let emulator = start_emulator(Dataset::generate(THROUGHPUT_EXECUTIONS, SEED))?;
    let config = Config::new(
        DEFAULT_BUCKET,
        DEFAULT_REGION,
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
    )
    .and_then(|config| config.with_endpoint(&emulator.base_url()))
    .map_err(|e| e.to_string())?;
    let client = HyperClient::new(config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let size = PageSize::new(PAGE_SIZE).map_err(|e| e.to_string())?;
    let list_all = || async {
        let request = ListWorkflowExecutions {
            size: Some(size),
            ..Default::default()
        };
        let mut stream = std::pin::pin!(
            client.list_all_workflow_executions(request, cos_ci_client::PagingOptions::all())
        );
        let mut count = 0usize;
        while let Some(execution) = stream.next().await {
            execution.map_err(|e| e.to_string())?;
            count += 1;
        }
        if count == THROUGHPUT_EXECUTIONS {
            Ok(())
        } else {
            Err(format!("listed {count}, expected {THROUGHPUT_EXECUTIONS}"))
        }
    };
    // Warm-up: connections, caches, page faults.
    runtime.block_on(list_all())?;
    let mut durations = Vec::with_capacity(TIMED_RUNS);
    for _ in 0..TIMED_RUNS {
        let started = Instant::now();
        runtime.block_on(list_all())?;
        durations.push(started.elapsed());
    }
    let mut sorted = durations.clone();
    sorted.sort();
    let median = sorted
        .get(sorted.len() / 2)
        .copied()
        .ok_or("no timed runs")?;
    Ok(Throughput { durations, median })
}

struct Memory {
    generate: Duration,
    start: Duration,
    stream_time: Duration,
    peak_all_kib: u64,
    peak_one_page_kib: u64,
    method: &'static str,
}

fn memory(binary: &Path) -> Result<Memory, String> {
    eprintln!("xtask: bench: generating {MEMORY_EXECUTIONS} executions");
    let started = Instant::now();
    let dataset = Dataset::generate(MEMORY_EXECUTIONS, SEED);
    let generate = started.elapsed();
    let started = Instant::now();
    let emulator = start_emulator(dataset)?;
    let start = started.elapsed();
    let endpoint = emulator.base_url();

    eprintln!("xtask: bench: streaming {MEMORY_EXECUTIONS} executions through cos-ci");
    let all = measure_child(
        binary,
        &endpoint,
        &["--all", "--size", "100", "--output", "ndjson"],
    )?;
    if all.lines != MEMORY_EXECUTIONS as u64 {
        return Err(format!(
            "cos-ci listed {} executions, expected {MEMORY_EXECUTIONS}",
            all.lines
        ));
    }
    let one = measure_child(binary, &endpoint, &["--size", "1", "--output", "ndjson"])?;
    Ok(Memory {
        generate,
        start,
        stream_time: all.elapsed,
        peak_all_kib: all.peak_kib,
        peak_one_page_kib: one.peak_kib,
        method: all.method,
    })
}

fn start_emulator(dataset: Dataset) -> Result<BackgroundEmulator, String> {
    BackgroundEmulator::start(EmulatorConfig {
        dataset,
        seed: SEED,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .map_err(|e| format!("could not start the emulator: {e}"))
}

struct ChildRun {
    lines: u64,
    elapsed: Duration,
    peak_kib: u64,
    method: &'static str,
}

const GNU_TIME: &str = "/usr/bin/time";

/// Run `cos-ci workflow-executions list ... extra`, count its stdout lines
/// and measure its peak RSS: with GNU time's `-v` when installed, else by
/// sampling `/proc/<pid>/status` (`VmHWM`, a high-water mark, so sampling
/// only misses growth in the last few milliseconds).
fn measure_child(binary: &Path, endpoint: &str, extra: &[&str]) -> Result<ChildRun, String> {
    // `XTASK_BENCH_SAMPLE_RSS=1` forces sampling, to cross-check the two.
    let gnu_time =
        Path::new(GNU_TIME).is_file() && std::env::var_os("XTASK_BENCH_SAMPLE_RSS").is_none();
    let mut command = if gnu_time {
        let mut command = Command::new(GNU_TIME);
        command.arg("-v").arg(binary);
        command
    } else {
        Command::new(binary)
    };
    command
        .args([
            "workflow-executions",
            "list",
            "--bucket",
            DEFAULT_BUCKET,
            "--region",
            DEFAULT_REGION,
            "--endpoint",
            endpoint,
        ])
        .args(extra)
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", PathBuf::from(binary).display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // Without GNU time, sample the child's high-water mark while it runs.
    let pid = child.id();
    let sampler = (!gnu_time).then(|| {
        std::thread::spawn(move || {
            let mut peak = 0;
            while let Some(hwm) = vm_hwm_kib(pid) {
                peak = peak.max(hwm);
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    });
    let mut lines = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = stdout
            .read(&mut buffer)
            .map_err(|e| format!("reading cos-ci's output: {e}"))?;
        if n == 0 {
            break;
        }
        lines += buffer.iter().take(n).filter(|&&b| b == b'\n').count() as u64;
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cos-ci: {e}"))?;
    let elapsed = started.elapsed();
    let stderr_text = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("cos-ci failed ({status}): {stderr_text}"));
    }
    let (peak_kib, method) = if gnu_time {
        let peak = stderr_text
            .lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix("Maximum resident set size (kbytes):")
            })
            .and_then(|value| value.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no maximum RSS in GNU time's output: {stderr_text}"))?;
        (peak, "GNU time -v (Maximum resident set size)")
    } else {
        let peak = sampler.and_then(|sampler| sampler.join().ok()).unwrap_or(0);
        (peak, "sampling /proc/<pid>/status VmHWM every 2 ms")
    };
    Ok(ChildRun {
        lines,
        elapsed,
        peak_kib,
        method,
    })
}

/// `VmHWM` of a live process, in KiB; `None` once it has exited.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: u64) -> String {
    if kib == 0 {
        // Only when sampling: the process exited before the first sample.
        return "n/a (exited before the first sample)".to_owned();
    }
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The CPU model and core count, for reports.
pub(crate) fn machine() -> String {
    format!("{}, {} cores", cpu_model(), cores())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
