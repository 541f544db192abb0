//! The server over sockets: [`Limits`], the accept loop (connection cap,
//! head size and read timeout), simulated latency and fault injection in front of
//! [`RequestHandler`], graceful shutdown, and [`BackgroundEmulator`] for
//! synchronous callers. What happens to a request after fault injection is
//! the handler's (`handler.rs`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinHandle;

use crate::dataset::ExecutionRecord;
use crate::faults::{FaultConfig, FaultKind};
use crate::handler::{EmulatorConfig, RequestHandler, body_too_large};
use crate::latency::Latency;
use crate::response::{self, CiError, EmulatorBody};
use cos_ci_sign::unix_secs;

/// The methods [`Emulator`] and [`BackgroundEmulator`] share: both are
/// handles on one serving `Shared` (in `self.shared`).
macro_rules! serving_handle_methods {
    () => {
        /// `http://<listen address>`, e.g. `http://127.0.0.1:38211`.
        pub fn base_url(&self) -> String {
            format!("http://{}", self.shared.handler.local_addr)
        }

        /// The bound address.
        pub fn local_addr(&self) -> SocketAddr {
            self.shared.handler.local_addr
        }

        /// Add (or replace, by run id) an execution while serving.
        pub fn insert(&self, record: ExecutionRecord) {
            self.shared.handler.insert(record);
        }

        /// How many executions are stored.
        pub fn len(&self) -> usize {
            self.shared.handler.len()
        }

        /// No executions stored.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }
    };
}

/// The default [`Limits::max_body_bytes`]: 1 MiB, far above any document
/// the API takes (a workflow or job `<Request>` is a few KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Protective limits. The defaults suit tests and local use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send its complete request head within this time.
    pub header_read_timeout: Duration,
    /// Largest request head (request line plus headers), bytes; at least
    /// 8192 (hyper's minimum). Larger heads get hyper's 431.
    pub max_header_bytes: usize,
    /// Longest request target (path and query), bytes; longer gets 414.
    pub max_uri_bytes: usize,
    /// Largest request body, bytes; larger gets `413 InvalidContent`
    /// (CI's code for a body too large) without being read.
    pub max_body_bytes: usize,
    /// A request body must arrive within this time, once the head has.
    pub body_read_timeout: Duration,
    /// The delay of a [`FaultKind::SlowResponse`].
    pub slow_response_delay: Duration,
    /// How long [`Emulator::shutdown`] lets open requests finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_uri_bytes: 8 * 1024,
            max_body_bytes: MAX_BODY_BYTES,
            body_read_timeout: Duration::from_secs(10),
            slow_response_delay: Duration::from_millis(300),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// State shared by every connection: the handler, and what only a server
/// over sockets does (fault injection, hyper's limits).
struct Shared {
    handler: RequestHandler,
    faults: FaultConfig,
    latency: Latency,
    seed: u64,
    limits: Limits,
    requests: AtomicU64,
}

