//! Replays every saved fuzz input on stable: each file in
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` goes through the
//! same function the fuzz target calls (`fuzz/src/lib.rs`, included below),
//! so a crash found once by `cargo xtask fuzz` stays fixed under `cargo test`.

use std::path::{Path, PathBuf};

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod targets;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("list_response", targets::list_response),
    ("error_body", targets::error_body),
    ("wire_query", targets::wire_query),
    ("authorization", targets::authorization),
    ("emulator_request", |data| {
        targets::emulator_request(data);
    }),
];

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

fn replay_target(name: &str) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    let (ran, failures) = replay(name, *target);
    assert!(
        ran > 0,
        "fuzz/corpus/{name}/ is empty: seed it (the replay would prove nothing)"
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} saved inputs of `{name}` fail (reproduce with `cargo +nightly fuzz run {name} <file>` in fuzz/):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn list_response_corpus_replays_cleanly() {
    replay_target("list_response");
}

#[test]
fn error_body_corpus_replays_cleanly() {
    replay_target("error_body");
}

#[test]
fn wire_query_corpus_replays_cleanly() {
    replay_target("wire_query");
}

#[test]
fn authorization_corpus_replays_cleanly() {
    replay_target("authorization");
}

#[test]
fn emulator_request_corpus_replays_cleanly() {
    replay_target("emulator_request");
}

#[test]
fn every_fuzz_target_is_replayed() {
    let mut on_disk: Vec<String> = inputs(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut replayed: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    replayed.sort();
    assert_eq!(
        on_disk, replayed,
        "fuzz/fuzz_targets and this test disagree"
    );
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
    // the session token, paging from the start and from a token, and the
    // details route.
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
