//! `cos-ci-proto`: the Cloud Infinite wire model.
//!
//! What it is for: typed API actions ([`CiAction`]) that turn into the exact
//! wire query and that turn whatever body the service (or a proxy in front of
//! it) sends into a typed value or a typed [`ResponseError`]; the XML writer
//! the emulator uses; the timestamp forms CI speaks.
//!
//! What it never does: IO, reading the clock, signing or retrying. Those live
//! in `cos-ci-sign` and `cos-ci-client`.
//!
//! One API action = one module with the same layout: the request type
//! (validated, `to_query_pairs` / `from_query_pairs`), the output type,
//! `parse_response` and `write_xml`, and the [`CiAction`] impl.

pub mod action;
pub mod error;
pub mod list_workflow_executions;
pub mod query;
pub mod time;
mod xml;

pub use action::{CiAction, PaginatedAction};
pub use error::{
    MAX_ID_CHARS, MAX_MESSAGE_CHARS, MalformedResponse, ResponseError, ServiceError, check_status,
    request_id_from_headers,
};
pub use list_workflow_executions::{
    ExecutionState, ListWorkflowExecutions, ListWorkflowExecutionsOutput, Order, PageSize,
    StateFilter, WorkflowExecution,
};
pub use query::{QueryError, ValidationError};
pub use time::{CiTimestamp, TimestampError};
