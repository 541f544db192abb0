//! Media jobs (`/jobs`): the job store and the four job actions.
//!
//! A job is submitted with `POST /jobs` or started by a workflow run (one
//! per task). Its state follows its [`JobClock`]; it is stored once, with
//! what it was asked to do, and shown as it stands at the instant of each
//! request. The store pages with the execution store's machinery
//! ([`Index`], [`walk_page`], [`NextToken`]): the sort key is
//! `(CreationTime, JobId)`, one index per tag, queue, workflow and input
//! key.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use http::StatusCode;

use cos_ci_proto::query::excerpt;
use cos_ci_proto::{
    CancelJob, CiTimestamp, CreateJobs, CreateJobsOutput, DescribeJobs, DescribeJobsOutput,
    EmptyOutput, JobDetail, JobInput, JobOperation, JobOutput, JobState, JobWorkflow, ListJobs,
    ListJobsOutput, MediaResult, Order, OutputFile, PageSize, QueueState,
};

use crate::callbacks::{Due, Format, Target, local_url};
use crate::clock::{JobClock, Phase, TimeForm, timestamp, unix_time};
use crate::queues::QueueNotify;
use crate::random::hash_text;
use crate::response::CiError;
use crate::routes::{Answer, Served, find_resource, invalid_argument, not_found, read, write};
use crate::runs::LiveRun;
use crate::store::{Bounds, Entry, Index, Position, unix_seconds, walk_page};
use crate::task_jobs;
use crate::token::NextToken;

/// The run (and node) that started a job.
#[derive(Debug)]
pub(crate) struct RunLink {
    pub(crate) run: Arc<LiveRun>,
    pub(crate) node: String,
}

/// One job: what it was asked to do, and its clock.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) job_id: String,
    pub(crate) tag: String,
    pub(crate) queue_id: String,
    /// The queue's category when the job was submitted (for `queueType`).
    pub(crate) queue_category: String,
    /// The input object key.
    pub(crate) object: String,
    /// The operation as asked, shown back (with `TemplateName`).
    pub(crate) operation: JobOperation,
    /// Where it writes, wildcards filled in: `MediaResult.OutputFile`.
    pub(crate) output: Option<JobOutput>,
    /// Where to report it when it ends: its own `CallBack`, else its
    /// queue's `NotifyConfig` (a run's job: its workflow's).
    pub(crate) callback: Option<Target>,
    pub(crate) clock: Arc<JobClock>,
    /// Set for a task of a workflow run.
    pub(crate) run: Option<RunLink>,
    /// Set once its `TaskFinish` callback has been sent (or dropped).
    pub(crate) notified: AtomicBool,
}

impl Job {
    /// Whether the job exists at `now` (a run's later tasks are created
    /// when their stage starts, and never once the run was cancelled).
    pub(crate) fn exists(&self, now: SystemTime) -> bool {
        match &self.run {
            Some(link) => link.run.task_exists(self.clock.created(), now),
            None => self.clock.created() <= now,
        }
    }

    /// The job as it stands at `now`.
    pub(crate) fn detail_at(&self, now: SystemTime, bucket: &str, region: &str) -> JobDetail {
        self.detail(self.clock.phase(now), bucket, region)
    }

    /// The job in `phase`, as CI writes it.
    pub(crate) fn detail(&self, phase: Phase, bucket: &str, region: &str) -> JobDetail {
        let (code, message) = phase.outcome();
        let (start_time, end_time) = self.clock.start_and_end(phase, TimeForm::Api);
        JobFacts {
            job_id: &self.job_id,
            tag: &self.tag,
            state: phase.state(),
            progress: phase.progress(),
            code,
            message,
            creation_time: timestamp(self.clock.created(), TimeForm::Api),
            start_time,
            end_time,
            queue_id: &self.queue_id,
            object: &self.object,
            operation: &self.operation,
            output: self.output.as_ref(),
            workflow: self.run.as_ref().map(|link| JobWorkflow {
                name: Some(link.node.clone()),
                run_id: Some(link.run.run_id.clone()),
                workflow_id: Some(link.run.workflow_id.clone()),
                workflow_name: Some(link.run.workflow_name.clone()),
            }),
        }
        .detail(bucket, region)
    }
}

