//! The executions the emulator serves: one record type (with optional
//! detail fields), NDJSON in and out, and a deterministic generator.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io;

use cos_ci_proto::{
    CiTimestamp, ExecutionState, JobState, WorkflowExecution, WorkflowTask, XmlTree,
};

use crate::random::{SplitMix64, mix64};

/// One stored workflow execution. Serialised (NDJSON for `--data` and
/// `--dump`) with the API's element names: `RunId`, `WorkflowId`, `Object`,
/// `CreateTime`, `State` and, only when set, `JobId` and the detail fields
/// `WorkflowName`, `Tasks` and `Topology` (see [`ExecutionDetails`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// `RunId`, unique in a dataset.
    pub run_id: String,
    /// `WorkflowId`
    pub workflow_id: String,
    /// `Object`: the object key that triggered the run.
    pub object: String,
    /// `CreateTime`
    pub create_time: CiTimestamp,
    /// `State`
    pub state: ExecutionState,
    /// `JobId`: the batch (inventory) trigger job that started it, if any.
    pub job_id: Option<String>,
    /// What `GET /workflowexecution/<RunId>` adds, as loaded; `None` (as
    /// in generated data) derives all of it from the fields above when a
    /// request asks (see [`ExecutionRecord::to_detail`]). Boxed, so a
    /// record without details costs one pointer.
    pub details: Option<Box<ExecutionDetails>>,
}

/// The detail fields of an execution, each optional: one left `None` is
/// derived from the record when served, consistently with the others
/// (see [`ExecutionRecord::to_detail`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionDetails {
    /// `WorkflowName` (served as `<Name>`).
    pub workflow_name: Option<String>,
    /// `Tasks`; `Some(vec![])` serves none.
    pub tasks: Option<Vec<WorkflowTask>>,
    /// `Topology`, as a generic tree (`Dependencies`, `Nodes`).
    pub topology: Option<XmlTree>,
}

impl ExecutionDetails {
    /// No field set: nothing to keep.
    fn is_empty(&self) -> bool {
        self.workflow_name.is_none() && self.tasks.is_none() && self.topology.is_none()
    }
}

impl ExecutionRecord {
    /// The execution as the list API returns it (the job id is not part of
    /// the response, only of the filter).
    pub fn to_execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            run_id: self.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            object: self.object.clone(),
            create_time: Some(self.create_time.clone()),
            state: self.state.clone(),
        }
    }
}

/// The NDJSON line. Written borrowed from a record, unset fields left out;
/// read owned, unknown fields ignored so that the output of `cos-ci ...
/// --output ndjson` loads as is.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordLine<'a> {
    run_id: Cow<'a, str>,
    workflow_id: Cow<'a, str>,
    object: Cow<'a, str>,
    create_time: Cow<'a, str>,
    state: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workflow_name: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tasks: Option<Vec<TaskLine<'a>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topology: Option<Cow<'a, XmlTree>>,
}

/// One task of the NDJSON line: `Type`, `Name` and `State` are required,
/// the rest optional (left out when unset). Times read may also be empty or
/// `-` (unset), as CI writes them for a job that has not started or ended.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskLine<'a> {
    #[serde(rename = "Type")]
    task_type: Cow<'a, str>,
    name: Cow<'a, str>,
    state: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    create_time: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_time: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_time: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<Cow<'a, str>>,
}

/// Borrowed text, for writing.
fn borrowed(text: Option<&str>) -> Option<Cow<'_, str>> {
    text.map(Cow::Borrowed)
}

/// Text as read, owned.
fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

impl<'a> From<&'a WorkflowTask> for TaskLine<'a> {
    fn from(task: &'a WorkflowTask) -> Self {
        let time = |time: &'a Option<CiTimestamp>| borrowed(time.as_ref().map(CiTimestamp::as_str));
        TaskLine {
            task_type: Cow::Borrowed(&task.task_type),
            name: Cow::Borrowed(&task.name),
            state: Cow::Borrowed(task.state.as_str()),
            job_id: borrowed(task.job_id.as_deref()),
            create_time: time(&task.create_time),
            start_time: time(&task.start_time),
            end_time: time(&task.end_time),
            code: borrowed(task.code.as_deref()),
            message: borrowed(task.message.as_deref()),
        }
    }
}

