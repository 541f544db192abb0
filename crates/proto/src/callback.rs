//! Notifications CI sends when a job or a workflow run ends: an HTTP POST
//! to the job's `CallBack` URL (or the queue's or the workflow's
//! `NotifyConfig.Url`), XML by default or JSON (`CallBackFormat`,
//! `ResultFormat`). Reference §4.
//!
//! ```text
//! Response
//! ├─ EventName          TaskFinish | WorkflowFinish (absent on older pages)
//! ├─ JobsDetail         (TaskFinish) the job, as GET /jobs reports it
//! └─ WorkflowExecution  (WorkflowFinish) the run: RunId, State, Tasks, …
//! ```
//!
//! The JSON form uses the same names, but every scalar is a string
//! (`"Progress": "100"`) and a repeated element with one member is a plain
//! object (`"Md5Info": {…}`) rather than an array. The serde derives of
//! the records refuse both (a `u32` from a string, a list from an object),
//! so JSON is read leniently instead ([`XmlDocument::from_json`]): into an
//! [`XmlTree`](crate::XmlTree) (numbers and booleans as text, arrays as
//! repeated elements), then through the same XML reader as the XML form,
//! so both forms are read by one declaration and one set of rules.
//!
//! Notifications carry no signature: a receiver that acts on one should
//! confirm it by fetching the job (`GET /jobs/<JobId>`) or the run
//! (`GET /workflowexecution/<RunId>`).

use crate::schema::XmlDocument;
use crate::xml::XmlError;
use crate::{
    CiTimestamp, CosHeader, ExecutionState, JobDetail, WorkflowTask, open_enum, xml_record,
};

open_enum! {
    /// `EventName`: what ended.
    pub enum CallbackEvent {
        /// A job ended.
        TaskFinish,
        /// A workflow run ended.
        WorkflowFinish,
        /// A workflow run started (seen only in samples).
        WorkflowStart,
    }
}

xml_record! {
    /// `WorkflowExecution` of a workflow notification.
    pub struct WorkflowNotification {
        pub workflow_id: String = "WorkflowId" [default],
        /// `WorkflowName` (may be empty; `Name` in the detail form).
        pub workflow_name: Option<String> = "WorkflowName" | "Name",
        pub run_id: String = "RunId",
        /// `BucketId` (may be empty).
        pub bucket_id: Option<String> = "BucketId",
        /// `Object`: the object key the run processed.
        pub object: Option<String> = "Object",
        /// `CreateTime` (`2022-08-09 14:54:17+0800`: a space, not `T`).
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        /// `State`: `Success`, or `Failed` if any task failed.
        pub state: ExecutionState = "State" [default],
        /// `CosHeaders`, flat repeated (absent when none).
        pub cos_headers: Vec<CosHeader> = "CosHeaders",
        /// `Tasks`, flat repeated.
        pub tasks: Vec<WorkflowTask> = "Tasks",
        ..other
    }
}

xml_record! {
    /// One notification, either kind: a job's (`JobsDetail`) or a workflow
    /// run's (`WorkflowExecution`).
    pub struct CallbackNotification {
        /// `EventName` (absent in older documents: see
        /// [`CallbackNotification::event`]).
        pub event_name: Option<CallbackEvent> = "EventName",
        /// `JobsDetail`: the job (one per notification in every sample;
        /// several are accepted).
        pub jobs: Vec<JobDetail> = "JobsDetail",
        /// `WorkflowExecution`: the run.
        pub workflow_execution: Option<WorkflowNotification> = "WorkflowExecution",
    }
    root = "Response"
}

/// Why a notification body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The body is neither XML (`<`) nor JSON (`{`).
    #[error("the body is neither XML nor JSON (it starts with {0:?})")]
    UnknownFormat(String),
    /// The body is empty.
    #[error("the body is empty")]
    Empty,
    /// The XML, or the JSON read as XML, is not a notification (or not
    /// well-formed).
    #[error("unreadable notification: {0}")]
    Xml(#[from] XmlError),
    /// Neither `JobsDetail` nor `WorkflowExecution`.
    #[error("the notification has neither JobsDetail nor WorkflowExecution")]
    NoSubject,
}

/// The format a notification arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackFormat {
    /// `<Response>…`
    Xml,
    /// `{"EventName": …}`
    Json,
}

impl CallbackFormat {
    /// `XML` or `JSON`, as `CallBackFormat` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackFormat::Xml => "XML",
            CallbackFormat::Json => "JSON",
        }
    }
}

impl CallbackNotification {
    /// Read a notification in either format, chosen by the first byte that
    /// is not white space (`<` XML, `{` JSON): the `Content-Type` header
    /// is not a reliable guide (the documentation shows `application/xml`
    /// on JSON bodies). A UTF-8 byte-order mark is skipped.
    pub fn parse(body: &[u8]) -> Result<(Self, CallbackFormat), CallbackError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let first = body.iter().position(|b| !b.is_ascii_whitespace());
        let notification = match first.map(|index| body[index]) {
            None => return Err(CallbackError::Empty),
            Some(b'<') => (Self::from_xml(body)?, CallbackFormat::Xml),
            Some(b'{') => (Self::from_json(body)?, CallbackFormat::Json),
            Some(_) => {
                let start = first.unwrap_or(0);
                let head = String::from_utf8_lossy(&body[start..body.len().min(start + 16)]);
                return Err(CallbackError::UnknownFormat(head.into_owned()));
            }
        };
        if notification.0.jobs.is_empty() && notification.0.workflow_execution.is_none() {
            return Err(CallbackError::NoSubject);
        }
        Ok(notification)
    }

    /// `EventName`, or what the content says when it is absent (older
    /// documents): `TaskFinish` for a job, `WorkflowFinish` for a run.
    pub fn event(&self) -> CallbackEvent {
        match &self.event_name {
            Some(event) => event.clone(),
            None if self.workflow_execution.is_some() => CallbackEvent::WorkflowFinish,
            None => CallbackEvent::TaskFinish,
        }
    }
}
