//! Timestamps as CI writes and reads them.
//!
//! Requests use `%Y-%m-%dT%H:%M:%S%z` (`2022-08-09T14:00:00+0800`).
//! Responses have been seen as `2022-08-09T14:54:17+08:00`,
//! `2019-07-07T12:12:12+0800` and `2020-12-01 11:00:41+0800`.
//!
//! The civil-date arithmetic is done here rather than through a date crate:
//! the forms are fixed-width, parsing sits on the hot path of every listed
//! page, and the whole thing is a few dozen lines of integer math.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// An instant with the UTC offset it was written in, plus the exact text it
/// came as (so the CLI can print what the service sent).
///
/// Equality and ordering compare the instant and the offset, not the text.
/// Serde writes the original text and reads any accepted form.
#[derive(Debug, Clone)]
pub struct CiTimestamp {
    unix_seconds: i64,
    offset_seconds: i32,
    text: Text,
}

/// The longest accepted form, `YYYY-MM-DDTHH:MM:SS+HH:MM`.
const MAX_TEXT: usize = 25;

/// The text a timestamp came as. Every accepted form is ASCII and at most
/// [`MAX_TEXT`] bytes, so it is kept inline: a listing page holds one
/// timestamp per item, and a heap string each was a tenth of its parse.
#[derive(Clone, Copy)]
struct Text {
    len: u8,
    bytes: [u8; MAX_TEXT],
}

impl Text {
    /// `None` if `text` is longer than any accepted form (callers only pass
    /// text the parser accepted or the renderer wrote).
    fn new(text: &str) -> Option<Self> {
        let text_bytes = text.as_bytes();
        let mut bytes = [0; MAX_TEXT];
        match (
            text_bytes.first_chunk::<16>(),
            text_bytes.last_chunk::<16>(),
        ) {
            // Every accepted form is 20 to 25 bytes: two overlapping
            // fixed-size copies instead of a `memcpy` call.
            (Some(head), Some(tail)) if text.len() <= MAX_TEXT => {
                *bytes.first_chunk_mut::<16>()? = *head;
                *bytes.get_mut(text.len() - 16..)?.first_chunk_mut::<16>()? = *tail;
            }
            _ => bytes.get_mut(..text.len())?.copy_from_slice(text_bytes),
        }
        Some(Text {
            len: u8::try_from(text.len()).ok()?,
            bytes,
        })
    }

    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Offsets are limited to what `%z` can express: whole minutes, below a day.
const MAX_OFFSET_SECONDS: i32 = 24 * 3600 - 60;
/// Four-digit years only: the wire forms have no room for more.
const MIN_YEAR: i64 = 0;
const MAX_YEAR: i64 = 9999;

impl CiTimestamp {
    /// Parse any accepted form: RFC 3339 (`+08:00`, `Z`), the API's `+0800`,
    /// and `YYYY-MM-DD HH:MM:SS+0800`. Keeps `text` as given.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let fields =
            parse_fields(text.as_bytes()).map_err(|reason| TimestampError::new(text, reason))?;
        Ok(CiTimestamp {
            unix_seconds: fields.unix_seconds(),
            offset_seconds: fields.offset_seconds,
            text: Text::new(text).ok_or_else(|| {
                TimestampError::new(text, "longer than any accepted form".to_owned())
            })?,
        })
    }

    /// From a Unix time and an offset (seconds east of UTC); the text is the
    /// RFC 3339 form with a colon offset (`2022-08-09T14:54:17+08:00`), as
    /// current responses use. Errors if out of range.
    pub fn from_unix(unix_seconds: i64, offset_seconds: i32) -> Result<Self, TimestampError> {
        let describe = || format!("unix {unix_seconds} offset {offset_seconds}s");
        check_offset(offset_seconds).map_err(|reason| TimestampError::new(&describe(), reason))?;
        let civil = Civil::from_local_seconds(unix_seconds.checked_add(i64::from(offset_seconds)))
            .ok_or_else(|| {
                TimestampError::new(&describe(), "outside the years 0000..=9999".to_owned())
            })?;
        let mut text = String::with_capacity(25);
        civil.write_date_time(&mut text, 'T');
        write_offset(&mut text, offset_seconds, true);
        Ok(CiTimestamp {
            unix_seconds,
            offset_seconds,
            text: Text::new(&text).ok_or_else(|| {
                TimestampError::new(
                    &describe(),
                    "rendered longer than any accepted form".to_owned(),
                )
            })?,
        })
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
        self.text.as_str()
    }
    /// The request form `%Y-%m-%dT%H:%M:%S%z`, e.g. `2022-08-09T14:00:00+0800`.
    pub fn to_api_string(&self) -> String {
        let mut out = String::with_capacity(24);
        // Every constructor checked the local time is within 0000..=9999.
        if let Some(civil) = Civil::from_local_seconds(
            self.unix_seconds
                .checked_add(i64::from(self.offset_seconds)),
        ) {
            civil.write_date_time(&mut out, 'T');
            write_offset(&mut out, self.offset_seconds, false);
        }
        out
    }
}