/// A running emulator on the current tokio runtime. Dropping it stops
/// accepting connections; [`Emulator::shutdown`] also waits for open
/// requests to finish.
pub struct Emulator {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

/// `bucket` and `region` checked with the client's own rules
/// (`cos_ci_client::Bucket::parse`, `Region::parse`): a bucket no client
/// could name would make an emulator nobody can reach.
pub fn check_bucket_and_region(
    bucket: &str,
    region: &str,
) -> Result<(), cos_ci_client::ConfigError> {
    cos_ci_client::Bucket::parse(bucket)?;
    cos_ci_client::Region::parse(region)?;
    Ok(())
}

impl Emulator {
    /// Bind `config.listen` and serve on the current tokio runtime. A
    /// bucket or region the client would refuse is an
    /// [`io::ErrorKind::InvalidInput`] error (see [`check_bucket_and_region`]).
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        check_bucket_and_region(&config.bucket, &config.region)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let faults = config.faults.clone();
        let latency = config.latency;
        let seed = config.seed;
        let limits = config.limits.clone();
        let shared = Arc::new(Shared {
            handler: RequestHandler::new(EmulatorConfig {
                listen: local_addr,
                ..config
            }),
            faults,
            latency,
            seed,
            limits,
            requests: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let callbacks_shared = Arc::clone(&shared);
        let callbacks_stopped = stopped.clone();
        tokio::spawn(async move {
            let resources = callbacks_shared.handler.resources();
            crate::callbacks::deliver(resources, callbacks_stopped).await;
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(Emulator {
            shared,
            stop,
            task: Some(task),
        })
    }

    serving_handle_methods!();

    /// The bucket's virtual host, also accepted as `Host`:
    /// `<bucket>.ci.<region>.myqcloud.com`.
    pub fn virtual_host(&self) -> &str {
        &self.shared.handler.virtual_host
    }

    /// Stop accepting, let open requests finish (up to the grace period),
    /// then return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The service error that makes hyper drop the connection without a
/// response (the `close` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection closed without a response (fault injection)")]
struct ConnectionDropped;

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(shared.limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout)
        .max_buf_size(shared.limits.max_header_bytes.max(8192))
        // A client may shut down its sending side right after the request
        // (`nc -N`, some proxies); without this hyper sometimes sees that
        // EOF before answering and drops the connection unanswered.
        .half_close(true)
        .keep_alive(true);
    loop {
        // Waiting for a permit before accepting leaves extra connections in
        // the kernel's backlog instead of serving them all at once.
        let permit = tokio::select! {
            biased;
            _ = stop.changed() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Typically out of file descriptors: back off, keep serving.
                    shared.handler.log_line(&format!("accept failed: {error}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection_shared = Arc::clone(&shared);
        let service = service_fn(move |request| serve(Arc::clone(&connection_shared), request));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's or injected faults; the request
            // was already logged.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(shared.limits.shutdown_grace, graceful.shutdown()).await;
}

/// Fault injection, then the request body (bounded in size and time),
/// then [`RequestHandler`]'s own path for whatever the fault lets through.
async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<EmulatorBody>, ConnectionDropped> {
    let handler = &shared.handler;
    if crate::credentials::is_credential_request(handler, &request) {
        // The metadata and STS stand-ins: outside fault injection (and its
        // request count), so a CI fault sequence does not depend on how
        // often credentials were fetched.
        let (parts, body) = request.into_parts();
        // A body that cannot be read is an empty one: STS then answers
        // that the body is not its JSON.
        let body = read_body(body, &shared.limits).await.unwrap_or_default();
        let request = Request::from_parts(parts, body);
        let response = handler
            .handle_credentials_at(&request, SystemTime::now())
            .unwrap_or_else(|| Response::new(Bytes::new()));
        return Ok(response.map(EmulatorBody::full));
    }
    let started = Instant::now();
    let request_id = handler.request_ids.next(unix_secs(SystemTime::now()));
    let number = shared.requests.fetch_add(1, Ordering::Relaxed);
    let fault = shared.faults.fault_for(shared.seed, number);
    // The simulated round trip: a timer, before the request is handled, so
    // it holds no lock and the store's paging cost is unchanged.
    let delay = shared.latency.delay_for(shared.seed, number);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, ());
    let log = |status: &str| handler.log_request(&request, status, &request_id, started, fault);
    let outcome = match fault {
        Some(FaultKind::CloseConnection) => {
            log("closed");
            return Err(ConnectionDropped);
        }
        Some(kind) => match kind.injected_error() {
            Some(error) => Err(error),
            None => {
                if kind == FaultKind::SlowResponse {
                    tokio::time::sleep(shared.limits.slow_response_delay).await;
                }
                match read_body(body, &shared.limits).await {
                    Ok(body) => handler.check(&request, &body, &request_id, SystemTime::now()),
                    Err(error) => Err(error),
                }
            }
        },
        None => match read_body(body, &shared.limits).await {
            Ok(body) => handler.check(&request, &body, &request_id, SystemTime::now()),
            Err(error) => Err(error),
        },
    };
    let response = handler.respond(outcome, &request_id, SystemTime::now());
    log(response.status().as_str());
    Ok(if fault == Some(FaultKind::TruncateBody) {
        response::truncate(response)
    } else {
        response.map(EmulatorBody::full)
    })
}

/// The whole request body, at most [`Limits::max_body_bytes`] (a larger
/// one is refused without reading it all) and within
/// [`Limits::body_read_timeout`].
async fn read_body(body: Incoming, limits: &Limits) -> Result<Bytes, CiError> {
    let limited = http_body_util::Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_read_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(body_too_large(limits.max_body_bytes))
        }
        Ok(Err(error)) => Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidContent",
            format!("The request body could not be read: {error}."),
        )),
        Err(_) => Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "RequestTimeout",
            format!(
                "The request body did not arrive within {} s.",
                limits.body_read_timeout.as_secs()
            ),
        )),
    }
}

/// An [`Emulator`] on its own thread and tokio runtime, for synchronous
/// callers (the demo, CLI tests). Stops when dropped.
pub struct BackgroundEmulator {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for BackgroundEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundEmulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl BackgroundEmulator {
    /// Start the emulator on a new thread and wait until it listens.
    pub fn start(config: EmulatorConfig) -> io::Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<Arc<Shared>>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cos-ci-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("cos-ci-emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(emulator) => {
                            let _ = ready_tx.send(Ok(Arc::clone(&emulator.shared)));
                            // Also stops if the handle is dropped without a send.
                            let _ = stop_rx.await;
                            emulator.shutdown().await;
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                        }
                    }
                });
            })?;
        let shared = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the emulator thread exited before listening"))??;
        Ok(BackgroundEmulator {
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    serving_handle_methods!();
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
