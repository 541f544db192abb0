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
use std::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};
use cos_ci_client::credentials::SourceKind;
use cos_ci_proto::{CiTimestamp, Order, PageSize, StateFilter, ValidationError};
use cos_ci_sign::KeyTime;

/// The first 60 characters of user input, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    cos_ci_proto::query::excerpt(text, 60)
}

/// `--size`: [`PageSize`] (1 to 100, digits only).
pub fn page_size(text: &str) -> Result<PageSize, String> {
    text.parse::<PageSize>().map_err(|error| error.rule)
}

/// `--start-time`, `--end-time`: either form CI accepts
/// (`2022-08-09T14:00:00+08:00` or `…+0800`).
pub fn timestamp(text: &str) -> Result<CiTimestamp, String> {
    CiTimestamp::parse(text).map_err(|error| error.to_string())
}

/// `--states`: comma-separated [`StateFilter`] names in any case
/// (`failed,Running`); the wire spelling is what is sent. Empty items are
/// errors; repeats collapse.
pub fn states(text: &str) -> Result<BTreeSet<StateFilter>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!("has an empty item in `{}`", excerpt(text)));
            }
            StateFilter::parse_ignore_case(item).map_err(|error| error.rule)
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
    text.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        format!(
            "must be a whole number of at least 1, got `{}`",
            excerpt(text)
        )
    })
}

/// `--parallel`: requests in flight at once, 1 to
/// [`cos_ci_client::MAX_WORKERS`].
pub fn workers(text: &str) -> Result<usize, String> {
    let most = cos_ci_client::MAX_WORKERS;
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=most).contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number between 1 and {most}, got `{}`",
                excerpt(text)
            )
        })
}

/// The longest `--since`: ten years.
const MAX_SINCE_SECS: u64 = 10 * 366 * 86_400;

/// `--since`: a whole number and a unit, `s`, `m`, `h`, `d` or `w`
/// (`90m`, `24h`, `7d`), up to ten years.
pub fn since(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "must be a positive whole number and a unit s, m, h, d or w, e.g. 24h or 7d, got `{}`",
            excerpt(text)
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = trimmed.split_at(split);
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|secs| (1..=MAX_SINCE_SECS).contains(secs))
        .map(Duration::from_secs)
        .ok_or_else(invalid)
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
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_ATTEMPTS).contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number between 1 and {MAX_ATTEMPTS}, got `{}`",
                excerpt(text)
            )
        })
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

wire_value!(Order, StateFilter);

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
        assert_eq!(since("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(since("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(since("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(since("30s"), Ok(Duration::from_secs(30)));
        for bad in ["", "24", "h", "0h", "1.5h", "-1d", "1y", "99999999999w"] {
            assert!(since(bad).is_err(), "{bad}");
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