impl TaskLine<'_> {
    fn into_task(self, index: usize) -> Result<WorkflowTask, String> {
        let time = |text: Option<Cow<'_, str>>, field: &str| match text.as_deref() {
            None | Some("" | "-") => Ok(None),
            Some(text) => CiTimestamp::parse(text)
                .map(Some)
                .map_err(|error| format!("`Tasks[{index}].{field}`: {error}")),
        };
        Ok(WorkflowTask {
            create_time: time(self.create_time, "CreateTime")?,
            start_time: time(self.start_time, "StartTime")?,
            end_time: time(self.end_time, "EndTime")?,
            task_type: self.task_type.into_owned(),
            name: self.name.into_owned(),
            state: JobState::from(self.state.into_owned()),
            job_id: owned(self.job_id),
            code: owned(self.code),
            message: owned(self.message),
        })
    }
}

impl TryFrom<RecordLine<'_>> for ExecutionRecord {
    type Error = String;
    fn try_from(input: RecordLine<'_>) -> Result<Self, String> {
        if input.run_id.is_empty() {
            return Err("`RunId` is empty".to_owned());
        }
        let create_time = CiTimestamp::parse(&input.create_time)
            .map_err(|error| format!("`CreateTime`: {error}"))?;
        let tasks = input
            .tasks
            .map(|tasks| {
                tasks
                    .into_iter()
                    .enumerate()
                    .map(|(index, task)| task.into_task(index))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let details = ExecutionDetails {
            workflow_name: owned(input.workflow_name),
            tasks,
            topology: input.topology.map(Cow::into_owned),
        };
        Ok(ExecutionRecord {
            run_id: input.run_id.into_owned(),
            workflow_id: input.workflow_id.into_owned(),
            object: input.object.into_owned(),
            create_time,
            state: ExecutionState::from(&*input.state),
            job_id: owned(input.job_id).filter(|job| !job.is_empty()),
            details: (!details.is_empty()).then(|| Box::new(details)),
        })
    }
}

impl serde::Serialize for ExecutionRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let details = self.details.as_deref();
        RecordLine {
            run_id: Cow::Borrowed(&self.run_id),
            workflow_id: Cow::Borrowed(&self.workflow_id),
            object: Cow::Borrowed(&self.object),
            create_time: Cow::Borrowed(self.create_time.as_str()),
            state: Cow::Borrowed(self.state.as_str()),
            job_id: borrowed(self.job_id.as_deref()),
            workflow_name: borrowed(details.and_then(|details| details.workflow_name.as_deref())),
            tasks: details
                .and_then(|details| details.tasks.as_ref())
                .map(|tasks| tasks.iter().map(TaskLine::from).collect()),
            topology: details
                .and_then(|details| details.topology.as_ref())
                .map(Cow::Borrowed),
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ExecutionRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let input = RecordLine::deserialize(deserializer)?;
        ExecutionRecord::try_from(input).map_err(serde::de::Error::custom)
    }
}

/// Why a dataset could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetError {
    /// A line is not a valid record.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// Two records share a run id.
    #[error("line {line}: run id `{run_id}` appears more than once")]
    DuplicateRunId {
        /// 1-based line number of the second occurrence (0 when not read from text).
        line: usize,
        /// The repeated run id.
        run_id: String,
    },
}

/// Read NDJSON of `T` (`--workflows`, `--queues`): one per line, blank
/// lines ignored, each checked by `check` (which may also normalise it)
/// against those read before it. A line that does not parse or is refused
/// is a [`DatasetError::BadLine`] naming it.
pub(crate) fn read_ndjson<T: serde::de::DeserializeOwned>(
    text: &str,
    mut check: impl FnMut(&mut T, &[T]) -> Result<(), String>,
) -> Result<Vec<T>, DatasetError> {
    let mut items: Vec<T> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| DatasetError::BadLine {
            line: index + 1,
            reason,
        };
        let mut item: T = serde_json::from_str(line).map_err(|error| bad(error.to_string()))?;
        check(&mut item, &items).map_err(bad)?;
        items.push(item);
    }
    Ok(items)
}

/// A set of executions with unique run ids, in no particular order.
/// `Debug` shows how many, not the records: a dataset may hold millions.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    records: Vec<ExecutionRecord>,
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dataset({} records)", self.len())
    }
}

impl Dataset {
    /// A dataset of these records; run ids must be unique and non-empty.
    pub fn new(records: Vec<ExecutionRecord>) -> Result<Self, DatasetError> {
        let mut seen = HashSet::with_capacity(records.len());
        for record in &records {
            if record.run_id.is_empty() {
                return Err(DatasetError::BadLine {
                    line: 0,
                    reason: "`RunId` is empty".to_owned(),
                });
            }
            if !seen.insert(record.run_id.as_str()) {
                return Err(DatasetError::DuplicateRunId {
                    line: 0,
                    run_id: record.run_id.clone(),
                });
            }
        }
        Ok(Dataset { records })
    }