impl PartialEq for CiTimestamp {
    fn eq(&self, other: &Self) -> bool {
        self.unix_seconds == other.unix_seconds && self.offset_seconds == other.offset_seconds
    }
}
impl Eq for CiTimestamp {}

impl Hash for CiTimestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.unix_seconds.hash(state);
        self.offset_seconds.hash(state);
    }
}

impl PartialOrd for CiTimestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CiTimestamp {
    /// By instant, then by offset (so the order agrees with `==`).
    fn cmp(&self, other: &Self) -> Ordering {
        (self.unix_seconds, self.offset_seconds).cmp(&(other.unix_seconds, other.offset_seconds))
    }
}

impl fmt::Display for CiTimestamp {
    /// The original text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.as_str())
    }
}

impl FromStr for CiTimestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for CiTimestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CiTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = CiTimestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CI timestamp such as 2022-08-09T14:54:17+08:00")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CiTimestamp, E> {
                CiTimestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

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

impl TimestampError {
    fn new(text: &str, reason: String) -> Self {
        TimestampError {
            text: text.chars().take(64).collect(),
            reason,
        }
    }
}

fn check_offset(offset_seconds: i32) -> Result<(), String> {
    if offset_seconds % 60 != 0 {
        return Err(format!(
            "offset {offset_seconds}s is not a whole number of minutes"
        ));
    }
    if !(-MAX_OFFSET_SECONDS..=MAX_OFFSET_SECONDS).contains(&offset_seconds) {
        return Err(format!("offset {offset_seconds}s is not within ±23:59"));
    }
    Ok(())
}

/// A local date and time, validated.
#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// Seconds since 1970-01-01T00:00:00 of this local time read as UTC.
    fn local_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// The inverse of [`Civil::local_seconds`]; `None` outside 0000..=9999.
    fn from_local_seconds(local: Option<i64>) -> Option<Civil> {
        let local = local?;
        let days = local.div_euclid(86_400);
        let second_of_day = u32::try_from(local.rem_euclid(86_400)).ok()?;
        let (year, month, day) = civil_from_days(days);
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        Some(Civil {
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day / 60 % 60,
            second: second_of_day % 60,
        })
    }

    fn write_date_time(&self, out: &mut String, separator: char) {
        use fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
    }
}

fn write_offset(out: &mut String, offset_seconds: i32, with_colon: bool) {
    use fmt::Write;
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let minutes = offset_seconds.unsigned_abs() / 60;
    let colon = if with_colon { ":" } else { "" };
    let _ = write!(out, "{sign}{:02}{colon}{:02}", minutes / 60, minutes % 60);
}

struct Fields {
    civil: Civil,
    offset_seconds: i32,
}

