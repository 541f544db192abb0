//! Every credential source end to end: the real `cos-ci` binary, a
//! temporary HOME with the files each source reads, the environment given
//! per run (the caller's is cleared), and the emulator standing in for CI,
//! the instance metadata service and STS. Both credential endpoints always
//! point at the emulator or a closed port: nothing here reaches a real
//! Tencent Cloud host.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cos_ci_emulator::{
    BackgroundEmulator, DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
    Dataset, EmulatorConfig,
};

use common::{Run, assert_said, closed_port_url, run};

const ROLE: &str = "cos-ci-test-role";
const EXECUTIONS: usize = 120;

/// The emulator as CI, instance metadata service (role `ROLE`) and STS.
fn emulator() -> &'static BackgroundEmulator {
    static EMULATOR: OnceLock<BackgroundEmulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        BackgroundEmulator::start(EmulatorConfig {
            dataset: Dataset::generate(EXECUTIONS, 3),
            metadata_role: Some(ROLE.to_owned()),
            sts: true,
            log_requests: false,
            ..EmulatorConfig::default()
        })
        .expect("start the emulator")
    })
}

/// A fresh, empty HOME for one test.
fn home(name: &str) -> PathBuf {
    let home = std::env::temp_dir().join(format!(
        "cos-ci-credentials-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("create home");
    home
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Run `cos-ci args` with HOME = `home`, both credential endpoints on a
/// closed port unless `env` says otherwise, and nothing else of the
/// caller's environment.
fn cos_ci(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Run {
    run(common::command(args, home, closed_port_url()).envs(env.iter().copied()))
}

/// `workflow-executions list --all --output ndjson` against the emulator;
/// the region only if given.
fn list_all(home: &Path, env: &[(&str, &str)], region: Option<&str>, extra: &[&str]) -> Run {
    let endpoint = emulator().base_url();
    let mut args = vec![
        "workflow-executions",
        "list",
        "--bucket",
        DEFAULT_BUCKET,
        "--endpoint",
        &endpoint,
        "--all",
        "--output",
        "ndjson",
    ];
    if let Some(region) = region {
        args.extend(["--region", region]);
    }
    args.extend_from_slice(extra);
    cos_ci(&args, home, env)
}

fn show(home: &Path, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args = vec!["credentials", "show"];
    args.extend_from_slice(extra);
    cos_ci(&args, home, env)
}

fn assert_listed_all(run: &Run, expected: usize) {
    assert_eq!(run.code, 0, "{run:?}");
    let ids: Vec<&str> = run
        .stdout
        .lines()
        .map(|line| {
            let start = line.find("\"RunId\":\"").expect("a RunId") + 9;
            &line[start..start + line[start..].find('"').unwrap()]
        })
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), expected, "nothing lost");
    assert_eq!(unique.len(), expected, "nothing listed twice");
}

/// The table line `name  value` of `credentials show`.
fn field<'a>(run: &'a Run, name: &str) -> &'a str {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{name}` in {run:?}"))
}

fn assert_no_secret(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(!run.stdout.contains(secret), "{secret} on stdout: {run:?}");
        assert!(!run.stderr.contains(secret), "{secret} on stderr: {run:?}");
    }
}

