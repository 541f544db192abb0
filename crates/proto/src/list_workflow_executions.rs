//! `GET /workflowexecution` — list workflow executions
//! (`ci:DescribeMediaWorkflowExecutions`).
//!
//! # How an action module is laid out
//!
//! Every action (next: `GET /workflowexecution/<RunId>`, `GET /workflow`,
//! `POST /triggerworkflow`, `GET /jobs`) gets one module like this one, in
//! this order:
//!
//! 1. **Parameter types** that make bad values unrepresentable where cheap
//!    ([`PageSize`], [`StateFilter`], [`Order`]), each with `FromStr` /
//!    `Display` using the wire spelling and a [`ValidationError`] naming the
//!    wire parameter.
//! 2. **The request** struct: one `Option` field per wire parameter, `None`
//!    = not sent. `validate()` checks the cross-field rules;
//!    `to_query_pairs()` lists `(wire name, raw value)` in a fixed order;
//!    `from_query_pairs()` (the emulator's side) uses
//!    `crate::query::QuerySlots` to refuse unknown and repeated parameters
//!    and treat empty values as unset, then parses each value and validates.
//! 3. **The output** struct with serde names equal to the XML element
//!    names; `from_xml` walks the document with `crate::xml::XmlReader`
//!    (`open` the root, loop `next_child`, `read_text` leaves, `enter`
//!    containers, `skip` the rest, `finish`), so unknown elements are ignored
//!    and broken documents are errors; `write_xml` uses the `crate::xml`
//!    writers. Timestamps are [`CiTimestamp`], open enums keep unknown text.
//! 4. **The [`CiAction`] impl**: method, decoded path, `query_pairs`, and
//!    `parse_response` = [`crate::error::check_status`], then `from_xml`
//!    mapped to [`crate::MalformedResponse::new`], then header fallbacks
//!    (request id). Listings also implement [`PaginatedAction`].
//!
//! Tests follow the same shape: a proptest query round trip, a proptest XML
//! round trip, insta snapshots of the documented sample and of each error
//! form, and a table of validation rules.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::{MalformedResponse, check_status, request_id_from_headers};
use crate::query::QuerySlots;
use crate::xml::{self, XmlError, XmlReader, set_once};
use crate::{CiAction, CiTimestamp, PaginatedAction, QueryError, ResponseError, ValidationError};

/// Wire names of the query parameters, in the order they are sent.
const WORKFLOW_ID: &str = "workflowId";
const NAME: &str = "name";
const ORDER_BY_TIME: &str = "orderByTime";
const SIZE: &str = "size";
const STATES: &str = "states";
const START_CREATION_TIME: &str = "startCreationTime";
const END_CREATION_TIME: &str = "endCreationTime";
const NEXT_TOKEN: &str = "nextToken";
const JOB_ID: &str = "jobId";
/// Longest `name` in bytes: COS's limit on an object key.
pub const MAX_NAME_BYTES: usize = 850;
/// Longest `workflowId` or `jobId` in bytes (real ids are 33–35 characters).
pub const MAX_ID_BYTES: usize = 128;
/// Longest `nextToken` in bytes, sent or received. Together with the other
/// limits this keeps every request URI (each byte encoded as up to three)
/// under 8 KiB, which proxies and the emulator accept and `http::Uri` can
/// hold; a longer token from the service could never be sent back.
pub const MAX_NEXT_TOKEN_BYTES: usize = 1024;
const PARAMETERS: [&str; 9] = [
    WORKFLOW_ID,
    NAME,
    ORDER_BY_TIME,
    SIZE,
    STATES,
    START_CREATION_TIME,
    END_CREATION_TIME,
    NEXT_TOKEN,
    JOB_ID,
];

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

impl Order {
    /// The wire spelling, `Desc` or `Asc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Desc => "Desc",
            Order::Asc => "Asc",
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Order {
    type Err = ValidationError;
    /// Exactly `Desc` or `Asc`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Desc" => Ok(Order::Desc),
            "Asc" => Ok(Order::Asc),
            _ => Err(ValidationError::new(
                ORDER_BY_TIME,
                format!(
                    "must be `Desc` or `Asc`, got `{}`",
                    crate::query::excerpt(s, 40)
                ),
            )),
        }
    }
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
        if (1..=Self::MAX).contains(&size) {
            Ok(PageSize(size))
        } else {
            Err(ValidationError::new(
                SIZE,
                format!("must be between 1 and {}, got {size}", Self::MAX),
            ))
        }
    }
    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize(Self::DEFAULT)
    }
}

