//! The signature's validity window, `start;end` in Unix seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The key time (also sent as `q-sign-time`): the window, in Unix seconds,
/// in which a signature is valid. Both ends are inclusive for the verifier.
///
/// `Display` writes `start;end`; `FromStr` parses it (ASCII digits only,
/// exactly one `;`, no sign, no spaces, no leading zeros), so that every
/// accepted text prints back to the same bytes: the verifier recomputes the
/// signature from the parsed value.
///
/// The `u64` constructors take Unix seconds; the `SystemTime` ones
/// ([`KeyTime::starting_at_time`], [`KeyTime::from_system_time`]) take what a
/// clock returns. The crate never reads the clock itself.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cos_ci_sign::KeyTime;
/// let kt: KeyTime = "1557989151;1557996351".parse().unwrap();
/// assert_eq!(kt, KeyTime::starting_at(1557989151, 7200));
/// assert_eq!(kt.to_string(), "1557989151;1557996351");
/// let start = UNIX_EPOCH + Duration::from_secs(1557989151);
/// assert_eq!(kt, KeyTime::starting_at_time(start, Duration::from_secs(7200)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyTime {
    start: u64,
    end: u64,
}

impl KeyTime {
    /// A window from `start` to `end`; `end` before `start` is an error.
    pub fn new(start: u64, end: u64) -> Result<Self, KeyTimeError> {
        if end < start {
            Err(KeyTimeError::EndBeforeStart { start, end })
        } else {
            Ok(Self { start, end })
        }
    }
    /// A window of `lifetime_secs` starting at `start` (saturating).
    pub fn starting_at(start: u64, lifetime_secs: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(lifetime_secs),
        }
    }
    /// A window of `lifetime` starting at `start`, both cut to whole
    /// seconds (saturating). A time before the Unix epoch counts as the
    /// epoch: such a window has long ended, so the signature is refused.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let kt = cos_ci_sign::KeyTime::starting_at_time(SystemTime::now(), Duration::from_secs(900));
    /// assert_eq!(kt.end() - kt.start(), 900);
    /// ```
    pub fn starting_at_time(start: SystemTime, lifetime: Duration) -> Self {
        Self::starting_at(unix_secs(start), lifetime.as_secs())
    }
    /// A window from `start` to `end`, cut to whole seconds; `end` before
    /// `start` is an error. Times before the Unix epoch count as the epoch.
    pub fn from_system_time(start: SystemTime, end: SystemTime) -> Result<Self, KeyTimeError> {
        Self::new(unix_secs(start), unix_secs(end))
    }
    /// Start, Unix seconds.
    pub fn start(&self) -> u64 {
        self.start
    }
    /// End, Unix seconds.
    pub fn end(&self) -> u64 {
        self.end
    }
    /// `true` if `now` lies in the window, both ends included.
    pub fn contains(&self, now: u64) -> bool {
        self.start <= now && now <= self.end
    }
    /// [`KeyTime::contains`] for a `SystemTime` (cut to whole seconds).
    pub fn contains_time(&self, now: SystemTime) -> bool {
        self.contains(unix_secs(now))
    }

    /// Write `start;end` into `buf` without allocating; returns the length.
    pub(crate) fn write_to(&self, buf: &mut [u8; KEY_TIME_MAX_LEN]) -> usize {
        let mut n = write_u64(&mut buf[..], self.start);
        buf[n] = b';';
        n += 1;
        n += write_u64(&mut buf[n..], self.end);
        n
    }
}

/// `time` in whole Unix seconds, as [`verify`](crate::verify) and
/// [`KeyTime::new`] take it; 0 for times before the epoch.
pub fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Longest `start;end`: two 20-digit numbers and the `;`.
pub(crate) const KEY_TIME_MAX_LEN: usize = 41;

/// Decimal digits of `v` at the front of `out` (which holds at least 20 bytes).
fn write_u64(out: &mut [u8], mut v: u64) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = &tmp[i..];
    out[..digits.len()].copy_from_slice(digits);
    digits.len()
}