    /// Read NDJSON: one record per line, blank lines ignored.
    pub fn from_ndjson(text: &str) -> Result<Self, DatasetError> {
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let record: ExecutionRecord =
                serde_json::from_str(line).map_err(|error| DatasetError::BadLine {
                    line: line_number,
                    reason: error.to_string(),
                })?;
            if !seen.insert(record.run_id.clone()) {
                return Err(DatasetError::DuplicateRunId {
                    line: line_number,
                    run_id: record.run_id,
                });
            }
            records.push(record);
        }
        Ok(Dataset { records })
    }

    /// Write NDJSON, one record per line, in stored order.
    pub fn to_ndjson<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        for record in &self.records {
            serde_json::to_writer(&mut out, record)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The records.
    pub fn records(&self) -> &[ExecutionRecord] {
        &self.records
    }

    /// The records, owned.
    pub fn into_records(self) -> Vec<ExecutionRecord> {
        self.records
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No records at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// `n` executions, the same for the same `(n, seed)`: five workflows,
    /// object keys with spaces and non-ASCII characters, all four states,
    /// create times spread over six weeks from 2026-01-05 in `+08:00`, about
    /// a fifth started by one of three batch jobs, run ids `i` + 32 hex.
    pub fn generate(n: usize, seed: u64) -> Self {
        Self::generate_with(n, seed, None)
    }

    /// Like [`Dataset::generate`], with the create times bunched as `skew`
    /// says (a backlog, a batch trigger) instead of spread evenly; `None`
    /// gives exactly [`Dataset::generate`]'s data.
    ///
    /// ```
    /// use cos_ci_emulator::{Dataset, Skew};
    ///
    /// let skew = Skew { share: 0.9, span: 0.1 };
    /// let dataset = Dataset::generate_with(1000, 1, Some(skew));
    /// let (start, end) = skew.dense_period();
    /// let dense = dataset.records().iter()
    ///     .filter(|r| (start..end).contains(&r.create_time.unix_seconds()))
    ///     .count();
    /// assert!((850..950).contains(&dense));
    /// ```
    pub fn generate_with(n: usize, seed: u64, skew: Option<Skew>) -> Self {
        let mut rng = SplitMix64::new(seed);
        let workflows: Vec<String> = (0..WORKFLOW_COUNT)
            .map(|_| format!("w{:016x}{:016x}", rng.next_u64(), rng.next_u64()))
            .collect();
        let jobs: Vec<String> = (0..JOB_COUNT)
            .map(|_| format!("b{:016x}{:016x}", rng.next_u64(), rng.next_u64()))
            .collect();
        let run_salt = rng.next_u64();
        let records = (0..n)
            .filter_map(|index| {
                let workflow_id = pick(&workflows, rng.next_u64());
                let object = object_key(rng.next_u64());
                let created = GENERATED_START_UNIX
                    + match skew {
                        None => offset_below(rng.next_u64(), GENERATED_SPAN_SECS),
                        Some(skew) => skew.offset(rng.next_u64()),
                    };
                let state = match rng.next_u64() % 20 {
                    0..=11 => ExecutionState::Success,
                    12..=14 => ExecutionState::Failed,
                    15..=17 => ExecutionState::Running,
                    _ => ExecutionState::Cancel,
                };
                let job_id = rng
                    .next_u64()
                    .is_multiple_of(5)
                    .then(|| pick(&jobs, rng.next_u64()));
                // Never `None`: the generated times all lie in 2026.
                let create_time = CiTimestamp::from_unix(created, BEIJING_OFFSET_SECS).ok()?;
                Some(ExecutionRecord {
                    run_id: run_id(run_salt, index as u64),
                    workflow_id,
                    object,
                    create_time,
                    state,
                    job_id,
                    details: None,
                })
            })
            .collect();
        Dataset { records }
    }
}

/// How [`Dataset::generate_with`] bunches create times: `share` of the
/// executions (0.0..=1.0) fall in one period covering `span` of the six
/// weeks (0.0..=1.0), the rest evenly over the remaining time. The dense
/// period starts 60% of the way into the time it leaves free, so neither
/// end of the listing is in it. `--skew 0.9:0.1` is 90% of the executions
/// in 10% of the time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Skew {
    /// Share of the executions in the dense period.
    pub share: f64,
    /// Share of the time span the dense period covers.
    pub span: f64,
}

