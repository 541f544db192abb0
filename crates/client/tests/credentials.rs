//! The provider chain and credential fetches, on an environment and files
//! in memory and virtual time: no sockets, no real metadata or STS host.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::creds::*;
use common::t0;
use cos_ci_client::credentials::{
    CredentialChain, CredentialError, CredentialFetch, CredentialProvider, CredentialSource,
    FetchStep, LookedAt, SourceKind,
};
use cos_ci_client::{ProvidedCredentials, SecretString, TransportError, TransportErrorKind};

const METADATA: &str = "http://127.0.0.1:9";
const STS: &str = "http://127.0.0.1:10";

/// The variables every test sets: a home, and both endpoints on loopback
/// so that nothing here could ever reach a real service.
fn base_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("HOME", HOME),
        ("TENCENTCLOUD_METADATA_ENDPOINT", METADATA),
        ("TENCENTCLOUD_STS_ENDPOINT", STS),
    ]
}

fn resolve_with(
    chain: &CredentialChain,
    extra_env: &[(&'static str, &'static str)],
    files: &[(&str, &str)],
) -> Result<CredentialProvider, CredentialError> {
    let mut pairs = base_env();
    pairs.extend_from_slice(extra_env);
    chain.resolve(&env(&pairs), MemoryFiles::new(files))
}

fn resolve(
    extra_env: &[(&'static str, &'static str)],
    files: &[(&str, &str)],
) -> Result<CredentialProvider, CredentialError> {
    resolve_with(&CredentialChain::default(), extra_env, files)
}

fn fixed(provider: &CredentialProvider) -> &ProvidedCredentials {
    provider.fixed_credentials().expect("fixed credentials")
}

/// `provider` is of `kind` and says where it comes from as `shown`.
fn assert_source(provider: &CredentialProvider, kind: SourceKind, shown: &str) {
    assert_eq!(provider.kind(), kind);
    assert_eq!(provider.source().to_string(), shown);
}

const TCCLI_DEFAULT: &str = "/home/u/.tccli/default.credential";
const INI: &str = "/home/u/.tencentcloud/credentials";

#[test]
fn flags_win_part_by_part_over_the_environment() {
    let chain = CredentialChain {
        secret_key: Some(SecretString::from("flag-key")),
        ..CredentialChain::default()
    };
    let provider = resolve_with(
        &chain,
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "env-key"),
        ],
        &[(
            TCCLI_DEFAULT,
            r#"{"secretId":"AKIDfile","secretKey":"file-key"}"#,
        )],
    )
    .unwrap();
    let provided = fixed(&provider);
    assert_eq!(provided.credentials().secret_id(), "AKIDenv");
    assert_eq!(provided.credentials().expose_secret_key(), "flag-key");
    assert_eq!(
        provided.source(),
        &CredentialSource::Environment {
            names: vec!["TENCENTCLOUD_SECRET_ID", "--secret-key"]
        }
    );

    let all_flags = CredentialChain {
        secret_id: Some("AKIDflag".into()),
        secret_key: Some(SecretString::from("flag-key")),
        session_token: Some(SecretString::from("flag-token")),
        ..CredentialChain::default()
    };
    let provider = resolve_with(&all_flags, &[("TENCENTCLOUD_SECRET_ID", "AKIDenv")], &[]).unwrap();
    assert_source(
        &provider,
        SourceKind::Flags,
        "flags (--secret-id, --secret-key, --session-token)",
    );
}