impl std::fmt::Display for KeyTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{};{}", self.start, self.end)
    }
}

impl std::str::FromStr for KeyTime {
    type Err = KeyTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (start, end) = s.split_once(';').ok_or(KeyTimeError::Malformed)?;
        Self::new(parse_digits(start)?, parse_digits(end)?)
    }
}

/// ASCII digits only (no sign, no space, no leading zero), at least one,
/// fitting in `u64`.
fn parse_digits(s: &str) -> Result<u64, KeyTimeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(KeyTimeError::Malformed);
    }
    s.parse().map_err(|_| KeyTimeError::Malformed)
}

/// Why a key time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyTimeError {
    /// Not of the form `digits;digits` (or a number with a leading zero,
    /// or one that does not fit in 64 bits).
    #[error("key time must be `START;END` in Unix seconds")]
    Malformed,
    /// End before start.
    #[error("key time ends ({end}) before it starts ({start})")]
    EndBeforeStart {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_starting_at() {
        assert_eq!(
            KeyTime::new(5, 4),
            Err(KeyTimeError::EndBeforeStart { start: 5, end: 4 })
        );
        assert_eq!(KeyTime::new(5, 5).map(|k| (k.start(), k.end())), Ok((5, 5)));
        assert_eq!(KeyTime::starting_at(u64::MAX - 1, 10).end(), u64::MAX);
    }

    #[test]
    fn parse_and_display() {
        for bad in [
            "",
            ";",
            "1;",
            ";1",
            "1;2;3",
            "+1;2",
            "1; 2",
            " 1;2",
            "a;b",
            "1,2",
            "99999999999999999999;1",
            "١;٢",
            "01;2",
            "1;02",
            "00;0",
        ] {
            assert_eq!(
                bad.parse::<KeyTime>(),
                Err(KeyTimeError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            "2;1".parse::<KeyTime>(),
            Err(KeyTimeError::EndBeforeStart { start: 2, end: 1 })
        );
        let kt: KeyTime = "0;18446744073709551615".parse().unwrap();
        assert_eq!(kt.to_string(), "0;18446744073709551615");
        let mut buf = [0u8; KEY_TIME_MAX_LEN];
        let full = KeyTime::new(u64::MAX, u64::MAX).unwrap();
        let n = full.write_to(&mut buf);
        assert_eq!(&buf[..n], full.to_string().as_bytes());
        let n = kt.write_to(&mut buf);
        assert_eq!(&buf[..n], b"0;18446744073709551615");
    }

    #[test]
    fn system_time_forms_match_the_seconds_forms() {
        let at = |secs: u64, nanos: u32| UNIX_EPOCH + Duration::new(secs, nanos);
        assert_eq!(
            KeyTime::starting_at_time(at(100, 999_999_999), Duration::from_millis(60_999)),
            KeyTime::starting_at(100, 60)
        );
        assert_eq!(
            KeyTime::from_system_time(at(5, 0), at(7, 500)),
            KeyTime::new(5, 7)
        );
        assert_eq!(
            KeyTime::from_system_time(at(7, 0), at(5, 0)),
            Err(KeyTimeError::EndBeforeStart { start: 7, end: 5 })
        );
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(
            KeyTime::starting_at_time(before_epoch, Duration::from_secs(3)),
            KeyTime::starting_at(0, 3)
        );
        assert_eq!(
            KeyTime::starting_at_time(at(100, 0), Duration::MAX).end(),
            u64::MAX
        );
        let kt = KeyTime::new(10, 20).unwrap();
        assert!(kt.contains_time(at(20, 999_999_999)));
        assert!(!kt.contains_time(at(21, 0)));
    }

    #[test]
    fn contains_is_inclusive() {
        let kt = KeyTime::new(10, 20).unwrap();
        assert!(!kt.contains(9));
        assert!(kt.contains(10));
        assert!(kt.contains(20));
        assert!(!kt.contains(21));
    }
}