impl Skew {
    fn spans(&self) -> (u64, u64) {
        let fraction = |value: f64| {
            if value.is_nan() {
                0.0
            } else {
                value.clamp(0.0, 1.0)
            }
        };
        let total = GENERATED_SPAN_SECS as f64;
        let dense = ((fraction(self.span) * total) as u64).clamp(1, GENERATED_SPAN_SECS);
        let start = ((GENERATED_SPAN_SECS - dense) as f64 * 0.6) as u64;
        (start, dense)
    }

    /// The dense period, as Unix seconds `[start, end)`.
    pub fn dense_period(&self) -> (i64, i64) {
        let (start, dense) = self.spans();
        let start = GENERATED_START_UNIX + start as i64;
        (start, start + dense as i64)
    }

    /// The offset from the start of the span for one random draw.
    fn offset(&self, random: u64) -> i64 {
        let (start, dense) = self.spans();
        let share = if self.share.is_nan() {
            0.0
        } else {
            self.share.clamp(0.0, 1.0)
        };
        let uniform = (mix64(random) >> 11) as f64 / (1u64 << 53) as f64;
        let sparse = GENERATED_SPAN_SECS - dense;
        if uniform < share || sparse == 0 {
            (start + random % dense) as i64
        } else {
            let offset = random % sparse;
            (if offset >= start {
                offset + dense
            } else {
                offset
            }) as i64
        }
    }
}

impl std::str::FromStr for Skew {
    type Err = String;
    /// `SHARE:SPAN`, e.g. `0.9:0.1`, each between 0 and 1.
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "`{text}` is not SHARE:SPAN with both between 0 and 1, e.g. 0.9:0.1 (90% of the executions in 10% of the time)"
            )
        };
        let (share, span) = text.split_once(':').ok_or_else(invalid)?;
        let number = |part: &str| {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|value| (0.0..=1.0).contains(value))
                .ok_or_else(invalid)
        };
        let skew = Skew {
            share: number(share)?,
            span: number(span)?,
        };
        if skew.span == 0.0 {
            return Err(invalid());
        }
        Ok(skew)
    }
}

const WORKFLOW_COUNT: usize = 5;
const JOB_COUNT: usize = 3;
const BEIJING_OFFSET_SECS: i32 = 8 * 3600;
/// 2026-01-05T00:00:00+08:00.
const GENERATED_START_UNIX: i64 = 1_767_542_400;
/// Six weeks.
const GENERATED_SPAN_SECS: u64 = 42 * 24 * 3600;

fn pick(choices: &[String], random: u64) -> String {
    let len = choices.len().max(1) as u64;
    choices
        .get((random % len) as usize)
        .cloned()
        .unwrap_or_default()
}

fn offset_below(random: u64, span: u64) -> i64 {
    i64::try_from(random % span.max(1)).unwrap_or(0)
}

/// Object keys: a few shapes, numbered from a small range so that the same
/// key triggers several runs (the `name` filter then matches more than one).
fn object_key(random: u64) -> String {
    let number = (random >> 8) % 40;
    match random % 6 {
        0 => format!("input/my video {number:02}.mp4"),
        1 => format!("视频/测试 {number}.mov"),
        2 => format!("wk-test/game-{number}.mp4"),
        3 => format!("uploads/2026/clip_{number:03}.mkv"),
        4 => format!("audio/podcast #{number} (final).m4a"),
        _ => format!("images/照片 {number}+raw.jpg"),
    }
}

