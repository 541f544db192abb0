//! Callbacks: when a job with a `CallBack` (its own, or its queue's
//! `NotifyConfig`) ends, or a run whose workflow's `Start` node has a
//! `NotifyConfig.Url` ends, the emulator POSTs CI's
//! notification (`TaskFinish` with the job's `JobsDetail`, or
//! `WorkflowFinish` with the run) in XML or JSON.
//!
//! States are derived from the clock, so nothing "happens" when a job
//! ends; instead each callback is queued with the instant it is due (the
//! job's or run's end), and the running server has one small task that
//! sleeps until the earliest one, builds the notification as things stand
//! at that instant, and sends it. Only `http://127.0.0.1[:port]` and
//! `http://localhost[:port]` URLs are accepted (others are refused when the
//! job or workflow is submitted), so nothing ever leaves the machine.
//!
//! Bounded: at most [`MAX_PENDING`] callbacks wait (more are dropped, with
//! a log line); each delivery has [`SEND_TIMEOUT`] and at most
//! [`MAX_ATTEMPTS`] attempts; failures are logged. A [`RequestHandler`]
//! used without the server queues callbacks but never sends them.
//!
//! [`RequestHandler`]: crate::RequestHandler

use std::collections::BTreeMap;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, watch};

use cos_ci_proto::schema::XmlDocument;
use cos_ci_proto::{CallbackEvent, CiTimestamp, JobDetail, XmlTree, xml_record};

use crate::clock::{TimeForm, timestamp};
use crate::jobs::Job;
use crate::routes::Resources;
use crate::runs::LiveRun;

/// The most callbacks waiting at once.
pub const MAX_PENDING: usize = 1024;
/// How long one delivery may take (connect, send, read the status line).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per callback: the first, then retries 1 s and 2 s later.
pub const MAX_ATTEMPTS: u32 = 3;
/// Deliveries in flight at once.
const MAX_IN_FLIGHT: usize = 16;

/// `CallBackFormat` / `NotifyConfig.ResultFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `XML` (the default).
    Xml,
    /// `JSON`: the same names as keys, every scalar a string, a repeated
    /// element an array and a single one an object.
    Json,
}

/// An `http://127.0.0.1…` or `http://localhost…` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalUrl {
    /// As given.
    pub(crate) text: String,
    /// `host[:port]`, for the `Host` header.
    authority: String,
    port: u16,
    /// The path and query, from `/`.
    target: String,
}

/// Where and how to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) url: LocalUrl,
    pub(crate) format: Format,
}

/// Read a callback URL: only plain `http` to `127.0.0.1` or `localhost`
/// (any port) passes.
pub(crate) fn local_url(text: &str) -> Result<LocalUrl, String> {
    let refuse = || {
        format!(
            "`{}` is not an http:// URL on 127.0.0.1 or localhost (the emulator calls no other host)",
            cos_ci_proto::query::excerpt(text, 100)
        )
    };
    let rest = text
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .and_then(|_| text.get(7..))
        .ok_or_else(refuse)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let target = target.split('#').next().unwrap_or("");
    if target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(refuse)?,
        ),
        None => (authority, 80),
    };
    if !(host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost")) {
        return Err(refuse());
    }
    let target = match target {
        "" => "/".to_owned(),
        path if path.starts_with('?') => format!("/{path}"),
        path => path.to_owned(),
    };
    Ok(LocalUrl {
        text: text.to_owned(),
        authority: authority.to_owned(),
        port,
        target,
    })
}

/// What is due.
#[derive(Debug)]
pub(crate) enum Due {
    /// A job's `TaskFinish`.
    Job(Arc<Job>),
    /// A run's `WorkflowFinish`.
    Run(Arc<LiveRun>),
    /// A delivery that failed, again.
    Retry(Box<Delivery>),
}

/// A notification ready to send.
#[derive(Debug)]
pub(crate) struct Delivery {
    target: Target,
    body: Vec<u8>,
    /// For the log: `TaskFinish j…`.
    label: String,
    attempt: u32,
}

impl Delivery {
    /// The first attempt at sending `document` to `target`.
    fn first(target: Target, document: &Notification) -> Self {
        Delivery {
            body: encode(document, target.format),
            label: document.label(),
            target,
            attempt: 1,
        }
    }
}

/// The callbacks waiting, earliest first: keyed by the instant each is
/// due and a sequence number, so two due at the same instant keep the
/// order they were queued in (and no key is ever taken twice).
#[derive(Default)]
struct Queue {
    due: BTreeMap<(SystemTime, u64), Due>,
    sequence: u64,
}

struct Inner {
    queue: Mutex<Queue>,
    wake: Notify,
    log: bool,
}

