//! The HTTP server: connection handling and hardening, fault injection,
//! host and signature checks, and the one API it serves.

use std::fmt;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinHandle;

use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput};
use cos_ci_sign::{
    AUTHORIZATION_FIELDS, SECURITY_TOKEN_NAMES, SignableRequest, VerifyError, split_presigned,
    verify,
};

use crate::dataset::{Dataset, ExecutionRecord};
use crate::faults::{FaultConfig, FaultKind};
use crate::ids::IdGenerator;
use crate::response::{self, CiError, EmulatorBody};
use crate::store::{ExecutionStore, PageQuery};
use crate::{DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};

/// The only API path served.
const LIST_PATH: &str = "/workflowexecution";

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
            slow_response_delay: Duration::from_millis(300),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Everything the emulator serves and checks. `Debug` never shows the
/// secret key or the session token.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The one bucket (`<name>-<appid>`).
    pub bucket: String,
    /// Its region.
    pub region: String,
    /// The one accepted secret id.
    pub secret_id: String,
    /// Its secret key.
    pub secret_key: String,
    /// With temporary credentials: the token requests must carry.
    pub session_token: Option<String>,
    /// The executions served at start.
    pub dataset: Dataset,
    /// Injected faults (off by default).
    pub faults: FaultConfig,
    /// Seeds fault injection and request ids.
    pub seed: u64,
    /// Protective limits.
    pub limits: Limits,
    /// Log one line per request on stderr.
    pub log_requests: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            bucket: DEFAULT_BUCKET.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            secret_id: DEFAULT_SECRET_ID.to_owned(),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            session_token: None,
            dataset: Dataset::default(),
            faults: FaultConfig::default(),
            seed: 0,
            limits: Limits::default(),
            log_requests: true,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("dataset_len", &self.dataset.len())
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("limits", &self.limits)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

/// The emulator's request handling without a socket: the host, path,
/// signature and session-token checks, parameter decoding, paging, and the
/// response (CI's error XML, `x-ci-request-id`, `x-ci-trace-id`), exactly as
/// a request that fault injection let through gets it from [`Emulator`],
/// which serves every request through one of these.
///
/// Useful for in-process tests that need no port, and for fuzzing. Nothing
/// is bound: `config.listen` is only the address it answers for in the
/// `Host` check (the bucket's virtual host is always accepted).
/// `config.faults`, and the limits hyper enforces, play no part; it logs one
/// line per request on stderr only if `config.log_requests` is set.
///
/// ```
/// use cos_ci_emulator::{Dataset, EmulatorConfig, RequestHandler};
///
/// let handler = RequestHandler::new(EmulatorConfig {
///     dataset: Dataset::generate(10, 1),
///     log_requests: false,
///     ..EmulatorConfig::default()
/// });
/// let request = http::Request::get("/workflowexecution")
///     .header("host", handler.virtual_host())
///     .body(())
///     .unwrap();
/// // Unsigned, so refused, in CI's shape.
/// let response = handler.handle(&request);
/// assert_eq!(response.status(), 401);
/// assert!(response.headers().contains_key("x-ci-request-id"));
/// ```
pub struct RequestHandler {
    secret_id: String,
    secret_key: String,
    session_token: Option<String>,
    virtual_host: String,
    local_addr: SocketAddr,
    max_uri_bytes: usize,
    log_requests: bool,
    store: RwLock<ExecutionStore>,
    request_ids: IdGenerator,
    trace_ids: IdGenerator,
}

