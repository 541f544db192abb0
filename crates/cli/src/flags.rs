//! clap value parsers built on the protocol types, so a bad value is
//! refused while the command line is parsed, with the protocol crate's own
//! rule, and the error names the flag (`invalid --end-time: …`, never the
//! wire name `endCreationTime`).
//!
//! Each parser is a plain `fn(&str) -> Result<T, String>` (the message is
//! the rule only; [`crate::run`] prefixes the flag) or, for a closed set of
//! wire values, a [`WireChoice`] that also lists the choices in `--help`.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::builder::{PossibleValue, TypedValueParser};
use cos_ci_client::credentials::SourceKind;
use cos_ci_proto::{
    CiTimestamp, JobStateFilter, Order, PageSize, QueueCategory, QueueStateFilter, StateFilter,
    ValidationError,
};
use cos_ci_sign::KeyTime;

/// The first 60 characters of user input, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    cos_ci_proto::query::excerpt(text, 60)
}

/// `--size`: [`PageSize`] (1 to 100, digits only).
pub fn page_size(text: &str) -> Result<PageSize, String> {
    text.parse::<PageSize>().map_err(|error| error.rule)
}

/// An absolute time in either form CI accepts
/// (`2022-08-09T14:00:00+08:00` or `…+0800`).
pub fn timestamp(text: &str) -> Result<CiTimestamp, String> {
    CiTimestamp::parse(text).map_err(|error| error.to_string())
}

/// The UTC offset relative times are written in: +08:00, China Standard
/// Time, the offset of CI's own times. The instant is exact whatever the
/// offset; it only decides how the time reads (`2026-01-12T09:00:00+0800`).
/// cos-ci reads no time-zone database, so it does not guess the local one.
pub const RELATIVE_TIME_OFFSET_SECONDS: i32 = 8 * 3600;

/// A time flag's value: an absolute time, or one relative to when the
/// command runs (resolved with [`TimeArg::resolve`], the one place the
/// clock is read for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeArg {
    /// `2022-08-09T14:00:00+08:00`, `2022-08-09T14:00:00+0800`.
    At(CiTimestamp),
    /// `-24h`: this long before now.
    Ago(Duration),
}

impl TimeArg {
    /// The timestamp this value names when the time is `now`, in
    /// [`RELATIVE_TIME_OFFSET_SECONDS`] for a relative value.
    pub fn resolve(&self, now: SystemTime) -> Result<CiTimestamp, String> {
        match self {
            TimeArg::At(timestamp) => Ok(timestamp.clone()),
            TimeArg::Ago(ago) => ago_from(now, *ago),
        }
    }
}

/// `now − ago` as a timestamp in [`RELATIVE_TIME_OFFSET_SECONDS`].
pub fn ago_from(now: SystemTime, ago: Duration) -> Result<CiTimestamp, String> {
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let ago = i64::try_from(ago.as_secs()).unwrap_or(i64::MAX);
    CiTimestamp::from_unix(now.saturating_sub(ago), RELATIVE_TIME_OFFSET_SECONDS)
        .map_err(|error| error.to_string())
}

/// `--start-time`, `--end-time`: an absolute time in either form CI
/// accepts, `now`, or a time relative to now: `-` and a [`duration`]
/// (`-24h`, `-90m`, `-7d`, `-1h30m`).
pub fn time(text: &str) -> Result<TimeArg, String> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("now") {
        return Ok(TimeArg::Ago(Duration::ZERO));
    }
    if let Some(relative) = trimmed.strip_prefix('-') {
        return duration_with_units(relative)
            .map(TimeArg::Ago)
            .map_err(|_| {
                format!(
                    "expected a time relative to now such as -24h, -90m, -7d or -1h30m, got `{}`",
                    excerpt(text)
                )
            });
    }
    CiTimestamp::parse(trimmed)
        .map(TimeArg::At)
        .map_err(|error| {
            format!("{error}; relative times such as -24h, -90m or `now` are accepted too")
        })
}