impl fmt::Display for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for PageSize {
    type Err = ValidationError;
    /// Decimal digits only (no sign, no spaces), then [`PageSize::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let not_a_number = || {
            ValidationError::new(
                SIZE,
                format!(
                    "must be an integer between 1 and {}, got `{}`",
                    Self::MAX,
                    crate::query::excerpt(s, 40)
                ),
            )
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_number());
        }
        // Too many digits for u32 is simply out of range.
        let size = s.parse::<u32>().unwrap_or(u32::MAX);
        PageSize::new(size)
    }
}

impl serde::Serialize for PageSize {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PageSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let size = <u32 as serde::Deserialize>::deserialize(deserializer)?;
        PageSize::new(size).map_err(serde::de::Error::custom)
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

impl StateFilter {
    /// Every value, in wire order.
    pub const ALL_VALUES: [StateFilter; 5] = [
        StateFilter::All,
        StateFilter::Success,
        StateFilter::Failed,
        StateFilter::Running,
        StateFilter::Cancel,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::All => "All",
            StateFilter::Success => "Success",
            StateFilter::Failed => "Failed",
            StateFilter::Running => "Running",
            StateFilter::Cancel => "Cancel",
        }
    }
}

impl fmt::Display for StateFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StateFilter {
    type Err = ValidationError;
    /// The exact wire names (case matters: the service's spelling is the
    /// only one known to work).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL_VALUES
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    STATES,
                    format!(
                        "unknown state `{}`; expected one of All, Success, Failed, Running, Cancel",
                        crate::query::excerpt(s, 40)
                    ),
                )
            })
    }
}

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

impl ExecutionState {
    /// The text as the service writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ExecutionState::Success => "Success",
            ExecutionState::Failed => "Failed",
            ExecutionState::Running => "Running",
            ExecutionState::Cancel => "Cancel",
            ExecutionState::Other(text) => text,
        }
    }
}

impl From<&str> for ExecutionState {
    /// Known names map to their variant (exact match); anything else is kept.
    fn from(text: &str) -> Self {
        match text {
            "Success" => ExecutionState::Success,
            "Failed" => ExecutionState::Failed,
            "Running" => ExecutionState::Running,
            "Cancel" => ExecutionState::Cancel,
            other => ExecutionState::Other(other.to_owned()),
        }
    }
}

impl From<String> for ExecutionState {
    fn from(text: String) -> Self {
        match ExecutionState::from(text.as_str()) {
            ExecutionState::Other(_) => ExecutionState::Other(text),
            known => known,
        }
    }
}

