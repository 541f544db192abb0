//! `GET /workflowexecution` — list workflow executions
//! (`ci:DescribeMediaWorkflowExecutions`).
//!
//! Layout (the same for every action): parameter types, request,
//! request↔query, output, output↔XML, the [`CiAction`] impl.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::{CiAction, CiTimestamp, PaginatedAction, QueryError, ResponseError, ValidationError};

/// `orderByTime`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Order {
    /// Newest first (the service's default).
    #[default]
    Desc,
    /// Oldest first.
    Asc,
}

/// `size`: 1..=100 (the service's default is 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageSize(u32);

impl PageSize {
    /// Largest page the service returns.
    pub const MAX: u32 = 100;
    /// The service's default.
    pub const DEFAULT: u32 = 10;
    /// 1..=100, else a [`ValidationError`] naming `size` (0 and 101 are
    /// errors, never clamped).
    pub fn new(size: u32) -> Result<Self, ValidationError> {
        let _ = size;
        todo!()
    }
    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// One value of the `states` filter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum StateFilter {
    /// Every state (the service's default).
    All,
    /// `Success`
    Success,
    /// `Failed`
    Failed,
    /// `Running`
    Running,
    /// `Cancel`
    Cancel,
}
// FromStr (exact, case-insensitive accepted? -> exact names; error names allowed values) and Display.

/// The state of one execution as the service reports it. Open: values not
/// known today are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExecutionState {
    /// `Success`
    Success,
    /// `Failed`
    Failed,
    /// `Running`
    Running,
    /// `Cancel`
    Cancel,
    /// Anything else, verbatim.
    Other(String),
}
// From<&str>, as_str(), Display, serde as a plain string.

/// The request: all nine parameters, each optional; unset ones are not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListWorkflowExecutions {
    /// `workflowId`
    pub workflow_id: Option<String>,
    /// `name`: exact object key.
    pub name: Option<String>,
    /// `orderByTime`
    pub order: Option<Order>,
    /// `size`
    pub size: Option<PageSize>,
    /// `states`: a set, sent comma-separated.
    pub states: Option<BTreeSet<StateFilter>>,
    /// `startCreationTime` (inclusive).
    pub start_creation_time: Option<CiTimestamp>,
    /// `endCreationTime` (inclusive).
    pub end_creation_time: Option<CiTimestamp>,
    /// `nextToken`
    pub next_token: Option<String>,
    /// `jobId`: the batch-trigger job.
    pub job_id: Option<String>,
}

impl ListWorkflowExecutions {
    /// Check the rules that types cannot: no empty strings where a value was
    /// set, a non-empty states set, start not after end.
    pub fn validate(&self) -> Result<(), ValidationError> {
        todo!()
    }
    /// Raw (decoded) pairs in a fixed order, unset parameters left out.
    /// Timestamps use [`CiTimestamp::to_api_string`]; states join with `,`.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        todo!()
    }
    /// The encoded wire query (`crate::query::encode_query` of the pairs).
    pub fn to_wire_query(&self) -> String {
        crate::query::encode_query(&self.to_query_pairs())
    }
    /// Decode pairs back into a request (the emulator's side). Empty values
    /// mean unset. Unknown or repeated parameters and bad values are errors.
    pub fn from_query_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: &[(K, V)],
    ) -> Result<Self, QueryError> {
        let _ = pairs;
        todo!()
    }
    /// `decode_query` then [`Self::from_query_pairs`].
    pub fn from_wire_query(wire: &str) -> Result<Self, QueryError> {
        Self::from_query_pairs(&crate::query::decode_query(wire)?)
    }
}

/// One workflow execution. Serde names are the API's element names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkflowExecution {
    /// `RunId`
    #[serde(rename = "RunId")]
    pub run_id: String,
    /// `WorkflowId`
    #[serde(rename = "WorkflowId")]
    pub workflow_id: String,
    /// `Object`
    #[serde(rename = "Object")]
    pub object: String,
    /// `CreateTime` (`CreationTime` accepted when parsing XML). `None` when absent.
    #[serde(rename = "CreateTime")]
    pub create_time: Option<CiTimestamp>,
    /// `State`
    #[serde(rename = "State")]
    pub state: ExecutionState,
}

/// One page of executions.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ListWorkflowExecutionsOutput {
    /// `RequestId` (body, else the `x-ci-request-id` header).
    #[serde(rename = "RequestId")]
    pub request_id: Option<String>,
    /// `WorkflowExecutionList`, always a list.
    #[serde(rename = "WorkflowExecutionList")]
    pub executions: Vec<WorkflowExecution>,
    /// `NextToken`; `None` when absent or empty (the last page).
    #[serde(rename = "NextToken")]
    pub next_token: Option<String>,
}

impl ListWorkflowExecutionsOutput {
    /// Parse a `<Response>` body (no status handling; see [`CiAction::parse_response`]).
    pub fn from_xml(body: &[u8]) -> Result<Self, String> {
        let _ = body;
        todo!()
    }
    /// Write the `<Response>` document (what the service sends; the emulator
    /// uses it). `from_xml(write_xml(x)) == x`.
    pub fn write_xml(&self) -> String {
        todo!()
    }
}

impl CiAction for ListWorkflowExecutions {
    type Output = ListWorkflowExecutionsOutput;
    const NAME: &'static str = "ListWorkflowExecutions";
    const PERMISSION: &'static str = "ci:DescribeMediaWorkflowExecutions";

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed("/workflowexecution")
    }
    fn validate(&self) -> Result<(), ValidationError> {
        ListWorkflowExecutions::validate(self)
    }
    fn query_pairs(&self) -> Vec<(&'static str, String)> {
        self.to_query_pairs()
    }
    fn parse_response(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Self::Output, ResponseError> {
        let _ = (status, headers, body);
        todo!()
    }
}

impl PaginatedAction for ListWorkflowExecutions {
    type Item = WorkflowExecution;
    fn start_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
    fn set_next_token(&mut self, token: Option<String>) {
        self.next_token = token;
    }
    fn next_token(output: &Self::Output) -> Option<&str> {
        output.next_token.as_deref().filter(|t| !t.is_empty())
    }
    fn into_items(output: Self::Output) -> Vec<Self::Item> {
        output.executions
    }
    fn cap_page_size(&mut self, max: u32) {
        let current = self.size.map_or(PageSize::DEFAULT, PageSize::get);
        if max < current {
            self.size = PageSize::new(max).ok();
        }
    }
}
