//! Retry policy and backoff, as data.

use std::fmt;
use std::time::Duration;

/// When and how often to retry. Defaults: 5 attempts, full-jitter
/// exponential backoff from 200 ms capped at 20 s, a `Retry-After` of at
/// most 60 s, and 180 s in total ([`RetryPolicy::DEFAULT_TOTAL_DEADLINE`]),
/// which lets five attempts of `cos-ci-hyper`'s default 30 s request timeout
/// and the backoff between them all happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (1 = never retry).
    pub max_attempts: u32,
    /// Upper bound of the first retry's delay.
    pub base_delay: Duration,
    /// Upper bound of any computed delay.
    pub max_delay: Duration,
    /// The operation gives up once this much time has passed since its first
    /// attempt, or when a wait would end after it. Transports cut an attempt
    /// short at it ([`crate::Operation::deadline`]), so it bounds the whole
    /// call; see [`RetryPolicy::deadline_for`] to fit it to a per-attempt
    /// timeout.
    pub total_deadline: Duration,
    /// A `Retry-After` longer than this is treated as "give up".
    pub max_retry_after: Duration,
    /// Seed for the jitter. Transports should set a random one per client
    /// ([`RetryPolicy::random_jitter_seed`]) so that many processes do not
    /// retry in lockstep; tests set a fixed one.
    pub jitter_seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            total_deadline: Self::DEFAULT_TOTAL_DEADLINE,
            max_retry_after: Duration::from_secs(60),
            jitter_seed: 0x636f_732d_6369_2131,
        }
    }
}

impl RetryPolicy {
    /// The default overall deadline of a call.
    pub const DEFAULT_TOTAL_DEADLINE: Duration = Duration::from_secs(180);

    /// The shortest overall deadline that lets every one of `max_attempts`
    /// attempts run for a whole `attempt_timeout`, with the longest backoff
    /// before each retry and one second to spare for signing and
    /// scheduling (a `Retry-After` longer than the backoff is not counted).
    /// 154 s for the defaults and a 30 s timeout.
    pub fn deadline_for(&self, attempt_timeout: Duration) -> Duration {
        let attempts = self.max_attempts.max(1);
        let backoff = (1..attempts)
            .map(|retry| backoff_ceiling(self, retry))
            .fold(Duration::ZERO, Duration::saturating_add);
        attempt_timeout
            .saturating_mul(attempts)
            .saturating_add(backoff)
            .saturating_add(Duration::from_secs(1))
    }

    /// A policy that never retries.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// A seed for [`RetryPolicy::jitter_seed`] that differs from process to
    /// process and from call to call, drawn from the standard library's
    /// randomly keyed hasher. The crate's only source of randomness, used
    /// only when asked (`BlockingClient::new` asks).
    pub fn random_jitter_seed() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish()
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Send again after this delay.
    RetryAfter(Duration),
    /// Send again now with a corrected clock (the signature was rejected as
    /// expired and the server's `Date` showed our clock is off).
    RetryWithCorrectedClock,
    /// Send again now with refreshed credentials: the service refused
    /// temporary credentials (`AccessDenied`, `InvalidAuthorization`,
    /// `ExpiredToken`, …), which an expired token explains. Once per
    /// operation, and only with a refreshing credential provider.
    RetryWithRefreshedCredentials,
    /// The error is final.
    DoNotRetry,
    /// The error was retryable but the attempt budget is spent.
    AttemptsExhausted,
    /// The error was retryable but the deadline has passed, or the next
    /// attempt would start after it.
    DeadlineExceeded,
    /// The service asked to wait (`Retry-After`) longer than
    /// [`RetryPolicy::max_retry_after`].
    RetryAfterTooLong,
}

/// Full-jitter exponential backoff: the delay before retry `n` (1-based) is
/// uniform in `[0, min(max_delay, base_delay · 2^(n-1))]`.
///
/// The random source is injectable ([`Backoff::with_source`]); the default
/// is SplitMix64 from a seed, which is tiny, fast and plenty for jitter.
pub struct Backoff {
    source: Box<dyn FnMut() -> u64 + Send>,
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff").finish_non_exhaustive()
    }
}

impl Backoff {
    /// Deterministic jitter from `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut state = seed;
        Self::with_source(move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
    }

    /// Jitter from any source of uniformly random `u64`s.
    pub fn with_source(source: impl FnMut() -> u64 + Send + 'static) -> Self {
        Self {
            source: Box::new(source),
        }
    }

    /// The delay before retry number `retry` (1 = the first retry).
    pub fn delay(&mut self, policy: &RetryPolicy, retry: u32) -> Duration {
        let ceiling = backoff_ceiling(policy, retry);
        let ceiling_nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if ceiling_nanos == 0 {
            return Duration::ZERO;
        }
        let random = (self.source)();
        // Multiply-shift maps a uniform u64 onto [0, ceiling] without modulo bias worth caring about.
        let nanos = ((u128::from(random) * (u128::from(ceiling_nanos) + 1)) >> 64) as u64;
        Duration::from_nanos(nanos)
    }
}

/// The longest delay before retry number `retry` (1 = the first retry).
fn backoff_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(31);
    policy
        .base_delay
        .saturating_mul(1u32 << exponent)
        .min(policy.max_delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_exponential_ceiling() {
        let policy = RetryPolicy::default();
        let mut backoff = Backoff::from_seed(7);
        for retry in 1..40 {
            let ceiling = policy
                .base_delay
                .saturating_mul(1 << (retry - 1).min(31))
                .min(policy.max_delay);
            for _ in 0..50 {
                assert!(backoff.delay(&policy, retry) <= ceiling);
            }
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let policy = RetryPolicy::default();
        let mut a = Backoff::from_seed(42);
        let mut b = Backoff::from_seed(42);
        for retry in 1..10 {
            assert_eq!(a.delay(&policy, retry), b.delay(&policy, retry));
        }
    }

    #[test]
    fn random_seeds_differ_between_calls() {
        assert_ne!(
            RetryPolicy::random_jitter_seed(),
            RetryPolicy::random_jitter_seed()
        );
    }

    #[test]
    fn injected_source_controls_jitter() {
        let policy = RetryPolicy::default();
        assert_eq!(Backoff::with_source(|| 0).delay(&policy, 3), Duration::ZERO);
        assert_eq!(
            Backoff::with_source(|| u64::MAX).delay(&policy, 3),
            Duration::from_millis(800)
        );
    }
}
