//! The https path: rustls (ring) against a TLS endpoint on 127.0.0.1 — a
//! TLS-terminating proxy in front of the emulator, with a certificate made
//! for this test — trusted through `TransportOptions::extra_root_certificates`,
//! and refused without it.

use std::sync::Arc;

use cos_ci_client::{Config, Error, RetryPolicy, TransportErrorKind};
use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig};
use cos_ci_hyper::{HyperClient, TransportOptions};
use cos_ci_proto::{ListWorkflowExecutions, PageSize};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::{config_at, default_credentials, run_ids, start};

/// Accept TLS on 127.0.0.1 at the backend's port and forward the plaintext
/// to `backend` (on 127.0.0.2), so `Host: localhost:PORT` names the
/// emulator's own port and passes its host check. Returns the port and the
/// certificate clients must trust.
async fn tls_proxy(backend: std::net::SocketAddr) -> Option<(u16, CertificateDer<'static>)> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let port = backend.port();
    // The port is free on 127.0.0.2, not necessarily on 127.0.0.1.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.ok()?;
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Some((port, cert))
}

/// An emulator on 127.0.0.2 with the TLS proxy in front of it, retrying
/// until a port is free on both addresses.
async fn emulator_behind_tls(config: EmulatorConfig) -> (Emulator, u16, CertificateDer<'static>) {
    for _ in 0..50 {
        let emulator = start(EmulatorConfig {
            listen: BACKEND,
            ..config.clone()
        })
        .await;
        if let Some((port, cert)) = tls_proxy(emulator.local_addr()).await {
            return (emulator, port, cert);
        }
        emulator.shutdown().await;
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

/// The emulator listens on a second loopback address so the proxy can take
/// the same port on 127.0.0.1.
const BACKEND: std::net::SocketAddr = std::net::SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)),
    0,
);

fn config(port: u16) -> Config {
    config_at(&format!("https://localhost:{port}"), default_credentials()).with_retry_policy(
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
    )
}

#[tokio::test]
async fn lists_over_https_with_a_trusted_private_root() {
    let (emulator, port, cert) = emulator_behind_tls(EmulatorConfig {
        dataset: Dataset::generate(250, 4),
        ..Default::default()
    })
    .await;

    let options = TransportOptions {
        extra_root_certificates: vec![cert],
        ..Default::default()
    };
    let client = HyperClient::with_options(config(port), options);
    let request = ListWorkflowExecutions {
        size: PageSize::new(100).ok(),
        ..Default::default()
    };
    let all = client.list_all_workflow_executions(request, cos_ci_client::PagingOptions::all());
    match run_ids(all).await {
        Ok(ids) => assert_eq!(ids.len(), 250),
        Err(error) => panic!("listing over https failed: {error}"),
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_connect_error() {
    let (emulator, port, _cert) = emulator_behind_tls(EmulatorConfig::default()).await;
    let client = HyperClient::new(config(port));
    match client
        .list_workflow_executions(ListWorkflowExecutions::default())
        .await
    {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind, TransportErrorKind::Connect, "{e}");
            assert!(e.message.to_lowercase().contains("certificate"), "{e}");
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    emulator.shutdown().await;
}