#[test]
fn environment_names_and_token_order() {
    let provider = resolve(
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "env-key"),
            ("TENCENTCLOUD_SECURITY_TOKEN", "security"),
            ("TENCENTCLOUD_SESSION_TOKEN", "session"),
        ],
        &[],
    )
    .unwrap();
    let provided = fixed(&provider);
    assert_eq!(
        provided.credentials().expose_session_token(),
        Some("session")
    );
    assert_eq!(
        provided.source().to_string(),
        "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SESSION_TOKEN)"
    );

    let provider = resolve(
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "env-key"),
            ("TENCENTCLOUD_TOKEN", "tccli-token"),
            ("TENCENTCLOUD_SESSION_TOKEN", "session"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(
        fixed(&provider).credentials().expose_session_token(),
        Some("tccli-token")
    );

    let provider = resolve(
        &[
            ("TENCENTCLOUD_SECRET_ID", ""),
            ("COS_SECRET_ID", "AKIDcos"),
            ("COS_SECRET_KEY", "cos-key"),
            ("TENCENTCLOUD_SECURITY_TOKEN", "security"),
        ],
        &[],
    )
    .unwrap();
    let provided = fixed(&provider);
    assert_eq!(provided.credentials().secret_id(), "AKIDcos");
    assert_eq!(
        provided.credentials().expose_session_token(),
        Some("security")
    );
    assert_eq!(provider.kind(), SourceKind::Environment);
}