/// A source fetched from a stand-in (`env` points there): every execution
/// is listed and none of `secrets` reaches the log even at `-vvv`; then
/// `credentials show` names it `source`. Returns the `show` run.
#[track_caller]
fn assert_fetched_source(home: &Path, env: &[(&str, &str)], secrets: &[&str], source: &str) -> Run {
    let run = list_all(home, env, Some(DEFAULT_REGION), &["-vvv"]);
    assert_listed_all(&run, EXECUTIONS);
    assert_no_secret(&run, secrets);
    let run = show(home, env, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(field(&run, "source"), source);
    run
}

const EMULATOR_ENV: [(&str, &str); 2] = [
    ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
    ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
];

#[test]
fn the_environment() {
    let home = home("env");
    let run = list_all(&home, &EMULATOR_ENV, Some(DEFAULT_REGION), &[]);
    assert_listed_all(&run, EXECUTIONS);

    let run = show(&home, &EMULATOR_ENV, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        field(&run, "source"),
        "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)"
    );
    assert_eq!(field(&run, "secret id"), "AKIDcosc…0000");
    assert_eq!(field(&run, "temporary"), "no");
    assert!(field(&run, "expires").starts_with("not known"));
    assert_no_secret(&run, &[DEFAULT_SECRET_KEY, DEFAULT_SECRET_ID]);

    // Flags win over the environment.
    let run = show(
        &home,
        &EMULATOR_ENV,
        &[
            "--secret-id",
            "AKIDfromTheFlags0001",
            "--secret-key",
            "flag-key",
        ],
    );
    assert_eq!(
        field(&run, "source"),
        "flags (--secret-id, --secret-key)",
        "{run:?}"
    );
    assert_eq!(field(&run, "secret id"), "AKIDfrom…0001");
    assert_no_secret(&run, &["flag-key"]);
    // Limited to the environment, with nothing there: exit 2 at once.
    let run = show(&home, &[], &["--credential-source", "env"]);
    assert_said(&run, 2, "environment (TENCENTCLOUD_SECRET_ID");

    // The token comes from TENCENTCLOUD_TOKEN first; COS_* still work.
    let env = [
        ("COS_SECRET_ID", DEFAULT_SECRET_ID),
        ("COS_SECRET_KEY", DEFAULT_SECRET_KEY),
        ("TENCENTCLOUD_TOKEN", "tccli-style-token"),
        ("TENCENTCLOUD_SESSION_TOKEN", "other-token"),
    ];
    let run = show(&home, &env, &["--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["source"],
        "environment (COS_SECRET_ID, COS_SECRET_KEY, TENCENTCLOUD_TOKEN)"
    );
    assert_eq!(json["kind"], "env");
    assert_eq!(json["temporary"], true);
    assert_no_secret(&run, &["tccli-style-token", DEFAULT_SECRET_KEY]);
}

#[test]
fn a_tccli_profile_with_its_region() {
    let home = home("tccli");
    let credential = format!(
        r#"{{"secretId": "{DEFAULT_SECRET_ID}", "secretKey": "{DEFAULT_SECRET_KEY}", "token": "None"}}"#
    );
    write(&home.join(".tccli/default.credential"), &credential);
    write(
        &home.join(".tccli/default.configure"),
        r#"{"_sys_param": {"region": "ap-beijing", "output": "json"}}"#,
    );
    write(&home.join(".tccli/work.credential"), &credential);
    write(
        &home.join(".tccli/work.configure"),
        r#"{"_sys_param": {"region": "ap-shanghai"}}"#,
    );
    // No --region: the profile's.
    let run = list_all(&home, &[], None, &[]);
    assert_listed_all(&run, EXECUTIONS);
    let run = show(&home, &[], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        field(&run, "source"),
        format!(
            "tccli profile `default` ({})",
            home.join(".tccli/default.credential").display()
        )
    );
    assert!(field(&run, "region").starts_with("ap-beijing (from "));

    // TCCLI_PROFILE picks another; --profile skips the environment.
    let run = show(&home, &[("TCCLI_PROFILE", "work")], &[]);
    assert!(
        field(&run, "source").starts_with("tccli profile `work`"),
        "{run:?}"
    );
    assert!(field(&run, "region").starts_with("ap-shanghai"));
    let env = [
        ("TENCENTCLOUD_SECRET_ID", "AKIDignored"),
        ("TENCENTCLOUD_SECRET_KEY", "ignored"),
    ];
    let run = show(&home, &env, &["--profile", "work"]);
    assert!(
        field(&run, "source").starts_with("tccli profile `work`"),
        "{run:?}"
    );
    // The region the client is built with is the profile's.
    let run = list_all(&home, &[("TCCLI_PROFILE", "work")], None, &["-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("region=ap-shanghai"), "{}", run.stderr);

    // A login that has expired is still tried, with a warning.
    write(
        &home.join(".tccli/old.credential"),
        &format!(
            r#"{{"type": "oauth", "secretId": "{DEFAULT_SECRET_ID}", "secretKey": "{DEFAULT_SECRET_KEY}", "token": "t", "expiresAt": 1600000000}}"#
        ),
    );
    let run = list_all(&home, &[], Some(DEFAULT_REGION), &["--profile", "old"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: the credentials from tccli profile `old`"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("expired at 2020-09-13T12:26:40+00:00"),
        "{run:?}"
    );
}

#[test]
fn the_sdks_credentials_file() {
    let home = home("ini");
    write(
        &home.join(".tencentcloud/credentials"),
        &format!(
            "# the SDKs' file\r\n[default]\r\nsecret_id = {DEFAULT_SECRET_ID}\r\nsecret_key = {DEFAULT_SECRET_KEY}\r\n"
        ),
    );
    let run = list_all(&home, &[], Some(DEFAULT_REGION), &[]);
    assert_listed_all(&run, EXECUTIONS);
    let run = show(&home, &[], &[]);
    assert_eq!(field(&run, "kind"), "file", "{run:?}");

    let elsewhere = home.join("elsewhere.ini");
    write(
        &elsewhere,
        &format!("[default]\nsecret_id={DEFAULT_SECRET_ID}\nsecret_key={DEFAULT_SECRET_KEY}\n"),
    );
    let path = elsewhere.display().to_string();
    let run = show(&home, &[("TENCENTCLOUD_CREDENTIALS_FILE", &path)], &[]);
    assert_eq!(field(&run, "source"), format!("credentials file ({path})"));
}

#[test]
fn tke_oidc_through_the_sts_stand_in() {
    let home = home("tke");
    let token_file = home.join("token");
    write(&token_file, "eyJhbGciOiJSUzI1NiJ9.web-identity-token.sig\n");
    let token_path = token_file.display().to_string();
    let sts = emulator().base_url();
    let env = [
        ("TKE_REGION", "ap-beijing"),
        ("TKE_PROVIDER_ID", "provider-1"),
        ("TKE_WEB_IDENTITY_TOKEN_FILE", token_path.as_str()),
        (
            "TKE_ROLE_ARN",
            "qcs::cam::uin/100000000001:roleName/pod-role",
        ),
        ("TENCENTCLOUD_STS_ENDPOINT", sts.as_str()),
    ];
    let run = assert_fetched_source(
        &home,
        &env,
        &["web-identity-token", "emulator-token-"],
        &format!("TKE OIDC, role qcs::cam::uin/100000000001:roleName/pod-role (STS at {sts})"),
    );
    assert_eq!(field(&run, "temporary"), "yes (with a session token)");
    assert!(
        field(&run, "expires").contains("(in 59m") || field(&run, "expires").contains("(in 1h"),
        "{run:?}"
    );

    // An empty token file: an error naming it, exit 2.
    write(&token_file, "");
    let run = show(&home, &env, &[]);
    assert_said(&run, 2, "TKE_WEB_IDENTITY_TOKEN_FILE");
}

#[test]
fn the_instance_role_through_the_metadata_stand_in() {
    let home = home("cvm");
    let metadata = emulator().base_url();
    let env = [("TENCENTCLOUD_METADATA_ENDPOINT", metadata.as_str())];
    // Neither the role's answers nor its name reach the log.
    let run = assert_fetched_source(
        &home,
        &env,
        &["emulator-token-", "TmpSecretKey", ROLE],
        &format!("CVM instance role `{ROLE}` (metadata at {metadata})"),
    );
    assert_eq!(field(&run, "kind"), "cvm-role");
    assert!(field(&run, "secret id").starts_with("AKIDtmp"));

    // Asked for by name, a missing metadata service is its own error (4).
    let run = show(&home, &[], &["--credential-source", "cvm-role"]);
    assert_said(&run, 4, "cvm-role credentials: no answer from");
}

#[test]
fn no_credentials_anywhere_is_exit_2_naming_every_place() {
    let home = home("none");
    let started = Instant::now();
    let run = list_all(&home, &[], Some(DEFAULT_REGION), &[]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "quick off a CVM"
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    for place in [
        "flags (--secret-id, --secret-key): not given",
        "environment (TENCENTCLOUD_SECRET_ID or COS_SECRET_ID, TENCENTCLOUD_SECRET_KEY or COS_SECRET_KEY): not set",
        "/.tccli/default.credential): no such file",
        "/.tencentcloud/credentials): no such file",
        "TKE OIDC (TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN): not set",
        "CVM instance role (metadata at http://127.0.0.1:",
    ] {
        assert!(run.stderr.contains(place), "{place} not in {}", run.stderr);
    }
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");

    // The same through the library entry point, with its env lookup: a
    // closure, not the process environment.
    let closed = closed_port_url();
    let home_text = home.display().to_string();
    let lookup = |name: &str| match name {
        "HOME" => Some(home_text.clone().into()),
        "TENCENTCLOUD_METADATA_ENDPOINT" | "TENCENTCLOUD_STS_ENDPOINT" => Some(closed.into()),
        _ => None,
    };
    let code = cos_ci_cli::run(
        ["cos-ci", "credentials", "show", "--output", "json"],
        lookup,
    );
    assert_eq!(code, 2);
}

/// A long listing (2,000 pages of 10) through credentials that live 2 s:
/// they are refreshed
/// (and a call they expire during is refreshed and retried) with nothing
/// lost or listed twice.
#[test]
fn twenty_thousand_executions_through_credentials_that_expire_every_two_seconds() {
    const MANY: usize = 20_000;
    let short_lived = BackgroundEmulator::start(EmulatorConfig {
        dataset: Dataset::generate(MANY, 9),
        metadata_role: Some(ROLE.to_owned()),
        credential_lifetime: Duration::from_secs(2),
        // 2,000 pages at 3 ms each: the listing outlives at least three
        // sets of credentials however fast the machine is.
        latency: cos_ci_emulator::Latency {
            base: Duration::from_millis(3),
            jitter: Duration::ZERO,
        },
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator");
    let home = home("many");
    let url = short_lived.base_url();
    let started = Instant::now();
    let run = cos_ci(
        &[
            "-v",
            "workflow-executions",
            "list",
            "--bucket",
            DEFAULT_BUCKET,
            "--region",
            DEFAULT_REGION,
            "--endpoint",
            &url,
            "--all",
            "--size",
            "10",
            "--output",
            "ndjson",
        ],
        &home,
        &[("TENCENTCLOUD_METADATA_ENDPOINT", url.as_str())],
    );
    let elapsed = started.elapsed();
    assert_listed_all(&run, MANY);
    // Each fetch is one logged answer (the role name once, then one per
    // set of credentials); the listing outlived several sets.
    let fetches = run.stderr.matches("credentials answer").count();
    let sets = fetches.saturating_sub(1);
    let lifetimes = (elapsed.as_secs_f64() / 2.0).floor();
    assert!(
        sets >= 3 && sets as f64 >= lifetimes,
        "{fetches} fetches in {elapsed:?}"
    );
    assert!(!run.stderr.contains("emulator-token-"));
    eprintln!("{MANY} executions in {elapsed:?} with {fetches} credential fetches");
}
