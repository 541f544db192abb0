//! `cargo xtask fuzz --seconds N [--minimize] [TARGET...] [-- LIBFUZZER_ARGS...]`
//!
//! Builds the cargo-fuzz package in `fuzz/` with `cargo +nightly fuzz build`,
//! then runs each target (all of them unless some are named) for N seconds,
//! one after the other, each as a single libFuzzer process (one core). After
//! each run it prints one summary line: executions, exec/s, corpus size and
//! crash inputs found. With `--minimize` it runs `cargo +nightly fuzz cmin`
//! (with libFuzzer's `-set_cover_merge=1`) on each corpus afterwards. Fails
//! if any target found a crash.
//!
//! Needs a nightly toolchain and `cargo install cargo-fuzz`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[macro_use]
#[path = "../../fuzz/src/registry.rs"]
mod registry;

/// Every target of `fuzz/src/registry.rs`, in the order they run.
pub(crate) const TARGETS: &[&str] = {
    macro_rules! names {
        ($($name:ident => $body:expr),* $(,)?) => {
            &[$(stringify!($name)),*]
        };
    }
    for_each_target!(names)
};

/// The one fuzz binary; `COS_CI_FUZZ_TARGET` selects the target.
const FUZZ_BINARY: &str = "target";

fn usage() -> String {
    format!(
        "usage: cargo xtask fuzz --seconds N [--minimize] [TARGET...] [-- LIBFUZZER_ARGS...]\n\
         targets: {}",
        TARGETS.join(", ")
    )
}

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
struct FuzzArgs {
    seconds: u64,
    minimize: bool,
    targets: Vec<String>,
    libfuzzer_args: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<FuzzArgs, String> {
    let mut seconds = None;
    let mut minimize = false;
    let mut targets = Vec::new();
    let mut libfuzzer_args = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = rest
                    .next()
                    .ok_or_else(|| format!("--seconds needs a value\n{}", usage()))?;
                let parsed = value
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| {
                        format!("--seconds must be a positive whole number, not `{value}`")
                    })?;
                seconds = Some(parsed);
            }
            "--minimize" => minimize = true,
            "--" => {
                libfuzzer_args.extend(rest.by_ref().cloned());
            }
            "-h" | "--help" => return Err(usage()),
            name if TARGETS.contains(&name) => targets.push(name.to_owned()),
            other => return Err(format!("unknown fuzz argument `{other}`\n{}", usage())),
        }
    }
    let seconds = seconds.ok_or_else(|| format!("--seconds N is required\n{}", usage()))?;
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(FuzzArgs {
        seconds,
        minimize,
        targets,
        libfuzzer_args,
    })
}

/// The figures of one run, read from libFuzzer's final stats.
#[derive(Debug, Default, PartialEq, Eq)]
struct RunSummary {
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    /// `corp: N/SIZE` of the last status line.
    corpus_units: Option<u64>,
    corpus_size: Option<String>,
}

impl RunSummary {
    fn read_line(&mut self, line: &str) {
        if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = value.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.exec_per_sec = value.trim().parse().ok();
        } else if line.starts_with('#')
            && let Some((_, after)) = line.split_once(" corp: ")
        {
            // `#123 NEW cov: 10 ft: 20 corp: 7/84b lim: 4 exec/s: 0 rss: 30Mb`
            let field = after.split_whitespace().next().unwrap_or_default();
            if let Some((units, size)) = field.split_once('/') {
                self.corpus_units = units.parse().ok();
                self.corpus_size = Some(size.to_owned());
            }
        }
    }
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
}

/// `cargo +nightly ...` through rustup, whatever toolchain runs xtask.
fn nightly_cargo(fuzz_dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command.arg("+nightly").current_dir(fuzz_dir);
    // Set by the outer (stable) cargo: the toolchain ones would pin the
    // child to stable, the package ones make build scripts rerun.
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let from_outer_cargo = matches!(name, "RUSTUP_TOOLCHAIN" | "CARGO" | "RUSTC" | "RUSTDOC")
            || crate::is_set_by_cargo_run(name);
        if from_outer_cargo {
            command.env_remove(name);
        }
    }
    command
}

/// Files in a directory (0 when it does not exist).
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .count()
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|meta| meta.len())
            .sum()
    })
}

/// One line per target, for the log and for `docs/reliability.md`.
fn summary_line(
    target: &str,
    seconds: u64,
    summary: &RunSummary,
    corpus_files: usize,
    corpus_bytes: u64,
    new_crashes: usize,
) -> String {
    let show = |value: Option<u64>| value.map_or_else(|| "?".to_owned(), |v| v.to_string());
    format!(
        "fuzz {target}: {seconds} s, {} executions, {} exec/s, corpus {corpus_files} files \
         ({corpus_bytes} bytes; libFuzzer corp {}/{}), {new_crashes} new crash input(s)",
        show(summary.executions),
        show(summary.exec_per_sec),
        show(summary.corpus_units),
        summary.corpus_size.as_deref().unwrap_or("?"),
    )
}