/// Longest duration a flag takes: 10 years, far beyond any listing or wait.
const MAX_DURATION_SECS: u64 = 10 * 366 * 86_400;

/// `--since`: a duration with units, `d`, `h`, `m`, `s` or `ms`, combined
/// largest first (`2h`, `90m`, `7d`, `1h30m`, `45s`).
pub fn duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(format!(
            "must be a duration without a sign (it counts back from now), e.g. 2h, 90m or 7d; \
             got `{}`",
            excerpt(text)
        ));
    }
    duration_with_units(trimmed).map_err(|reason| {
        format!(
            "{reason}, e.g. 2h, 90m, 7d, 1h30m or 45s; got `{}`",
            excerpt(text)
        )
    })
}

/// `--wait-timeout`, `--poll-interval`: a [`duration`], or a plain number
/// of seconds (`600`, `0.5`); more than zero.
pub fn wait_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|duration| !duration.is_zero() && duration.as_secs() <= MAX_DURATION_SECS)
            .ok_or_else(|| {
                format!(
                    "must be a duration of more than zero, e.g. 30s, 10m or 2h, got `{}`",
                    excerpt(text)
                )
            });
    }
    let duration = duration(text)?;
    if duration.is_zero() {
        return Err(format!(
            "must be more than zero, e.g. 30s, 10m or 2h, got `{}`",
            excerpt(text)
        ));
    }
    Ok(duration)
}

/// `1h30m` → 5400 s. Numbers are whole; units are `d`, `h`, `m`, `s`,
/// `ms`, each at most once and largest first.
fn duration_with_units(text: &str) -> Result<Duration, &'static str> {
    const UNITS: [(&str, u64); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    /// Rank of each unit, largest first (`ms` after `s`).
    fn rank(unit: &str) -> usize {
        match unit {
            "d" => 0,
            "h" => 1,
            "m" => 2,
            "s" => 3,
            _ => 4,
        }
    }
    if text.is_empty() {
        return Err("empty");
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    let mut last_rank = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("a number must come before each unit");
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| "the number is too large")?;
        rest = &rest[digits..];
        let Some((unit, factor)) = UNITS.iter().find(|(unit, _)| rest.starts_with(unit)) else {
            return Err("each number needs a unit: d, h, m, s or ms");
        };
        if last_rank.is_some_and(|last| rank(unit) <= last) {
            return Err("units must go largest first, each once");
        }
        last_rank = Some(rank(unit));
        rest = &rest[unit.len()..];
        total_ms = number
            .checked_mul(*factor)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or("the duration is too long")?;
    }
    if total_ms / 1000 > MAX_DURATION_SECS {
        return Err("the duration is too long");
    }
    Ok(Duration::from_millis(total_ms))
}

/// A comma-separated list of ids as one flag value (a newtype, so that
/// clap takes it as one value rather than a repeated flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList(pub Vec<String>);

/// `--ids`, `--queue-ids`, `jobs get`'s ids: comma-separated, each item
/// trimmed and not empty; repeats dropped, order kept.
pub fn id_list(text: &str) -> Result<IdList, String> {
    let mut ids: Vec<String> = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("has an empty item in `{}`", excerpt(text)));
        }
        if !ids.iter().any(|id| id == item) {
            ids.push(item.to_owned());
        }
    }
    Ok(IdList(ids))
}

/// `--page-number`: a whole number of at least 1.
pub fn page_number(text: &str) -> Result<u32, String> {
    whole_at_least_one(text)
}

/// `jobs list --states`: comma-separated [`JobStateFilter`] names in any
/// case (`failed,Running`).
pub fn job_states(text: &str) -> Result<BTreeSet<JobStateFilter>, String> {
    comma_set(text, JobStateFilter::parse_ignore_case)
}

/// `--callback`: an `http://` or `https://` URL with a host.
pub fn callback_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {
            if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "must not contain spaces or control characters, got `{}`",
                    excerpt(text)
                ));
            }
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "must be an http:// or https:// URL with a host, got `{}`",
            excerpt(text)
        )),
    }
}

