//! Timestamps as CI writes and reads them.
//!
//! Requests use `%Y-%m-%dT%H:%M:%S%z` (`2022-08-09T14:00:00+0800`).
//! Responses have been seen as `2022-08-09T14:54:17+08:00`,
//! `2019-07-07T12:12:12+0800` and `2020-12-01 11:00:41+0800`.

/// An instant with the UTC offset it was written in, plus the exact text it
/// came as (so the CLI can print what the service sent).
///
/// Equality and ordering compare the instant and the offset, not the text.
/// Serde writes the original text and reads any accepted form.
#[derive(Debug, Clone)]
pub struct CiTimestamp {
    unix_seconds: i64,
    offset_seconds: i32,
    text: String,
}

impl CiTimestamp {
    /// Parse any accepted form: RFC 3339 (`+08:00`, `Z`), the API's `+0800`,
    /// and `YYYY-MM-DD HH:MM:SS+0800`. Keeps `text` as given.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let _ = text;
        todo!()
    }
    /// From a Unix time and an offset (seconds east of UTC); the text is the
    /// RFC 3339 form with a colon offset (`2022-08-09T14:54:17+08:00`), as
    /// current responses use. Errors if out of range.
    pub fn from_unix(unix_seconds: i64, offset_seconds: i32) -> Result<Self, TimestampError> {
        let _ = (unix_seconds, offset_seconds);
        todo!()
    }
    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }
    /// Offset east of UTC, in seconds.
    pub fn offset_seconds(&self) -> i32 {
        self.offset_seconds
    }
    /// The text it was parsed from (or rendered to).
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The request form `%Y-%m-%dT%H:%M:%S%z`, e.g. `2022-08-09T14:00:00+0800`.
    pub fn to_api_string(&self) -> String {
        todo!()
    }
}

impl PartialEq for CiTimestamp {
    fn eq(&self, other: &Self) -> bool {
        self.unix_seconds == other.unix_seconds && self.offset_seconds == other.offset_seconds
    }
}
impl Eq for CiTimestamp {}

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid timestamp `{text}`: expected e.g. 2022-08-09T14:00:00+08:00 or 2022-08-09T14:00:00+0800 ({reason})"
)]
pub struct TimestampError {
    /// The input (truncated to 64 chars).
    pub text: String,
    /// What was wrong.
    pub reason: String,
}
