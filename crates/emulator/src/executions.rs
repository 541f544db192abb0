//! The workflow-execution actions, answered from the execution store.

use cos_ci_proto::{
    DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, ListWorkflowExecutions,
    ListWorkflowExecutionsOutput,
};

use crate::dataset::ExecutionRecord;
use crate::routes::{Answer, Served, invalid_argument, not_found, read};
use crate::store::PageQuery;

/// `GET /workflowexecution`: one page.
pub(crate) fn list(served: Served<'_, ListWorkflowExecutions>) -> Answer<ListWorkflowExecutions> {
    let query = PageQuery::from_request(&served.request)
        .map_err(|error| invalid_argument(error.to_string()))?;
    let page = read(&served.resources.executions).page_at(&query, served.now);
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
    served: Served<'_, DescribeWorkflowExecution>,
) -> Answer<DescribeWorkflowExecution> {
    let resources = served.resources;
    let store = read(&resources.executions);
    if let Some(run) = store.live(&served.request.run_id) {
        return Ok(DescribeWorkflowExecutionOutput {
            request_id: None,
            execution: run.detail_at(served.now),
        });
    }
    let record = store
        .get(&served.request.run_id)
        .cloned()
        .ok_or_else(|| not_found("workflow execution", &served.request.run_id))?;
    drop(store);
    let execution = record.to_detail(&resources.bucket, &resources.region);
    // Its tasks' jobs are not stored: remember where to find them.
    resources.task_jobs.remember(&execution);
    Ok(DescribeWorkflowExecutionOutput {
        request_id: None,
        execution,
    })
}
