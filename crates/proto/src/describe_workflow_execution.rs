//! `GET /workflowexecution/<RunId>` — one workflow execution with its tasks
//! and topology (`DescribeMediaWorkflowExecution`).

use crate::{CiTimestamp, ExecutionState, JobState, XmlTree, ci_action, ci_response, xml_record};

ci_action! {
    GET "/workflowexecution/{RunId}" as "DescribeWorkflowExecution" -> DescribeWorkflowExecutionOutput {
        permission: "ci:DescribeMediaWorkflowExecutions",
    }
    /// One workflow execution, by its `RunId`, with its tasks and topology.
    pub struct DescribeWorkflowExecution {
        pub run_id: String = path "RunId",
    }
}

xml_record! {
    /// One task of an execution: a node of the workflow's topology run as a job.
    pub struct WorkflowTask {
        /// `Type`: the node type (`Transcode`, `Snapshot`, …).
        pub task_type: String = "Type" [default],
        /// `JobId` (use with `GET /jobs/<JobId>`).
        pub job_id: Option<String> = "JobId",
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        /// `Name`: the node name, e.g. `Snapshot_1581665960536`.
        pub name: String = "Name" [default],
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
    pub struct WorkflowExecutionDetail {
        pub workflow_id: String = "WorkflowId" [default],
        /// `Name` (older documents: `WorkflowName`): the workflow's name.
        pub workflow_name: Option<String> = "Name" | "WorkflowName",
        pub run_id: String = "RunId",
        pub create_time: Option<CiTimestamp> = "CreateTime" | "CreationTime",
        /// `Object`: the object key the run processes.
        pub object: String = "Object" [default],
        pub state: ExecutionState = "State" [default],
        /// `Topology`: the workflow's graph (`Dependencies`, `Nodes`), kept whole.
        pub topology: Option<XmlTree> = "Topology",
        /// `Tasks`, flat repeated.
        pub tasks: Vec<WorkflowTask> = "Tasks",
    }
}

ci_response! {
    /// The answer: exactly one execution.
    pub struct DescribeWorkflowExecutionOutput {
        pub execution: WorkflowExecutionDetail = "WorkflowExecution",
    }
}
