//! [`RequestHandler`]: everything a request goes through after fault
//! injection, without a socket: the URI limit, the `Host` check, the path
//! and method, the signature and session token, then the API itself.

use std::fmt;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};

use cos_ci_proto::{MediaQueue, MediaWorkflow};
use cos_ci_sign::{Credentials, SecretString, unix_secs};

use crate::auth::authenticate;
use crate::callbacks::Callbacks;
use crate::credentials::{self, Issuer, StandIns};
use crate::dataset::{Dataset, ExecutionRecord};
use crate::faults::{FaultConfig, FaultKind};
use crate::host::{check_host, reject_repeated_headers};
use crate::ids::{IdGenerator, IdMint};
use crate::jobs::JobStore;
use crate::latency::Latency;
use crate::queues::QueueStore;
use crate::response::{self, CiError};
use crate::routes::{
    self, Call, Lifecycle, Resources, canonical_path, invalid_argument, read, write,
};
use crate::server::Limits;
use crate::store::ExecutionStore;
use crate::task_jobs::TaskJobMemo;
use crate::workflows::WorkflowStore;
use crate::{DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};

/// The default [`EmulatorConfig::credential_lifetime`]: one hour.
pub const DEFAULT_CREDENTIAL_LIFETIME: Duration = Duration::from_secs(3600);
/// The default of [`EmulatorConfig::task_duration`] (`--task-duration`).
pub const DEFAULT_TASK_DURATION: Duration = Duration::from_secs(2);
/// The default of [`EmulatorConfig::fail_pattern`] (`--fail-pattern`).
pub const DEFAULT_FAIL_PATTERN: &str = "fail";

