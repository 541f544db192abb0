//! Requests as the tests build them.

use std::collections::BTreeSet;

use cos_ci_proto::{
    CiTimestamp, JobOperation, JobOutput, JobRequest, JobRequestInput, ListWorkflowExecutions,
    Order, PageSize, StateFilter,
};

use crate::{BUCKET, REGION};

/// A `Transcode` job on `object` with template `template_id`, writing the
/// key `output` (wildcards allowed) to [`BUCKET`] in [`REGION`]; everything
/// else unset.
pub fn transcode_job(object: &str, template_id: &str, output: &str) -> JobRequest {
    JobRequest {
        tag: "Transcode".into(),
        input: JobRequestInput {
            object: object.into(),
        },
        operation: JobOperation {
            template_id: Some(template_id.into()),
            output: Some(JobOutput {
                region: REGION.into(),
                bucket: BUCKET.into(),
                object: output.into(),
                sprite_object: None,
            }),
            ..JobOperation::default()
        },
        ..JobRequest::default()
    }
}

/// A `ListWorkflowExecutions` with every parameter set, valid: a name with
/// the characters encoders get wrong (`/`, space, `+`, `~`, `%`, Chinese),
/// and the two offset forms (`+08:00`, `+0800`) that must be sent alike.
/// Its wire query and its signed URL are pinned by snapshots in the proto
/// and client tests.
pub fn list_request_with_every_parameter() -> ListWorkflowExecutions {
    ListWorkflowExecutions {
        workflow_id: Some("web6ac56c1ef54dbfa44d7f4103203be9".to_owned()),
        name: Some("wk-test/游戏 video+1~%.mp4".to_owned()),
        order: Some(Order::Asc),
        size: Some(PageSize::new(100).expect("a valid size")),
        states: Some(BTreeSet::from([StateFilter::Success, StateFilter::Failed])),
        start_creation_time: Some(timestamp("2022-08-09T14:00:00+08:00")),
        end_creation_time: Some(timestamp("2022-08-10T14:00:00+0800")),
        next_token: Some("115716".to_owned()),
        job_id: Some("b1234567890abcdef".to_owned()),
    }
}

fn timestamp(text: &str) -> CiTimestamp {
    CiTimestamp::parse(text).expect("a valid timestamp")
}
