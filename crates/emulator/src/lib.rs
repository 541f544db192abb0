//! `cos-ci-emulator`: a local Cloud Infinite server for workflow executions
//! (`GET /workflowexecution` and `GET /workflowexecution/<RunId>`),
//! faithful enough to test real clients against.
//!
//! What it is for: serving one bucket's workflow executions over plain HTTP
//! on loopback, checking every request's COS signature (through
//! `cos-ci-sign`), decoding parameters exactly as the service documents them
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
//! the action's declaration in `cos-ci-proto`: its method, path template and
//! decoder, and its output's XML writer.
//!
//! What it never does: talk to Tencent Cloud, persist anything, serve TLS,
//! or log a secret key, a session token or an `Authorization` value.

mod auth;
mod dataset;
mod details;
mod executions;
mod faults;
mod handler;
mod host;
mod ids;
mod latency;
mod random;
mod response;
mod routes;
mod server;
mod store;
mod token;

pub use dataset::{Dataset, DatasetError, ExecutionDetails, ExecutionRecord, Skew};
pub use faults::{FaultConfig, FaultKind, ParseFaultKindError};
pub use handler::{EmulatorConfig, RequestHandler};
pub use latency::{Latency, parse_latency};
pub use routes::{Route, routes};
pub use server::{BackgroundEmulator, Emulator, Limits, check_bucket_and_region};
pub use store::{ExecutionStore, Page, PageQuery, Position};
pub use token::{NextToken, TokenError};

/// The bucket served by default.
pub const DEFAULT_BUCKET: &str = "examplebucket-1250000000";
/// The region served by default.
pub const DEFAULT_REGION: &str = "ap-beijing";
/// The secret id accepted by default. Not a real Tencent Cloud key.
pub const DEFAULT_SECRET_ID: &str = "AKIDcosciEMULATOR0000000000000000";
/// The secret key accepted by default. Public on purpose: it only opens this
/// emulator.
pub const DEFAULT_SECRET_KEY: &str = "cosciEmulatorSecretKey0000000000";
