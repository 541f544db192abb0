//! The hyper adapter fetching temporary credentials: a fake metadata
//! service on 127.0.0.1 (a few lines of HTTP/1.1), the emulator as CI, a
//! closed port and a metadata service that never answers. Nothing here
//! reaches a real metadata or STS host.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cos_ci_client::credentials::{CredentialPolicy, CredentialProvider};
use cos_ci_client::{CredentialError, Endpoint, PagingOptions};
use cos_ci_emulator::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig};
use cos_ci_hyper::{HyperClient, SourceKind, TransportOptions};
use cos_ci_proto::ListWorkflowExecutions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;
use common::{TraceLog, config_for, run_ids, start};

const TOKEN: &str = "role-session-token-never-logged";

/// A metadata service that lists `role` and answers the emulator's
/// credentials with `TOKEN`, counting requests; `hang` makes it accept and
/// never answer.
async fn fake_metadata(role: &'static str, hang: bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    if hang {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    head.clear();
                    let path = text.split(' ').nth(1).unwrap_or("").to_owned();
                    let body = if path == "/latest/meta-data/cam/security-credentials/" {
                        role.to_owned()
                    } else if path == format!("/latest/meta-data/cam/security-credentials/{role}") {
                        let expires = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .unwrap()
                            .as_secs()
                            + 3600;
                        format!(
                            r#"{{"TmpSecretId":"{DEFAULT_SECRET_ID}","TmpSecretKey":"{DEFAULT_SECRET_KEY}","ExpiredTime":{expires},"Token":"{TOKEN}","Code":"Success"}}"#
                        )
                    } else {
                        let _ = stream
                            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        continue;
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

#[tokio::test(flavor = "current_thread")]
async fn an_instance_role_signs_every_page_and_nothing_secret_is_logged() {
    let (metadata, count) = fake_metadata("emulator-role", false).await;
    let dataset = Dataset::generate(250, 3);
    let emu = start(EmulatorConfig {
        dataset: dataset.clone(),
        session_token: Some(TOKEN.into()),
        ..EmulatorConfig::default()
    })
    .await;
    let (log, _guard) = TraceLog::capture();

    let provider = CredentialProvider::cvm_role(Endpoint::parse(&metadata).unwrap(), None);
    let client = HyperClient::new(config_for(&emu, provider));
    let listed = run_ids(client.items(ListWorkflowExecutions::default(), PagingOptions::all()));
    assert_eq!(listed.await.unwrap().len(), dataset.len());
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "fetched once for every page"
    );
    let provided = client.credentials().await.unwrap();
    assert_eq!(provided.source().kind(), SourceKind::CvmRole);
    assert!(provided.expires_at().is_some());

    let log = log.text();
    assert!(log.contains("ci.credentials"), "{log}");
    for secret in [TOKEN, DEFAULT_SECRET_KEY, "emulator-role"] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn off_a_cvm_the_chain_ends_quickly_with_every_place_named() {
    // A port nobody listens on, then a service that never answers.
    let closed = cos_ci_testkit::closed_port_url().to_owned();
    let (hanging, _) = fake_metadata("r", true).await;
    for (metadata, limit) in [
        (closed, Duration::from_secs(1)),
        (hanging, Duration::from_millis(1500)),
    ] {
        let env_pairs = [
            ("HOME".to_owned(), "/nonexistent-home-for-test".to_owned()),
            (
                "TENCENTCLOUD_METADATA_ENDPOINT".to_owned(),
                metadata.clone(),
            ),
            (
                "TENCENTCLOUD_STS_ENDPOINT".to_owned(),
                "http://127.0.0.1:9".to_owned(),
            ),
        ];
        let lookup = |name: &str| {
            env_pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into())
        };
        let chain = cos_ci_hyper::CredentialChain {
            policy: CredentialPolicy {
                metadata_timeout: Duration::from_millis(500),
                ..CredentialPolicy::default()
            },
            ..Default::default()
        };
        let provider = chain
            .resolve(&lookup, Arc::new(cos_ci_hyper::SystemFiles))
            .unwrap();
        let started = Instant::now();
        let error = cos_ci_hyper::fetch_credentials(&provider, &TransportOptions::default())
            .await
            .unwrap_err();
        assert!(started.elapsed() < limit, "{:?}", started.elapsed());
        let CredentialError::NotFound { looked_at } = &error else {
            panic!("{error}")
        };
        assert_eq!(looked_at.len(), 6, "{error}");
        assert!(
            error
                .to_string()
                .contains(&format!("CVM instance role (metadata at {metadata})")),
            "{error}"
        );
    }
}