impl fmt::Debug for RequestHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHandler")
            .field("local_addr", &self.local_addr)
            .field("virtual_host", &self.virtual_host)
            .field("secret_id", &self.secret_id)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl RequestHandler {
    /// A handler serving `config.dataset` with `config`'s bucket, region
    /// and credentials, answering for `config.listen`.
    pub fn new(config: EmulatorConfig) -> Self {
        let local_addr = config.listen;
        RequestHandler {
            virtual_host: format!("{}.ci.{}.myqcloud.com", config.bucket, config.region)
                .to_ascii_lowercase(),
            secret_id: config.secret_id,
            secret_key: config.secret_key,
            session_token: config.session_token,
            local_addr,
            max_uri_bytes: config.limits.max_uri_bytes,
            log_requests: config.log_requests,
            store: RwLock::new(ExecutionStore::from_dataset(config.dataset)),
            request_ids: IdGenerator::new(config.seed ^ u64::from(local_addr.port())),
            trace_ids: IdGenerator::new(!config.seed ^ u64::from(local_addr.port())),
        }
    }

    /// Answer `request` now. The body is never read: the API is a GET.
    pub fn handle<B>(&self, request: &Request<B>) -> Response<Bytes> {
        self.handle_at(request, SystemTime::now())
    }

    /// Answer `request` as if the clock read `now`: signatures are checked
    /// against it and it is the `Date` of the response. Lets a test use a
    /// fixed, pre-computed signature.
    pub fn handle_at<B>(&self, request: &Request<B>, now: SystemTime) -> Response<Bytes> {
        let started = Instant::now();
        let request_id = self.request_ids.next(unix_seconds(now));
        let outcome = self.check(request, &request_id, unix_seconds(now));
        let response = self.respond(outcome, &request_id, now);
        self.log_request(
            request,
            response.status().as_str(),
            &request_id,
            started,
            None,
        );
        response
    }

    /// The address answered for in the `Host` check.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bucket's virtual host, always accepted as `Host`:
    /// `<bucket>.ci.<region>.myqcloud.com`.
    pub fn virtual_host(&self) -> &str {
        &self.virtual_host
    }

    /// Add (or replace, by run id) an execution.
    pub fn insert(&self, record: ExecutionRecord) {
        self.store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record);
    }

    /// How many executions are stored.
    pub fn len(&self) -> usize {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// No executions stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The response for a checked request (or an injected error).
    fn respond(
        &self,
        outcome: Result<String, CiError>,
        request_id: &str,
        now: SystemTime,
    ) -> Response<Bytes> {
        match outcome {
            Ok(xml) => response::xml_ok(request_id, xml, now),
            Err(error) => response::error(
                &error,
                request_id,
                &self.trace_ids.next(unix_seconds(now)),
                now,
            ),
        }
    }

    /// One line per request. Only the path: a pre-signed query holds a
    /// signature and possibly a session token.
    fn log_request<B>(
        &self,
        request: &Request<B>,
        status: &str,
        request_id: &str,
        started: Instant,
        fault: Option<FaultKind>,
    ) {
        if !self.log_requests {
            return;
        }
        let fault = fault
            .map(|kind| format!(" fault={kind}"))
            .unwrap_or_default();
        self.log_line(&format!(
            "{} {} {status} request_id={request_id} {}ms{fault}",
            request.method(),
            request.uri().path(),
            started.elapsed().as_millis()
        ));
    }

    fn log_line(&self, line: &str) {
        if self.log_requests {
            let _ = writeln!(io::stderr().lock(), "cos-ci-emulator: {line}");
        }
    }
}

