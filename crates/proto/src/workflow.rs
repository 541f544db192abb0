//! Workflows (`/workflow`, `/triggerworkflow`): list, create, update,
//! delete, activate, pause and trigger (`ci:DescribeMediaWorkflows`,
//! `ci:CreateMediaWorkflow`, `ci:UpdateMediaWorkflow`,
//! `ci:DeleteMediaWorkflow`, `ci:TriggerMediaWorkflow`).

use crate::action::BodyRules;
use crate::schema::EmptyOutput;
use crate::{CiTimestamp, ValidationError, XmlTree, ci_action, ci_response, open_enum, xml_record};

open_enum! {
    /// Whether a workflow runs on new objects.
    pub enum WorkflowState {
        Active,
        Paused,
    }
}

xml_record! {
    /// One workflow as the service reports it.
    pub struct MediaWorkflow {
        pub name: String = "Name" [default],
        pub state: WorkflowState = "State" [default],
        pub workflow_id: String = "WorkflowId",
        pub bucket_id: Option<String> = "BucketId",
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        pub update_time: Option<CiTimestamp> = "UpdateTime",
        /// `Topology` (`Dependencies`, `Nodes`), kept whole.
        pub topology: Option<XmlTree> = "Topology",
    }
}

xml_record! {
    /// What a user writes to create or update a workflow.
    pub struct WorkflowDefinition {
        /// `Name`: at most 128 letters, digits, `-`, `_` or Chinese characters.
        pub name: String = "Name",
        /// `State` (`Active` or `Paused`; the service's default when unset).
        pub state: Option<WorkflowState> = "State",
        pub topology: XmlTree = "Topology",
    }
}

xml_record! {
    /// The `<Request>` body of create and update.
    pub struct WorkflowRequest {
        pub workflow: WorkflowDefinition = "MediaWorkflow",
    }
    root = "Request"
}

impl WorkflowRequest {
    /// A request body for `definition`.
    pub fn new(definition: WorkflowDefinition) -> Self {
        WorkflowRequest {
            workflow: definition,
        }
    }
}

impl BodyRules for WorkflowRequest {
    /// The workflow's `Name` (see [`check_workflow_name`]) and a non-empty
    /// `Topology`.
    fn check_body(&self) -> Result<(), ValidationError> {
        check_workflow_name(&self.workflow.name)?;
        if self.workflow.topology.children().is_empty() {
            return Err(ValidationError::new(
                "Topology",
                "must have `Dependencies` and `Nodes`",
            ));
        }
        Ok(())
    }
}

/// A workflow `Name`: 1 to 128 characters, each a letter, digit, `-`, `_`
/// or a Chinese character (the documented set).
pub fn check_workflow_name(name: &str) -> Result<(), ValidationError> {
    let count = name.chars().count();
    if count == 0 || count > 128 {
        return Err(ValidationError::new(
            "Name",
            format!("must be 1 to 128 characters, got {count}"),
        ));
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || c == '-' || c == '_' || ('\u{4e00}'..='\u{9fff}').contains(&c)
    };
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(ValidationError::new(
            "Name",
            format!(
                "may hold only letters, digits, `-`, `_` and Chinese characters, not {:?}",
                bad
            ),
        ));
    }
    Ok(())
}

ci_response! {
    /// One page of workflows (no `TotalCount` when listing by `ids`).
    pub struct ListWorkflowsOutput {
        /// `MediaWorkflowList`, flat repeated.
        pub workflows: Vec<MediaWorkflow> = "MediaWorkflowList",
        /// `NonExistIDs`: asked-for ids that do not exist.
        pub non_exist_ids: Vec<String> = "NonExistIDs",
    }
    envelope = page_number
}

ci_action! {
    GET "/workflow" as "DescribeMediaWorkflows" -> ListWorkflowsOutput {
        paging: page_number { items: workflows: MediaWorkflow },
    }
    /// List workflows, by page.
    pub struct ListWorkflows {
        /// `ids`: these workflows only (sent comma-separated).
        pub ids: Option<Vec<String>> = query "ids",
        pub name: Option<String> = query "name",
    }
}

ci_response! {
    /// The workflow as created or updated.
    pub struct WorkflowOutput {
        pub workflow: MediaWorkflow = "MediaWorkflow",
    }
}

ci_action! {
    POST "/workflow" as "CreateMediaWorkflow" -> WorkflowOutput;
    /// Create a workflow.
    pub struct CreateWorkflow {
        pub request: WorkflowRequest = body,
    }
}

ci_action! {
    PUT "/workflow/{WorkflowId}" as "UpdateMediaWorkflow" -> WorkflowOutput;
    /// Update a workflow.
    pub struct UpdateWorkflow {
        pub workflow_id: String = path "WorkflowId",
        pub request: WorkflowRequest = body,
    }
}

ci_response! {
    /// The deleted workflow's id.
    pub struct DeleteWorkflowOutput {
        pub workflow_id: Option<String> = "WorkflowId",
    }
}

ci_action! {
    DELETE "/workflow/{WorkflowId}" as "DeleteMediaWorkflow" -> DeleteWorkflowOutput;
    /// Delete a workflow.
    pub struct DeleteWorkflow {
        pub workflow_id: String = path "WorkflowId",
    }
}

ci_action! {
    PUT "/workflow/{WorkflowId}" ?active as "ActivateMediaWorkflow" -> EmptyOutput {
        permission: "ci:UpdateMediaWorkflow",
    }
    /// Run on new objects again.
    pub struct ActivateWorkflow {
        pub workflow_id: String = path "WorkflowId",
    }
}

ci_action! {
    PUT "/workflow/{WorkflowId}" ?paused as "PauseMediaWorkflow" -> EmptyOutput {
        permission: "ci:UpdateMediaWorkflow",
    }
    /// Stop running on new objects.
    pub struct PauseWorkflow {
        pub workflow_id: String = path "WorkflowId",
    }
}

ci_response! {
    /// The new execution's id.
    pub struct TriggerWorkflowOutput {
        /// `InstanceId`: the `RunId` of the execution started.
        pub instance_id: String = "InstanceId",
    }
}

ci_action! {
    POST "/triggerworkflow" as "TriggerMediaWorkflow" -> TriggerWorkflowOutput {
        rules: TriggerWorkflow::check,
    }
    /// Run a workflow on one object. Not idempotent: never retried once it
    /// may have reached the service.
    pub struct TriggerWorkflow {
        pub workflow_id: String = query "workflowId",
        /// `object`: the object key.
        pub object: String = query "object",
        /// `name`: a batch-trigger job name (at most 128 characters).
        pub name: Option<String> = query "name",
    }
}

impl TriggerWorkflow {
    fn check(&self) -> Result<(), ValidationError> {
        if self
            .name
            .as_ref()
            .is_some_and(|name| name.chars().count() > 128)
        {
            return Err(ValidationError::new(
                "name",
                "must be at most 128 characters",
            ));
        }
        Ok(())
    }
}

/// The node every path of a workflow's `Topology.Dependencies` starts from.
pub const TOPOLOGY_START: &str = "Start";
/// The name a `Dependencies` entry lists for "no successor".
pub const TOPOLOGY_END: &str = "End";

/// The names one `Topology.Dependencies` entry lists as its node's
/// successors: its text split on commas, each trimmed, empty items dropped
/// ([`TOPOLOGY_END`] included, for the caller to treat as it needs).
pub fn successor_names(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
}
