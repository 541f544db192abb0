//! `GET /workflowexecution/<RunId>` — one workflow execution with its tasks
//! and topology (`DescribeMediaWorkflowExecution`).

use crate::{CiTimestamp, ExecutionState, JobState, XmlTree, ci_action, ci_response, xml_record};

ci_action! {
    /// The request: the execution's `RunId`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct DescribeWorkflowExecution {
        /// `RunId`, in the path.
        pub run_id: String = path "RunId",
    }
    action {
        name: "DescribeWorkflowExecution",
        permission: "ci:DescribeMediaWorkflowExecutions",
        method: GET,
        path: "/workflowexecution/{RunId}",
        output: DescribeWorkflowExecutionOutput,
    }
}

xml_record! {
    /// One task of an execution: a node of the workflow's topology run as a job.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct WorkflowTask {
        /// `Type`: the node type (`Transcode`, `Snapshot`, …).
        pub task_type: String = "Type" [default],
        /// `JobId` (use with `GET /jobs/<JobId>`).
        pub job_id: Option<String> = "JobId",
        /// `CreateTime`
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        /// `Name`: the node name, e.g. `Snapshot_1581665960536`.
        pub name: String = "Name" [default],
        /// `State`
        pub state: JobState = "State" [default],
        /// `StartTime` (`-` or empty: not started).
        pub start_time: Option<CiTimestamp> = "StartTime",
        /// `EndTime` (`-` or empty: not ended).
        pub end_time: Option<CiTimestamp> = "EndTime",
        /// `Code`: `Success` or the error code.
        pub code: Option<String> = "Code",
        /// `Message`: why it failed, when it did.
        pub message: Option<String> = "Message",
    }
}

xml_record! {
    /// The execution, in detail.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct WorkflowExecutionDetail {
        /// `WorkflowId`
        pub workflow_id: String = "WorkflowId" [default],
        /// `Name` (older documents: `WorkflowName`): the workflow's name.
        pub workflow_name: Option<String> = "Name" | "WorkflowName",
        /// `RunId`
        pub run_id: String = "RunId",
        /// `CreateTime`
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        /// `Object`: the object key the run processes.
        pub object: String = "Object" [default],
        /// `State`
        pub state: ExecutionState = "State" [default],
        /// `Topology`: the workflow's graph (`Dependencies`, `Nodes`), kept whole.
        pub topology: Option<XmlTree> = "Topology",
        /// `Tasks`, flat repeated.
        pub tasks: Vec<WorkflowTask> = "Tasks",
    }
}

ci_response! {
    /// The answer: exactly one execution.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct DescribeWorkflowExecutionOutput {
        /// `WorkflowExecution`
        pub execution: WorkflowExecutionDetail = "WorkflowExecution",
    }
}
