//! Workflows (`/workflow`, `/triggerworkflow`): the workflow store and the
//! seven workflow actions.
//!
//! At start the store holds the workflows given (`--workflows`) and one for
//! every other workflow id the executions use, with the name and topology
//! that execution's details show (`details.rs`), so the two agree.
//! Triggering a workflow starts a run ([`LiveRun`]) whose tasks follow its
//! topology, each one a job in the job store.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;

use cos_ci_proto::query::excerpt;
use cos_ci_proto::schema::{XmlElement as _, XmlRecord};
use cos_ci_proto::workflow::check_workflow_name;
use cos_ci_proto::xml::XmlReader;
use cos_ci_proto::{
    ActivateWorkflow, CreateWorkflow, DeleteWorkflow, DeleteWorkflowOutput, EmptyOutput,
    JobOperation, JobOutput, ListWorkflows, ListWorkflowsOutput, MediaWorkflow, PauseWorkflow,
    QueueState, TriggerWorkflow, TriggerWorkflowOutput, UpdateWorkflow, WorkflowDefinition,
    WorkflowOutput, WorkflowState, XmlTree,
};

use crate::callbacks::Due;
use crate::clock::{CancelMark, JobClock, TimeForm, timestamp};
use crate::dataset::{Dataset, DatasetError, read_ndjson};
use crate::jobs::{Job, RunLink, expand_output, queue_paused, template_name};
use crate::queues::NumberedPage;
use crate::response::CiError;
use crate::routes::{
    Answer, Resources, Served, find_resource, invalid_argument, not_found, read, write,
};
use crate::runs::{LiveRun, RunTask};
use crate::topology::plan;

/// Every workflow of the bucket, by id.
#[derive(Debug, Default)]
pub(crate) struct WorkflowStore {
    by_id: HashMap<String, MediaWorkflow>,
}

impl WorkflowStore {
    /// `loaded`, plus one workflow for each workflow id `dataset` uses that
    /// `loaded` lacks: named and shaped as the first of its executions'
    /// details, created a day before its first execution, `Active`.
    pub(crate) fn seed(
        dataset: &Dataset,
        loaded: Vec<MediaWorkflow>,
        bucket: &str,
        region: &str,
    ) -> Self {
        let mut by_id: HashMap<String, MediaWorkflow> = loaded
            .into_iter()
            .map(|mut workflow| {
                workflow.bucket_id.get_or_insert_with(|| bucket.to_owned());
                (workflow.workflow_id.clone(), workflow)
            })
            .collect();
        // The first execution and the earliest create time of each workflow.
        let mut first = HashMap::new();
        for record in dataset.records() {
            if by_id.contains_key(&record.workflow_id) {
                continue;
            }
            let time = record.create_time.unix_seconds();
            first
                .entry(record.workflow_id.as_str())
                .and_modify(|(_, earliest): &mut (_, i64)| *earliest = (*earliest).min(time))
                .or_insert((record, time));
        }
        for (workflow_id, (record, earliest)) in first {
            let detail = record.to_detail(bucket, region);
            let seconds = u64::try_from(earliest.saturating_sub(86_400)).unwrap_or(0);
            let created = timestamp(UNIX_EPOCH + Duration::from_secs(seconds), TimeForm::Api);
            by_id.insert(
                workflow_id.to_owned(),
                MediaWorkflow {
                    name: detail.workflow_name.unwrap_or_default(),
                    state: WorkflowState::Active,
                    workflow_id: workflow_id.to_owned(),
                    bucket_id: Some(bucket.to_owned()),
                    create_time: created.clone(),
                    update_time: created,
                    topology: detail.topology,
                },
            );
        }
        WorkflowStore { by_id }
    }

    /// The workflow with this id.
    pub(crate) fn get(&self, workflow_id: &str) -> Option<&MediaWorkflow> {
        self.by_id.get(workflow_id)
    }

    /// How many workflows.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Every workflow, newest first (then by id): the listing's order.
    fn ordered(&self) -> Vec<&MediaWorkflow> {
        let mut workflows: Vec<&MediaWorkflow> = self.by_id.values().collect();
        workflows.sort_by(|a, b| {
            let time = |w: &MediaWorkflow| w.create_time.as_ref().map_or(0, |t| t.unix_seconds());
            time(b)
                .cmp(&time(a))
                .then_with(|| a.workflow_id.cmp(&b.workflow_id))
        });
        workflows
    }
}

