//! `cos-ci callbacks listen`: a small HTTP server that receives the
//! notifications CI sends when a job (`TaskFinish`) or a workflow run
//! (`WorkflowFinish`) ends, in XML or JSON, and prints each as one
//! normalised record: event, job id or run id, state, code, message.
//!
//! Every POST is answered at once: 200 for a notification, 400 (with the
//! reason, also noted on stderr) for a body that is not one; other methods
//! get 405. Notifications carry no signature, so anyone who can reach the
//! port can send one: with `--confirm` (and credentials) each is checked
//! by fetching the job (`GET /jobs/<JobId>`) or the run
//! (`GET /workflowexecution/<RunId>`), and the record says whether the
//! state the service reports agrees. `--count N` exits after N
//! notifications (for scripts and tests); otherwise it runs until Ctrl-C.
//!
//! Printing, counting and confirming happen in one place (a channel from
//! the connections), so records never interleave; answers do not wait for
//! confirmation.

use std::borrow::Cow;
use std::convert::Infallible;
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use cos_ci_hyper::HyperClient;
use cos_ci_proto::{
    CallbackFormat, CallbackNotification, DescribeJobs, DescribeWorkflowExecution, JobState,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::args::{CredentialArgs, OutputArgs, OutputFormat, RequestArgs, TargetArgs};
use crate::error::CliError;
use crate::flags;
use crate::output::{Column, ListWriter, Row};
use crate::runner::{Runner, note};
use crate::terminal::printable;

/// Largest notification body accepted (a job's notification with its
/// media info is a few KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `cos-ci callbacks listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (port 0:
    /// any free port; the address is printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Exit after this many notifications.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = flags::at_least_one)]
    pub count: Option<u64>,
    /// Check each notification against the service (it is not signed):
    /// fetch the job or run and say whether its state agrees. Needs
    /// --bucket, a region and credentials.
    #[arg(long)]
    pub confirm: bool,
    /// Bucket to confirm against (with --confirm).
    #[arg(long, env = "COS_CI_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Region to confirm against (with --confirm; else TENCENTCLOUD_REGION,
    /// else the tccli profile's).
    #[arg(long, env = "COS_CI_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Base URL to confirm against instead of the bucket's CI domain.
    #[arg(long, env = "COS_CI_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One notification (one job of it, or its run), normalised. JSON keys
/// are the API's names where it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackRecord {
    /// `TaskFinish`, `WorkflowFinish`, …
    #[serde(rename = "EventName")]
    pub event: String,
    /// The job, for a job's notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The run: a workflow's notification, or the run that started a job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The state it reports.
    pub state: String,
    /// `Code` (a job's; a run's first failed task's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Message`, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `XML` or `JSON`: how it arrived.
    pub format: &'static str,
    /// With `--confirm`: whether the state fetched from the service agrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
    /// With `--confirm`: the state the service reports (or why it could
    /// not be fetched).
    #[serde(rename = "FetchedState", skip_serializing_if = "Option::is_none")]
    pub fetched: Option<String>,
}

impl CallbackRecord {
    /// The records of one notification: one per job, or the run's.
    pub fn from_notification(
        notification: &CallbackNotification,
        format: CallbackFormat,
    ) -> Vec<CallbackRecord> {
        let event = notification.event().to_string();
        let mut records: Vec<CallbackRecord> = notification
            .jobs
            .iter()
            .map(|job| CallbackRecord {
                event: event.clone(),
                job_id: Some(job.job_id.clone()),
                run_id: job.workflow.as_ref().and_then(|run| run.run_id.clone()),
                state: job.state.to_string(),
                code: job.code.clone().filter(|code| !code.is_empty()),
                message: job.message.clone().filter(|message| !message.is_empty()),
                format: format.as_str(),
                confirmed: None,
                fetched: None,
            })
            .collect();
        if let Some(run) = &notification.workflow_execution {
            let failed = run
                .tasks
                .iter()
                .find(|task| matches!(task.state, JobState::Failed | JobState::Cancel));
            records.push(CallbackRecord {
                event,
                job_id: None,
                run_id: Some(run.run_id.clone()),
                state: run.state.to_string(),
                code: failed
                    .and_then(|task| task.code.clone())
                    .filter(|code| !code.is_empty()),
                message: failed
                    .and_then(|task| task.message.clone())
                    .filter(|message| !message.is_empty()),
                format: format.as_str(),
                confirmed: None,
                fetched: None,
            });
        }
        records
    }
}

