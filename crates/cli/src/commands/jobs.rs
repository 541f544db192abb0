//! `cos-ci jobs ...`: list (one tag, by token), get (one or several),
//! submit (from flags, or a `<Request>` XML or JSON file, with `--wait`),
//! cancel, wait.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, ValueEnum};
use cos_ci_client::JobWait;
use cos_ci_proto::{
    CancelJob, CreateJobs, CreateJobsOutput, DescribeJobs, DescribeJobsOutput, JobDetail,
    JobOutput, JobRequest, JobStateFilter, ListJobs,
};

use crate::args::{OutputArgs, ServiceArgs, TokenListingArgs, WaitArgs};
use crate::commands::wait::{existing_job, wait_for};
use crate::commands::workflows::{check_wait_flags, hint_if_maybe_sent, shell_word};
use crate::error::CliError;
use crate::files::read_document;
use crate::flags::{self, IdList};
use crate::output::{Column, Render, Row, TableWriter, dash, time_or_dash, write_fields};
use crate::runner::{self, ActionArgs, Runner, action_args, listing_args, note};
use crate::terminal::printable;

/// `cos-ci jobs list`.
#[derive(Debug, Args)]
pub struct JobsListArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// The job type: Transcode, Snapshot, Animation, … (required by the API).
    #[arg(long, value_name = "TAG")]
    pub tag: String,
    /// Only jobs of this queue.
    #[arg(long, value_name = "ID")]
    pub queue_id: Option<String>,
    /// Only jobs started by this workflow.
    #[arg(long, value_name = "ID")]
    pub workflow_id: Option<String>,
    /// Only jobs started by this batch trigger (the API's inventoryTriggerJobId).
    #[arg(long, value_name = "ID")]
    pub batch_job_id: Option<String>,
    /// Only jobs whose input is exactly this object key.
    #[arg(long, value_name = "KEY")]
    pub input_object: Option<String>,
    /// Comma-separated states, any case: All, Submitted, Running, Success,
    /// Failed, Pause, Cancel.
    #[arg(long, value_name = "STATES", value_parser = flags::job_states)]
    pub states: Option<BTreeSet<JobStateFilter>>,
    #[command(flatten)]
    pub listing: TokenListingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    JobsListArgs => ListJobs |args|
    let (start, end) = args.listing.time.resolve(SystemTime::now())?;
    {
        tag => "tag" as "--tag",
        queue_id => "queueId" as "--queue-id",
        queue_type: None,
        workflow_id => "workflowId" as "--workflow-id",
        inventory_trigger_job_id: args.batch_job_id.clone()
            => "inventoryTriggerJobId" as "--batch-job-id",
        input_object => "inputObject" as "--input-object",
        order: args.listing.order => "orderByTime" as "--order",
        states => "states" as "--states",
        start_creation_time: start => "startCreationTime" as "--start-time",
        end_creation_time: end => "endCreationTime" as "--end-time",
        size: args.listing.size => "size" as "--size",
        next_token: args.listing.next_token.clone() => "nextToken" as "--next-token",
    }
}

listing_args!(JobsListArgs => "job" in "JobsDetail" by token);

/// `30%`, or `-` when the job reports no progress.
pub fn progress_cell(job: &JobDetail) -> String {
    job.progress
        .map_or_else(|| "-".to_owned(), |percent| format!("{percent}%"))
}

fn input_object(job: &JobDetail) -> &str {
    job.input
        .as_ref()
        .and_then(|input| input.object.as_deref())
        .unwrap_or("-")
}

impl Row for JobDetail {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("JobId", |job| Cow::Borrowed(&job.job_id)),
        Column::new("Tag", |job| Cow::Borrowed(&job.tag)),
        Column::new("State", |job| Cow::Borrowed(job.state.as_str())),
        Column::new("Progress", |job| Cow::Owned(progress_cell(job))),
        Column::new("CreationTime", |job| {
            Cow::Borrowed(time_or_dash(job.creation_time.as_ref()))
        }),
        Column::new("Code", |job| Cow::Borrowed(dash(job.code.as_deref()))),
        Column::new("Input", |job| Cow::Borrowed(input_object(job))),
    ];
}

