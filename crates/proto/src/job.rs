//! Media jobs (`/jobs`): list, describe one or several, submit, cancel
//! (`ci:DescribeMediaJobs`, `ci:DescribeMediaJob`, `ci:CreateMediaJobs`,
//! `ci:CancelMediaJob`).

use std::collections::BTreeSet;

use crate::action::BodyRules;
use crate::schema::EmptyOutput;
use crate::{CiTimestamp, JobState, ValidationError, XmlTree, ci_action, ci_response, xml_record};

/// The jobs' `states` filter, declared with [`JobState`].
pub use crate::types::JobStateFilter;

xml_record! {
    /// A `CosHeaders` entry of a workflow-started job's input.
    pub struct CosHeader {
        pub key: String = "Key" [default],
        pub value: String = "Value" [default],
    }
}

xml_record! {
    /// A job's `Input` as reported (the documents disagree: `Bucket` in
    /// tables, `BucketId` in samples; both are kept).
    pub struct JobInput {
        pub object: Option<String> = "Object",
        pub bucket_id: Option<String> = "BucketId",
        pub bucket: Option<String> = "Bucket",
        pub region: Option<String> = "Region",
        /// `CosHeaders`, flat repeated.
        pub cos_headers: Vec<CosHeader> = "CosHeaders",
        ..other
    }
}

xml_record! {
    /// Where a job writes (`Operation.Output`).
    pub struct JobOutput {
        pub region: String = "Region" [default],
        pub bucket: String = "Bucket" [default],
        /// `Object` (may hold wildcards such as `${Number}`).
        pub object: String = "Object" [default],
        /// `SpriteObject` (snapshots).
        pub sprite_object: Option<String> = "SpriteObject",
    }
}

xml_record! {
    /// One `Md5Info` of an output file.
    pub struct Md5Info {
        pub md5: String = "Md5" [default],
        pub object_name: String = "ObjectName" [default],
    }
}

xml_record! {
    /// `MediaResult.OutputFile`: what a finished job wrote. The output key
    /// is `ObjectPrefix` + each `ObjectName`.
    pub struct OutputFile {
        pub bucket: Option<String> = "Bucket",
        pub region: Option<String> = "Region",
        pub object_prefix: Option<String> = "ObjectPrefix",
        /// `ObjectName`, flat repeated.
        pub object_names: Vec<String> = "ObjectName",
        /// `Md5Info`, flat repeated.
        pub md5_info: Vec<Md5Info> = "Md5Info",
        /// Anything else (`SpriteOutputFile`, …), kept.
        ..other
    }
}

impl OutputFile {
    /// The full keys written: `ObjectPrefix` + each `ObjectName`.
    pub fn keys(&self) -> Vec<String> {
        let prefix = self.object_prefix.as_deref().unwrap_or("");
        self.object_names
            .iter()
            .map(|name| format!("{prefix}{name}"))
            .collect()
    }
}

xml_record! {
    /// `Operation.MediaResult`.
    pub struct MediaResult {
        pub output_file: Option<OutputFile> = "OutputFile",
        ..other
    }
}

xml_record! {
    /// A job's `Operation`: typed for transcoding and snapshots (a template,
    /// or inline parameters kept as a tree), every other element kept.
    pub struct JobOperation {
        /// `TemplateId` (wins over inline parameters).
        pub template_id: Option<String> = "TemplateId",
        /// `TemplateName` (reported).
        pub template_name: Option<String> = "TemplateName",
        /// `Transcode`: inline transcoding parameters.
        pub transcode: Option<XmlTree> = "Transcode",
        /// `Snapshot`: inline snapshot parameters.
        pub snapshot: Option<XmlTree> = "Snapshot",
        /// `WatermarkTemplateId`, flat repeated.
        pub watermark_template_ids: Vec<String> = "WatermarkTemplateId",
        pub output: Option<JobOutput> = "Output",
        /// `UserData`: echoed back (printable ASCII, at most 1024).
        pub user_data: Option<String> = "UserData",
        /// `JobLevel`: 0, 1 or 2 (higher first).
        pub job_level: Option<u32> = "JobLevel",
        /// `MediaInfo` (reported when finished).
        pub media_info: Option<XmlTree> = "MediaInfo",
        /// `MediaResult` (reported when finished).
        pub media_result: Option<MediaResult> = "MediaResult",
        /// Anything else (other tags' parameters and results), kept.
        ..other
    }
}