impl CallbackRecord {
    /// The table form: one line, padded so that the usual ids line up
    /// (records stream, so no width can be measured in advance):
    /// `TaskFinish      job j…  Failed   InvalidInput: no video  [XML, confirmed]`.
    pub fn line(&self) -> String {
        let id = match (&self.job_id, &self.run_id) {
            (Some(job), _) => format!("job {job}"),
            (None, Some(run)) => format!("run {run}"),
            (None, None) => "-".to_owned(),
        };
        let mut line = format!("{:<14}  {:<37}  {:<7}", self.event, id, self.state);
        let detail: Vec<&str> = [self.code.as_deref(), self.message.as_deref()]
            .into_iter()
            .flatten()
            .filter(|text| !text.is_empty() && *text != "Success")
            .collect();
        if !detail.is_empty() {
            line.push_str("  ");
            line.push_str(&detail.join(": "));
        }
        line.push_str("  [");
        line.push_str(self.format);
        match (self.confirmed, self.fetched.as_deref()) {
            (None, _) => {}
            (Some(true), _) => line.push_str(", confirmed"),
            (Some(false), Some(fetched)) => {
                line.push_str(", NOT confirmed: the service says ");
                line.push_str(fetched);
            }
            (Some(false), None) => line.push_str(", NOT confirmed"),
        }
        line.push(']');
        printable(&line).into_owned()
    }
}

/// Records as they arrive: lines for people, or the JSON forms.
#[derive(Debug)]
enum RecordWriter {
    Lines,
    Json(ListWriter<CallbackRecord>),
}

impl RecordWriter {
    fn begin<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        match self {
            RecordWriter::Lines => Ok(()),
            RecordWriter::Json(writer) => writer.begin(out),
        }
    }

    fn write<W: Write>(&mut self, out: &mut W, records: &[CallbackRecord]) -> io::Result<()> {
        match self {
            RecordWriter::Lines => {
                for record in records {
                    writeln!(out, "{}", record.line())?;
                }
                Ok(())
            }
            RecordWriter::Json(writer) => writer.write_page(out, records),
        }
    }

    fn finish<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        match self {
            RecordWriter::Lines => Ok(()),
            RecordWriter::Json(writer) => writer.finish(out, None),
        }
    }
}

/// `CallbackRecord`s are written whole by the JSON writers; the table
/// form is [`CallbackRecord::line`].
impl Row for CallbackRecord {
    const COLUMNS: &'static [Column<Self>] = &[Column::new("Notification", |record| {
        Cow::Owned(record.line())
    })];
}

/// What a connection hands to the printer: the records of one notification.
type Received = Vec<CallbackRecord>;

/// Run `callbacks listen`.
pub fn listen(args: &ListenArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let runner = if args.confirm {
        let bucket = args.bucket.clone().ok_or_else(|| {
            CliError::invalid_flag(
                "--bucket",
                "is required with --confirm (or set COS_CI_BUCKET)",
            )
        })?;
        let target = TargetArgs {
            bucket,
            region: args.region.clone(),
            endpoint: args.endpoint.clone(),
        };
        Some(Runner::from_parts(
            &target,
            &args.credentials,
            &args.request,
            env,
        )?)
    } else {
        None
    };
    let serve = serve(args, runner.as_ref().map(Runner::client));
    match &runner {
        Some(runner) => runner.block_on(serve),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::Runtime)?
            .block_on(serve),
    }
}

