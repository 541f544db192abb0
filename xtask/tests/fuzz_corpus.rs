//! Replays every saved fuzz input on stable: each file in
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` goes through the
//! same function the fuzz target calls (`fuzz/src/lib.rs`, included below),
//! so a crash found once by `cargo xtask fuzz` stays fixed under `cargo test`.

use std::path::{Path, PathBuf};

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod targets;

type Target = fn(&[u8]);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
}

/// Regular files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Run every input of one target; return the files that panicked.
fn replay(name: &str, target: Target) -> (usize, Vec<String>) {
    let dir = fuzz_dir();
    let mut ran = 0;
    let mut failures = Vec::new();
    for kind in ["corpus", "artifacts"] {
        for file in inputs(&dir.join(kind).join(name)) {
            let data = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            ran += 1;
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    (ran, failures)
}

/// Every target of the registry (`fuzz/src/registry.rs`) replays its
/// saved inputs cleanly, and none has an empty corpus.
#[test]
fn every_target_replays_its_corpus_cleanly() {
    let mut report = Vec::new();
    for (name, target) in targets::TARGETS {
        let (ran, failures) = replay(name, *target);
        assert!(
            ran > 0,
            "fuzz/corpus/{name}/ is empty: seed it (the replay would prove nothing)"
        );
        if !failures.is_empty() {
            report.push(format!(
                "{} of {ran} saved inputs of `{name}` fail (reproduce with `COS_CI_FUZZ_TARGET={name} cargo +nightly fuzz run target <file>` in fuzz/):\n{}",
                failures.len(),
                failures.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn every_corpus_folder_belongs_to_a_target() {
    for kind in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            // An empty folder (left by a local fuzz run) holds nothing to
            // replay, and git cannot carry one into a checkout.
            let empty = std::fs::read_dir(entry.path()).is_ok_and(|mut e| e.next().is_none());
            if empty {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                targets::target(&name).is_some(),
                "fuzz/{kind}/{name} has no target in fuzz/src/registry.rs"
            );
        }
    }
}

#[test]
fn the_correctly_signed_value_is_accepted_and_a_tampered_one_is_not() {
    // The authorization invariant must be reachable: the one correct value
    // verifies (and passes the target), a flipped signature does not.
    let correct = targets::correct_authorization();
    assert!(targets::verify_fixed(&correct).is_ok(), "{correct}");
    targets::authorization(correct.as_bytes());

    let flipped = if correct.ends_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}", correct.trim_end_matches(|c: char| c != '='));
    assert!(tampered.len() < correct.len(), "signature was replaced");
    let mut tampered_same_length = correct.clone();
    tampered_same_length.pop();
    tampered_same_length.push_str(flipped);
    assert!(targets::verify_fixed(&tampered).is_err());
    assert_eq!(
        targets::verify_fixed(&tampered_same_length),
        Err(cos_ci_sign::VerifyError::Mismatch)
    );
    targets::authorization(tampered_same_length.as_bytes());
}

#[test]
fn the_emulator_corpus_reaches_every_check() {
    // The target drives the emulator's own handler, so these say which of
    // its checks the saved inputs exercise: the Host match, the signature,
    // the session token, paging from the start and from a token, the
    // details route, and the workflow, job and queue routes.
    let reached: Vec<targets::Reached> =
        inputs(&fuzz_dir().join("corpus").join("emulator_request"))
            .iter()
            .filter_map(|file| std::fs::read(file).ok())
            .map(|data| targets::emulator_request(&data))
            .collect();
    let pages = |continued: bool| {
        reached.iter().any(|r| {
            matches!(r, targets::Reached::Page { executions, continued: c } if *executions > 0 && *c == continued)
        })
    };
    assert!(
        pages(false),
        "no saved input gets a first page: {reached:?}"
    );
    assert!(pages(true), "no saved input continues a token: {reached:?}");
    assert!(
        reached.contains(&targets::Reached::Details),
        "no saved input gets an execution's details: {reached:?}"
    );
    // Workflows, jobs and queues: a listing of each, a change, a trigger.
    for action in [
        "DescribeMediaWorkflows",
        "PauseMediaWorkflow",
        "DeleteMediaWorkflow",
        "TriggerMediaWorkflow",
        "DescribeMediaJobs",
        "DescribeMediaJob",
        "DescribeMediaQueues",
    ] {
        assert!(
            reached.contains(&targets::Reached::Served(action)),
            "no saved input is served by {action}: {reached:?}"
        );
    }
    for (check, what) in [
        (targets::Reached::Host, "the Host check"),
        (targets::Reached::Query, "the signature check"),
        (targets::Reached::Token, "the session-token check"),
        (targets::Reached::Signature, "the parameter check"),
    ] {
        assert!(
            reached.contains(&check),
            "no saved input is refused at {what}: {reached:?}"
        );
    }
}