xml_record! {
    /// `Workflow`: which workflow run started a job.
    pub struct JobWorkflow {
        /// `Name`: the node.
        pub name: Option<String> = "Name",
        pub run_id: Option<String> = "RunId",
        pub workflow_id: Option<String> = "WorkflowId",
        pub workflow_name: Option<String> = "WorkflowName",
    }
}

xml_record! {
    /// One job (`JobsDetail`), as the service reports it; elements not
    /// modelled are kept.
    pub struct JobDetail {
        /// `Code`: `Success` or the error code (meaningful once `Failed`).
        pub code: Option<String> = "Code",
        pub message: Option<String> = "Message",
        pub job_id: String = "JobId",
        /// `Tag`: the job type.
        pub tag: String = "Tag" [default],
        pub sub_tag: Option<String> = "SubTag",
        pub state: JobState = "State" [default],
        /// `Progress`: 0–100.
        pub progress: Option<u32> = "Progress",
        /// `CreationTime` (jobs say `CreationTime`, not `CreateTime`).
        pub creation_time: Option<CiTimestamp> = "CreationTime" | "CreateTime",
        /// `StartTime` (`-`: not started).
        pub start_time: Option<CiTimestamp> = "StartTime",
        /// `EndTime` (`-`: not ended).
        pub end_time: Option<CiTimestamp> = "EndTime",
        pub queue_id: Option<String> = "QueueId",
        pub input: Option<JobInput> = "Input",
        pub operation: Option<JobOperation> = "Operation",
        /// `Workflow`: set for jobs a workflow run started.
        pub workflow: Option<JobWorkflow> = "Workflow",
        ..other
    }
}

ci_response! {
    /// One page of jobs.
    pub struct ListJobsOutput {
        /// `JobsDetail`, flat repeated.
        pub jobs: Vec<JobDetail> = "JobsDetail",
        /// `NextToken`; `None` on the last page.
        pub next_token: Option<String> = "NextToken",
    }
}

ci_action! {
    GET "/jobs" as "DescribeMediaJobs" -> ListJobsOutput {
        paging: token_by_creation_time { items: jobs: JobDetail, time: creation_time, id: job_id },
    }
    /// List jobs of one tag, by token.
    pub struct ListJobs {
        /// `tag` (required): `Transcode`, `Snapshot`, …
        pub tag: String = query "tag",
        pub queue_id: Option<String> = query "queueId",
        /// `queueType` (`queueId` wins when both are set).
        pub queue_type: Option<String> = query "queueType",
        /// `workflowId`: jobs a workflow started.
        pub workflow_id: Option<String> = query "workflowId",
        /// `inventoryTriggerJobId`: jobs a batch trigger started.
        pub inventory_trigger_job_id: Option<String> = query "inventoryTriggerJobId",
        /// `inputObject`: exact input key.
        pub input_object: Option<String> = query "inputObject",
        pub states: Option<BTreeSet<JobStateFilter>> = query "states",
    }
}

ci_response! {
    /// The jobs asked for.
    pub struct DescribeJobsOutput {
        /// `JobsDetail`, flat repeated.
        pub jobs: Vec<JobDetail> = "JobsDetail",
        /// `NonExistJobIds`: asked-for ids with no job (repeated, or one
        /// comma-separated element: see [`DescribeJobsOutput::missing_ids`]).
        pub non_exist_job_ids: Vec<String> = "NonExistJobIds",
    }
}

impl JobDetail {
    /// The keys a finished job wrote (`Operation.MediaResult.OutputFile`:
    /// `ObjectPrefix` + each `ObjectName`); empty until it has.
    pub fn output_keys(&self) -> Vec<String> {
        self.operation
            .as_ref()
            .and_then(|operation| operation.media_result.as_ref())
            .and_then(|result| result.output_file.as_ref())
            .map(OutputFile::keys)
            .unwrap_or_default()
    }
}

impl DescribeJobsOutput {
    /// Every id reported missing, whichever form the service used.
    pub fn missing_ids(&self) -> Vec<&str> {
        self.non_exist_job_ids
            .iter()
            .flat_map(|ids| ids.split(','))
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .collect()
    }
}