async fn serve(args: &ListenArgs, client: Option<&HyperClient>) -> Result<(), CliError> {
    let listener = TcpListener::bind(args.listen).await.map_err(|error| {
        CliError::invalid_flag(
            "--listen",
            format!("cannot listen on {}: {error}", args.listen),
        )
    })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::invalid_flag("--listen", error.to_string()))?;
    note(&format!(
        "listening on http://{address}/ for job and workflow notifications{}",
        match args.count {
            Some(count) => format!(" (exits after {count})"),
            None => " (Ctrl-C stops)".to_owned(),
        }
    ));
    let (sender, mut received) = mpsc::channel::<Received>(64);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .half_close(true)
        .keep_alive(true);

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut writer = match args.output.format {
        OutputFormat::Table => RecordWriter::Lines,
        format => RecordWriter::Json(ListWriter::new(format, "Notifications")),
    };
    writer.begin(&mut out).map_err(CliError::Output)?;
    out.flush().map_err(CliError::Output)?;
    let mut notifications: u64 = 0;
    let mut interrupted = std::pin::pin!(interrupted());
    let outcome: Result<(), CliError> = loop {
        if args.count.is_some_and(|count| notifications >= count) {
            break Ok(());
        }
        tokio::select! {
            biased;
            () = &mut interrupted => break Ok(()),
            Some(records) = received.recv() => {
                notifications += 1;
                let mut records = records;
                if let Some(client) = client {
                    for record in &mut records {
                        confirm(client, record).await;
                    }
                }
                if let Err(error) = writer
                    .write(&mut out, &records)
                    .and_then(|()| out.flush())
                {
                    break Err(CliError::Output(error));
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let sender = sender.clone();
                    let service = service_fn(move |request| {
                        handle(request, peer, sender.clone())
                    });
                    let connection =
                        graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                Err(error) => {
                    note(&format!("warning: accept failed: {error}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    };
    drop(listener);
    // Let the connection that brought the last notification send its 200.
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    let finished = writer
        .finish(&mut out)
        .and_then(|()| out.flush())
        .map_err(CliError::Output);
    if args.output.format == OutputFormat::Table {
        note(&format!(
            "received {notifications} notification{}",
            if notifications == 1 { "" } else { "s" }
        ));
    }
    outcome.and(finished)
}

/// Ctrl-C (never, where signals cannot be watched).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One request: a notification is read, handed to the printer and
/// answered 200; anything else is answered 400 or 405 and noted.
async fn handle(
    request: Request<Incoming>,
    peer: SocketAddr,
    sender: mpsc::Sender<Received>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = |status: StatusCode, text: String| {
        let mut response = Response::new(Full::new(Bytes::from(text)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok(response)
    };
    if request.method() != Method::POST {
        note(&format!(
            "warning: ignored a {} request from {peer}: notifications are POSTed",
            printable(request.method().as_str())
        ));
        return answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a notification\n".to_owned(),
        );
    }
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            note(&format!(
                "warning: ignored a request from {peer}: cannot read its body: {}",
                printable(&error.to_string())
            ));
            return answer(
                StatusCode::BAD_REQUEST,
                format!("unreadable body: {error}\n"),
            );
        }
    };
    match CallbackNotification::parse(&body) {
        Ok((notification, format)) => {
            let records = CallbackRecord::from_notification(&notification, format);
            // The printer may be gone (the count was reached): still 200.
            let _ = sender.send(records).await;
            answer(StatusCode::OK, String::new())
        }
        Err(error) => {
            note(&format!(
                "warning: ignored a request from {peer}: {}",
                printable(&error.to_string())
            ));
            answer(StatusCode::BAD_REQUEST, format!("{error}\n"))
        }
    }
}

/// Fetch the job or run `record` names and say whether its state agrees.
async fn confirm(client: &HyperClient, record: &mut CallbackRecord) {
    let fetched = if let Some(job_id) = &record.job_id {
        client
            .execute(DescribeJobs {
                job_ids: vec![job_id.clone()],
            })
            .await
            .map(|output| {
                output
                    .jobs
                    .into_iter()
                    .find(|job| &job.job_id == job_id)
                    .map(|job| job.state.to_string())
            })
    } else if let Some(run_id) = &record.run_id {
        client
            .execute(DescribeWorkflowExecution {
                run_id: run_id.clone(),
            })
            .await
            .map(|output| Some(output.execution.state.to_string()))
    } else {
        Ok(None)
    };
    match fetched {
        Ok(Some(state)) => {
            record.confirmed = Some(state == record.state);
            record.fetched = Some(state);
        }
        Ok(None) => {
            record.confirmed = Some(false);
            record.fetched = Some("not found".to_owned());
        }
        Err(error) => {
            record.confirmed = Some(false);
            record.fetched = Some(format!("cannot fetch: {error}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_both_kinds() {
        let job = br#"{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","State":"Failed",
            "Code":"InvalidInput","Message":"no video","Workflow":{"RunId":"i1"}}}"#;
        let (notification, format) = CallbackNotification::parse(job).unwrap();
        let records = CallbackRecord::from_notification(&notification, format);
        assert_eq!(
            serde_json::to_string(&records).unwrap(),
            r#"[{"EventName":"TaskFinish","JobId":"j1","RunId":"i1","State":"Failed","Code":"InvalidInput","Message":"no video","Format":"JSON"}]"#
        );
        let run = b"<Response><WorkflowExecution><RunId>i2</RunId><State>Failed</State>\
            <Tasks><Name>T_1</Name><State>Failed</State><Code>E</Code><Message>m</Message></Tasks>\
            </WorkflowExecution></Response>";
        let (notification, format) = CallbackNotification::parse(run).unwrap();
        let records = CallbackRecord::from_notification(&notification, format);
        assert_eq!(
            serde_json::to_string(&records).unwrap(),
            r#"[{"EventName":"WorkflowFinish","RunId":"i2","State":"Failed","Code":"E","Message":"m","Format":"XML"}]"#
        );
        let mut record = records[0].clone();
        insta::assert_snapshot!(record.line(), @"WorkflowFinish  run i2                                 Failed   E: m  [XML]");
        record.confirmed = Some(false);
        record.fetched = Some("Running".into());
        record.message = Some("a\nb".into());
        insta::assert_snapshot!(record.line(), @r"WorkflowFinish  run i2                                 Failed   E: a\nb  [XML, NOT confirmed: the service says Running]");
    }
}