/// `--states`: comma-separated [`StateFilter`] names in any case
/// (`failed,Running`); the wire spelling is what is sent. Empty items are
/// errors; repeats collapse.
pub fn states(text: &str) -> Result<BTreeSet<StateFilter>, String> {
    comma_set(text, StateFilter::parse_ignore_case)
}

/// Comma-separated items, each trimmed and parsed with `parse`; empty
/// items are errors, repeats collapse.
fn comma_set<T: Ord>(
    text: &str,
    parse: fn(&str) -> Result<T, ValidationError>,
) -> Result<BTreeSet<T>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!("has an empty item in `{}`", excerpt(text)));
            }
            parse(item).map_err(|error| error.rule)
        })
        .collect()
}

/// `--credential-source`: one source of the chain.
pub fn credential_source(text: &str) -> Result<SourceKind, String> {
    SourceKind::parse(text).ok_or_else(|| {
        format!(
            "expected one of {}, got `{}`",
            SourceKind::CHAIN.map(SourceKind::as_str).join(", "),
            excerpt(text)
        )
    })
}

/// `--limit`, `--max-pages`: a whole number of at least 1.
pub fn at_least_one(text: &str) -> Result<u64, String> {
    whole_at_least_one(text)
}

fn whole_at_least_one<N: std::str::FromStr + PartialOrd + From<u8>>(
    text: &str,
) -> Result<N, String> {
    text.parse::<N>()
        .ok()
        .filter(|n| *n >= N::from(1))
        .ok_or_else(|| {
            format!(
                "must be a whole number of at least 1, got `{}`",
                excerpt(text)
            )
        })
}

/// `--parallel`: requests in flight at once, 1 to
/// [`cos_ci_client::MAX_WORKERS`].
pub fn workers(text: &str) -> Result<usize, String> {
    whole_up_to(text, cos_ci_client::MAX_WORKERS)
}

/// A whole number from 1 to `most`.
fn whole_up_to<N>(text: &str, most: N) -> Result<N, String>
where
    N: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display + Copy,
{
    text.parse::<N>()
        .ok()
        .filter(|n| (N::from(1)..=most).contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number between 1 and {most}, got `{}`",
                excerpt(text)
            )
        })
}

/// Longest `--timeout`: an hour is already far beyond any sane request.
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// Longest `--deadline`: a day (the client's own limit).
pub const MAX_DEADLINE_SECS: f64 = 86_400.0;
/// Most `--max-attempts`.
pub const MAX_ATTEMPTS: u32 = 10;

/// `--timeout`: seconds, fractions allowed, 0.001 to [`MAX_TIMEOUT_SECS`].
pub fn timeout(text: &str) -> Result<Duration, String> {
    seconds(text, MAX_TIMEOUT_SECS)
}

/// `--deadline`: seconds, fractions allowed, 0.001 to [`MAX_DEADLINE_SECS`].
pub fn deadline(text: &str) -> Result<Duration, String> {
    seconds(text, MAX_DEADLINE_SECS)
}

/// A number of seconds from 0.001 to `max`, as a duration.
fn seconds(text: &str, max: f64) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|secs| (0.001..=max).contains(secs))
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| {
            format!(
                "must be a number of seconds between 0.001 and {max}, got `{}`",
                excerpt(text)
            )
        })
}

/// `--max-attempts`: 1 to [`MAX_ATTEMPTS`].
pub fn attempts(text: &str) -> Result<u32, String> {
    whole_up_to(text, MAX_ATTEMPTS)
}

/// `sign --key-time`: `START;END` in Unix seconds.
pub fn key_time(text: &str) -> Result<KeyTime, String> {
    text.parse::<KeyTime>()
        .map_err(|error| format!("{error}, e.g. '1557989151;1557996351'"))
}

/// `sign --method`: letters only, e.g. `GET`.
pub fn http_method(text: &str) -> Result<String, String> {
    let method = text.trim();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "expected an HTTP method such as GET, got `{}`",
            excerpt(method)
        ));
    }
    Ok(method.to_owned())
}