/// `GET /workflow`: workflows by page, newest first; `ids` picks some
/// (the missing ones in `NonExistIDs`), `name` is an exact match.
pub(crate) fn list(served: Served<'_, ListWorkflows>) -> Answer<ListWorkflows> {
    let store = read(&served.resources.workflows);
    let ids = served.request.ids.as_deref();
    let matching: Vec<&MediaWorkflow> = store
        .ordered()
        .into_iter()
        .filter(|workflow| ids.is_none_or(|ids| ids.contains(&workflow.workflow_id)))
        .filter(|workflow| {
            served
                .request
                .name
                .as_ref()
                .is_none_or(|name| *name == workflow.name)
        })
        .collect();
    let page = NumberedPage::of(&served.request, &matching, ids, |id| {
        store.get(id).is_some()
    });
    Ok(ListWorkflowsOutput {
        request_id: None,
        total_count: Some(page.total),
        page_number: Some(page.number),
        page_size: Some(page.size),
        workflows: page.items.into_iter().cloned().collect(),
        non_exist_ids: page.missing,
    })
}

/// The emulator's own checks of a definition, beyond the declared ones
/// (`Name` rules, a `Topology`): a known `State`, and a topology that can
/// run (see `topology.rs`), whose notification URL is local.
fn check_definition(definition: &WorkflowDefinition) -> Result<(), CiError> {
    if let Some(state) = &definition.state
        && !matches!(state, WorkflowState::Active | WorkflowState::Paused)
    {
        return Err(invalid_argument(format!(
            "invalid parameter `State`: must be Active or Paused, not `{}`",
            excerpt(state.as_str(), 40)
        )));
    }
    plan(&definition.topology)
        .map_err(|reason| invalid_argument(format!("invalid parameter `Topology`: {reason}")))?;
    Ok(())
}

/// What a definition sets, on a new workflow and on one updated: its name
/// and topology, and its state when it gives one.
fn apply(definition: WorkflowDefinition, workflow: &mut MediaWorkflow) {
    workflow.name = definition.name;
    if let Some(state) = definition.state {
        workflow.state = state;
    }
    workflow.topology = Some(definition.topology);
}

/// `POST /workflow`: a new workflow (`w` + 32 hex), `Active` unless the
/// definition says `Paused`.
pub(crate) fn create(served: Served<'_, CreateWorkflow>) -> Answer<CreateWorkflow> {
    let resources = served.resources;
    let definition = served.request.request.workflow;
    check_definition(&definition)?;
    let mut store = write(&resources.workflows);
    let workflow_id = resources.ids.fresh('w', |id| store.get(id).is_some());
    let time = timestamp(served.now, TimeForm::Api);
    let mut workflow = MediaWorkflow {
        state: WorkflowState::Active,
        workflow_id: workflow_id.clone(),
        bucket_id: Some(resources.bucket.clone()),
        create_time: time.clone(),
        update_time: time,
        ..MediaWorkflow::default()
    };
    apply(definition, &mut workflow);
    store.by_id.insert(workflow_id, workflow.clone());
    Ok(WorkflowOutput {
        request_id: None,
        workflow,
    })
}

/// Change the workflow `workflow_id` with `change`, stamping `UpdateTime`;
/// an unknown id is `400 ResourceNotFound`.
fn modify(
    resources: &Resources,
    workflow_id: &str,
    now: SystemTime,
    change: impl FnOnce(&mut MediaWorkflow),
) -> Result<MediaWorkflow, CiError> {
    let mut store = write(&resources.workflows);
    let workflow = store
        .by_id
        .get_mut(workflow_id)
        .ok_or_else(|| not_found("workflow", workflow_id))?;
    change(workflow);
    workflow.update_time = timestamp(now, TimeForm::Api);
    Ok(workflow.clone())
}

