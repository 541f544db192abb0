//! Moving one request and its response over hyper, with timeouts and a cap.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use bytes::BytesMut;
use cos_ci_client::{TransportError, TransportErrorKind};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as PoolClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Timeouts, limits and pool settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// Time allowed to open a TCP connection (TLS handshake included in the
    /// request timeout).
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending to the last body byte.
    /// Never longer than what remains of the operation's overall deadline
    /// (`RetryPolicy::total_deadline`); a timeout error says which of the
    /// two ran out.
    pub request_timeout: Duration,
    /// A response body larger than this is refused (never buffered past
    /// the cap): the call ends with `Error::ResponseTooLarge`, which keeps
    /// the status, the request id and the `<Error>` fields at the start of
    /// the body.
    pub max_response_bytes: usize,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Certificate authorities trusted in addition to the webpki (Mozilla)
    /// roots, DER-encoded: for a private domain or a TLS proxy in front of
    /// the emulator.
    pub extra_root_certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            // A full page of 100 executions is about 26 KB; 16 MiB leaves
            // room for any future action while bounding memory.
            max_response_bytes: 16 * 1024 * 1024,
            pool_idle_timeout: Duration::from_secs(50),
            pool_max_idle_per_host: 8,
            extra_root_certificates: Vec::new(),
        }
    }
}

impl TransportOptions {
    /// For the metadata service and STS: a 2 s connect timeout, each
    /// request capped by the fetch's own timeout, answers of at most
    /// 64 KiB, one idle connection kept briefly; `options`' extra roots.
    pub(crate) fn for_credentials(options: &TransportOptions) -> TransportOptions {
        TransportOptions {
            connect_timeout: Duration::from_secs(2).min(options.connect_timeout),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 64 * 1024,
            pool_idle_timeout: Duration::from_secs(5),
            pool_max_idle_per_host: 1,
            extra_root_certificates: options.extra_root_certificates.clone(),
        }
    }
}

/// The start of an oversized body kept for the error: enough for CI's
/// `<Error>` children before a huge `<Message>`, and for an excerpt.
const OVERSIZED_PREFIX_BYTES: usize = 64 * 1024;

/// Why [`Transport::send`] returned no whole response.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No (complete) response.
    Transport(TransportError),
    /// A response whose body was over the cap: its head and the start of
    /// the body (at most [`OVERSIZED_PREFIX_BYTES`]).
    TooLarge {
        response: http::Response<Bytes>,
        cap: usize,
    },
}

impl From<TransportError> for SendError {
    fn from(error: TransportError) -> Self {
        SendError::Transport(error)
    }
}

#[derive(Clone)]
pub(crate) struct Transport {
    pool: PoolClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    options: TransportOptions,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(options: TransportOptions) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.connect_timeout));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(&options.extra_root_certificates))
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = PoolClient::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .build(connector);
        Self { pool, options }
    }

    /// Send `request`; give up at the request timeout or `deadline`,
    /// whichever is sooner (the error says which).
    pub(crate) async fn send(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, SendError> {
        let mut timeout = self.options.request_timeout;
        let mut limit = "the request timeout";
        if let Some(deadline) = deadline {
            let remaining = deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_millis(1));
            if remaining < timeout {
                timeout = remaining;
                limit = "what was left of the call's overall deadline";
            }
        }
        match tokio::time::timeout(timeout, self.send_inner(request)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transport(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete response within {timeout:?} ({limit})"),
            ))),
        }
    }

    /// [`Transport::send`] for credential requests: an oversized answer is
    /// just [`TransportErrorKind::ResponseTooLarge`] (its start is never
    /// kept: it would hold credentials).
    pub(crate) async fn send_whole(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        match self.send(request, deadline).await {
            Ok(response) => Ok(response),
            Err(SendError::Transport(error)) => Err(error),
            Err(SendError::TooLarge { cap, .. }) => Err(TransportError::new(
                TransportErrorKind::ResponseTooLarge,
                format!("response body larger than the {cap}-byte cap"),
            )),
        }
    }

    async fn send_inner(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, SendError> {
        let response = self
            .pool
            .request(request.map(Full::new))
            .await
            .map_err(classify_client_error)?;
        let (parts, body) = response.into_parts();
        let cap = self.options.max_response_bytes;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Read at most the cap (or, when the declared length is already
        // over it, just the prefix the error needs), never the whole body.
        let budget = if declared.is_some_and(|len| len > cap as u64) {
            OVERSIZED_PREFIX_BYTES.min(cap)
        } else {
            cap
        };
        let (body, complete) = read_at_most(body, budget)
            .await
            .map_err(|error| classify_body_error(&error))?;
        if complete && budget == cap {
            return Ok(http::Response::from_parts(parts, body));
        }
        let prefix = body.slice(..body.len().min(OVERSIZED_PREFIX_BYTES));
        Err(SendError::TooLarge {
            response: http::Response::from_parts(parts, prefix),
            cap,
        })
    }
}

/// Read `body` up to `budget` bytes: the bytes, and whether the body ended
/// within the budget. Stops as soon as the budget is passed, so an
/// oversized body is never buffered past it.
async fn read_at_most(
    mut body: hyper::body::Incoming,
    budget: usize,
) -> Result<(Bytes, bool), hyper::Error> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers carry nothing we use
        };
        if buffer.len() + data.len() > budget {
            let room = budget - buffer.len();
            buffer.extend_from_slice(data.get(..room).unwrap_or_default());
            return Ok((buffer.freeze(), false));
        }
        buffer.extend_from_slice(&data);
    }
    Ok((buffer.freeze(), true))
}

/// rustls with the `ring` provider (no aws-lc, no cmake), the webpki roots
/// plus `extra_roots`. A certificate that does not parse is skipped rather
/// than failing every request: the handshake then reports the untrusted
/// server clearly.
fn tls_config(extra_roots: &[rustls::pki_types::CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
        // The ring provider supports the default versions, so this arm is
        // unreachable in practice; fall back to rustls's own defaults.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    }
}

fn classify_client_error(error: hyper_util::client::legacy::Error) -> TransportError {
    if error.is_connect() {
        return TransportError::new(TransportErrorKind::Connect, error_chain(&error));
    }
    let kind =
        match std::error::Error::source(&error).and_then(|e| e.downcast_ref::<hyper::Error>()) {
            Some(e) if e.is_incomplete_message() || e.is_closed() || e.is_canceled() => {
                TransportErrorKind::ConnectionClosed
            }
            Some(e) if e.is_timeout() => TransportErrorKind::Timeout,
            _ => TransportErrorKind::Io,
        };
    TransportError::new(kind, error_chain(&error))
}

fn classify_body_error(error: &(dyn std::error::Error + 'static)) -> TransportError {
    let kind = match error.downcast_ref::<hyper::Error>() {
        Some(e) if e.is_incomplete_message() || e.is_closed() => {
            TransportErrorKind::ConnectionClosed
        }
        Some(e) if e.is_timeout() => TransportErrorKind::Timeout,
        // A body cut short surfaces as an IO error inside hyper's body error.
        _ => TransportErrorKind::ConnectionClosed,
    };
    TransportError::new(kind, error_chain(error))
}

/// The error and its causes on one line. Transport errors never carry
/// request headers, so no secret can appear here.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
