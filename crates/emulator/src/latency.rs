//! Simulated network latency: a delay added to every response the server
//! sends, so that what round trips cost against the real service (and what
//! concurrency saves) can be measured on loopback.

use std::fmt;
use std::time::Duration;

use crate::random::mix64;

/// A delay added to every response: `base`, plus a draw in `[0, jitter]`
/// that is a pure function of the seed and the request number (like the
/// fault sequence), so a run can be reproduced. Off (zero) by default.
///
/// It is the server's, like fault injection, and applies to the CI API:
/// [`RequestHandler`](crate::RequestHandler) and the credential stand-ins
/// answer at once, and the store's paging cost is untouched (the delay is
/// a timer, taken before the request is handled, holding no lock).
///
/// ```
/// use std::time::Duration;
/// use cos_ci_emulator::Latency;
///
/// let latency = Latency { base: Duration::from_millis(20), jitter: Duration::from_millis(5) };
/// let delay = latency.delay_for(1, 0);
/// assert!(delay >= Duration::from_millis(20) && delay <= Duration::from_millis(25));
/// assert_eq!(delay, latency.delay_for(1, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latency {
    /// Added to every response.
    pub base: Duration,
    /// Up to this much more, uniformly, per request.
    pub jitter: Duration,
}

impl Latency {
    /// No delay.
    pub const NONE: Latency = Latency {
        base: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// `base` on every response, no jitter.
    pub fn fixed(base: Duration) -> Self {
        Latency {
            base,
            jitter: Duration::ZERO,
        }
    }

    /// Whether every delay is zero.
    pub fn is_zero(&self) -> bool {
        self.base.is_zero() && self.jitter.is_zero()
    }

    /// The delay of the `request_number`-th request (0-based) under `seed`.
    pub fn delay_for(&self, seed: u64, request_number: u64) -> Duration {
        if self.jitter.is_zero() {
            return self.base;
        }
        let jitter_nanos = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX);
        let draw = mix64(mix64(seed ^ 0x006c_6174_656e_6379) ^ request_number);
        let extra = draw % jitter_nanos.saturating_add(1);
        self.base.saturating_add(Duration::from_nanos(extra))
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.base)?;
        if !self.jitter.is_zero() {
            write!(f, " + up to {:?}", self.jitter)?;
        }
        Ok(())
    }
}

/// The longest accepted delay: a latency above a minute is a typo.
const MAX_LATENCY: Duration = Duration::from_secs(60);

/// Parse a delay such as `20ms`, `1.5s`, `250us` or `0`: a non-negative
/// decimal number and a unit (`ns`, `us`, `µs`, `ms`, `s`), at most 60 s.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(cos_ci_emulator::parse_latency("20ms"), Ok(Duration::from_millis(20)));
/// assert_eq!(cos_ci_emulator::parse_latency("1.5s"), Ok(Duration::from_millis(1500)));
/// assert!(cos_ci_emulator::parse_latency("20").is_err());
/// ```
pub fn parse_latency(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let invalid =
        || format!("`{text}` is not a duration such as 20ms, 1.5s or 250us (at most 60s)");
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(invalid)?;
    let (number, unit) = trimmed.split_at(split);
    let nanos_per_unit = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return Err(invalid()),
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos < 0.0 || nanos > MAX_LATENCY.as_nanos() as f64 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(parse_latency("0"), Ok(Duration::ZERO));
        assert_eq!(parse_latency("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_latency("20ms"), Ok(Duration::from_millis(20)));
        assert_eq!(parse_latency(" 2.5ms "), Ok(Duration::from_micros(2500)));
        assert_eq!(parse_latency("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_latency("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_latency("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_latency("60s"), Ok(Duration::from_secs(60)));
        for bad in [
            "", "20", "ms", "-5ms", "5 ms", "1.2.3s", "61s", "5m", "1e3ms",
        ] {
            assert!(parse_latency(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jitter_is_bounded_deterministic_and_varied() {
        let latency = Latency {
            base: Duration::from_millis(10),
            jitter: Duration::from_millis(4),
        };
        let delays: Vec<Duration> = (0..1000).map(|n| latency.delay_for(3, n)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= latency.base && *d <= latency.base + latency.jitter)
        );
        assert_eq!(
            delays,
            (0..1000)
                .map(|n| latency.delay_for(3, n))
                .collect::<Vec<_>>()
        );
        let mean = delays.iter().sum::<Duration>() / 1000;
        assert!(
            mean > Duration::from_millis(11) && mean < Duration::from_millis(13),
            "{mean:?}"
        );
        assert_eq!(
            Latency::fixed(Duration::from_millis(7)).delay_for(1, 99),
            Duration::from_millis(7)
        );
        assert!(Latency::NONE.is_zero());
        assert_eq!(Latency::default(), Latency::NONE);
    }
}