/// Everything the emulator serves and checks. `Debug` never shows the
/// secret key or the session token: both are [`SecretString`]s (set them
/// from text with `.into()`); nor the dataset's records, only their count.
#[derive(Clone, Debug)]
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
    pub secret_key: SecretString,
    /// With temporary credentials: the token requests must carry.
    pub session_token: Option<SecretString>,
    /// Stand in for the CVM instance metadata service with this role:
    /// `GET /latest/meta-data/cam/security-credentials/` lists it, `…/<role>`
    /// issues temporary credentials.
    pub metadata_role: Option<String>,
    /// Stand in for STS: `POST /` with `X-TC-Action:
    /// AssumeRoleWithWebIdentity` issues temporary credentials (any
    /// provider id and role ARN; the token must not be empty).
    pub sts: bool,
    /// How long issued temporary credentials live (default 1 h); the CI API
    /// accepts them until then and refuses them afterwards with 403
    /// `AccessDenied`.
    pub credential_lifetime: Duration,
    /// The executions served at start.
    pub dataset: Dataset,
    /// The workflows served at start. `None` (the default): one per
    /// workflow id the executions use, named and shaped as their details
    /// are. `Some`: these, plus that derived one for each workflow id the
    /// executions use that the list lacks.
    pub workflows: Option<Vec<MediaWorkflow>>,
    /// Queues served besides the bucket's default transcoding queue (a
    /// queue with the default's id replaces it).
    pub queues: Vec<MediaQueue>,
    /// How long a job, or one task of a workflow run, takes from
    /// submission to its end (a quarter of it `Submitted`, the rest
    /// `Running`); zero ends it at once.
    pub task_duration: Duration,
    /// An input object key containing this text makes a job fail (and the
    /// last task of a run); empty: nothing fails.
    pub fail_pattern: String,
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
            secret_key: DEFAULT_SECRET_KEY.into(),
            session_token: None,
            metadata_role: None,
            sts: false,
            credential_lifetime: DEFAULT_CREDENTIAL_LIFETIME,
            dataset: Dataset::default(),
            workflows: None,
            queues: Vec::new(),
            task_duration: DEFAULT_TASK_DURATION,
            fail_pattern: DEFAULT_FAIL_PATTERN.to_owned(),
            faults: FaultConfig::default(),
            latency: Latency::NONE,
            seed: 0,
            limits: Limits::default(),
            log_requests: true,
        }
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
    /// The one key pair requests may be signed with (besides what the
    /// stand-ins issued), and the token they must carry when it is
    /// temporary (`auth`).
    pub(crate) key: Credentials,
    /// The metadata and STS stand-ins and what they issued (`credentials`).
    pub(crate) stand_ins: StandIns,
    pub(crate) virtual_host: String,
    pub(crate) local_addr: SocketAddr,
    max_uri_bytes: usize,
    max_body_bytes: usize,
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
            .field("secret_id", &self.key.secret_id())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl RequestHandler {
    /// A handler serving `config.dataset` with `config`'s bucket, region
    /// and credentials, answering for `config.listen`.
    pub fn new(config: EmulatorConfig) -> Self {
        let local_addr = config.listen;
        let workflows = WorkflowStore::seed(
            &config.dataset,
            config.workflows.unwrap_or_default(),
            &config.bucket,
            &config.region,
        );
        let queues = QueueStore::new(&config.bucket, &config.region, config.queues);
        RequestHandler {
            virtual_host: format!("{}.ci.{}.myqcloud.com", config.bucket, config.region)
                .to_ascii_lowercase(),
            key: match config.session_token {
                Some(token) => {
                    Credentials::new(config.secret_id, config.secret_key).with_session_token(token)
                }
                None => Credentials::new(config.secret_id, config.secret_key),
            },
            stand_ins: StandIns {
                metadata_role: config.metadata_role,
                sts: config.sts,
                issuer: Issuer::new(config.credential_lifetime, config.seed),
            },
            local_addr,
            max_uri_bytes: config.limits.max_uri_bytes,
            max_body_bytes: config.limits.max_body_bytes,
            log_requests: config.log_requests,
            resources: Resources {
                bucket: config.bucket,
                region: config.region,
                executions: RwLock::new(ExecutionStore::from_dataset(config.dataset)),
                workflows: RwLock::new(workflows),
                jobs: RwLock::new(JobStore::default()),
                queues,
                lifecycle: Lifecycle {
                    task_duration: config.task_duration,
                    fail_pattern: config.fail_pattern,
                },
                ids: IdMint::new(config.seed),
                callbacks: Callbacks::new(config.log_requests),
                task_jobs: TaskJobMemo::default(),
            },
            request_ids: IdGenerator::new(config.seed ^ u64::from(local_addr.port())),
            trace_ids: IdGenerator::new(!config.seed ^ u64::from(local_addr.port())),
        }
    }

    /// Answer `request` now; its body (`()` for none) is the request body.
    pub fn handle<B: BodyBytes>(&self, request: &Request<B>) -> Response<Bytes> {
        self.handle_at(request, SystemTime::now())
    }

    /// Answer `request` as if the clock read `now`: signatures are checked
    /// against it, runs and jobs stand as they do at that instant (and
    /// ones created now start from it), and it is the `Date` of the
    /// response. Lets a test use a fixed, pre-computed signature.
    pub fn handle_at<B: BodyBytes>(
        &self,
        request: &Request<B>,
        now: SystemTime,
    ) -> Response<Bytes> {
        self.answer_logged(request, now, |request_id| {
            let outcome = self.check(request, request.body().body_bytes(), request_id, now);
            self.respond(outcome, request_id, now)
        })
    }

    /// Answer a request to the instance-metadata or STS stand-in
    /// ([`EmulatorConfig::metadata_role`], [`EmulatorConfig::sts`]) as if
    /// the clock read `now`; `None` if `request` is not one (then it is a
    /// CI request for [`RequestHandler::handle_at`]). The STS call needs its
    /// body, hence `B: AsRef<[u8]>`.
    pub fn handle_credentials_at<B: AsRef<[u8]>>(
        &self,
        request: &Request<B>,
        now: SystemTime,
    ) -> Option<Response<Bytes>> {
        if !credentials::is_credential_request(self, request) {
            return None;
        }
        Some(self.answer_logged(request, now, |request_id| {
            credentials::respond(self, request, request_id, unix_secs(now))
        }))
    }

    /// `answer(request_id)` with a new request id minted for `now`, logged
    /// with its status and how long the answer took (the server, which
    /// injects faults before answering, mints and logs on its own).
    fn answer_logged<B>(
        &self,
        request: &Request<B>,
        now: SystemTime,
        answer: impl FnOnce(&str) -> Response<Bytes>,
    ) -> Response<Bytes> {
        let started = Instant::now();
        let request_id = self.request_ids.next(unix_secs(now));
        let response = answer(&request_id);
        self.log_request(
            request,
            response.status().as_str(),
            &request_id,
            started,
            None,
        );
        response
    }

    /// How long issued temporary credentials live.
    pub fn credential_lifetime(&self) -> Duration {
        self.stand_ins.issuer.lifetime()
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
        write(&self.resources.executions).insert(record);
    }

    /// How many executions are stored.
    pub fn len(&self) -> usize {
        read(&self.resources.executions).len()
    }

    /// No executions stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the routes serve from (the server's callback task reads it).
    pub(crate) fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The response for a checked request (or an injected error).
    pub(crate) fn respond(
        &self,
        outcome: Result<String, CiError>,
        request_id: &str,
        now: SystemTime,
    ) -> Response<Bytes> {
        match outcome {
            Ok(xml) if xml.is_empty() => response::empty_ok(request_id, now),
            Ok(xml) => response::xml_ok(request_id, xml, now),
            Err(error) => response::error(
                &error,
                request_id,
                &self.trace_ids.next(unix_secs(now)),
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
    /// Everything after fault injection: returns the XML body of a 200
    /// (empty for actions whose success is an empty 200).
    pub(crate) fn check<B>(
        &self,
        request: &Request<B>,
        body: &[u8],
        request_id: &str,
        now: SystemTime,
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
        let candidates = routes::find(request.method(), &wire_path, &path)?;
        if body.len() > self.max_body_bytes {
            return Err(body_too_large(self.max_body_bytes));
        }

        // Form-style: a raw `+` is a space, as Go's and Python's SDKs assume
        // when they send spaces as `+` and sign them as `%20`.
        let wire_query = uri.query().unwrap_or("").replace('+', "%20");
        let pairs = cos_ci_proto::query::decode_query(&wire_query)
            .map_err(|error| invalid_argument(error.to_string()))?;

        let api_pairs = authenticate(self, request, &path, &pairs, unix_secs(now))?;
        let route = routes::select(&candidates, &api_pairs);

        route.dispatch(
            &self.resources,
            &Call {
                wire_path: &wire_path,
                query: &api_pairs,
                body,
                request_id,
                now,
            },
        )
    }
}

/// `413 InvalidContent`: a request body over [`Limits::max_body_bytes`]
/// (CI's code for a body too large).
pub(crate) fn body_too_large(max_body_bytes: usize) -> CiError {
    CiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "InvalidContent",
        format!("The request body is larger than {max_body_bytes} bytes."),
    )
}

/// A request body [`RequestHandler::handle`] can read: `()` is none.
pub trait BodyBytes {
    /// The body's bytes.
    fn body_bytes(&self) -> &[u8];
}

impl BodyBytes for () {
    fn body_bytes(&self) -> &[u8] {
        &[]
    }
}

impl BodyBytes for Bytes {
    fn body_bytes(&self) -> &[u8] {
        self
    }
}

impl BodyBytes for Vec<u8> {
    fn body_bytes(&self) -> &[u8] {
        self
    }
}

impl BodyBytes for String {
    fn body_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl BodyBytes for &[u8] {
    fn body_bytes(&self) -> &[u8] {
        self
    }
}

impl BodyBytes for &str {
    fn body_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