/// What a job's detail is made of, whichever kind of job it is: one in the
/// store (submitted, or a task of a run started while serving) or a task
/// of a stored execution (`task_jobs.rs`). One builder, so both answer
/// alike.
pub(crate) struct JobFacts<'a> {
    pub(crate) job_id: &'a str,
    pub(crate) tag: &'a str,
    pub(crate) state: JobState,
    pub(crate) progress: u32,
    pub(crate) code: &'a str,
    pub(crate) message: Option<&'a str>,
    pub(crate) creation_time: Option<CiTimestamp>,
    pub(crate) start_time: Option<CiTimestamp>,
    pub(crate) end_time: Option<CiTimestamp>,
    pub(crate) queue_id: &'a str,
    /// The input object key.
    pub(crate) object: &'a str,
    /// The operation as asked (with `TemplateName`).
    pub(crate) operation: &'a JobOperation,
    /// Where it writes, wildcards filled in: the `MediaResult` once it
    /// succeeded.
    pub(crate) output: Option<&'a JobOutput>,
    pub(crate) workflow: Option<JobWorkflow>,
}

impl JobFacts<'_> {
    /// The job as CI writes it.
    pub(crate) fn detail(self, bucket: &str, region: &str) -> JobDetail {
        let mut operation = self.operation.clone();
        if self.state == JobState::Success {
            operation.media_result = self.output.map(|output| {
                let (prefix, name) = match output.object.rsplit_once('/') {
                    Some((prefix, name)) => (format!("{prefix}/"), name.to_owned()),
                    None => (String::new(), output.object.clone()),
                };
                MediaResult {
                    output_file: Some(OutputFile {
                        bucket: Some(output.bucket.clone()),
                        region: Some(output.region.clone()),
                        object_prefix: Some(prefix),
                        object_names: vec![name],
                        ..OutputFile::default()
                    }),
                    ..MediaResult::default()
                }
            });
        }
        JobDetail {
            code: Some(self.code.to_owned()),
            message: self.message.map(str::to_owned),
            job_id: self.job_id.to_owned(),
            tag: self.tag.to_owned(),
            state: self.state,
            progress: Some(self.progress),
            creation_time: self.creation_time,
            start_time: self.start_time,
            end_time: self.end_time,
            queue_id: Some(self.queue_id.to_owned()),
            input: Some(JobInput {
                object: Some(self.object.to_owned()),
                bucket_id: Some(bucket.to_owned()),
                region: Some(region.to_owned()),
                ..JobInput::default()
            }),
            operation: Some(operation),
            workflow: self.workflow,
            ..JobDetail::default()
        }
    }
}

/// Every job of the bucket, indexed for paging.
#[derive(Debug, Default)]
pub(crate) struct JobStore {
    by_id: HashMap<String, Arc<Entry<Arc<Job>>>>,
    by_tag: Index<Arc<Job>>,
    by_queue: Index<Arc<Job>>,
    /// A workflow run's jobs, by the workflow's id.
    by_workflow: Index<Arc<Job>>,
    /// By input object key.
    by_input: Index<Arc<Job>>,
}

/// One `GET /jobs` page request, decoded.
#[derive(Debug)]
struct JobQuery<'r> {
    request: &'r ListJobs,
    order: Order,
    after: Option<Position>,
}

impl JobQuery<'_> {
    /// Whether `job`, created at `time` (Unix seconds) and in `phase`,
    /// passes every filter.
    fn matches(&self, job: &Job, time: i64, phase: Phase) -> bool {
        let request = self.request;
        job.tag == request.tag
            && request.queue_id.as_ref().is_none_or(|id| *id == job.queue_id)
            && (request.queue_id.is_some()
                || request
                    .queue_type
                    .as_ref()
                    .is_none_or(|kind| *kind == job.queue_category))
            && request.workflow_id.as_ref().is_none_or(|id| {
                job.run
                    .as_ref()
                    .is_some_and(|link| link.run.workflow_id == *id)
            })
            // No job here was started by a batch trigger.
            && request.inventory_trigger_job_id.is_none()
            && request
                .input_object
                .as_ref()
                .is_none_or(|object| *object == job.object)
            && request
                .start_creation_time
                .as_ref()
                .is_none_or(|start| time >= start.unix_seconds())
            && request
                .end_creation_time
                .as_ref()
                .is_none_or(|end| time <= end.unix_seconds())
            && request.states.as_ref().is_none_or(|states| {
                let state = phase.state();
                states.is_empty() || states.iter().any(|filter| filter.admits(&state))
            })
    }
}