/// `PUT /workflow/<WorkflowId>`: a new name, topology and (if given) state.
pub(crate) fn update(served: Served<'_, UpdateWorkflow>) -> Answer<UpdateWorkflow> {
    let definition = served.request.request.workflow;
    check_definition(&definition)?;
    let workflow = modify(
        served.resources,
        &served.request.workflow_id,
        served.now,
        |workflow| apply(definition, workflow),
    )?;
    Ok(WorkflowOutput {
        request_id: None,
        workflow,
    })
}

/// `PUT /workflow/<WorkflowId>?active`.
pub(crate) fn activate(served: Served<'_, ActivateWorkflow>) -> Answer<ActivateWorkflow> {
    set_state(&served, &served.request.workflow_id, WorkflowState::Active)
}

/// `PUT /workflow/<WorkflowId>?paused`: triggers are refused until it is
/// activated again.
pub(crate) fn pause(served: Served<'_, PauseWorkflow>) -> Answer<PauseWorkflow> {
    set_state(&served, &served.request.workflow_id, WorkflowState::Paused)
}

/// Activate or pause: [`modify`] the state alone.
fn set_state<A>(
    served: &Served<'_, A>,
    workflow_id: &str,
    state: WorkflowState,
) -> Result<EmptyOutput, CiError> {
    modify(served.resources, workflow_id, served.now, |workflow| {
        workflow.state = state
    })?;
    Ok(EmptyOutput::default())
}

/// `DELETE /workflow/<WorkflowId>`: gone (its runs stay listed).
pub(crate) fn delete(served: Served<'_, DeleteWorkflow>) -> Answer<DeleteWorkflow> {
    write(&served.resources.workflows)
        .by_id
        .remove(&served.request.workflow_id)
        .ok_or_else(|| not_found("workflow", &served.request.workflow_id))?;
    Ok(DeleteWorkflowOutput {
        request_id: None,
        workflow_id: Some(served.request.workflow_id),
    })
}

/// A node's `Operation` subtree read as a job operation (empty when it is
/// not one).
pub(crate) fn operation_of(tree: Option<&XmlTree>) -> JobOperation {
    let Some(tree) = tree else {
        return JobOperation::default();
    };
    let mut xml = String::new();
    tree.write_element("Operation", &mut xml);
    let read = || -> Result<JobOperation, cos_ci_proto::xml::XmlError> {
        let mut reader = XmlReader::open(xml.as_bytes(), "Operation")?;
        let operation = JobOperation::read_children(&mut reader)?;
        reader.finish()?;
        Ok(operation)
    };
    read().unwrap_or_default()
}

/// `400 InvalidArgument` for a trigger of a paused workflow: CI documents
/// no code for it (see `docs/emulator.md`).
fn workflow_paused(workflow_id: &str) -> CiError {
    CiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        format!(
            "invalid parameter `workflowId`: the workflow `{}` is paused; activate it first.",
            excerpt(workflow_id, 100)
        ),
    )
}

