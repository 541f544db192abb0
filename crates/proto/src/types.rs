//! Parameter and value types shared by several actions.

use std::fmt;
use std::str::FromStr;

use crate::action::PageSizeValue;
use crate::schema::QueryValue;
use crate::{CiTimestamp, ValidationError, open_enum, wire_enum};

wire_enum! {
    /// `orderByTime`.
    #[derive(Default)]
    pub enum Order for "orderByTime" {
        /// Newest first (the service's default).
        #[default]
        Desc,
        /// Oldest first.
        Asc,
    }
}

open_enum! {
    /// The state of one workflow execution as the service reports it.
    pub enum ExecutionState {
        Success,
        Failed,
        Running,
        Cancel,
    }
    /// One value of the executions' `states` filter.
    filter StateFilter for "states"
}

open_enum! {
    /// The state of a job, or of a workflow execution's task.
    pub enum JobState {
        /// `Submitted`: queued, not started.
        Submitted,
        Running,
        Success,
        Failed,
        Pause,
        Cancel,
    }
    /// One value of the jobs' `states` filter.
    filter JobStateFilter for "states"
}

impl ExecutionState {
    /// Whether the execution has ended (`Success`, `Failed`, `Cancel`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ExecutionState::Success | ExecutionState::Failed | ExecutionState::Cancel
        )
    }
}

impl JobState {
    /// Whether the job or task has ended (`Success`, `Failed`, `Cancel`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Success | JobState::Failed | JobState::Cancel
        )
    }
}

/// A page size (`size`, `pageSize`): 1..=100 (the service's default is 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageSize(u32);

impl PageSize {
    /// Largest page the service returns.
    pub const MAX: u32 = 100;
    /// The service's default.
    pub const DEFAULT: u32 = 10;
    /// 1..=100, else a [`ValidationError`] naming `size` (0 and 101 are
    /// errors, never clamped).
    pub fn new(size: u32) -> Result<Self, ValidationError> {
        if (1..=Self::MAX).contains(&size) {
            Ok(PageSize(size))
        } else {
            Err(ValidationError::new(
                "size",
                format!("must be between 1 and {}, got {size}", Self::MAX),
            ))
        }
    }
    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize(Self::DEFAULT)
    }
}

impl fmt::Display for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for PageSize {
    type Err = ValidationError;
    /// Decimal digits only (no sign, no spaces), then [`PageSize::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                "size",
                format!(
                    "must be an integer between 1 and {}, got `{}`",
                    Self::MAX,
                    crate::query::excerpt(s, 40)
                ),
            ));
        }
        // Too many digits for u32 is simply out of range.
        PageSize::new(s.parse::<u32>().unwrap_or(u32::MAX))
    }
}

impl QueryValue for PageSize {
    fn to_query(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(self.0.to_string())
    }
    fn from_query(text: &str, parameter: &'static str) -> Result<Self, ValidationError> {
        text.parse()
            .map_err(|error: ValidationError| ValidationError::new(parameter, error.rule))
    }
}

impl PageSizeValue for PageSize {
    const DEFAULT: u32 = PageSize::DEFAULT;
    const MAX: u32 = PageSize::MAX;
    fn get(&self) -> u32 {
        self.0
    }
    fn try_new(size: u32) -> Option<Self> {
        PageSize::new(size).ok()
    }
}

impl serde::Serialize for PageSize {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PageSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let size = <u32 as serde::Deserialize>::deserialize(deserializer)?;
        PageSize::new(size).map_err(serde::de::Error::custom)
    }
}

/// The rule of every `start…`/`end…` pair: start not after end.
pub fn check_time_range(
    start: Option<&CiTimestamp>,
    end: Option<&CiTimestamp>,
    start_name: &'static str,
    end_name: &'static str,
) -> Result<(), ValidationError> {
    if let (Some(start), Some(end)) = (start, end)
        && start.unix_seconds() > end.unix_seconds()
    {
        return Err(ValidationError::new(
            start_name,
            format!(
                "must not be after {end_name} ({} is after {})",
                start.to_api_string(),
                end.to_api_string()
            ),
        ));
    }
    Ok(())
}

/// A text parameter's length limit, in bytes.
pub fn check_max_bytes(
    value: Option<&str>,
    parameter: &'static str,
    max_bytes: usize,
) -> Result<(), ValidationError> {
    match value {
        Some(text) if text.len() > max_bytes => Err(ValidationError::new(
            parameter,
            format!(
                "must be at most {max_bytes} bytes, got {} bytes",
                text.len()
            ),
        )),
        _ => Ok(()),
    }
}