impl JobStore {
    /// Every index, with the value `job` is under in it (`None`: not in
    /// that index).
    fn indexes_mut<'j>(&mut self, job: &'j Job) -> [(&mut Index<Arc<Job>>, Option<&'j str>); 4] {
        [
            (&mut self.by_tag, Some(&job.tag)),
            (&mut self.by_queue, Some(&job.queue_id)),
            (
                &mut self.by_workflow,
                job.run.as_ref().map(|link| link.run.workflow_id.as_str()),
            ),
            (&mut self.by_input, Some(&job.object)),
        ]
    }

    /// Whether a job id is taken.
    pub(crate) fn contains(&self, job_id: &str) -> bool {
        self.by_id.contains_key(job_id)
    }

    /// Add a job.
    pub(crate) fn insert(&mut self, job: Arc<Job>) {
        let time = unix_time(job.clock.created());
        let entry = Entry::new(Arc::clone(&job), time, &job.job_id);
        for (index, value) in self.indexes_mut(&job) {
            if let Some(value) = value {
                index.insert(value, &entry);
            }
        }
        self.by_id.insert(job.job_id.clone(), entry);
    }

    /// The job with this id, if it exists at `now`.
    pub(crate) fn get(&self, job_id: &str, now: SystemTime) -> Option<&Arc<Job>> {
        self.by_id
            .get(job_id)
            .map(|entry| &entry.item)
            .filter(|job| job.exists(now))
    }

    /// One page: the jobs matching `query` as they stand at `now`.
    fn page(
        &self,
        query: &JobQuery<'_>,
        now: SystemTime,
        bucket: &str,
        region: &str,
    ) -> (Vec<JobDetail>, Option<Position>) {
        let request = query.request;
        let mut best: Option<(usize, &Index<Arc<Job>>, &str)> = None;
        let candidates = [
            (&self.by_tag, Some(request.tag.as_str())),
            (&self.by_queue, request.queue_id.as_deref()),
            (&self.by_workflow, request.workflow_id.as_deref()),
            (&self.by_input, request.input_object.as_deref()),
        ];
        for (index, value) in candidates {
            let Some(value) = value else { continue };
            let count = index.count(value);
            if best.is_none_or(|(fewest, _, _)| count < fewest) {
                best = Some((count, index, value));
            }
        }
        let Some((_, index, value)) = best.filter(|(count, _, _)| *count > 0) else {
            return (Vec::new(), None);
        };
        let bounds = Bounds {
            start_time: unix_seconds(request.start_creation_time.as_ref()),
            end_time: unix_seconds(request.end_creation_time.as_ref()),
            order: query.order,
            after: query.after.as_ref(),
        };
        let walks = index.walk(value, bounds).into_iter().collect();
        let size = request.size.map_or(PageSize::DEFAULT, PageSize::get) as usize;
        let (jobs, next, _) = walk_page(walks, query.order, size, |entry| {
            let job = &entry.item;
            if !job.exists(now) {
                return None;
            }
            let phase = job.clock.phase(now);
            query
                .matches(job, entry.time, phase)
                .then(|| job.detail(phase, bucket, region))
        });
        (jobs, next)
    }
}

/// `GET /jobs`: one page of one tag's jobs.
pub(crate) fn list(served: Served<'_, ListJobs>) -> Answer<ListJobs> {
    let resources = served.resources;
    let order = served.request.order.unwrap_or_default();
    let after = NextToken::resume_after(served.request.next_token.as_deref(), order)
        .map_err(|error| invalid_argument(error.to_string()))?;
    let query = JobQuery {
        request: &served.request,
        order,
        after,
    };
    let (jobs, next) =
        read(&resources.jobs).page(&query, served.now, &resources.bucket, &resources.region);
    Ok(ListJobsOutput {
        request_id: None,
        jobs,
        next_token: next.map(|position| NextToken { order, position }.encode()),
    })
}

/// The most ids one `GET /jobs/<ids>` takes (CI's limit is not documented).
const MAX_DESCRIBED: usize = 100;

