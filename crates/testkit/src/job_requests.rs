//! Job requests as the tests submit them.

use cos_ci_proto::{JobOperation, JobOutput, JobRequest, JobRequestInput};

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