/// State shared by every connection: the handler, and what only a server
/// over sockets does (fault injection, hyper's limits).
struct Shared {
    handler: RequestHandler,
    faults: FaultConfig,
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
        let seed = config.seed;
        let limits = config.limits.clone();
        let shared = Arc::new(Shared {
            handler: RequestHandler::new(EmulatorConfig {
                listen: local_addr,
                ..config
            }),
            faults,
            seed,
            limits,
            requests: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(Emulator {
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://<listen address>`, e.g. `http://127.0.0.1:38211`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.handler.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.handler.local_addr
    }

    /// The bucket's virtual host, also accepted as `Host`:
    /// `<bucket>.ci.<region>.myqcloud.com`.
    pub fn virtual_host(&self) -> &str {
        &self.shared.handler.virtual_host
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

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Fault injection, then [`RequestHandler`]'s own path for whatever the
/// fault lets through.
async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<EmulatorBody>, ConnectionDropped> {
    let started = Instant::now();
    let handler = &shared.handler;
    let request_id = handler.request_ids.next(unix_seconds(SystemTime::now()));
    let number = shared.requests.fetch_add(1, Ordering::Relaxed);
    let fault = shared.faults.fault_for(shared.seed, number);
    let log = |status: &str| handler.log_request(&request, status, &request_id, started, fault);
    let outcome = match fault {
        Some(FaultKind::CloseConnection) => {
            log("closed");
            return Err(ConnectionDropped);
        }
        Some(FaultKind::ServiceUnavailable503) => Err(CiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service is temporarily unavailable, please retry (injected fault).",
        )),
        Some(FaultKind::SlowDown429) => Err(CiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "SlowDown",
            "Please reduce your request rate (injected fault).",
        )),
        Some(FaultKind::InternalError500) => Err(CiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal server error (injected fault).",
        )),
        Some(FaultKind::SlowResponse) => {
            tokio::time::sleep(shared.limits.slow_response_delay).await;
            handler.check(&request, &request_id, unix_seconds(SystemTime::now()))
        }
        Some(FaultKind::TruncateBody) | None => {
            handler.check(&request, &request_id, unix_seconds(SystemTime::now()))
        }
    };
    let response = handler.respond(outcome, &request_id, SystemTime::now());
    log(response.status().as_str());
    Ok(if fault == Some(FaultKind::TruncateBody) {
        response::truncate(response)
    } else {
        response.map(EmulatorBody::full)
    })
}

fn invalid_argument(message: impl Into<String>) -> CiError {
    CiError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

fn access_denied(message: impl Into<String>) -> CiError {
    CiError::new(StatusCode::FORBIDDEN, "AccessDenied", message)
}

impl RequestHandler {
    /// Everything after fault injection: returns the XML body of a 200.
    fn check<B>(
        &self,
        request: &Request<B>,
        request_id: &str,
        now: u64,
    ) -> Result<String, CiError> {
        let uri = request.uri();
        let target_len = uri
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if target_len > self.max_uri_bytes {
            return Err(CiError::new(
                StatusCode::URI_TOO_LONG,
                "InvalidUrl",
                format!(
                    "The request URI is longer than {} bytes.",
                    self.max_uri_bytes
                ),
            ));
        }
        reject_repeated_headers(request)?;
        check_host(self, request)?;

        let path = cos_ci_sign::decode(uri.path()).map_err(|_| {
            CiError::new(
                StatusCode::NOT_FOUND,
                "InvalidUrl",
                "The request path is not validly percent-encoded.",
            )
        })?;
        if path != LIST_PATH {
            return Err(CiError::new(
                StatusCode::NOT_FOUND,
                "InvalidUrl",
                format!("No API at `{}`.", truncate_for_message(&path)),
            ));
        }
        if request.method() != Method::GET {
            return Err(CiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!(
                    "`{}` is not allowed on {LIST_PATH}; use GET.",
                    request.method()
                ),
            ));
        }

        // Form-style: a raw `+` is a space, as Go's and Python's SDKs assume
        // when they send spaces as `+` and sign them as `%20`.
        let wire_query = uri.query().unwrap_or("").replace('+', "%20");
        let pairs = cos_ci_proto::query::decode_query(&wire_query)
            .map_err(|error| invalid_argument(error.to_string()))?;

        let api_pairs = authenticate(self, request, &path, &pairs, now)?;

        // Decoding also validates (size bounds, empty values, time order).
        let list = ListWorkflowExecutions::from_query_pairs(&api_pairs)
            .map_err(|error| invalid_argument(error.to_string()))?;
        let query =
            PageQuery::from_request(&list).map_err(|error| invalid_argument(error.to_string()))?;

        let page = self
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .page(&query);
        let output = ListWorkflowExecutionsOutput {
            request_id: Some(request_id.to_owned()),
            next_token: page.next_token(query.order).map(|token| token.encode()),
            executions: page
                .records
                .iter()
                .map(ExecutionRecord::to_execution)
                .collect(),
        };
        Ok(output.write_xml())
    }
}

fn truncate_for_message(text: &str) -> String {
    text.chars().take(100).collect()
}

/// Two `Host` headers (or two `Authorization` headers) make a request mean
/// two things at once; RFC 9112 requires a 400 for the first, and "first
/// one wins" would let a proxy and this server disagree on the second.
fn reject_repeated_headers<B>(request: &Request<B>) -> Result<(), CiError> {
    let repeated = |name| request.headers().get_all(name).iter().nth(1).is_some();
    if repeated(HOST) {
        return Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidHost",
            "The request has more than one Host header.",
        ));
    }
    if repeated(AUTHORIZATION) {
        return Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAuthorization",
            "The request has more than one Authorization header.",
        ));
    }
    Ok(())
}