/// One job in detail: state, progress, result, input and output, and the
/// run that started it.
pub fn write_job(out: &mut dyn Write, job: &JobDetail) -> io::Result<()> {
    let operation = job.operation.as_ref();
    let target = operation
        .and_then(|operation| operation.output.as_ref())
        .map(|output| format!("{}/{} ({})", output.bucket, output.object, output.region))
        .unwrap_or_default();
    let outputs = job.output_keys().join(", ");
    let progress = progress_cell(job);
    let run = job
        .workflow
        .as_ref()
        .map(|workflow| {
            format!(
                "{} (workflow {}, node {})",
                workflow.run_id.as_deref().unwrap_or("-"),
                workflow.workflow_id.as_deref().unwrap_or("-"),
                workflow.name.as_deref().unwrap_or("-")
            )
        })
        .unwrap_or_default();
    let mut fields: Vec<(&str, &str)> = vec![
        ("JobId", &job.job_id),
        ("Tag", &job.tag),
        ("State", job.state.as_str()),
        ("Progress", &progress),
        ("Code", dash(job.code.as_deref())),
        ("Message", job.message.as_deref().unwrap_or("")),
        ("CreationTime", time_or_dash(job.creation_time.as_ref())),
        ("StartTime", time_or_dash(job.start_time.as_ref())),
        ("EndTime", time_or_dash(job.end_time.as_ref())),
        ("QueueId", job.queue_id.as_deref().unwrap_or("")),
        ("Input", input_object(job)),
        (
            "TemplateId",
            operation
                .and_then(|operation| operation.template_id.as_deref())
                .unwrap_or(""),
        ),
        ("Output", &target),
        ("Result", &outputs),
    ];
    if !run.is_empty() {
        fields.push(("Run", &run));
    }
    write_fields(out, &fields)
}

/// One job in detail, several as a table; then the ids with no job.
impl Render for DescribeJobsOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        match self.jobs.as_slice() {
            [] => {}
            [job] => write_job(out, job)?,
            jobs => TableWriter::new().write_page(out, jobs)?,
        }
        let missing = self.missing_ids();
        if !missing.is_empty() {
            if !self.jobs.is_empty() {
                out.write_all(b"\n")?;
            }
            writeln!(out, "missing: {}", printable(&missing.join(", ")))?;
        }
        Ok(())
    }
}

/// The job as submitted.
impl Render for CreateJobsOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        write_job(out, &self.job)
    }
}

/// `cos-ci jobs get`.
#[derive(Debug, Args)]
pub struct JobGetArgs {
    /// One job id, or several comma-separated.
    #[arg(value_name = "JOB_ID[,JOB_ID...]", value_parser = flags::id_list)]
    pub job_ids: IdList,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    JobGetArgs => DescribeJobs |args| {
        job_ids: args.job_ids.0.clone() => "JobIds" as "JOB_ID",
    }
}

/// Run `jobs get`: exit 3 when no asked id has a job.
pub fn get(args: &JobGetArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let (_, output) = runner::answer(args, env)?;
    if output.jobs.is_empty() {
        return Err(CliError::NotFound(format!(
            "no job with id {}",
            printable(&args.job_ids.0.join(", "))
        )));
    }
    runner::print_document(args.format(), &output)
}

/// `--callback-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallbackFormatArg {
    /// XML (the service's default).
    Xml,
    /// JSON.
    Json,
}

impl CallbackFormatArg {
    /// `XML` or `JSON`, as `CallBackFormat` takes it.
    pub fn wire(self) -> &'static str {
        match self {
            CallbackFormatArg::Xml => "XML",
            CallbackFormatArg::Json => "JSON",
        }
    }
}

