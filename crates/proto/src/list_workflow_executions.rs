//! `GET /workflowexecution` — list workflow executions
//! (`ci:DescribeMediaWorkflowExecutions`).
//!
//! The whole action is its declaration: the request's parameters with
//! their wire names, the output's elements, and the paging. See
//! `docs/architecture.md` ("How to add an API action").

use std::collections::BTreeSet;

use crate::types::check_max_bytes;
use crate::{
    CiTimestamp, ExecutionState, StateFilter, ValidationError, ci_action, ci_response, xml_record,
};

ci_action! {
    GET "/workflowexecution" as "ListWorkflowExecutions" -> ListWorkflowExecutionsOutput {
        permission: "ci:DescribeMediaWorkflowExecutions",
        rules: ListWorkflowExecutions::check_rules,
        paging: token_by_creation_time {
            items: executions: WorkflowExecution, time: create_time, id: run_id
        },
    }
    /// List workflow executions, by token. All nine parameters are
    /// optional; unset ones are not sent.
    pub struct ListWorkflowExecutions {
        pub workflow_id: Option<String> = query "workflowId",
        /// `name`: exact object key.
        pub name: Option<String> = query "name",
        /// `states`: a set, sent comma-separated.
        pub states: Option<BTreeSet<StateFilter>> = query "states",
        /// `jobId`: the batch-trigger job.
        pub job_id: Option<String> = query "jobId",
    }
}

/// Longest `name` in bytes: COS's limit on an object key.
pub const MAX_NAME_BYTES: usize = 850;
/// Longest `workflowId` or `jobId` in bytes (real ids are 33–35 characters).
pub const MAX_ID_BYTES: usize = 128;

impl ListWorkflowExecutions {
    fn check_rules(&self) -> Result<(), ValidationError> {
        check_max_bytes(self.workflow_id.as_deref(), "workflowId", MAX_ID_BYTES)?;
        check_max_bytes(self.name.as_deref(), "name", MAX_NAME_BYTES)?;
        check_max_bytes(self.job_id.as_deref(), "jobId", MAX_ID_BYTES)
    }
}

xml_record! {
    /// One workflow execution. Serde names are the API's element names.
    pub struct WorkflowExecution {
        pub run_id: String = "RunId",
        pub workflow_id: String = "WorkflowId" [default],
        pub object: String = "Object" [default],
        /// `CreateTime` (an older revision of the API page said `CreationTime`).
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        pub state: ExecutionState = "State" [default],
    }
}

ci_response! {
    /// One page of executions.
    pub struct ListWorkflowExecutionsOutput {
        /// `WorkflowExecutionList`, flat repeated: always a list.
        pub executions: Vec<WorkflowExecution> = "WorkflowExecutionList",
        /// `NextToken`; `None` when absent or empty (the last page).
        pub next_token: Option<String> = "NextToken",
    }
}