/// `Host`, and the authority of an absolute-form target (which RFC 9112
/// says takes precedence over `Host`), must each be one this server
/// serves (see [`is_served_host`]).
fn check_host<B>(handler: &RequestHandler, request: &Request<B>) -> Result<(), CiError> {
    let invalid = |message: String| CiError::new(StatusCode::BAD_REQUEST, "InvalidHost", message);
    let not_served = |what: &str, host: &str| {
        invalid(format!(
            "{what} `{}` is not served here; use `{}` or `{}`.",
            truncate_for_message(host),
            handler.virtual_host,
            handler.local_addr
        ))
    };
    let host = match request.headers().get(HOST) {
        Some(value) => value
            .to_str()
            .map_err(|_| invalid("The Host header is not valid text.".to_owned()))?
            .to_ascii_lowercase(),
        None => return Err(invalid("The request has no Host header.".to_owned())),
    };
    if !is_served_host(handler, &host) {
        return Err(not_served("Host", &host));
    }
    if let Some(authority) = request.uri().authority() {
        let target_host = authority.as_str().to_ascii_lowercase();
        if !is_served_host(handler, &target_host) {
            return Err(not_served("The request target's host", &target_host));
        }
    }
    Ok(())
}

/// Exactly the hosts docs/emulator.md lists: the bucket's virtual host
/// (any port), or this listener's own address with its port: the listen
/// IP itself, `localhost`, or any IP literal when bound to an unspecified
/// address. (Another loopback address such as `127.0.0.2` is not ours.)
fn is_served_host(handler: &RequestHandler, host: &str) -> bool {
    let (name, port) = split_host_port(host);
    if name == handler.virtual_host {
        return true;
    }
    let our_port = handler.local_addr.port();
    let port_matches = match port {
        Some(port) => port == our_port,
        None => our_port == 80,
    };
    let listen = handler.local_addr.ip();
    let name_matches = name == "localhost"
        || name
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(name)
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip == listen || listen.is_unspecified());
    port_matches && name_matches
}

/// `name[:port]`, with `[v6]:port` handled.
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => (name, Some(port)),
        _ => (host, None),
    };
    match port {
        Some(port) => (name, port.parse().ok().or(Some(0))),
        None => (name, None),
    }
}

