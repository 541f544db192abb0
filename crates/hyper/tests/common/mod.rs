//! Shared by the tests that run the adapter against the emulator on
//! 127.0.0.1: a quiet emulator, configs signed with its keys, listings
//! collected as run ids, and what `tracing` records.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use cos_ci_emulator::{
    DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, Emulator,
    EmulatorConfig,
};
use cos_ci_hyper::{
    Config, CredentialProvider, Credentials, Error, HyperClient, Stream, StreamExt,
    WorkflowExecution,
};

/// The emulator with `config`, its request log off.
pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        log_requests: false,
        ..config
    })
    .await
    .unwrap()
}

/// The keys the emulator accepts by default.
pub fn default_credentials() -> Credentials {
    Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
}

/// The emulator's bucket and region at `endpoint`.
pub fn config_at(endpoint: &str, credentials: impl Into<CredentialProvider>) -> Config {
    Config::new(DEFAULT_BUCKET, DEFAULT_REGION, credentials)
        .unwrap()
        .with_endpoint(endpoint)
        .unwrap()
}

pub fn config_for(emulator: &Emulator, credentials: impl Into<CredentialProvider>) -> Config {
    config_at(&emulator.base_url(), credentials)
}

/// A client of `emulator` with its default keys and options.
pub fn client_for(emulator: &Emulator) -> HyperClient {
    HyperClient::new(config_for(emulator, default_credentials()))
}

/// The emulator serving `dataset`, and a client of it.
pub async fn serve(dataset: Dataset) -> (Emulator, HyperClient) {
    let emulator = start(EmulatorConfig {
        dataset,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client_for(&emulator);
    (emulator, client)
}

/// The run ids of a listing, in order, or its first error.
pub async fn run_ids(
    items: impl Stream<Item = Result<WorkflowExecution, Error>>,
) -> Result<Vec<String>, Error> {
    let mut items = std::pin::pin!(items);
    let mut ids = Vec::new();
    while let Some(item) = items.next().await {
        ids.push(item?.run_id);
    }
    Ok(ids)
}

/// What `tracing` records at trace level on this thread while the guard
/// [`TraceLog::capture`] returns lives.
#[derive(Clone, Default)]
pub struct TraceLog(Arc<Mutex<Vec<u8>>>);

impl TraceLog {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let log = Self::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (log, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for TraceLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