/// `POST /triggerworkflow`: start a run of the workflow on `object`. Its
/// tasks follow the topology, a stage per task duration; each is a job.
pub(crate) fn trigger(served: Served<'_, TriggerWorkflow>) -> Answer<TriggerWorkflow> {
    let resources = served.resources;
    let now = served.now;
    let workflow = find_resource(
        &resources.workflows,
        "workflow",
        &served.request.workflow_id,
        WorkflowStore::get,
    )?;
    if workflow.state != WorkflowState::Active {
        return Err(workflow_paused(&workflow.workflow_id));
    }
    let topology = workflow.topology.clone().unwrap_or_default();
    let plan = plan(&topology).map_err(|reason| {
        invalid_argument(format!(
            "invalid parameter `workflowId`: the workflow `{}` cannot run: its Topology {reason}",
            excerpt(&workflow.workflow_id, 100)
        ))
    })?;
    let queue_id = plan
        .queue_id
        .clone()
        .unwrap_or_else(|| resources.queues.default_queue().queue.queue_id.clone());
    let queue = resources.queues.get(&queue_id).map(|stored| &stored.queue);
    if queue.is_some_and(|queue| queue.state == QueueState::Paused) {
        return Err(queue_paused(&queue_id));
    }
    let queue_category = queue
        .and_then(|queue| queue.category.clone())
        .unwrap_or_else(|| "Transcoding".to_owned());
    let create_time = timestamp(now, TimeForm::Colon).ok_or_else(|| {
        CiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The server clock is outside the years 0000-9999.",
        )
    })?;
    let lifecycle = &resources.lifecycle;
    let fails = lifecycle.fails(&served.request.object);
    let object = served.request.object;

    let mut executions = write(&resources.executions);
    let mut jobs = write(&resources.jobs);
    let run_id = resources.ids.fresh('i', |id| executions.get(id).is_some());
    let mut job_ids: Vec<String> = Vec::with_capacity(plan.nodes.len());
    let last = plan.nodes.len().saturating_sub(1);
    let mut tasks = Vec::with_capacity(plan.nodes.len());
    for (index, node) in plan.nodes.iter().enumerate() {
        let job_id = resources.ids.fresh('j', |id| {
            jobs.contains(id) || job_ids.iter().any(|taken| taken == id)
        });
        job_ids.push(job_id.clone());
        let delay = lifecycle
            .task_duration
            .saturating_mul(node.stage.saturating_sub(1));
        let created = now.checked_add(delay).unwrap_or(now);
        let operation = operation_of(node.operation.as_ref());
        tasks.push(RunTask {
            name: node.name.clone(),
            kind: node.kind.clone(),
            job_id,
            template_id: operation.template_id.clone(),
            clock: Arc::new(JobClock::new(
                created,
                lifecycle.task_duration,
                fails && index == last,
            )),
        });
    }
    let run = Arc::new(LiveRun {
        run_id: run_id.clone(),
        workflow_id: workflow.workflow_id.clone(),
        workflow_name: workflow.name.clone(),
        object: object.clone(),
        topology,
        create_time,
        created: now,
        tasks,
        notify: plan.notify.clone(),
        notified: AtomicBool::new(false),
        cancelled: CancelMark::default(),
    });
    executions.insert_live(run.record(), Arc::clone(&run));
    drop(executions);

    let task_callback = plan
        .notify
        .as_ref()
        .filter(|notify| notify.task_finish)
        .map(|notify| notify.target.clone());
    let mut created_jobs = Vec::with_capacity(run.tasks.len());
    for (task, node) in run.tasks.iter().zip(&plan.nodes) {
        let mut operation = operation_of(node.operation.as_ref());
        operation.template_name = task
            .template_id
            .as_deref()
            .map(|id| template_name(&task.kind, id));
        let output = operation.output.as_ref().map(|output| JobOutput {
            object: expand_output(&output.object, &object, &run_id, &task.job_id),
            ..output.clone()
        });
        let job = Arc::new(Job {
            job_id: task.job_id.clone(),
            tag: task.kind.clone(),
            queue_id: queue_id.clone(),
            queue_category: queue_category.clone(),
            object: object.clone(),
            operation,
            output,
            callback: task_callback.clone(),
            clock: Arc::clone(&task.clock),
            run: Some(RunLink {
                run: Arc::clone(&run),
                node: task.name.clone(),
            }),
            notified: AtomicBool::new(false),
        });
        jobs.insert(Arc::clone(&job));
        created_jobs.push(job);
    }
    drop(jobs);

    for job in created_jobs
        .into_iter()
        .filter(|job| job.callback.is_some())
    {
        resources
            .callbacks
            .schedule(job.clock.ends(), Due::Job(job));
    }
    if plan.notify.is_some_and(|notify| notify.workflow_finish) {
        resources
            .callbacks
            .schedule(run.ends(), Due::Run(Arc::clone(&run)));
    }
    Ok(TriggerWorkflowOutput {
        request_id: None,
        instance_id: run_id,
    })
}