/// `i` + 32 hex digits. The low half is a bijection of the index, so run ids
/// are unique within one generated dataset whatever the seed.
fn run_id(salt: u64, index: u64) -> String {
    let low = mix64(index ^ 0x5851_f42d_4c95_7f2d);
    let high = mix64(salt ^ low);
    format!("i{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let first = Dataset::generate(500, 7);
        let second = Dataset::generate(500, 7);
        assert_eq!(first, second);
        assert_ne!(first, Dataset::generate(500, 8));

        let records = first.records();
        let run_ids: HashSet<_> = records.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(run_ids.len(), 500);
        assert!(
            records
                .iter()
                .all(|r| r.run_id.len() == 33 && r.run_id.starts_with('i'))
        );
        let workflows: HashSet<_> = records.iter().map(|r| r.workflow_id.as_str()).collect();
        assert_eq!(workflows.len(), WORKFLOW_COUNT);
        for state in ["Success", "Failed", "Running", "Cancel"] {
            assert!(records.iter().any(|r| r.state.as_str() == state), "{state}");
        }
        assert!(records.iter().any(|r| r.object.contains(' ')));
        assert!(records.iter().any(|r| !r.object.is_ascii()));
        assert!(records.iter().any(|r| r.job_id.is_some()));
        assert!(records.iter().any(|r| r.job_id.is_none()));
        assert!(
            records
                .iter()
                .all(|r| r.create_time.as_str().ends_with("+08:00"))
        );
        let min = records.iter().map(|r| r.create_time.unix_seconds()).min();
        let max = records.iter().map(|r| r.create_time.unix_seconds()).max();
        assert!(max.unwrap_or(0) - min.unwrap_or(0) > 21 * 24 * 3600);
    }

    #[test]
    fn skew_bunches_the_create_times_and_none_changes_nothing() {
        assert_eq!(
            Dataset::generate_with(300, 4, None),
            Dataset::generate(300, 4)
        );
        let skew: Skew = "0.9:0.1".parse().unwrap();
        assert_eq!(
            skew,
            Skew {
                share: 0.9,
                span: 0.1
            }
        );
        let dataset = Dataset::generate_with(20_000, 4, Some(skew));
        let (start, end) = skew.dense_period();
        assert_eq!(end - start, GENERATED_SPAN_SECS as i64 / 10);
        let times: Vec<i64> = dataset
            .records()
            .iter()
            .map(|r| r.create_time.unix_seconds())
            .collect();
        let dense = times.iter().filter(|t| (start..end).contains(t)).count();
        assert!((17_700..18_300).contains(&dense), "{dense}");
        let span_end = GENERATED_START_UNIX + GENERATED_SPAN_SECS as i64;
        assert!(
            times
                .iter()
                .all(|t| (GENERATED_START_UNIX..span_end).contains(t))
        );
        assert!(times.iter().any(|t| *t < start) && times.iter().any(|t| *t >= end));
        for bad in ["0.9", "2:0.1", "0.9:0", "a:b", "0.9:-0.1"] {
            assert!(bad.parse::<Skew>().is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_shows_the_size_not_the_records() {
        let dataset = Dataset::generate(3, 1);
        assert_eq!(format!("{dataset:?}"), "Dataset(3 records)");
    }

    #[test]
    fn ndjson_round_trips() {
        let dataset = Dataset::generate(50, 3);
        let mut text = Vec::new();
        dataset.to_ndjson(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.lines().count(), 50);
        assert!(text.contains("\"RunId\":"));
        assert_eq!(Dataset::from_ndjson(&text).unwrap(), dataset);
    }

    #[test]
    fn ndjson_line_format() {
        let line = r#"{"RunId":"i1","WorkflowId":"w1","Object":"视频/a b.mp4","CreateTime":"2022-08-09T14:54:17+0800","State":"Weird","JobId":"b1","Extra":1}"#;
        let dataset = Dataset::from_ndjson(&format!("\n{line}\n\n")).unwrap();
        let record = &dataset.records()[0];
        assert_eq!(record.state, ExecutionState::Other("Weird".into()));
        assert_eq!(record.job_id.as_deref(), Some("b1"));
        assert_eq!(record.create_time.unix_seconds(), 1_660_028_057);
        let mut out = Vec::new();
        dataset.to_ndjson(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"RunId\":\"i1\",\"WorkflowId\":\"w1\",\"Object\":\"视频/a b.mp4\",\"CreateTime\":\"2022-08-09T14:54:17+0800\",\"State\":\"Weird\",\"JobId\":\"b1\"}\n"
        );
    }

    #[test]
    fn ndjson_errors_name_the_line() {
        let good = r#"{"RunId":"i1","WorkflowId":"w","Object":"o","CreateTime":"2022-08-09T14:54:17+08:00","State":"Success"}"#;
        let error = Dataset::from_ndjson(&format!("{good}\n{good}\n")).unwrap_err();
        assert_eq!(
            error,
            DatasetError::DuplicateRunId {
                line: 2,
                run_id: "i1".into()
            }
        );
        let error = Dataset::from_ndjson(&format!("{good}\nnot json\n")).unwrap_err();
        assert!(
            matches!(error, DatasetError::BadLine { line: 2, .. }),
            "{error}"
        );
        let bad_time = good.replace("2022-08-09T14:54:17+08:00", "yesterday");
        let error = Dataset::from_ndjson(&bad_time).unwrap_err();
        assert!(error.to_string().contains("CreateTime"), "{error}");
        let empty_id = good.replace("\"i1\"", "\"\"");
        assert!(Dataset::from_ndjson(&empty_id).is_err());
    }
}