/// `cos-ci jobs submit`.
#[derive(Debug, Args)]
pub struct JobSubmitArgs {
    /// The job type: Transcode, Snapshot, … (or `Tag` in --file).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// The input object key in the bucket (or `Input.Object` in --file).
    #[arg(long, value_name = "KEY")]
    pub input: Option<String>,
    /// The template to process with.
    #[arg(long, value_name = "ID")]
    pub template_id: Option<String>,
    /// A `<Request>` XML document or JSON with the same element names
    /// (`-` reads stdin); what it sets wins over the flags, which fill in
    /// the rest.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The output object key (may hold wildcards such as ${Number}).
    #[arg(long, value_name = "KEY")]
    pub output_object: Option<String>,
    /// The output bucket (default: --bucket).
    #[arg(long, value_name = "BUCKET")]
    pub output_bucket: Option<String>,
    /// The output bucket's region (default: the target's region).
    #[arg(long, value_name = "REGION")]
    pub output_region: Option<String>,
    /// A URL CI notifies when the job ends (see `cos-ci callbacks listen`).
    #[arg(long, value_name = "URL", value_parser = flags::callback_url)]
    pub callback: Option<String>,
    /// The notification's format.
    #[arg(long, value_name = "FORMAT", value_enum, requires = "callback")]
    pub callback_format: Option<CallbackFormatArg>,
    /// The queue to run in (default: the bucket's default queue).
    #[arg(long, value_name = "ID")]
    pub queue_id: Option<String>,
    /// Follow the job to its end with a progress bar; exit 0 on Success,
    /// 5 on Failed or Cancel, 4 when --wait-timeout passes first.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub waiting: WaitArgs,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `value` unless it is absent or empty, else `fallback`.
fn fill(value: &mut Option<String>, fallback: Option<&String>) {
    if value.as_deref().is_none_or(str::is_empty) {
        *value = fallback.cloned();
    }
}

fn fill_text(value: &mut String, fallback: Option<&String>) {
    if value.is_empty()
        && let Some(fallback) = fallback
    {
        value.clone_from(fallback);
    }
}

/// [`fill_text`] for a value the request must have: set by `flag` or
/// by `element` in --file.
fn fill_required(
    value: &mut String,
    fallback: Option<&String>,
    flag: &'static str,
    element: &str,
) -> Result<(), CliError> {
    fill_text(value, fallback);
    if value.is_empty() {
        return Err(CliError::invalid_flag(
            flag,
            format!("is required (or `{element}` in --file)"),
        ));
    }
    Ok(())
}

impl JobSubmitArgs {
    /// The request: the file's (if any), with what it leaves unset taken
    /// from the flags; the output region defaults to `region` (the
    /// target's, however it was found).
    pub fn request(&self, region: Option<&str>) -> Result<JobRequest, CliError> {
        let region = region.map(str::to_owned);
        let mut request = match &self.file {
            Some(path) => read_document::<JobRequest>(path, "--file")?,
            None => JobRequest::default(),
        };
        fill_required(&mut request.tag, self.tag.as_ref(), "--tag", "Tag")?;
        fill_required(
            &mut request.input.object,
            self.input.as_ref(),
            "--input",
            "Input.Object",
        )?;
        let operation = &mut request.operation;
        fill(&mut operation.template_id, self.template_id.as_ref());
        let flags_name_an_output = self.output_object.is_some()
            || self.output_bucket.is_some()
            || self.output_region.is_some();
        if operation.output.is_some() || flags_name_an_output {
            let output = operation.output.get_or_insert_with(JobOutput::default);
            fill_text(&mut output.object, self.output_object.as_ref());
            fill_text(
                &mut output.bucket,
                self.output_bucket
                    .as_ref()
                    .or(Some(&self.service.target.bucket)),
            );
            fill_text(
                &mut output.region,
                self.output_region.as_ref().or(region.as_ref()),
            );
        }
        fill(&mut request.queue_id, self.queue_id.as_ref());
        fill(&mut request.callback, self.callback.as_ref());
        let format = self.callback_format.map(|format| format.wire().to_owned());
        fill(&mut request.callback_format, format.as_ref());
        Ok(request)
    }
}

action_args! {
    JobSubmitArgs => CreateJobs |args|
    check check_wait_flags(args.wait, &args.waiting);
    {
        request: args.request(args.service.target.region.as_deref())?,
    }
    // The request's fields that the flags fill in; the rest come from --file.
    flags {
        "Tag" => "--tag",
        "Input.Object" => "--input",
        "Operation.TemplateId" => "--template-id",
        "Operation.Output" => "--output-object",
        "CallBack" => "--callback",
        "CallBackFormat" => "--callback-format",
        "QueueId" => "--queue-id",
    }
    else |_| Some("--file")
}

/// Run `jobs submit`.
pub fn submit(
    args: &JobSubmitArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let action = runner::checked_action(args)?;
    let tag = action.request.tag.clone();
    let input = action.request.input.object.clone();
    let runner = Runner::new(&args.service, env)?;
    let output = runner.call(action).map_err(|error| {
        let check = format!(
            "cos-ci jobs list --tag {} --input-object {} --since 1h",
            shell_word(&tag),
            shell_word(&input)
        );
        hint_if_maybe_sent(error, "the submission", &check)
    })?;
    if !args.wait {
        return runner::print_document(args.format(), &output);
    }
    note(&format!("submitted job {}", printable(&output.job.job_id)));
    wait_for::<JobWait>(&runner, &output.job.job_id, &args.waiting, args.format())
}

/// `cos-ci jobs cancel`.
#[derive(Debug, Args)]
pub struct JobCancelArgs {
    /// The job to cancel (only a job that has not started can be).
    #[arg(value_name = "JOB_ID")]
    pub job_id: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    JobCancelArgs => CancelJob |args| {
        job_id => "JobId" as "JOB_ID",
    }
}

/// Run `jobs cancel`.
pub fn cancel(
    args: &JobCancelArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let id = args.job_id.clone();
    runner::call_saying(args, env, |_| format!("cancelled job {id}"))
}

/// `cos-ci jobs wait`.
#[derive(Debug, Args)]
pub struct JobWaitArgs {
    /// The job to follow.
    #[arg(value_name = "JOB_ID")]
    pub job_id: String,
    #[command(flatten)]
    pub waiting: WaitArgs,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `jobs wait`: exit 3 at once when there is no such job.
pub fn wait(args: &JobWaitArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    use cos_ci_proto::CiAction as _;
    if args.job_id.contains(',') {
        return Err(CliError::invalid_flag("JOB_ID", "must be one job id"));
    }
    DescribeJobs {
        job_ids: vec![args.job_id.clone()],
    }
    .validate()
    .map_err(|error| CliError::invalid_flag("JOB_ID", error.rule))?;
    let runner = Runner::new(&args.service, env)?;
    existing_job(&runner, &args.job_id)?;
    wait_for::<JobWait>(&runner, &args.job_id, &args.waiting, args.output.format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parsed;
    use cos_ci_proto::{BodyRules, CiAction, XmlDocument};

    fn submit_args(args: &[&str]) -> JobSubmitArgs {
        parsed(args)
    }

    #[test]
    fn submit_builds_the_request_from_flags_with_target_defaults() {
        let request = submit_args(&[
            "--tag",
            "Transcode",
            "--input",
            "in/a.mp4",
            "--template-id",
            "t1",
            "--output-object",
            "out/a.mp4",
            "--callback",
            "http://127.0.0.1:9/",
            "--callback-format",
            "json",
        ])
        .action()
        .unwrap();
        request.validate().unwrap();
        insta::assert_snapshot!(request.request.to_xml(), @r"
        <Request>
        <Tag>Transcode</Tag>
        <Input>
        <Object>in/a.mp4</Object>
        </Input>
        <Operation>
        <TemplateId>t1</TemplateId>
        <Output>
        <Region>ap-beijing</Region>
        <Bucket>examplebucket-1250000000</Bucket>
        <Object>out/a.mp4</Object>
        </Output>
        </Operation>
        <CallBack>http://127.0.0.1:9/</CallBack>
        <CallBackFormat>JSON</CallBackFormat>
        </Request>
        ");
    }

    #[test]
    fn submit_rules_name_the_flags() {
        let cases: &[(&[&str], &str)] = &[
            (&["--input", "a.mp4"], "invalid --tag: is required"),
            (&["--tag", "Transcode"], "invalid --input: is required"),
            (
                &["--tag", "Transcode", "--input", "a", "--output-object", "o"],
                "invalid --template-id: a Transcode job needs a template id",
            ),
            (
                &["--tag", "Transcode", "--input", "a", "--template-id", "t"],
                "invalid --output-object: needs Region, Bucket and Object",
            ),
            (
                &["--tag", "T", "--input", "a", "--wait-timeout", "1m"],
                "invalid --wait-timeout: only applies with --wait",
            ),
        ];
        for (args, expected) in cases {
            let args = submit_args(args);
            let error = runner::checked_action(&args).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().starts_with(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn a_file_wins_over_the_flags_which_fill_in_the_rest() {
        let dir = std::env::temp_dir().join(format!("cos-ci-submit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("job.json");
        std::fs::write(
            &file,
            r#"{"Tag": "Snapshot", "Input": {"Object": "from-file.mp4"},
                "Operation": {"Snapshot": {"Mode": "Interval", "Count": "3"},
                              "Output": {"Object": "snap/${Number}.jpg"}}}"#,
        )
        .unwrap();
        let file = file.to_string_lossy().into_owned();
        let request = submit_args(&[
            "--file",
            &file,
            "--tag",
            "Transcode",
            "--input",
            "flag.mp4",
            "--queue-id",
            "p1",
            "--output-region",
            "ap-shanghai",
        ])
        .request(Some("ap-beijing"))
        .unwrap();
        assert_eq!(request.tag, "Snapshot");
        assert_eq!(request.input.object, "from-file.mp4");
        let output = request.operation.output.as_ref().unwrap();
        assert_eq!(output.object, "snap/${Number}.jpg");
        assert_eq!(output.bucket, "examplebucket-1250000000");
        assert_eq!(output.region, "ap-shanghai");
        assert_eq!(request.queue_id.as_deref(), Some("p1"));
        assert!(request.check_body().is_ok(), "{:?}", request.check_body());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