impl fmt::Display for ExecutionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ExecutionState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ExecutionState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ExecutionState::from)
    }
}

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
    /// set, lengths ([`MAX_NAME_BYTES`], [`MAX_ID_BYTES`],
    /// [`MAX_NEXT_TOKEN_BYTES`]), a non-empty states set, start not after end.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let texts = [
            (WORKFLOW_ID, &self.workflow_id, MAX_ID_BYTES),
            (NAME, &self.name, MAX_NAME_BYTES),
            (NEXT_TOKEN, &self.next_token, MAX_NEXT_TOKEN_BYTES),
            (JOB_ID, &self.job_id, MAX_ID_BYTES),
        ];
        for (parameter, value, max_bytes) in texts {
            match value.as_deref() {
                Some("") => {
                    return Err(ValidationError::new(
                        parameter,
                        "must not be empty when set (leave it unset instead)",
                    ));
                }
                Some(text) if text.len() > max_bytes => {
                    return Err(ValidationError::new(
                        parameter,
                        format!(
                            "must be at most {max_bytes} bytes, got {} bytes",
                            text.len()
                        ),
                    ));
                }
                _ => {}
            }
        }
        if self.states.as_ref().is_some_and(BTreeSet::is_empty) {
            return Err(ValidationError::new(
                STATES,
                "must name at least one state when set (leave it unset for All)",
            ));
        }
        if let (Some(start), Some(end)) = (&self.start_creation_time, &self.end_creation_time)
            && start.unix_seconds() > end.unix_seconds()
        {
            return Err(ValidationError::new(
                START_CREATION_TIME,
                format!(
                    "must not be after {END_CREATION_TIME} ({} is after {})",
                    start.to_api_string(),
                    end.to_api_string()
                ),
            ));
        }
        Ok(())
    }
    /// Raw (decoded) pairs in a fixed order, unset parameters left out.
    /// Timestamps use [`CiTimestamp::to_api_string`]; states join with `,`.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::with_capacity(PARAMETERS.len());
        let mut push = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        };
        push(WORKFLOW_ID, self.workflow_id.clone());
        push(NAME, self.name.clone());
        push(
            ORDER_BY_TIME,
            self.order.map(|order| order.as_str().to_owned()),
        );
        push(SIZE, self.size.map(|size| size.to_string()));
        push(
            STATES,
            self.states.as_ref().map(|states| {
                states
                    .iter()
                    .map(|state| state.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        );
        push(
            START_CREATION_TIME,
            self.start_creation_time
                .as_ref()
                .map(CiTimestamp::to_api_string),
        );
        push(
            END_CREATION_TIME,
            self.end_creation_time
                .as_ref()
                .map(CiTimestamp::to_api_string),
        );
        push(NEXT_TOKEN, self.next_token.clone());
        push(JOB_ID, self.job_id.clone());
        pairs
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
        let slots = QuerySlots::collect(PARAMETERS, pairs)?;
        let text = |name| slots.get(name).map(str::to_owned);
        let time = |name: &'static str| {
            slots
                .get(name)
                .map(|value| {
                    CiTimestamp::parse(value)
                        .map_err(|error| ValidationError::new(name, error.to_string()))
                })
                .transpose()
        };
        let request = ListWorkflowExecutions {
            workflow_id: text(WORKFLOW_ID),
            name: text(NAME),
            order: slots.get(ORDER_BY_TIME).map(Order::from_str).transpose()?,
            size: slots.get(SIZE).map(PageSize::from_str).transpose()?,
            states: slots.get(STATES).map(parse_states).transpose()?,
            start_creation_time: time(START_CREATION_TIME)?,
            end_creation_time: time(END_CREATION_TIME)?,
            next_token: text(NEXT_TOKEN),
            job_id: text(JOB_ID),
        };
        request.validate()?;
        Ok(request)
    }
    /// `decode_query` then [`Self::from_query_pairs`].
    pub fn from_wire_query(wire: &str) -> Result<Self, QueryError> {
        Self::from_query_pairs(&crate::query::decode_query(wire)?)
    }
}

/// `Success,Failed` → a set; an empty item (`Success,,Failed`) is an error.
fn parse_states(value: &str) -> Result<BTreeSet<StateFilter>, ValidationError> {
    value
        .split(',')
        .map(|item| {
            if item.is_empty() {
                Err(ValidationError::new(
                    STATES,
                    "has an empty item in its comma-separated list",
                ))
            } else {
                StateFilter::from_str(item)
            }
        })
        .collect()
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
    #[serde(rename = "WorkflowExecutionList", default)]
    pub executions: Vec<WorkflowExecution>,
    /// `NextToken`; `None` when absent or empty (the last page).
    #[serde(rename = "NextToken")]
    pub next_token: Option<String>,
}

impl ListWorkflowExecutionsOutput {
    /// Parse a `<Response>` body (no status handling; see [`CiAction::parse_response`]).
    pub fn from_xml(body: &[u8]) -> Result<Self, String> {
        Ok(read_output(body)?)
    }
    /// Write the `<Response>` document (what the service sends; the emulator
    /// uses it). `from_xml(write_xml(x)) == x`.
    pub fn write_xml(&self) -> String {
        let mut out = String::with_capacity(64 + self.executions.len() * 300);
        xml::open_element(&mut out, RESPONSE);
        if let Some(request_id) = &self.request_id {
            xml::write_text_element(&mut out, "RequestId", request_id);
        }
        for execution in &self.executions {
            xml::open_element(&mut out, EXECUTION);
            xml::write_text_element(&mut out, "RunId", &execution.run_id);
            xml::write_text_element(&mut out, "WorkflowId", &execution.workflow_id);
            xml::write_text_element(&mut out, "Object", &execution.object);
            if let Some(create_time) = &execution.create_time {
                xml::write_text_element(&mut out, "CreateTime", create_time.as_str());
            }
            xml::write_text_element(&mut out, "State", execution.state.as_str());
            xml::close_element(&mut out, EXECUTION);
        }
        // An empty token reads back as "last page" either way; leave it out.
        if let Some(next_token) = self.next_token.as_deref().filter(|token| !token.is_empty()) {
            xml::write_text_element(&mut out, "NextToken", next_token);
        }
        xml::close_element(&mut out, RESPONSE);
        out
    }
}