impl Fields {
    fn unix_seconds(&self) -> i64 {
        self.civil.local_seconds() - i64::from(self.offset_seconds)
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS` then `Z`, `±HH:MM` or `±HHMM`.
fn parse_fields(b: &[u8]) -> Result<Fields, String> {
    match parse_valid_fields(b) {
        Some(fields) => Ok(fields),
        None => parse_fields_explained(b),
    }
}

/// [`parse_fields`] for valid input, in one pass with no error plumbing
/// (every listed item has a timestamp). `None` for anything it does not
/// accept; [`parse_fields_explained`] then says why, and accepts exactly
/// the same input with the same values.
fn parse_valid_fields(b: &[u8]) -> Option<Fields> {
    let (datetime, zone) = b.split_first_chunk::<19>()?;
    let [
        y1,
        y2,
        y3,
        y4,
        b'-',
        mo1,
        mo2,
        b'-',
        d1,
        d2,
        b'T' | b't' | b' ',
        h1,
        h2,
        b':',
        mi1,
        mi2,
        b':',
        s1,
        s2,
    ] = *datetime
    else {
        return None;
    };
    let digits = [y1, y2, y3, y4, mo1, mo2, d1, d2, h1, h2, mi1, mi2, s1, s2];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
    let civil = Civil {
        year: i64::from(two(y1, y2) * 100 + two(y3, y4)),
        month: two(mo1, mo2),
        day: two(d1, d2),
        hour: two(h1, h2),
        minute: two(mi1, mi2),
        second: two(s1, s2),
    };
    if !(1..=12).contains(&civil.month)
        || civil.day == 0
        || civil.day > days_in_month(civil.year, civil.month)
        || civil.hour > 23
        || civil.minute > 59
        || civil.second > 59
    {
        return None;
    }
    let offset_seconds = match *zone {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), zh1, zh2, b':', zm1, zm2]
        | [sign @ (b'+' | b'-'), zh1, zh2, zm1, zm2] => {
            if ![zh1, zh2, zm1, zm2].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let (hours, minutes) = (two(zh1, zh2), two(zm1, zm2));
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    Some(Fields {
        civil,
        offset_seconds,
    })
}

/// [`parse_fields`] step by step, saying what is wrong.
fn parse_fields_explained(b: &[u8]) -> Result<Fields, String> {
    if b.len() < 20 {
        return Err(format!("too short ({} bytes)", b.len()));
    }
    let (datetime, zone) = b.split_at(19);
    expect_byte(datetime, 4, b'-', "`-` after the year")?;
    expect_byte(datetime, 7, b'-', "`-` after the month")?;
    match datetime.get(10) {
        Some(b'T' | b't' | b' ') => {}
        _ => return Err("expected `T` or a space between date and time".to_owned()),
    }
    expect_byte(datetime, 13, b':', "`:` after the hour")?;
    expect_byte(datetime, 16, b':', "`:` after the minute")?;
    let civil = Civil {
        year: i64::from(digits(datetime, 0, 4, "year")?),
        month: digits(datetime, 5, 2, "month")?,
        day: digits(datetime, 8, 2, "day")?,
        hour: digits(datetime, 11, 2, "hour")?,
        minute: digits(datetime, 14, 2, "minute")?,
        second: digits(datetime, 17, 2, "second")?,
    };
    if !(1..=12).contains(&civil.month) {
        return Err(format!("month {} is not 1..=12", civil.month));
    }
    let month_days = days_in_month(civil.year, civil.month);
    if civil.day == 0 || civil.day > month_days {
        return Err(format!(
            "day {} is not 1..={month_days} for {:04}-{:02}",
            civil.day, civil.year, civil.month
        ));
    }
    if civil.hour > 23 {
        return Err(format!("hour {} is not 0..=23", civil.hour));
    }
    if civil.minute > 59 {
        return Err(format!("minute {} is not 0..=59", civil.minute));
    }
    if civil.second > 59 {
        return Err(format!("second {} is not 0..=59", civil.second));
    }
    let offset_seconds = parse_zone(zone)?;
    let fields = Fields {
        civil,
        offset_seconds,
    };
    // The instant must also render inside 0000..=9999 in its own offset,
    // which holds by construction; nothing more to check.
    Ok(fields)
}

fn parse_zone(zone: &[u8]) -> Result<i32, String> {
    let (sign, rest) = match zone.split_first() {
        Some((b'Z' | b'z', [])) => return Ok(0),
        Some((b'+', rest)) => (1, rest),
        Some((b'-', rest)) => (-1, rest),
        Some((b'.', _)) => return Err("fractional seconds are not supported".to_owned()),
        _ => return Err("expected `Z`, `±HH:MM` or `±HHMM` after the seconds".to_owned()),
    };
    let (hours, minutes) = match rest {
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (
            two_digits(*h1, *h2, "offset hours")?,
            two_digits(*m1, *m2, "offset minutes")?,
        ),
        _ => return Err("offset must be `±HH:MM` or `±HHMM`".to_owned()),
    };
    if hours > 23 || minutes > 59 {
        return Err(format!("offset {hours:02}:{minutes:02} is out of range"));
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

fn expect_byte(b: &[u8], at: usize, want: u8, what: &str) -> Result<(), String> {
    if b.get(at) == Some(&want) {
        Ok(())
    } else {
        Err(format!("expected {what}"))
    }
}

fn digits(b: &[u8], start: usize, len: usize, what: &str) -> Result<u32, String> {
    let slice = b
        .get(start..start + len)
        .ok_or_else(|| format!("missing {what}"))?;
    slice.iter().try_fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            Ok(acc * 10 + u32::from(c - b'0'))
        } else {
            Err(format!("{what} must be {len} digits"))
        }
    })
}

fn two_digits(a: u8, b: u8, what: &str) -> Result<i32, String> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Ok(i32::from(a - b'0') * 10 + i32::from(b - b'0'))
    } else {
        Err(format!("{what} must be 2 digits"))
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm: count in 400-year eras starting on March 1st so the leap day
/// is the last day of the year).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    // Both values are small and non-negative by construction.
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn instant(fields: &Fields) -> (i64, i32) {
        (fields.unix_seconds(), fields.offset_seconds)
    }

    proptest! {
        /// The one-pass parser accepts exactly what the explaining one
        /// accepts, with the same values, on near-valid input.
        #[test]
        fn one_pass_and_explained_parsers_agree(
            text in "[0-9]{4}-(0[0-9]|1[0-3])-([0-2][0-9]|3[0-2])[Tt x]([01][0-9]|2[0-4]):[0-6][0-9]:[0-6][0-9]([Zz.]|[+-]([01][0-9]|2[0-4]):?[0-6][0-9]|[+-][0-9:]{2,6})",
            damage in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(b"0923-:T+Z a".to_vec()))),
        ) {
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = damage {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            prop_assert_eq!(
                parse_valid_fields(&bytes).as_ref().map(instant),
                parse_fields_explained(&bytes).ok().as_ref().map(instant)
            );
        }
    }

    #[test]
    fn civil_round_trip_over_a_wide_range() {
        for days in (-800_000..3_000_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