/// `GET /jobs/<JobId>[,<JobId>…]`: the jobs asked for; unknown ids in
/// `NonExistJobIds`.
pub(crate) fn describe(served: Served<'_, DescribeJobs>) -> Answer<DescribeJobs> {
    let resources = served.resources;
    if served.request.job_ids.len() > MAX_DESCRIBED {
        return Err(invalid_argument(format!(
            "invalid parameter `JobIds`: at most {MAX_DESCRIBED} job ids, got {}",
            served.request.job_ids.len()
        )));
    }
    let mut ids: Vec<&String> = Vec::with_capacity(served.request.job_ids.len());
    for job_id in &served.request.job_ids {
        if !ids.contains(&job_id) {
            ids.push(job_id);
        }
    }
    let store = read(&resources.jobs);
    let found: Vec<Option<JobDetail>> = ids
        .iter()
        .map(|job_id| {
            store
                .get(job_id, served.now)
                .map(|job| job.detail_at(served.now, &resources.bucket, &resources.region))
        })
        .collect();
    // Released before the execution store is read: a trigger takes that
    // store's lock, then this one's.
    drop(store);
    let mut output = DescribeJobsOutput::default();
    for (job_id, found) in ids.into_iter().zip(found) {
        match found.or_else(|| task_jobs::describe(resources, job_id)) {
            Some(job) => output.jobs.push(job),
            None => output.non_exist_job_ids.push(job_id.clone()),
        }
    }
    Ok(output)
}

/// `403 QueuePaused`: CI's answer for work sent to a paused queue.
pub(crate) fn queue_paused(queue_id: &str) -> CiError {
    CiError::new(
        StatusCode::FORBIDDEN,
        "QueuePaused",
        format!(
            "The queue `{}` is paused and takes no new jobs.",
            excerpt(queue_id, 100)
        ),
    )
}

/// `${…}` wildcards of an output key filled in for one job: `InputPath`,
/// `InputName`, `InputNameAndExt`, `Ext`, `RunId`, `Jobid`, and `Number`
/// (the first, `0`). Others stay as written.
pub(crate) fn expand_output(template: &str, input: &str, run_id: &str, job_id: &str) -> String {
    let (path, file) = input.rsplit_once('/').unwrap_or(("", input));
    let (name, ext) = match file.rsplit_once('.') {
        Some((name, ext)) if !name.is_empty() => (name, ext),
        _ => (file, ""),
    };
    let expanded = template
        .replace("${InputPath}", path)
        .replace("${InputNameAndExt}", file)
        .replace("${InputName}", name)
        .replace("${Ext}", ext)
        .replace("${RunId}", run_id)
        .replace("${Jobid}", job_id)
        .replace("${Number}", "0");
    expanded.trim_start_matches('/').to_owned()
}

/// A CI-like template name for a template id (`transcode_993874`).
pub(crate) fn template_name(tag: &str, template_id: &str) -> String {
    format!(
        "{}_{:06}",
        tag.to_ascii_lowercase(),
        hash_text(template_id) % 1_000_000
    )
}

