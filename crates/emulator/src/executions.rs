//! The workflow-execution actions, answered from the execution store.

use std::time::SystemTime;

use cos_ci_proto::{
    DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, ListWorkflowExecutions,
    ListWorkflowExecutionsOutput,
};

use crate::dataset::ExecutionRecord;
use crate::response::CiError;
use crate::routes::{Resources, invalid_argument, not_found, read};
use crate::store::PageQuery;

/// `GET /workflowexecution`: one page.
pub(crate) fn list(
    resources: &Resources,
    request: ListWorkflowExecutions,
    now: SystemTime,
) -> Result<ListWorkflowExecutionsOutput, CiError> {
    let query =
        PageQuery::from_request(&request).map_err(|error| invalid_argument(error.to_string()))?;
    let page = read(&resources.executions).page_at(&query, now);
    Ok(ListWorkflowExecutionsOutput {
        request_id: None,
        next_token: page.next_token(query.order).map(|token| token.encode()),
        executions: page
            .records
            .iter()
            .map(ExecutionRecord::to_execution)
            .collect(),
    })
}

/// `GET /workflowexecution/<RunId>`: one execution with its tasks and
/// topology (a run started while serving as it stands at `now`); an
/// unknown run id is `400 ResourceNotFound`.
pub(crate) fn describe(
    resources: &Resources,
    request: DescribeWorkflowExecution,
    now: SystemTime,
) -> Result<DescribeWorkflowExecutionOutput, CiError> {
    let store = read(&resources.executions);
    if let Some(run) = store.live(&request.run_id) {
        return Ok(DescribeWorkflowExecutionOutput {
            request_id: None,
            execution: run.detail_at(now),
        });
    }
    let record = store
        .get(&request.run_id)
        .cloned()
        .ok_or_else(|| not_found("workflow execution", &request.run_id))?;
    drop(store);
    let execution = record.to_detail(&resources.bucket, &resources.region);
    // Its tasks' jobs are not stored: remember where to find them.
    resources.task_jobs.remember(&execution);
    Ok(DescribeWorkflowExecutionOutput {
        request_id: None,
        execution,
    })
}