/// The callbacks waiting for their instant.
#[derive(Clone)]
pub(crate) struct Callbacks {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// An empty queue; `log`: a line on stderr per delivery and failure.
    pub(crate) fn new(log: bool) -> Self {
        Callbacks {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue::default()),
                wake: Notify::new(),
                log,
            }),
        }
    }

    fn log(&self, line: &str) {
        if self.inner.log {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "cos-ci-emulator: callback {line}");
        }
    }

    /// Log that the notification `label` (`TaskFinish j…`) is not sent,
    /// and why.
    pub(crate) fn not_sent(&self, label: &str, why: &str) {
        self.log(&format!("{label} not sent: {why}"));
    }

    /// The queue, locked. A panic while it was held leaves it as it was
    /// left, not unusable.
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `due` for `at` (dropped, with a log line, when
    /// [`MAX_PENDING`] already wait).
    pub(crate) fn schedule(&self, at: SystemTime, due: Due) {
        {
            let mut queue = self.queue();
            if queue.due.len() >= MAX_PENDING {
                drop(queue);
                self.log(&format!("queue full ({MAX_PENDING} waiting): one dropped"));
                return;
            }
            queue.sequence += 1;
            let sequence = queue.sequence;
            queue.due.insert((at, sequence), due);
        }
        self.inner.wake.notify_one();
    }

    /// How many wait.
    pub(crate) fn pending(&self) -> usize {
        self.queue().due.len()
    }

    fn next_at(&self) -> Option<SystemTime> {
        self.queue().due.first_key_value().map(|(&(at, _), _)| at)
    }

    fn take_due(&self, now: SystemTime) -> Vec<Due> {
        let mut queue = self.queue();
        let mut due = Vec::new();
        while let Some(entry) = queue.due.first_entry()
            && entry.key().0 <= now
        {
            due.push(entry.remove());
        }
        due
    }
}

xml_record! {
    /// A notification as sent: `TaskFinish` with the job that ended, or
    /// `WorkflowFinish` with the run, each built by its constructor so the
    /// event name and the payload agree.
    pub(crate) struct Notification {
        pub(crate) event_name: CallbackEvent = "EventName",
        pub(crate) job: Option<JobDetail> = "JobsDetail",
        pub(crate) execution: Option<FinishedRun> = "WorkflowExecution",
    }
    root = "Response"
}

impl Notification {
    /// A job's `TaskFinish`.
    fn task_finish(job: JobDetail) -> Self {
        Notification {
            event_name: CallbackEvent::TaskFinish,
            job: Some(job),
            execution: None,
        }
    }

    /// A run's `WorkflowFinish`.
    fn workflow_finish(run: FinishedRun) -> Self {
        Notification {
            event_name: CallbackEvent::WorkflowFinish,
            job: None,
            execution: Some(run),
        }
    }

    /// For the log: `TaskFinish j…`, `WorkflowFinish r…`.
    fn label(&self) -> String {
        let job = self.job.as_ref().map(|job| job.job_id.as_str());
        let run = self.execution.as_ref().map(|run| run.run_id.as_str());
        format!("{} {}", self.event_name, job.or(run).unwrap_or_default())
    }
}

xml_record! {
    /// One task of a `WorkflowFinish`.
    pub(crate) struct FinishedTask {
        pub(crate) task_type: String = "Type",
        pub(crate) create_time: Option<String> = "CreateTime",
        pub(crate) start_time: Option<String> = "StartTime",
        pub(crate) end_time: Option<String> = "EndTime",
        pub(crate) state: String = "State",
        pub(crate) job_id: Option<String> = "JobId",
        pub(crate) name: String = "Name",
        pub(crate) template_id: Option<String> = "TemplateId",
        pub(crate) template_name: Option<String> = "TemplateName",
    }
}

xml_record! {
    /// The run of a `WorkflowFinish`.
    pub(crate) struct FinishedRun {
        pub(crate) workflow_id: String = "WorkflowId",
        pub(crate) workflow_name: String = "WorkflowName",
        pub(crate) run_id: String = "RunId",
        pub(crate) state: String = "State",
        pub(crate) bucket_id: String = "BucketId",
        pub(crate) object: String = "Object",
        pub(crate) create_time: String = "CreateTime",
        pub(crate) tasks: Vec<FinishedTask> = "Tasks",
    }
}

xml_record! {
    /// Any `<Response>`, kept whole: the XML a JSON body is made from.
    struct AnyResponse {
        ..other
    }
    root = "Response"
}