fn run_target(
    fuzz_dir: &Path,
    target: &str,
    args: &FuzzArgs,
) -> Result<(String, Option<String>), String> {
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let corpus = fuzz_dir.join("corpus").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let crashes_before = count_files(&artifacts);

    let mut command = nightly_cargo(fuzz_dir);
    command
        .env("COS_CI_FUZZ_TARGET", target)
        .args(["fuzz", "run", FUZZ_BINARY])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(format!("-max_total_time={}", args.seconds))
        .arg("-print_final_stats=1")
        .args(&args.libfuzzer_args)
        .stderr(Stdio::piped());
    eprintln!("xtask: fuzzing {target} for {} s", args.seconds);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cargo +nightly fuzz run {target}: could not start: {e}"))?;
    let mut summary = RunSummary::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            summary.read_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cargo +nightly fuzz run {target}: {e}"))?;
    let new_crashes = count_files(&artifacts).saturating_sub(crashes_before);
    let failure = match (new_crashes, status.success()) {
        (0, true) => None,
        (0, false) => Some(format!(
            "{target} (exited with {status}, no crash input saved)"
        )),
        (n, _) => Some(format!(
            "{target} ({n} crash input(s) in fuzz/artifacts/{target}/)"
        )),
    };

    if args.minimize {
        let mut cmin = nightly_cargo(fuzz_dir);
        // Set cover keeps every feature with fewer files than a plain merge
        // (about half here), which keeps the committed corpora small.
        cmin.env("COS_CI_FUZZ_TARGET", target)
            .args(["fuzz", "cmin", FUZZ_BINARY])
            .arg(&corpus)
            .args(["--", "-set_cover_merge=1"]);
        crate::run(
            &format!("cargo +nightly fuzz cmin {target} -- -set_cover_merge=1"),
            cmin,
        )?;
    }
    let line = summary_line(
        target,
        args.seconds,
        &summary,
        count_files(&corpus),
        dir_bytes(&corpus),
        new_crashes,
    );
    Ok((line, failure))
}

/// `cargo xtask fuzz ...`; `args` are the words after `fuzz`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    let fuzz_dir = fuzz_dir();

    let mut build = nightly_cargo(&fuzz_dir);
    build.args(["fuzz", "build"]);
    crate::run("cargo +nightly fuzz build", build)?;

    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for target in &args.targets {
        let (line, failure) = run_target(&fuzz_dir, target, &args)?;
        eprintln!("xtask: {line}");
        lines.push(line);
        failed.extend(failure);
    }
    println!("{}", lines.join("\n"));
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzzing failed: {}", failed.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_seconds_targets_and_passthrough() {
        let parsed = parse_args(&words("--seconds 30 wire_query --minimize -- -max_len=100"));
        assert_eq!(
            parsed,
            Ok(FuzzArgs {
                seconds: 30,
                minimize: true,
                targets: vec!["wire_query".to_owned()],
                libfuzzer_args: vec!["-max_len=100".to_owned()],
            })
        );
    }

    #[test]
    fn defaults_to_every_target_and_rejects_bad_input() {
        let parsed = parse_args(&words("--seconds 5")).map(|a| a.targets.len());
        assert_eq!(parsed, Ok(TARGETS.len()));
        assert!(parse_args(&words("")).is_err());
        assert!(parse_args(&words("--seconds 0")).is_err());
        assert!(parse_args(&words("--seconds ten")).is_err());
        assert!(parse_args(&words("--seconds 5 no_such_target")).is_err());
    }

    #[test]
    fn reads_libfuzzer_final_stats() {
        let mut summary = RunSummary::default();
        for line in [
            "#1048576\tpulse  cov: 812 ft: 2301 corp: 290/31Kb lim: 4096 exec/s: 34952 rss: 60Mb",
            "#1200000\tDONE   cov: 815 ft: 2310 corp: 292/32Kb lim: 4096 exec/s: 40000 rss: 61Mb",
            "stat::number_of_executed_units: 1200000",
            "stat::average_exec_per_sec:     40000",
        ] {
            summary.read_line(line);
        }
        assert_eq!(
            summary,
            RunSummary {
                executions: Some(1_200_000),
                exec_per_sec: Some(40_000),
                corpus_units: Some(292),
                corpus_size: Some("32Kb".to_owned()),
            }
        );
    }
}
