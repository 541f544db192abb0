//! The executions the emulator serves: one record type, NDJSON in and out,
//! and a deterministic generator.

use std::collections::HashSet;
use std::io;

use cos_ci_proto::{CiTimestamp, ExecutionState, WorkflowExecution};

/// One stored workflow execution. Serialised (NDJSON for `--data` and
/// `--dump`) with the API's element names: `RunId`, `WorkflowId`, `Object`,
/// `CreateTime`, `State` and, only when set, `JobId`.
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

/// The NDJSON line, borrowed for writing.
#[derive(serde::Serialize)]
struct RecordOut<'a> {
    #[serde(rename = "RunId")]
    run_id: &'a str,
    #[serde(rename = "WorkflowId")]
    workflow_id: &'a str,
    #[serde(rename = "Object")]
    object: &'a str,
    #[serde(rename = "CreateTime")]
    create_time: &'a str,
    #[serde(rename = "State")]
    state: &'a str,
    #[serde(rename = "JobId", skip_serializing_if = "Option::is_none")]
    job_id: Option<&'a str>,
}

/// The NDJSON line as read. Unknown fields are ignored so that the output of
/// `cos-ci ... --output ndjson` loads as is.
#[derive(serde::Deserialize)]
struct RecordIn {
    #[serde(rename = "RunId")]
    run_id: String,
    #[serde(rename = "WorkflowId")]
    workflow_id: String,
    #[serde(rename = "Object")]
    object: String,
    #[serde(rename = "CreateTime")]
    create_time: String,
    #[serde(rename = "State")]
    state: String,
    #[serde(rename = "JobId", default)]
    job_id: Option<String>,
}

impl TryFrom<RecordIn> for ExecutionRecord {
    type Error = String;
    fn try_from(input: RecordIn) -> Result<Self, String> {
        if input.run_id.is_empty() {
            return Err("`RunId` is empty".to_owned());
        }
        let create_time = CiTimestamp::parse(&input.create_time)
            .map_err(|error| format!("`CreateTime`: {error}"))?;
        Ok(ExecutionRecord {
            run_id: input.run_id,
            workflow_id: input.workflow_id,
            object: input.object,
            create_time,
            state: ExecutionState::from(input.state.as_str()),
            job_id: input.job_id.filter(|job| !job.is_empty()),
        })
    }
}

impl serde::Serialize for ExecutionRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RecordOut {
            run_id: &self.run_id,
            workflow_id: &self.workflow_id,
            object: &self.object,
            create_time: self.create_time.as_str(),
            state: self.state.as_str(),
            job_id: self.job_id.as_deref(),
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ExecutionRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let input = RecordIn::deserialize(deserializer)?;
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

/// A set of executions with unique run ids, in no particular order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    records: Vec<ExecutionRecord>,
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
                let created =
                    GENERATED_START_UNIX + offset_below(rng.next_u64(), GENERATED_SPAN_SECS);
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
                })
            })
            .collect();
        Dataset { records }
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

/// The SplitMix64 finaliser: a bijection on u64 with good avalanche.
pub(crate) fn mix64(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A tiny deterministic generator; quality is ample for test data.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }
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
