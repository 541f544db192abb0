//! Deterministic fault injection: which requests misbehave, and how (the
//! error answers are here; the server acts out the connection faults).

use std::fmt;
use std::str::FromStr;

use http::StatusCode;

use crate::random::mix64;
use crate::response::CiError;

/// One way a request can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// `503 ServiceUnavailable` (`503`).
    ServiceUnavailable503,
    /// `429 SlowDown` with `Retry-After: 1` (`429`).
    SlowDown429,
    /// `500 InternalError` (`500`).
    InternalError500,
    /// The connection is closed without any response (`close`).
    CloseConnection,
    /// The full response's `Content-Length` is sent, then half the body,
    /// then the connection is closed (`truncate`).
    TruncateBody,
    /// About 300 ms of delay, then the normal answer (`slow`).
    SlowResponse,
}

impl FaultKind {
    /// Every kind, in the order of the `--fault-kinds` names.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::ServiceUnavailable503,
        FaultKind::SlowDown429,
        FaultKind::InternalError500,
        FaultKind::CloseConnection,
        FaultKind::TruncateBody,
        FaultKind::SlowResponse,
    ];

    /// The `--fault-kinds` name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::ServiceUnavailable503 => "503",
            FaultKind::SlowDown429 => "429",
            FaultKind::InternalError500 => "500",
            FaultKind::CloseConnection => "close",
            FaultKind::TruncateBody => "truncate",
            FaultKind::SlowResponse => "slow",
        }
    }
}

impl FaultKind {
    /// The answer of a fault that is an error response in CI's shape
    /// (`503`, `429`, `500`); `None` for the others, which the server acts
    /// out itself (close, truncate, slow).
    pub(crate) fn injected_error(self) -> Option<CiError> {
        match self {
            FaultKind::ServiceUnavailable503 => Some(CiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service is temporarily unavailable, please retry (injected fault).",
            )),
            FaultKind::SlowDown429 => Some(CiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "SlowDown",
                "Please reduce your request rate (injected fault).",
            )),
            FaultKind::InternalError500 => Some(CiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Internal server error (injected fault).",
            )),
            FaultKind::CloseConnection | FaultKind::TruncateBody | FaultKind::SlowResponse => None,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault kind name that is not one of `503,429,500,close,truncate,slow`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault kind `{0}`: expected one of 503, 429, 500, close, truncate, slow")]
pub struct ParseFaultKindError(pub String);

impl FromStr for FaultKind {
    type Err = ParseFaultKindError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| ParseFaultKindError(text.to_owned()))
    }
}

/// How often, and how, requests fail. Off by default.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Share of requests that fail, 0.0..=1.0 (clamped; NaN is 0).
    pub rate: f64,
    /// The kinds to choose from, uniformly. Empty means every kind.
    pub kinds: Vec<FaultKind>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
        }
    }
}

impl FaultConfig {
    /// `rate` of requests fail, as any kind.
    pub fn with_rate(rate: f64) -> Self {
        FaultConfig {
            rate,
            ..Self::default()
        }
    }

    /// `rate` of requests fail, as a kind a client meets at once: 503,
    /// 500, a closed connection, a truncated body (not 429, whose
    /// `Retry-After` asks for a second's wait, nor the slow response).
    pub fn immediate(rate: f64) -> Self {
        FaultConfig {
            rate,
            kinds: vec![
                FaultKind::ServiceUnavailable503,
                FaultKind::InternalError500,
                FaultKind::CloseConnection,
                FaultKind::TruncateBody,
            ],
        }
    }

    /// The fault for the `request_number`-th request (0-based) under
    /// `seed`, if any. A pure function: the same seed gives the same
    /// sequence of faults.
    pub fn fault_for(&self, seed: u64, request_number: u64) -> Option<FaultKind> {
        let rate = if self.rate.is_nan() {
            0.0
        } else {
            self.rate.clamp(0.0, 1.0)
        };
        if rate <= 0.0 {
            return None;
        }
        let draw = mix64(mix64(seed ^ 0x6661_756c_7473) ^ request_number);
        // The top 53 bits as a uniform number in [0, 1).
        let uniform = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if uniform >= rate {
            return None;
        }
        let kinds: &[FaultKind] = if self.kinds.is_empty() {
            &FaultKind::ALL
        } else {
            &self.kinds
        };
        let choice = mix64(draw) % kinds.len() as u64;
        kinds.get(choice as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in FaultKind::ALL {
            assert_eq!(kind.name().parse::<FaultKind>(), Ok(kind));
        }
        assert_eq!("CLOSE".parse::<FaultKind>(), Ok(FaultKind::CloseConnection));
        let error = "404".parse::<FaultKind>().unwrap_err();
        assert!(error.to_string().contains("truncate"), "{error}");
    }

    #[test]
    fn off_by_default_and_deterministic() {
        let off = FaultConfig::default();
        assert!((0..1000).all(|n| off.fault_for(1, n).is_none()));

        let faults = FaultConfig::with_rate(0.2);
        let first: Vec<_> = (0..10_000).map(|n| faults.fault_for(9, n)).collect();
        let again: Vec<_> = (0..10_000).map(|n| faults.fault_for(9, n)).collect();
        assert_eq!(first, again);
        let other_seed: Vec<_> = (0..10_000).map(|n| faults.fault_for(10, n)).collect();
        assert_ne!(first, other_seed);

        let failed = first.iter().flatten().count();
        assert!((1_800..2_200).contains(&failed), "{failed}");
        for kind in FaultKind::ALL {
            assert!(first.contains(&Some(kind)), "{kind}");
        }
    }

    #[test]
    fn only_the_chosen_kinds_and_full_rate() {
        let faults = FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::SlowDown429],
        };
        assert!((0..100).all(|n| faults.fault_for(3, n) == Some(FaultKind::SlowDown429)));
        let nan = FaultConfig::with_rate(f64::NAN);
        assert_eq!(nan.fault_for(3, 0), None);
    }
}