/// Read `--workflows` NDJSON: one workflow per line with the API's element
/// names (`WorkflowId`, `Name`, `State`, `CreateTime`, `UpdateTime`,
/// `BucketId`, and `Topology` as `cos-ci-proto`'s `XmlTree` JSON), blank
/// lines ignored. Each must have a unique id, a valid name, a known state
/// and a topology that can run (whose notification URL, if any, is local).
pub fn workflows_from_ndjson(text: &str) -> Result<Vec<MediaWorkflow>, DatasetError> {
    read_ndjson(text, |workflow: &mut MediaWorkflow, before| {
        if workflow.workflow_id.is_empty() {
            return Err("`WorkflowId` is missing or empty".to_owned());
        }
        check_workflow_name(&workflow.name).map_err(|error| format!("`Name` {}", error.rule))?;
        match &workflow.state {
            WorkflowState::Active | WorkflowState::Paused => {}
            WorkflowState::Other(text) if text.is_empty() => workflow.state = WorkflowState::Active,
            other => return Err(format!("`State` must be Active or Paused, not `{other}`")),
        }
        let topology = workflow
            .topology
            .as_ref()
            .ok_or_else(|| "`Topology` is missing".to_owned())?;
        plan(topology).map_err(|reason| format!("`Topology` {reason}"))?;
        if before
            .iter()
            .any(|other| other.workflow_id == workflow.workflow_id)
        {
            return Err(format!(
                "workflow id `{}` appears more than once",
                workflow.workflow_id
            ));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_workflows_agree_with_the_execution_details() {
        let dataset = Dataset::generate(200, 4);
        let store = WorkflowStore::seed(&dataset, Vec::new(), "b-1250000000", "ap-beijing");
        assert_eq!(store.len(), 5);
        for record in dataset.records() {
            let workflow = store.get(&record.workflow_id).unwrap();
            let detail = record.to_detail("b-1250000000", "ap-beijing");
            assert_eq!(Some(&workflow.name), detail.workflow_name.as_ref());
            assert_eq!(workflow.topology, detail.topology);
            assert!(check_workflow_name(&workflow.name).is_ok());
            let created = workflow.create_time.as_ref().unwrap();
            assert!(created.unix_seconds() < record.create_time.unix_seconds());
            assert!(created.as_str().ends_with("+0800"), "{}", created.as_str());
            let plan = plan(workflow.topology.as_ref().unwrap()).unwrap();
            let kinds: Vec<&str> = plan.nodes.iter().map(|node| node.kind.as_str()).collect();
            assert!(
                kinds == ["Transcode"] || kinds == ["Snapshot", "Transcode"],
                "{kinds:?}"
            );
        }
        // The same for the same seed.
        let again = WorkflowStore::seed(&dataset, Vec::new(), "b-1250000000", "ap-beijing");
        assert_eq!(store.ordered(), again.ordered());
    }

    #[test]
    fn loaded_workflows_win_and_bad_lines_are_named() {
        let dataset = Dataset::generate(20, 4);
        let id = dataset.records()[0].workflow_id.clone();
        let line = format!(
            r#"{{"WorkflowId":"{id}","Name":"我的-flow_1","State":"Paused","Topology":{{"Dependencies":{{"Start":"Transcode_1","Transcode_1":"End"}},"Nodes":{{"Start":{{"Type":"Start"}},"Transcode_1":{{"Type":"Transcode"}}}}}}}}"#
        );
        let loaded = workflows_from_ndjson(&line).unwrap();
        let store = WorkflowStore::seed(&dataset, loaded, "b-1250000000", "ap-beijing");
        let workflow = store.get(&id).unwrap();
        assert_eq!(workflow.name, "我的-flow_1");
        assert_eq!(workflow.state, WorkflowState::Paused);
        assert_eq!(workflow.bucket_id.as_deref(), Some("b-1250000000"));
        for (text, needle) in [
            (format!("{line}\n{line}"), "line 2: workflow id"),
            (line.replace("我的-flow_1", "bad name!"), "`Name`"),
            (line.replace("Paused", "Sleeping"), "`State`"),
            (line.replace("\"End\"", "\"Start\""), "`Topology`"),
            (r#"{"Name":"x"}"#.to_owned(), "WorkflowId"),
        ] {
            let error = workflows_from_ndjson(&text).unwrap_err().to_string();
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn node_operations_read_as_job_operations() {
        let tree: XmlTree = serde_json::from_str(
            r#"{"TemplateId":"t1","Output":{"Region":"ap-beijing","Bucket":"b-1","Object":"o/${InputName}.mp4"},"Extra":"kept"}"#,
        )
        .unwrap();
        let operation = operation_of(Some(&tree));
        assert_eq!(operation.template_id.as_deref(), Some("t1"));
        assert_eq!(operation.output.unwrap().object, "o/${InputName}.mp4");
        assert_eq!(operation_of(None), JobOperation::default());
    }
}