ci_action! {
    GET "/jobs/{JobIds}" as "DescribeMediaJob" -> DescribeJobsOutput;
    /// Describe one or several jobs.
    pub struct DescribeJobs {
        /// The job ids, sent comma-separated in one path segment.
        pub job_ids: Vec<String> = path "JobIds",
    }
}

xml_record! {
    /// `Input` of a job submission.
    pub struct JobRequestInput {
        /// `Object`: the key in this bucket.
        pub object: String = "Object",
    }
}

xml_record! {
    /// The `<Request>` of a job submission.
    pub struct JobRequest {
        /// `Tag`: `Transcode`, `Snapshot`, …
        pub tag: String = "Tag",
        pub input: JobRequestInput = "Input",
        pub operation: JobOperation = "Operation",
        /// `QueueId` (the default queue when unset).
        pub queue_id: Option<String> = "QueueId",
        /// `QueueType` (`SpeedTranscoding`).
        pub queue_type: Option<String> = "QueueType",
        /// `CallBack`: a URL notified when the job ends (`no`: none).
        pub callback: Option<String> = "CallBack",
        /// `CallBackFormat`: `XML` (default) or `JSON`.
        pub callback_format: Option<String> = "CallBackFormat",
        /// `CallBackType`: `Url` (default) or `TDMQ`.
        pub callback_type: Option<String> = "CallBackType",
    }
    root = "Request"
}

impl BodyRules for JobRequest {
    /// The documented rules: a tag and an input key; for `Transcode` and
    /// `Snapshot` an output and a template or inline parameters; `UserData`
    /// printable ASCII of at most 1024; `JobLevel` 0–2; known callback
    /// format and type.
    fn check_body(&self) -> Result<(), ValidationError> {
        if self.tag.is_empty() {
            return Err(ValidationError::new("Tag", "is required"));
        }
        if self.input.object.is_empty() {
            return Err(ValidationError::new("Input.Object", "is required"));
        }
        let operation = &self.operation;
        let inline = match self.tag.as_str() {
            "Transcode" => Some(operation.transcode.is_some()),
            "Snapshot" => Some(operation.snapshot.is_some()),
            _ => None,
        };
        if let Some(inline) = inline {
            if operation.template_id.is_none() && !inline {
                return Err(ValidationError::new(
                    "Operation.TemplateId",
                    format!(
                        "a {} job needs a template id or inline parameters",
                        self.tag
                    ),
                ));
            }
            let output = operation.output.as_ref();
            if output.is_none_or(|output| {
                output.region.is_empty() || output.bucket.is_empty() || output.object.is_empty()
            }) {
                return Err(ValidationError::new(
                    "Operation.Output",
                    "needs Region, Bucket and Object",
                ));
            }
        }
        if let Some(user_data) = &operation.user_data
            && (user_data.len() > 1024 || !user_data.bytes().all(|b| (0x20..0x7f).contains(&b)))
        {
            return Err(ValidationError::new(
                "Operation.UserData",
                "must be printable ASCII of at most 1024 characters",
            ));
        }
        if operation.job_level.is_some_and(|level| level > 2) {
            return Err(ValidationError::new(
                "Operation.JobLevel",
                "must be 0, 1 or 2",
            ));
        }
        if let Some(format) = &self.callback_format
            && !matches!(format.as_str(), "XML" | "JSON")
        {
            return Err(ValidationError::new(
                "CallBackFormat",
                "must be XML or JSON",
            ));
        }
        if let Some(kind) = &self.callback_type
            && !matches!(kind.as_str(), "Url" | "TDMQ")
        {
            return Err(ValidationError::new("CallBackType", "must be Url or TDMQ"));
        }
        Ok(())
    }
}

ci_response! {
    /// The job as submitted (`State` `Submitted`).
    pub struct CreateJobsOutput {
        pub job: JobDetail = "JobsDetail",
    }
}

ci_action! {
    POST "/jobs" as "CreateMediaJobs" -> CreateJobsOutput;
    /// Submit a job. Not idempotent: never retried once it may have reached
    /// the service.
    pub struct CreateJobs {
        pub request: JobRequest = body,
    }
}

ci_action! {
    PUT "/jobs/{JobId}" ?cancel as "CancelMediaJob" -> EmptyOutput;
    /// Cancel a job. Only a job that has not started can be cancelled.
    pub struct CancelJob {
        pub job_id: String = path "JobId",
    }
}
