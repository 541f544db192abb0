//! [`RequestHandler`]: everything a request goes through after fault
//! injection, without a socket: the URI limit, the `Host` check, the path
//! and method, the signature and session token, then the API itself.

use std::fmt;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};

use crate::auth::authenticate;
use crate::dataset::{Dataset, ExecutionRecord};
use crate::faults::{FaultConfig, FaultKind};
use crate::host::{check_host, reject_repeated_headers};
use crate::ids::IdGenerator;
use crate::latency::Latency;
use crate::response::{self, CiError};
use crate::routes::{self, Call, Resources, canonical_path, invalid_argument};
use crate::server::Limits;
use crate::store::ExecutionStore;
use crate::{DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};

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
    /// Simulated network latency added to every response the server sends
    /// (off by default; not applied by [`RequestHandler`]).
    pub latency: Latency,
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
            latency: Latency::NONE,
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
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("limits", &self.limits)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

/// The emulator's request handling without a socket: the host, path,
/// signature and session-token checks, parameter decoding, paging, and the
/// response (CI's error XML, `x-ci-request-id`, `x-ci-trace-id`), exactly as
/// a request that fault injection let through gets it from [`Emulator`](crate::Emulator),
/// which serves every request through one of these.
///
/// Useful for in-process tests that need no port, and for fuzzing. Nothing
/// is bound: `config.listen` is only the address it answers for in the
/// `Host` check (the bucket's virtual host is always accepted).
/// `config.faults`, `config.latency`, and the limits hyper enforces, play no part; it logs one
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
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) session_token: Option<String>,
    pub(crate) virtual_host: String,
    pub(crate) local_addr: SocketAddr,
    max_uri_bytes: usize,
    log_requests: bool,
    resources: Resources,
    pub(crate) request_ids: IdGenerator,
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
            resources: Resources {
                bucket: config.bucket,
                region: config.region,
                executions: RwLock::new(ExecutionStore::from_dataset(config.dataset)),
            },
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
        self.resources
            .executions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record);
    }

    /// How many executions are stored.
    pub fn len(&self) -> usize {
        self.resources
            .executions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// No executions stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The response for a checked request (or an injected error).
    pub(crate) fn respond(
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
    pub(crate) fn log_request<B>(
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

    pub(crate) fn log_line(&self, line: &str) {
        if self.log_requests {
            let _ = writeln!(io::stderr().lock(), "cos-ci-emulator: {line}");
        }
    }
}

impl RequestHandler {
    /// Everything after fault injection: returns the XML body of a 200.
    pub(crate) fn check<B>(
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

        let not_encoded = || {
            CiError::new(
                StatusCode::NOT_FOUND,
                "InvalidUrl",
                "The request path is not validly percent-encoded.",
            )
        };
        let path = cos_ci_sign::decode(uri.path()).map_err(|_| not_encoded())?;
        let wire_path = canonical_path(uri.path()).ok_or_else(not_encoded)?;
        let route = routes::find(request.method(), &wire_path, &path)?;

        // Form-style: a raw `+` is a space, as Go's and Python's SDKs assume
        // when they send spaces as `+` and sign them as `%20`.
        let wire_query = uri.query().unwrap_or("").replace('+', "%20");
        let pairs = cos_ci_proto::query::decode_query(&wire_query)
            .map_err(|error| invalid_argument(error.to_string()))?;

        let api_pairs = authenticate(self, request, &path, &pairs, now)?;

        route.dispatch(
            &self.resources,
            &Call {
                wire_path: &wire_path,
                query: &api_pairs,
                // No action served has a request body yet.
                body: b"",
                request_id,
            },
        )
    }
}

pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
