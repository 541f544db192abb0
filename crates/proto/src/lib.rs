//! `cos-ci-proto`: the Cloud Infinite wire model.
//!
//! ```toml
//! [dependencies]
//! cos-ci-proto = "0.1"
//! ```
//!
//! (`cos-ci-client` and `cos-ci-hyper` re-export this crate; depend on it
//! directly only to use the wire model without them.)
//!
//! What it is for: typed API actions ([`CiAction`]), each declared once with
//! [`ci_action!`] (method, path template, parameters with their wire names
//! and rules, body, output, paging), that turn into the exact wire request
//! and that turn whatever body the service (or a proxy in front of it)
//! sends into a typed value or a typed [`ResponseError`]; the XML schema
//! macros ([`xml_record!`], [`ci_response!`], [`wire_enum!`],
//! [`open_enum!`]) and the generic [`XmlTree`]; the timestamp forms CI
//! speaks. The emulator reads requests back with the same declarations.
//!
//! What it never does: IO, reading the clock, signing or retrying. Those live
//! in `cos-ci-sign` and `cos-ci-client`.

#![warn(missing_docs)]

pub mod action;
pub mod callback;
pub mod describe_workflow_execution;
pub mod error;
pub mod job;
pub mod list_workflow_executions;
pub mod query;
pub mod queue;
pub mod schema;
pub mod time;
pub mod tree;
pub mod types;
pub mod workflow;
pub mod xml;

/// Re-exported for the code the declaration macros generate.
pub use http;

pub use action::{BodyRules, CiAction, Cursor, PaginatedAction, RequestBody, TimeWindowed};
pub use callback::{
    CallbackError, CallbackEvent, CallbackFormat, CallbackNotification, WorkflowNotification,
};
pub use describe_workflow_execution::{
    DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, WorkflowExecutionDetail,
    WorkflowTask,
};
pub use error::{
    MAX_ID_CHARS, MAX_MESSAGE_CHARS, MalformedResponse, ResponseError, ServiceError, check_status,
    request_id_from_headers,
};
pub use job::{
    CancelJob, CosHeader, CreateJobs, CreateJobsOutput, DescribeJobs, DescribeJobsOutput,
    JobDetail, JobInput, JobOperation, JobOutput, JobRequest, JobRequestInput, JobStateFilter,
    JobWorkflow, ListJobs, ListJobsOutput, Md5Info, MediaResult, OutputFile,
};
pub use list_workflow_executions::{
    ListWorkflowExecutions, ListWorkflowExecutionsOutput, WorkflowExecution,
};
pub use query::{QueryError, ValidationError};
pub use queue::{
    ListQueues, ListQueuesOutput, MediaQueue, QueueCategory, QueueState, QueueStateFilter,
};
pub use schema::{CiOutput, EmptyOutput, XmlDocument};
pub use time::{CiTimestamp, TimestampError};
pub use tree::{UnknownElements, XmlNode, XmlTree};
pub use types::{ExecutionState, JobState, Order, PageSize, StateFilter};
pub use workflow::{
    ActivateWorkflow, CreateWorkflow, DeleteWorkflow, DeleteWorkflowOutput, ListWorkflows,
    ListWorkflowsOutput, MediaWorkflow, PauseWorkflow, TOPOLOGY_END, TOPOLOGY_START,
    TriggerWorkflow, TriggerWorkflowOutput, UpdateWorkflow, WorkflowDefinition, WorkflowOutput,
    WorkflowRequest, WorkflowState, successor_names,
};