/// Check the signature (header or pre-signed query) and the session token;
/// return the API's own parameters.
fn authenticate<'p, B>(
    handler: &RequestHandler,
    request: &Request<B>,
    path: &str,
    pairs: &'p [(String, String)],
    now: u64,
) -> Result<Vec<(&'p str, &'p str)>, CiError> {
    let is_signature_field = |key: &str| AUTHORIZATION_FIELDS.contains(&key);
    let header_authorization = match request.headers().get(AUTHORIZATION) {
        Some(value) => Some(value.to_str().map_err(|_| {
            CiError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthorization",
                "The Authorization header is not valid text.",
            )
        })?),
        None => None,
    };
    let raw: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let presigned_split = match header_authorization {
        Some(_) => None,
        None => split_presigned(&raw),
    };
    let presigned = presigned_split.is_some();
    let (authorization, signed_pairs) = match (header_authorization, presigned_split) {
        (Some(value), _) => (value.to_owned(), raw.clone()),
        (None, Some(split)) => split,
        (None, None) => {
            return Err(CiError::new(
                StatusCode::UNAUTHORIZED,
                "MissingAuthorization",
                "The request has no Authorization header and no q-signature parameters.",
            ));
        }
    };

    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signable = SignableRequest {
        method: request.method().as_str(),
        path,
        query: &signed_pairs,
        headers: &headers,
    };
    let lookup =
        |secret_id: &str| (secret_id == handler.secret_id).then_some(handler.secret_key.as_str());
    match verify(&authorization, &signable, lookup, now, &[]) {
        Ok(_) => {}
        // The official Python SDK signs the URL's host name without its port
        // while sending `Host: name:port`. The real service is always on the
        // default port, so that never shows there; here it would make the SDK
        // unusable against a local port, so accept that one variant too.
        Err(VerifyError::Mismatch) => {
            let portless: Vec<(&str, &str)> = headers
                .iter()
                .map(|&(name, value)| match (name, value.rsplit_once(':')) {
                    ("host", Some((host, port))) if port.bytes().all(|b| b.is_ascii_digit()) => {
                        (name, host)
                    }
                    other => (other.0, value),
                })
                .collect();
            let retry = SignableRequest {
                headers: &portless,
                ..signable
            };
            if portless == headers || verify(&authorization, &retry, lookup, now, &[]).is_err() {
                return Err(verify_error(VerifyError::Mismatch));
            }
        }
        Err(error) => return Err(verify_error(error)),
    }

    if let Some(expected) = &handler.session_token {
        let from_headers = SECURITY_TOKEN_NAMES
            .iter()
            .filter_map(|name| request.headers().get(*name))
            .filter_map(|value| value.to_str().ok());
        let from_query = pairs
            .iter()
            .filter(|(key, _)| presigned && SECURITY_TOKEN_NAMES.contains(&key.as_str()))
            .map(|(_, value)| value.as_str());
        let presented: Vec<&str> = from_headers.chain(from_query).collect();
        if presented.is_empty() {
            return Err(access_denied(
                "The request is signed with temporary credentials but carries no \
                 x-ci-security-token (or x-cos-security-token).",
            ));
        }
        if !presented
            .iter()
            .any(|token| bool::from(token.as_bytes().ct_eq(expected.as_bytes())))
        {
            return Err(access_denied("The security token is invalid."));
        }
    }

    Ok(pairs
        .iter()
        .filter(|(key, _)| {
            !(presigned
                && (is_signature_field(key) || SECURITY_TOKEN_NAMES.contains(&key.as_str())))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect())
}

fn verify_error(error: VerifyError) -> CiError {
    match error {
        VerifyError::Malformed(reason) => CiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthorization",
            format!("The Authorization is malformed: {reason}."),
        ),
        VerifyError::UnknownKey => CiError::new(
            StatusCode::UNAUTHORIZED,
            "SecretidNotExist",
            "The SecretId does not exist.",
        ),
        VerifyError::Expired { end, now } => CiError::new(
            StatusCode::UNAUTHORIZED,
            "SignatureExpired",
            format!("The signature expired at {end} (server time {now})."),
        ),
        VerifyError::NotYetValid { start, now } => CiError::new(
            StatusCode::UNAUTHORIZED,
            "SignatureExpired",
            format!("The signature is not valid before {start} (server time {now})."),
        ),
        VerifyError::HeaderNotSigned(name) => {
            access_denied(format!("Header `{name}` must be signed."))
        }
        VerifyError::SignedHeaderMissing(name) => access_denied(format!(
            "Header `{name}` is in q-header-list but not in the request."
        )),
        VerifyError::ParamNotSigned(name) => access_denied(format!(
            "Query parameter `{name}` must be signed (and every signed parameter sent)."
        )),
        VerifyError::Mismatch => access_denied(
            "The signature does not match the request (check the secret key, method, path, \
             parameters and signed headers).",
        ),
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

    /// `http://<listen address>`.
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