/// `POST /jobs`: submit a job to a queue (the default one when none is
/// named).
pub(crate) fn create(served: Served<'_, CreateJobs>) -> Answer<CreateJobs> {
    let resources = served.resources;
    let request = served.request.request;
    let stored = match &request.queue_id {
        Some(id) => resources
            .queues
            .get(id)
            .ok_or_else(|| not_found("queue", id))?,
        None => resources.queues.default_queue(),
    };
    let queue = &stored.queue;
    if queue.state == QueueState::Paused {
        return Err(queue_paused(&queue.queue_id));
    }
    // The job's own settings override the queue's (reference §1.e: `CallBack`
    // "overrides queue callback", `CallBackFormat` "overrides queue setting").
    let format = request
        .callback_format
        .as_deref()
        .map(|format| match format {
            "JSON" => Format::Json,
            _ => Format::Xml,
        });
    let mut not_sent = None;
    let callback = match (&request.callback, request.callback_type.as_deref()) {
        // `no` turns the queue's callback off; TDMQ is accepted and never
        // delivered (the emulator has no message queue).
        (_, Some("TDMQ")) => None,
        (Some(url), _) if url == "no" => None,
        (Some(url), _) => Some(Target {
            url: local_url(url).map_err(|reason| {
                invalid_argument(format!("invalid parameter `CallBack`: {reason}"))
            })?,
            format: format.unwrap_or(Format::Xml),
        }),
        (None, _) => match &stored.notify {
            QueueNotify::Silent => None,
            QueueNotify::NotSent(why) => {
                not_sent = Some(why.clone());
                None
            }
            QueueNotify::Url(target) => Some(Target {
                format: format.unwrap_or(target.format),
                ..target.clone()
            }),
        },
    };
    let object = request.input.object;
    let mut store = write(&resources.jobs);
    let job_id = resources.ids.fresh('j', |id| store.contains(id));
    let mut operation = request.operation;
    operation.media_result = None;
    operation.media_info = None;
    operation.template_name = operation
        .template_id
        .as_deref()
        .map(|id| template_name(&request.tag, id));
    let output = operation.output.as_ref().map(|output| JobOutput {
        object: expand_output(&output.object, &object, "", &job_id),
        ..output.clone()
    });
    let job = Arc::new(Job {
        job_id,
        tag: request.tag,
        queue_id: queue.queue_id.clone(),
        queue_category: queue
            .category
            .clone()
            .unwrap_or_else(|| "Transcoding".to_owned()),
        clock: Arc::new(JobClock::new(
            served.now,
            resources.lifecycle.task_duration,
            resources.lifecycle.fails(&object),
        )),
        object,
        operation,
        output,
        callback,
        run: None,
        notified: AtomicBool::new(false),
    });
    store.insert(Arc::clone(&job));
    drop(store);
    if let Some(why) = not_sent {
        resources
            .callbacks
            .not_sent(&format!("TaskFinish {}", job.job_id), &why);
    }
    if job.callback.is_some() {
        resources
            .callbacks
            .schedule(job.clock.ends(), Due::Job(Arc::clone(&job)));
    }
    Ok(CreateJobsOutput {
        request_id: None,
        // CI answers a submission with the job as submitted.
        job: job.detail(Phase::Submitted, &resources.bucket, &resources.region),
    })
}

/// `PUT /jobs/<JobId>?cancel`: only a job that has not started can be
/// cancelled; otherwise `400 InvalidArgument` (CI's code is not
/// documented: see `docs/emulator.md`).
pub(crate) fn cancel(served: Served<'_, CancelJob>) -> Answer<CancelJob> {
    let job = find_resource(
        &served.resources.jobs,
        "job",
        &served.request.job_id,
        |store, id| store.get(id, served.now),
    )?;
    job.clock.cancel(served.now).map_err(|phase| {
        invalid_argument(format!(
            "The job `{}` is {}: only a job that has not started (Submitted) can be cancelled.",
            excerpt(&job.job_id, 100),
            phase.state()
        ))
    })?;
    if job.callback.is_some() {
        served
            .resources
            .callbacks
            .schedule(served.now, Due::Job(Arc::clone(&job)));
    }
    if let Some(link) = &job.run {
        link.run.cancel(served.now);
        if link
            .run
            .notify
            .as_ref()
            .is_some_and(|notify| notify.workflow_finish)
        {
            served
                .resources
                .callbacks
                .schedule(served.now, Due::Run(Arc::clone(&link.run)));
        }
    }
    Ok(EmptyOutput::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_wildcards() {
        assert_eq!(
            expand_output(
                "${InputPath}/${InputName}_transcode.${Ext}",
                "input/my video.mp4",
                "i1",
                "j1"
            ),
            "input/my video_transcode.mp4"
        );
        assert_eq!(
            expand_output("${InputPath}/${InputName}.${Ext}", "a.mov", "", "j1"),
            "a.mov"
        );
        assert_eq!(
            expand_output(
                "snap/${RunId}/${Jobid}-${Number}.jpg",
                "x/y.mp4",
                "i1",
                "j2"
            ),
            "snap/i1/j2-0.jpg"
        );
        assert_eq!(
            expand_output("out/${InputNameAndExt}", "x/.hidden", "", ""),
            "out/.hidden"
        );
    }

    #[test]
    fn template_names_are_stable() {
        assert_eq!(
            template_name("Transcode", "t1"),
            template_name("Transcode", "t1")
        );
        assert!(template_name("Snapshot", "t1").starts_with("snapshot_"));
    }
}