/// `document` as sent in `format`: CI's XML, or the same elements as JSON
/// without the `Response` root (every scalar a string, a repeated element
/// an array, a single one an object).
pub(crate) fn encode<D: XmlDocument>(document: &D, format: Format) -> Vec<u8> {
    let xml = document.to_xml();
    match format {
        Format::Xml => xml.into_bytes(),
        Format::Json => {
            let tree = AnyResponse::from_xml(xml.as_bytes())
                .map(|any| XmlTree::Elements(any.other.0))
                .unwrap_or_default();
            serde_json::to_vec(&tree).unwrap_or_default()
        }
    }
}

/// A time of a workflow callback: `2022-08-09 14:54:17+0800`.
fn spaced(time: Option<&CiTimestamp>) -> Option<String> {
    let seconds = u64::try_from(time?.unix_seconds()).ok()?;
    timestamp(UNIX_EPOCH + Duration::from_secs(seconds), TimeForm::Spaced)
        .map(|time| time.as_str().to_owned())
}

/// The `WorkflowFinish` document of `run` as it ended.
pub(crate) fn workflow_finish(run: &LiveRun, bucket: &str) -> Notification {
    let end = run.ends();
    let detail = run.detail_at(end);
    let tasks = detail
        .tasks
        .iter()
        .map(|task| {
            let template_id = run
                .tasks
                .iter()
                .find(|planned| planned.name == task.name)
                .and_then(|planned| planned.template_id.clone());
            FinishedTask {
                task_type: task.task_type.clone(),
                create_time: spaced(task.create_time.as_ref()),
                start_time: spaced(task.start_time.as_ref()),
                end_time: spaced(task.end_time.as_ref()),
                state: task.state.as_str().to_owned(),
                job_id: task.job_id.clone(),
                name: task.name.clone(),
                template_name: template_id
                    .as_deref()
                    .map(|id| crate::jobs::template_name(&task.task_type, id)),
                template_id,
            }
        })
        .collect();
    Notification::workflow_finish(FinishedRun {
        workflow_id: run.workflow_id.clone(),
        workflow_name: run.workflow_name.clone(),
        run_id: run.run_id.clone(),
        state: detail.state.as_str().to_owned(),
        bucket_id: bucket.to_owned(),
        object: run.object.clone(),
        create_time: spaced(Some(&run.create_time)).unwrap_or_default(),
        tasks,
    })
}

/// The delivery a due callback makes, if it is still to be made.
fn prepare(due: Due, resources: &Resources) -> Option<Delivery> {
    match due {
        Due::Retry(delivery) => Some(*delivery),
        Due::Job(job) => {
            let target = job.callback.clone()?;
            if job.notified.swap(true, AtomicOrdering::AcqRel) {
                return None;
            }
            let end = job.clock.ends();
            // A later task of a run cancelled before it began never exists.
            if !job.exists(end) {
                return None;
            }
            let detail = job.detail_at(end, &resources.bucket, &resources.region);
            Some(Delivery::first(target, &Notification::task_finish(detail)))
        }
        Due::Run(run) => {
            let target = run.notify.as_ref()?.target.clone();
            if run.notified.swap(true, AtomicOrdering::AcqRel) {
                return None;
            }
            let document = workflow_finish(&run, &resources.bucket);
            Some(Delivery::first(target, &document))
        }
    }
}

/// POST `body` to `target`; the response's status code.
async fn send(target: &Target, body: &[u8]) -> Result<u16, String> {
    let content_type = match target.format {
        Format::Xml => "application/xml",
        Format::Json => "application/json",
    };
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", target.url.port))
            .await
            .map_err(|error| format!("connect: {error}"))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nUser-Agent: cos-ci-emulator\r\nConnection: close\r\n\r\n",
            target.url.target,
            target.url.authority,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|error| format!("send: {error}"))?;
        stream
            .write_all(body)
            .await
            .map_err(|error| format!("send: {error}"))?;
        let mut answer = Vec::with_capacity(64);
        let mut buffer = [0u8; 256];
        while !answer.windows(2).any(|window| window == b"\r\n") && answer.len() < 1024 {
            let read = stream
                .read(&mut buffer)
                .await
                .map_err(|error| format!("read: {error}"))?;
            if read == 0 {
                break;
            }
            answer.extend_from_slice(buffer.get(..read).unwrap_or_default());
        }
        let line = String::from_utf8_lossy(&answer);
        line.split(' ')
            .nth(1)
            .and_then(|code| code.trim().parse::<u16>().ok())
            .ok_or_else(|| "no HTTP status line in the answer".to_owned())
    };
    tokio::time::timeout(SEND_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", SEND_TIMEOUT.as_secs()))?
}