const RESPONSE: &str = "Response";
const EXECUTION: &str = "WorkflowExecutionList";

fn read_output(body: &[u8]) -> Result<ListWorkflowExecutionsOutput, XmlError> {
    let mut reader = XmlReader::open(body, RESPONSE)?;
    // A sample-like execution is ~260 bytes; reserving up front saves the
    // vector's regrowth copies on a full page.
    let mut output = ListWorkflowExecutionsOutput {
        executions: Vec::with_capacity((body.len() / 256).min(128)),
        ..Default::default()
    };
    let mut request_id = None;
    let mut next_token = None;
    while let Some(child) = reader.next_child()? {
        match child.name() {
            b"WorkflowExecutionList" => {
                reader.enter(child);
                let execution = read_execution(&mut reader, output.executions.len())?;
                output.executions.push(execution);
            }
            b"RequestId" => set_once(&mut request_id, reader.read_text(child)?, "RequestId")?,
            b"NextToken" => set_once(&mut next_token, reader.read_text(child)?, "NextToken")?,
            _ => reader.skip(child)?,
        }
    }
    reader.finish()?;
    output.request_id = non_empty(request_id);
    output.next_token = non_empty(next_token);
    if let Some(token) = output
        .next_token
        .as_ref()
        .filter(|token| token.len() > MAX_NEXT_TOKEN_BYTES)
    {
        // Accepting the page would only fail at the next request, as if the
        // caller had asked for something wrong.
        return Err(XmlError::new(format!(
            "<NextToken> is {} bytes, longer than the {MAX_NEXT_TOKEN_BYTES} bytes a request may carry",
            token.len()
        )));
    }
    Ok(output)
}

fn non_empty(text: Option<Cow<'_, str>>) -> Option<String> {
    text.filter(|text| !text.is_empty()).map(Cow::into_owned)
}

/// The children of one `<WorkflowExecutionList>` (already entered).
fn read_execution(reader: &mut XmlReader<'_>, index: usize) -> Result<WorkflowExecution, XmlError> {
    let mut run_id = None;
    let mut workflow_id = None;
    let mut object = None;
    let mut create_time = None;
    let mut creation_time = None;
    let mut state = None;
    while let Some(child) = reader.next_child()? {
        match child.name() {
            b"RunId" => set_once(&mut run_id, reader.read_text(child)?, "RunId")?,
            b"WorkflowId" => set_once(&mut workflow_id, reader.read_text(child)?, "WorkflowId")?,
            b"Object" => set_once(&mut object, reader.read_text(child)?, "Object")?,
            b"CreateTime" => set_once(&mut create_time, reader.read_text(child)?, "CreateTime")?,
            // An older revision of the API page used this name.
            b"CreationTime" => {
                set_once(&mut creation_time, reader.read_text(child)?, "CreationTime")?
            }
            b"State" => set_once(&mut state, reader.read_text(child)?, "State")?,
            _ => reader.skip(child)?,
        }
    }
    let position = || format!("{EXECUTION} #{}", index + 1);
    let run_id = run_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| XmlError::new(format!("{} has no <RunId>", position())))?;
    let create_time = match create_time
        .or(creation_time)
        .filter(|text| !text.is_empty())
    {
        Some(text) => Some(CiTimestamp::parse(&text).map_err(|error| {
            XmlError::new(format!(
                "{} (RunId {run_id}): <CreateTime>: {error}",
                position()
            ))
        })?),
        None => None,
    };
    Ok(WorkflowExecution {
        run_id: run_id.into_owned(),
        workflow_id: workflow_id.map(Cow::into_owned).unwrap_or_default(),
        object: object.map(Cow::into_owned).unwrap_or_default(),
        create_time,
        state: state.map_or(ExecutionState::Other(String::new()), |text| {
            ExecutionState::from(text.as_ref())
        }),
    })
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
        check_status(status, headers, body)?;
        let mut output = read_output(body).map_err(|error| {
            ResponseError::Malformed(MalformedResponse::new(
                status,
                headers,
                "<Response>",
                String::from(error),
                body,
            ))
        })?;
        if output.request_id.is_none() {
            output.request_id = request_id_from_headers(headers);
        }
        Ok(output)
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