/// Extra variables, files, the place the error names, a word of its reason.
type Case = (
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

#[test]
fn broken_sources_are_errors_that_name_the_place_not_the_value() {
    let cases: Vec<Case> = vec![
        (
            vec![
                ("TENCENTCLOUD_SECRET_ID", "AKID"),
                ("TENCENTCLOUD_SECRET_KEY", "sec\r\nret"),
            ],
            vec![],
            "TENCENTCLOUD_SECRET_KEY",
            "carriage return",
        ),
        (
            vec![],
            vec![(
                TCCLI_DEFAULT,
                "{\"secretId\": \"AKID\", \"secretKey\": \"s3cr3t\"",
            )],
            TCCLI_DEFAULT,
            "not valid JSON",
        ),
        (
            vec![],
            vec![(
                TCCLI_DEFAULT,
                r#"{"secretId": "AKID", "secretKey": "s3cr3t", "role-arn": "qcs::cam::uin/1:roleName/r"}"#,
            )],
            TCCLI_DEFAULT,
            "role-arn",
        ),
        (
            vec![],
            vec![(
                TCCLI_DEFAULT,
                r#"{"secretId": "AKID", "secretKey": "None"}"#,
            )],
            TCCLI_DEFAULT,
            "no `secretKey`",
        ),
        (
            vec![],
            vec![(TCCLI_DEFAULT, r#"{"secretKey": "s3cr3t"}"#)],
            TCCLI_DEFAULT,
            "has `secretKey` but no `secretId`",
        ),
        (
            vec![],
            vec![(INI, "[default]\nsecret_id = AKID\n")],
            INI,
            "no `secret_key`",
        ),
        (
            vec![],
            vec![(INI, "[default]\nsecret_key = s3cr3t\n")],
            INI,
            "[default] has `secret_key` but no `secret_id`",
        ),
        (
            vec![("TENCENTCLOUD_CREDENTIALS_FILE", "/etc/missing")],
            vec![],
            "/etc/missing",
            "TENCENTCLOUD_CREDENTIALS_FILE",
        ),
        (
            vec![("TKE_REGION", "ap-guangzhou"), ("TKE_ROLE_ARN", "arn")],
            vec![],
            "TKE OIDC",
            "TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE are not set",
        ),
        (
            vec![("TCCLI_PROFILE", "../../etc/passwd")],
            vec![],
            "TCCLI_PROFILE",
            "profile name",
        ),
        (
            vec![("TENCENTCLOUD_METADATA_ENDPOINT", "metadata.local")],
            vec![],
            "TENCENTCLOUD_METADATA_ENDPOINT",
            "scheme",
        ),
    ];
    for (extra_env, files, place, reason) in cases {
        let mut pairs = vec![("HOME", HOME)];
        pairs.extend(extra_env.iter().copied());
        if !pairs
            .iter()
            .any(|(k, _)| *k == "TENCENTCLOUD_METADATA_ENDPOINT")
        {
            pairs.push(("TENCENTCLOUD_METADATA_ENDPOINT", METADATA));
        }
        let error = CredentialChain::default()
            .resolve(&env(&pairs), MemoryFiles::new(&files))
            .unwrap_err();
        let text = error.to_string();
        let CredentialError::Invalid { place: got, .. } = &error else {
            panic!("{text}");
        };
        assert_eq!(got, place, "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("sec\r"),
            "{text}"
        );
    }
}

#[test]
fn half_a_pair_is_an_error_saying_what_is_missing() {
    let error = resolve(&[("TENCENTCLOUD_SECRET_ID", "AKIDenv")], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "missing credentials: no secret key (the secret id comes from TENCENTCLOUD_SECRET_ID); \
         pass --secret-key or set TENCENTCLOUD_SECRET_KEY (or COS_SECRET_KEY)"
    );
    let chain = CredentialChain {
        secret_key: Some(SecretString::from("k")),
        ..CredentialChain::default()
    };
    let error = resolve_with(&chain, &[], &[]).unwrap_err();
    assert!(
        matches!(
            error,
            CredentialError::Incomplete {
                found: "--secret-key",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_variable_that_is_not_utf8_says_so() {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let lookup = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some(std::ffi::OsString::from_vec(vec![0x41, 0xff])),
            "HOME" => Some(HOME.into()),
            _ => None,
        };
        let error = CredentialChain::default()
            .resolve(&lookup, MemoryFiles::new(&[]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "TENCENTCLOUD_SECRET_ID: is set but not valid UTF-8"
        );
    }
}

#[test]
fn tccli_profiles() {
    let files = [
        (
            TCCLI_DEFAULT,
            r#"{"secretId": "AKIDdefault", "secretKey": "k1", "token": "None"}"#,
        ),
        (
            "/home/u/.tccli/work.credential",
            r#"{"secretId": "AKIDwork", "secretKey": "k2", "token": "t2", "type": "sso", "expiresAt": 1700003600}"#,
        ),
        (
            "/home/u/.tccli/work.configure",
            r#"{"_sys_param": {"region": "ap-shanghai"}}"#,
        ),
        (
            "/home/u/.tccli/vm.credential",
            r#"{"secretId": "None", "secretKey": "None", "type": "cvm-role"}"#,
        ),
        (
            "/home/u/.tccli/empty.credential",
            r#"{"secretId": "None", "secretKey": "None"}"#,
        ),
        (INI, "[default]\nsecret_id = AKIDini\nsecret_key = k3\n"),
    ];
    let provider = resolve(&[], &files).unwrap();
    let provided = fixed(&provider);
    assert_eq!(provided.credentials().secret_id(), "AKIDdefault");
    assert_eq!(provided.credentials().expose_session_token(), None);
    assert_eq!(
        provided.source().to_string(),
        "tccli profile `default` (/home/u/.tccli/default.credential)"
    );

    // TCCLI_PROFILE picks the profile; an SSO login carries its expiry.
    let provider = resolve(&[("TCCLI_PROFILE", "work")], &files).unwrap();
    let provided = fixed(&provider);
    assert_eq!(provided.credentials().secret_id(), "AKIDwork");
    assert_eq!(
        provided.expires_at(),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_003_600))
    );

    // --profile skips the environment, as tccli does.
    let chain = CredentialChain {
        profile: Some("work".into()),
        ..CredentialChain::default()
    };
    let provider = resolve_with(
        &chain,
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
        ],
        &files,
    )
    .unwrap();
    assert_eq!(fixed(&provider).credentials().secret_id(), "AKIDwork");
    let region = chain
        .profile_region(&env(&base_env()), &*MemoryFiles::new(&files))
        .unwrap()
        .unwrap();
    assert_eq!(region.region, "ap-shanghai");
    assert!(
        CredentialChain::default()
            .profile_region(&env(&base_env()), &*MemoryFiles::new(&files))
            .unwrap()
            .is_none()
    );

    // "type": "cvm-role" means the instance role.
    let provider = resolve(&[("TCCLI_PROFILE", "vm")], &files).unwrap();
    assert_eq!(provider.kind(), SourceKind::CvmRole);

    // A profile without keys is skipped; the INI file comes next.
    let provider = resolve(&[("TCCLI_PROFILE", "empty")], &files).unwrap();
    assert_eq!(fixed(&provider).credentials().secret_id(), "AKIDini");

    // An explicit --profile that does not exist is an error.
    let chain = CredentialChain {
        profile: Some("nope".into()),
        ..CredentialChain::default()
    };
    let error = resolve_with(&chain, &[], &files).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("/home/u/.tccli/nope.credential: no such file"),
        "{error}"
    );
}

#[test]
fn the_sdks_credentials_file() {
    let provider = resolve(
        &[],
        &[(
            INI,
            "[default]\r\nsecret_id = AKIDini\r\nsecret_key = k3\r\ntoken = t3\r\n",
        )],
    )
    .unwrap();
    let provided = fixed(&provider);
    assert_eq!(provided.credentials().secret_id(), "AKIDini");
    assert_eq!(provided.credentials().expose_session_token(), Some("t3"));
    assert_eq!(provider.kind(), SourceKind::CredentialsFile);

    let provider = resolve(
        &[("TENCENTCLOUD_CREDENTIALS_FILE", "/etc/tc/creds")],
        &[
            (
                "/etc/tc/creds",
                "[default]\nsecret_id=AKIDetc\nsecret_key=k\n",
            ),
            (INI, "junk"),
        ],
    )
    .unwrap();
    assert_eq!(fixed(&provider).credentials().secret_id(), "AKIDetc");
}

#[test]
fn tke_oidc_when_all_four_variables_are_set() {
    let provider = resolve(
        &[
            ("TKE_REGION", "ap-guangzhou"),
            ("TKE_PROVIDER_ID", "provider-1"),
            ("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("TKE_ROLE_ARN", "qcs::cam::uin/100:roleName/pod-role"),
        ],
        &[(INI, "[other]\n")],
    )
    .unwrap();
    assert_source(
        &provider,
        SourceKind::TkeOidc,
        "TKE OIDC, role qcs::cam::uin/100:roleName/pod-role (STS at http://127.0.0.1:10)",
    );
}

#[test]
fn nothing_anywhere_names_every_place_looked_at() {
    let provider = resolve(&[], &[(INI, "[other]\nsecret_id = x\n")]).unwrap();
    assert_eq!(provider.kind(), SourceKind::CvmRole);
    let mut fetch = provider.fetch(t0());
    let FetchStep::Send(request) = fetch.poll(t0()) else {
        panic!("expected a metadata request");
    };
    assert_eq!(
        request.request().uri(),
        "http://127.0.0.1:9/latest/meta-data/cam/security-credentials/"
    );
    assert_eq!(request.timeout(), Duration::from_secs(2));
    fetch.on_transport_error(
        TransportError::new(TransportErrorKind::Connect, "connection refused"),
        t0(),
    );
    let FetchStep::Done(Err(error)) = fetch.poll(t0()) else {
        panic!("expected the end");
    };
    let CredentialError::NotFound { looked_at } = &error else {
        panic!("{error}");
    };
    let places: Vec<&str> = looked_at.iter().map(|l| l.place.as_str()).collect();
    assert_eq!(
        places,
        [
            "flags (--secret-id, --secret-key)",
            "environment (TENCENTCLOUD_SECRET_ID or COS_SECRET_ID, TENCENTCLOUD_SECRET_KEY or COS_SECRET_KEY)",
            "tccli profile `default` (/home/u/.tccli/default.credential)",
            "credentials file (/home/u/.tencentcloud/credentials)",
            "TKE OIDC (TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN)",
            "CVM instance role (metadata at http://127.0.0.1:9)",
        ]
    );
    assert_eq!(
        looked_at[3],
        LookedAt {
            place: format!("credentials file ({INI})"),
            found: "no [default] section".into()
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("no credentials found; looked at: flags")
    );

    // A 404 for the role list (a CVM without a role) says the same.
    let provider = resolve(&[], &[]).unwrap();
    let mut fetch = provider.fetch(t0());
    assert!(matches!(fetch.poll(t0()), FetchStep::Send(_)));
    fetch.on_response(text(404, "not found"), t0());
    let FetchStep::Done(Err(CredentialError::NotFound { looked_at })) = fetch.poll(t0()) else {
        panic!("expected NotFound");
    };
    assert!(looked_at.last().unwrap().found.contains("no CAM role"));
}

#[test]
fn limiting_the_chain_to_one_source() {
    let only = |kind| CredentialChain {
        only: Some(kind),
        ..CredentialChain::default()
    };
    let files = [(INI, "[default]\nsecret_id = AKIDini\nsecret_key = k\n")];
    let error = resolve_with(&only(SourceKind::Environment), &[], &files).unwrap_err();
    assert!(
        matches!(error, CredentialError::NotFound { ref looked_at } if looked_at.len() == 1),
        "{error}"
    );
    let provider = resolve_with(
        &only(SourceKind::CredentialsFile),
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
        ],
        &files,
    )
    .unwrap();
    assert_eq!(provider.kind(), SourceKind::CredentialsFile);

    // Asked for explicitly, the instance role reports its own failures.
    let provider = resolve_with(&only(SourceKind::CvmRole), &[], &files).unwrap();
    let mut fetch = provider.fetch(t0());
    let _ = fetch.poll(t0());
    fetch.on_transport_error(
        TransportError::new(TransportErrorKind::Connect, "refused"),
        t0(),
    );
    let mut now = t0();
    let error = loop {
        match fetch.poll(now) {
            FetchStep::Send(_) => fetch.on_transport_error(
                TransportError::new(TransportErrorKind::Connect, "refused"),
                now,
            ),
            FetchStep::Wait(delay) => now += delay,
            FetchStep::Done(result) => break result.unwrap_err(),
        }
    };
    assert!(error.is_unreachable(), "{error}");
    assert_eq!(
        now,
        t0() + Duration::from_millis(300),
        "retried after 100 ms and 200 ms"
    );

    let conflicting = CredentialChain {
        secret_id: Some("AKID".into()),
        only: Some(SourceKind::CvmRole),
        ..CredentialChain::default()
    };
    assert!(resolve_with(&conflicting, &[], &[]).is_err());
    assert_eq!(SourceKind::parse("TKE-OIDC"), Some(SourceKind::TkeOidc));
    assert_eq!(SourceKind::parse("given"), None);
}

fn drive(
    fetch: &mut CredentialFetch,
    now: SystemTime,
    mut answer: impl FnMut(&http::Request<bytes::Bytes>) -> http::Response<bytes::Bytes>,
) -> Result<ProvidedCredentials, CredentialError> {
    let mut now = now;
    loop {
        match fetch.poll(now) {
            FetchStep::Send(request) => {
                let response = answer(request.request());
                fetch.on_response(response, now);
            }
            FetchStep::Wait(delay) => now += delay,
            FetchStep::Done(result) => return result,
        }
    }
}

fn cvm_provider() -> CredentialProvider {
    CredentialProvider::cvm_role(cos_ci_client::Endpoint::parse(METADATA).unwrap(), None)
}

#[test]
fn instance_role_fetch_and_refresh() {
    let provider = cvm_provider();
    let expires = t0() + Duration::from_secs(3600);
    let mut seen = Vec::new();
    let provided = drive(&mut provider.fetch(t0()), t0(), |request| {
        seen.push(request.uri().to_string());
        assert_eq!(request.method(), http::Method::GET);
        assert_eq!(request.headers()["host"], "127.0.0.1:9");
        if request.uri().path().ends_with('/') {
            text(200, "cos-role\n")
        } else {
            issued(
                Issuer::Metadata,
                "AKIDtmp",
                "tmp-key",
                "tmp-token",
                1_700_003_600,
            )
        }
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            "http://127.0.0.1:9/latest/meta-data/cam/security-credentials/",
            "http://127.0.0.1:9/latest/meta-data/cam/security-credentials/cos-role"
        ]
    );
    assert_eq!(provided.credentials().secret_id(), "AKIDtmp");
    assert_eq!(
        provided.credentials().expose_session_token(),
        Some("tmp-token")
    );
    assert_eq!(provided.expires_at(), Some(expires));
    assert_eq!(provided.fetched_at(), Some(t0()));
    assert_eq!(
        provided.source().to_string(),
        "CVM instance role `cos-role` (metadata at http://127.0.0.1:9)"
    );
    // The margin: 300 s before expiry; a quarter of a short lifetime.
    let policy = provider.policy();
    assert_eq!(
        provided.refresh_due_at(&policy),
        Some(expires - Duration::from_secs(300))
    );
    let short = ProvidedCredentials::new(provided.credentials().clone(), provided.source().clone())
        .obtained_at(t0())
        .expiring_at(t0() + Duration::from_secs(8));
    assert_eq!(
        short.refresh_due_at(&policy),
        Some(t0() + Duration::from_secs(6))
    );

    // The role name is remembered: a refresh is one request.
    let mut requests = 0;
    drive(&mut provider.fetch(t0()), t0(), |request| {
        requests += 1;
        assert!(request.uri().path().ends_with("/cos-role"));
        issued(
            Issuer::Metadata,
            "AKIDtmp2",
            "tmp-key2",
            "tmp-token2",
            1_700_007_200,
        )
    })
    .unwrap();
    assert_eq!(requests, 1);
}

#[test]
fn instance_role_failures() {
    let cases: Vec<(http::Response<bytes::Bytes>, &str)> = vec![
        (
            text(200, r#"{"Code":"Failure","TmpSecretId":"a"}"#),
            "Failure: the credentials answer does not say Code: Success",
        ),
        (text(200, "<html>"), "not a JSON object"),
        (
            issued(Issuer::Metadata, "AKID", "key\\u0007", "tok", 1_700_003_600),
            "TmpSecretKey contains a control character",
        ),
        (
            issued(Issuer::Metadata, "AKID", "key", "tok", 1_600_000_000),
            "is this machine's clock right?",
        ),
        (text(404, ""), "no role `r1`"),
    ];
    for (answer, expected) in cases {
        let provider = CredentialProvider::cvm_role(
            cos_ci_client::Endpoint::parse(METADATA).unwrap(),
            Some("r1".into()),
        );
        let mut answer = Some(answer);
        let error = drive(&mut provider.fetch(t0()), t0(), |_| answer.take().unwrap()).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(expected), "{expected} not in {text}");
        assert!(!text.contains("key\u{7}"));
    }

    // 5xx is retried.
    let provider = cvm_provider();
    let mut answers = vec![
        text(200, "r1"),
        text(503, "busy"),
        issued(Issuer::Metadata, "AKID", "k", "t", 1_700_003_600),
    ]
    .into_iter();
    assert!(drive(&mut provider.fetch(t0()), t0(), |_| answers.next().unwrap()).is_ok());
}

fn tke_provider(files: &Arc<MemoryFiles>) -> CredentialProvider {
    let files: Arc<dyn cos_ci_client::credentials::ReadFiles> = files.clone();
    CredentialChain::default()
        .resolve(
            &env(&[
                ("TKE_REGION", "ap-chengdu"),
                ("TKE_PROVIDER_ID", "provider-1"),
                ("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token"),
                ("TKE_ROLE_ARN", "qcs::cam::uin/100:roleName/pod-role"),
                ("TENCENTCLOUD_STS_ENDPOINT", STS),
            ]),
            files,
        )
        .unwrap()
}

#[test]
fn tke_oidc_assumes_the_role_with_the_current_token() {
    let files = MemoryFiles::new(&[("/var/run/secrets/token", "web-identity-token-1\n")]);
    let provider = tke_provider(&files);
    let mut bodies = Vec::new();
    let provided = drive(&mut provider.fetch(t0()), t0(), |request| {
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "http://127.0.0.1:10/");
        let h = request.headers();
        assert_eq!(h["authorization"], "SKIP");
        assert_eq!(h["x-tc-action"], "AssumeRoleWithWebIdentity");
        assert_eq!(h["x-tc-version"], "2018-08-13");
        assert_eq!(h["x-tc-region"], "ap-chengdu");
        assert_eq!(h["x-tc-timestamp"], "1700000000");
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["host"], "127.0.0.1:10");
        assert!(!h.contains_key("x-tc-token"));
        bodies.push(serde_json::from_slice::<serde_json::Value>(request.body()).unwrap());
        issued(
            Issuer::Sts,
            "AKIDsts",
            "sts-key",
            "sts-token",
            1_700_007_200,
        )
    })
    .unwrap();
    assert_eq!(
        provided.credentials().expose_session_token(),
        Some("sts-token")
    );
    assert_eq!(provided.source().kind(), SourceKind::TkeOidc);
    let body = &bodies[0];
    assert_eq!(body["ProviderId"], "provider-1");
    assert_eq!(body["WebIdentityToken"], "web-identity-token-1");
    assert_eq!(body["RoleArn"], "qcs::cam::uin/100:roleName/pod-role");
    assert_eq!(body["DurationSeconds"], 7200);
    assert!(
        body["RoleSessionName"]
            .as_str()
            .unwrap()
            .starts_with("cos-ci-")
    );

    // The kubelet rotates the token: every refresh reads it again.
    files.set("/var/run/secrets/token", "web-identity-token-2");
    let mut fetch = provider.fetch(t0());
    let FetchStep::Send(request) = fetch.poll(t0()) else {
        panic!()
    };
    let debug = format!("{request:?}");
    assert!(!debug.contains("web-identity-token"), "{debug}");
    assert!(!debug.contains("/"), "no path in Debug: {debug}");
    let body: serde_json::Value = serde_json::from_slice(request.request().body()).unwrap();
    assert_eq!(body["WebIdentityToken"], "web-identity-token-2");

    // STS's refusal keeps its code, message and request id.
    fetch.on_response(
        text(
            200,
            r#"{"Response":{"Error":{"Code":"InvalidParameter.WebIdentityTokenError","Message":"token expired"},"RequestId":"r-9"}}"#,
        ),
        t0(),
    );
    let FetchStep::Done(Err(error)) = fetch.poll(t0()) else {
        panic!()
    };
    assert_eq!(
        error.to_string(),
        "tke-oidc credentials: http://127.0.0.1:10 answered InvalidParameter.WebIdentityTokenError: token expired"
    );
    let CredentialError::Refused { request_id, .. } = error else {
        panic!()
    };
    assert_eq!(request_id.as_deref(), Some("r-9"));

    // No token file: an error naming it.
    files.set("/var/run/secrets/token", "  \n");
    let error = drive(&mut provider.fetch(t0()), t0(), |_| unreachable!()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "TKE_WEB_IDENTITY_TOKEN_FILE (/var/run/secrets/token): is empty"
    );
}

#[test]
fn debug_output_never_shows_a_secret() {
    let files = MemoryFiles::new(&[("/var/run/secrets/token", "web-identity-token-1")]);
    let provider = tke_provider(&files);
    let provided = drive(&mut provider.fetch(t0()), t0(), |_| {
        issued(
            Issuer::Sts,
            "AKIDsts",
            "sts-secret-key",
            "sts-session-token",
            1_700_007_200,
        )
    })
    .unwrap();
    let chain = CredentialChain {
        secret_key: Some(SecretString::from("flag-secret-key")),
        ..CredentialChain::default()
    };
    let text = format!("{provided:?} {provider:?} {chain:?}");
    for secret in [
        "sts-secret-key",
        "sts-session-token",
        "web-identity-token",
        "flag-secret-key",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("AKIDsts"));
}