/// The server's callback task: sleep until the earliest callback is due,
/// send what is due, again, until `stop`.
pub(crate) async fn deliver(resources: &Resources, mut stop: watch::Receiver<bool>) {
    let callbacks = resources.callbacks.clone();
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let wait = callbacks.next_at().map_or(Duration::from_secs(3600), |at| {
            at.duration_since(SystemTime::now()).unwrap_or_default()
        });
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            () = callbacks.inner.wake.notified() => continue,
            () = tokio::time::sleep(wait) => {}
        }
        for due in callbacks.take_due(SystemTime::now()) {
            let Some(delivery) = prepare(due, resources) else {
                continue;
            };
            let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                return;
            };
            let callbacks = callbacks.clone();
            tokio::spawn(async move {
                let outcome = send(&delivery.target, &delivery.body).await;
                drop(permit);
                let url = &delivery.target.url.text;
                let failure = match outcome {
                    Ok(status) if (200..300).contains(&status) => {
                        callbacks.log(&format!("{} to {url}: {status}", delivery.label));
                        return;
                    }
                    Ok(status) => format!("answered {status}"),
                    Err(error) => error,
                };
                if delivery.attempt >= MAX_ATTEMPTS {
                    callbacks.log(&format!(
                        "{} to {url} failed ({failure}); given up after {} attempts",
                        delivery.label, delivery.attempt
                    ));
                    return;
                }
                let delay = Duration::from_secs(u64::from(delivery.attempt));
                callbacks.log(&format!(
                    "{} to {url} failed ({failure}); again in {} s",
                    delivery.label,
                    delay.as_secs()
                ));
                let at = SystemTime::now() + delay;
                callbacks.schedule(
                    at,
                    Due::Retry(Box::new(Delivery {
                        attempt: delivery.attempt + 1,
                        ..delivery
                    })),
                );
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_http_urls_pass() {
        for good in [
            "http://127.0.0.1:8080/cb",
            "http://localhost:9/a/b?x=1",
            "HTTP://LocalHost",
            "http://127.0.0.1?x",
        ] {
            assert!(local_url(good).is_ok(), "{good}");
        }
        let url = local_url("http://localhost:9/a/b?x=1#frag").unwrap();
        assert_eq!((url.port, url.target.as_str()), (9, "/a/b?x=1"));
        assert_eq!(local_url("http://127.0.0.1").unwrap().port, 80);
        assert_eq!(local_url("http://127.0.0.1?x").unwrap().target, "/?x");
        for bad in [
            "https://127.0.0.1/cb",
            "http://example.com/cb",
            "http://127.0.0.2/cb",
            "http://localhost.example.com/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1/a b",
            "ftp://127.0.0.1/",
            "127.0.0.1:80",
            "",
        ] {
            let error = local_url(bad).unwrap_err();
            assert!(error.contains("127.0.0.1 or localhost"), "{bad}: {error}");
        }
    }

    #[test]
    fn json_bodies_follow_cis_rules() {
        let document = Notification::task_finish(JobDetail {
            job_id: "j1".into(),
            progress: Some(100),
            ..JobDetail::default()
        });
        let json = String::from_utf8(encode(&document, Format::Json)).unwrap();
        assert!(
            json.starts_with(r#"{"EventName":"TaskFinish","JobsDetail":{"#),
            "{json}"
        );
        assert!(json.contains(r#""Progress":"100""#), "{json}");
        let xml = String::from_utf8(encode(&document, Format::Xml)).unwrap();
        assert!(xml.contains("<EventName>TaskFinish</EventName>"), "{xml}");
        assert_eq!(Notification::from_xml(xml.as_bytes()).unwrap(), document);
        assert_eq!(document.label(), "TaskFinish j1");
    }

    #[test]
    fn the_queue_is_bounded_and_ordered() {
        let callbacks = Callbacks::new(false);
        let at = |seconds: u64| UNIX_EPOCH + Duration::from_secs(seconds);
        let retry = |label: &str| {
            Due::Retry(Box::new(Delivery {
                target: Target {
                    url: local_url("http://127.0.0.1:1/").unwrap(),
                    format: Format::Xml,
                },
                body: Vec::new(),
                label: label.to_owned(),
                attempt: 1,
            }))
        };
        callbacks.schedule(at(20), retry("b"));
        callbacks.schedule(at(10), retry("a"));
        assert_eq!(callbacks.next_at(), Some(at(10)));
        let labels = |due: Vec<Due>| -> Vec<String> {
            due.into_iter()
                .map(|due| match due {
                    Due::Retry(delivery) => delivery.label,
                    _ => String::new(),
                })
                .collect()
        };
        assert!(callbacks.take_due(at(9)).is_empty());
        assert_eq!(labels(callbacks.take_due(at(30))), ["a", "b"]);
        for _ in 0..MAX_PENDING + 5 {
            callbacks.schedule(at(1), retry("x"));
        }
        assert_eq!(callbacks.pending(), MAX_PENDING);
    }
}