/// `sign --path`: the decoded path, starting with `/`.
pub fn decoded_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!(
            "must be the decoded path starting with `/`, got `{}`",
            excerpt(text)
        ));
    }
    Ok(text.to_owned())
}

/// `sign --param`: `key=value`, or `key` alone (an empty value).
pub fn query_pair(text: &str) -> Result<(String, String), String> {
    split_pair(text, true)
}

/// `sign --header`: `key=value`.
pub fn header_pair(text: &str) -> Result<(String, String), String> {
    split_pair(text, false)
}

fn split_pair(text: &str, value_optional: bool) -> Result<(String, String), String> {
    let (key, value) = match text.split_once('=') {
        Some(pair) => pair,
        None if value_optional => (text, ""),
        None => return Err(format!("expected KEY=VALUE, got `{}`", excerpt(text))),
    };
    if key.is_empty() {
        return Err(format!(
            "the key before `=` is empty in `{}`",
            excerpt(text)
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// A closed set of wire values ([`cos_ci_proto::wire_enum!`]) as a flag:
/// any ASCII case is accepted (`asc` = `Asc`), the wire spelling is sent,
/// and `--help` lists the choices.
pub trait WireValue: Copy + Send + Sync + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The wire spelling.
    fn wire(self) -> &'static str;
    /// The value named by `text`, ignoring ASCII case.
    fn parse_ignore_case(text: &str) -> Result<Self, ValidationError>;
}

macro_rules! wire_value {
    ($($Type:ty),* $(,)?) => {$(
        impl WireValue for $Type {
            fn all() -> &'static [Self] {
                <$Type>::ALL
            }
            fn wire(self) -> &'static str {
                self.as_str()
            }
            fn parse_ignore_case(text: &str) -> Result<Self, ValidationError> {
                <$Type>::parse_ignore_case(text)
            }
        }
    )*};
}

wire_value!(
    Order,
    StateFilter,
    JobStateFilter,
    QueueStateFilter,
    QueueCategory
);

/// The value parser for a [`WireValue`] flag: `value_parser = WireChoice::<Order>::new()`.
#[derive(Debug)]
pub struct WireChoice<T>(PhantomData<fn() -> T>);

impl<T> WireChoice<T> {
    /// The parser.
    pub fn new() -> Self {
        WireChoice(PhantomData)
    }
}

impl<T> Default for WireChoice<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for WireChoice<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T: WireValue> TypedValueParser for WireChoice<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        // A plain function parser builds clap's value-validation error
        // (naming the flag) from the rule.
        let parse = |text: &str| T::parse_ignore_case(text).map_err(|error| error.rule);
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::all()
                .iter()
                .map(|value| PossibleValue::new(value.wire())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_come_from_the_protocol_types() {
        assert_eq!(page_size("100").map(PageSize::get), Ok(100));
        assert_eq!(
            page_size("0").unwrap_err(),
            "must be between 1 and 100, got 0"
        );
        assert!(page_size("-1").is_err());
        assert_eq!(
            states(" failed ,RUNNING,Failed").unwrap(),
            BTreeSet::from([StateFilter::Failed, StateFilter::Running])
        );
        assert_eq!(
            states("Success,").unwrap_err(),
            "has an empty item in `Success,`"
        );
        assert!(states("Done").unwrap_err().contains("expected one of All"));
        assert!(timestamp("2022-08-09T14:00:00+0800").is_ok());
        assert!(timestamp("yesterday").unwrap_err().contains("yesterday"));
    }

    #[test]
    fn times_absolute_and_relative() {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
        let at = |text: &str| time(text).unwrap().resolve(now).unwrap();
        assert_eq!(at("-24h").as_str(), "2025-12-31T08:00:00+08:00");
        assert_eq!(at("-24h").unix_seconds(), 1_767_225_600 - 86_400);
        assert_eq!(at("-1h30m").unix_seconds(), 1_767_225_600 - 5_400);
        assert_eq!(at("-7d").unix_seconds(), 1_767_225_600 - 7 * 86_400);
        assert_eq!(at("now").unix_seconds(), 1_767_225_600);
        assert_eq!(at("NOW").to_api_string(), "2026-01-01T08:00:00+0800");
        // Absolute forms keep their own text and offset.
        assert_eq!(
            at("2022-08-09T14:00:00+0800").as_str(),
            "2022-08-09T14:00:00+0800"
        );
        assert_eq!(at("2022-08-09T06:00:00Z").unix_seconds(), 1_660_024_800);
        for (bad, says) in [
            ("yesterday", "relative times such as -24h"),
            ("-24", "such as -24h"),
            ("-h", "such as -24h"),
            ("-30m2h", "such as -24h"),
            ("24h", "relative times such as -24h"),
            ("-", "such as -24h"),
        ] {
            let error = time(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(duration("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(duration("1d2h3m4s"), Ok(Duration::from_secs(93_784)));
        assert_eq!(duration("1s500ms"), Ok(Duration::from_millis(1_500)));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "",
            "2",
            "h",
            "2x",
            "2h2h",
            "30m1h",
            "-2h",
            "1.5h",
            "99999999999d",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert!(
            duration("2")
                .unwrap_err()
                .contains("each number needs a unit")
        );
        assert_eq!(wait_duration("600"), Ok(Duration::from_secs(600)));
        assert_eq!(wait_duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(wait_duration("10m"), Ok(Duration::from_secs(600)));
        for bad in ["0", "0s", "-1", "NaN", "inf", "soon"] {
            assert!(wait_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_and_urls() {
        assert_eq!(id_list(" a,b ,a").unwrap().0, ["a", "b"]);
        assert!(id_list("a,,b").is_err());
        assert_eq!(page_number("3"), Ok(3));
        assert!(page_number("0").is_err());
        assert_eq!(
            job_states("submitted,FAILED").unwrap(),
            BTreeSet::from([JobStateFilter::Submitted, JobStateFilter::Failed])
        );
        assert!(job_states("Done").unwrap_err().contains("expected one of"));
        assert!(callback_url("http://127.0.0.1:9000/").is_ok());
        assert!(callback_url("https://example.com/hook?a=1").is_ok());
        for bad in [
            "ftp://x",
            "http://",
            "http:///x",
            "127.0.0.1:9000",
            "http://a b",
        ] {
            assert!(callback_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(at_least_one("5"), Ok(5));
        for bad in ["0", "-1", "x", ""] {
            assert!(at_least_one(bad).is_err(), "{bad}");
        }
        assert_eq!(timeout("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(timeout(bad).is_err(), "{bad}");
        }
        assert_eq!(deadline("86400"), Ok(Duration::from_secs(86_400)));
        assert_eq!(
            deadline("86401").unwrap_err(),
            "must be a number of seconds between 0.001 and 86400, got `86401`"
        );
        assert_eq!(workers("8"), Ok(8));
        assert_eq!(workers("32"), Ok(32));
        for bad in ["0", "33", "-1", "x"] {
            assert!(workers(bad).is_err(), "{bad}");
        }
        assert_eq!(attempts("1"), Ok(1));
        for bad in ["0", "11", "x"] {
            assert!(attempts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs() {
        assert_eq!(header_pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(query_pair("acl").unwrap(), ("acl".into(), String::new()));
        assert!(header_pair("host").is_err());
        assert!(header_pair("=x").is_err());
    }

    #[test]
    fn wire_choice_ignores_case_and_lists_the_wire_spellings() {
        let command = clap::Command::new("t");
        let parser = WireChoice::<Order>::new();
        for text in ["asc", "Asc", "ASC"] {
            assert_eq!(
                parser.parse_ref(&command, None, text.as_ref()).unwrap(),
                Order::Asc
            );
        }
        assert!(parser.parse_ref(&command, None, "up".as_ref()).is_err());
        let names: Vec<String> = parser
            .possible_values()
            .unwrap()
            .map(|value| value.get_name().to_owned())
            .collect();
        assert_eq!(names, ["Desc", "Asc"]);
    }
}
