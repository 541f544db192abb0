//! `cos-ci-emulator`: a local Cloud Infinite server for media workflows
//! (workflow executions, workflows, jobs and queues), faithful enough to
//! test real clients against.
//!
//! What it is for: serving one bucket's workflow executions over plain HTTP
//! on loopback, with its workflows (list, create, update, pause, activate,
//! delete, trigger), media jobs (list, describe, submit, cancel) and
//! queues; runs and jobs that move through their states on the clock
//! (derived at each request, so every view agrees and a fixed clock gives
//! a fixed answer), and callbacks to local URLs when they end; checking
//! every request's COS signature (through `cos-ci-sign`), decoding
//! parameters and bodies exactly as the service documents them
//! (through `cos-ci-proto`), paging stably at O(log n + page) cost, answering
//! errors in CI's exact shape and, on request, misbehaving deterministically
//! (503/429/500, dropped connections, cut bodies, slow answers) so retry
//! logic can be tested. Start it in-process with [`Emulator::start`] (or
//! [`BackgroundEmulator`] from sync code), or run the `cos-ci-emulator`
//! binary. [`RequestHandler`] answers an `http::Request` without any socket
//! or runtime, through the same code the server runs after fault injection,
//! for tests that need no port (and for fuzzing).
//!
//! Each API action is served through one route of [`routes()`], built from
//! the action's declaration in `cos-ci-proto`: its method, path template,
//! sub-resource and decoder, and its output's XML writer.
//!
//! What it never does: talk to Tencent Cloud or to any host but
//! `127.0.0.1`/`localhost` (callbacks), persist anything, serve TLS, or log
//! a secret key, a session token or an `Authorization` value.

mod auth;
mod callbacks;
mod clock;
mod credentials;
mod dataset;
mod details;
mod executions;
mod faults;
mod handler;
mod host;
mod ids;
mod jobs;
mod latency;
mod queues;
mod random;
mod response;
mod routes;
mod runs;
mod server;
mod store;
mod task_jobs;
mod token;
mod topology;
mod workflows;

/// The type of [`EmulatorConfig::secret_key`] and `session_token`.
pub use cos_ci_sign::SecretString;

pub use callbacks::{MAX_ATTEMPTS, MAX_PENDING, SEND_TIMEOUT};
pub use dataset::{Dataset, DatasetError, ExecutionDetails, ExecutionRecord, Skew};
pub use faults::{FaultConfig, FaultKind, ParseFaultKindError};
pub use handler::{
    BodyBytes, DEFAULT_CREDENTIAL_LIFETIME, DEFAULT_FAIL_PATTERN, DEFAULT_TASK_DURATION,
    EmulatorConfig, RequestHandler,
};
pub use latency::{Latency, parse_latency};
pub use queues::queues_from_ndjson;
pub use routes::{Route, routes};
pub use server::{BackgroundEmulator, Emulator, Limits, MAX_BODY_BYTES, check_bucket_and_region};
pub use store::{ExecutionStore, Page, PageQuery, Position};
pub use token::{NextToken, TokenError};
pub use workflows::workflows_from_ndjson;

/// The bucket served by default.
pub const DEFAULT_BUCKET: &str = "examplebucket-1250000000";
/// The region served by default.
pub const DEFAULT_REGION: &str = "ap-beijing";
/// The secret id accepted by default. Not a real Tencent Cloud key.
pub const DEFAULT_SECRET_ID: &str = "AKIDcosciEMULATOR0000000000000000";
/// The secret key accepted by default. Public on purpose: it only opens this
/// emulator.
pub const DEFAULT_SECRET_KEY: &str = "cosciEmulatorSecretKey0000000000";
