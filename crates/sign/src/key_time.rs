//! The signature's validity window, `start;end` in Unix seconds.

/// The key time (also sent as `q-sign-time`): the window, in Unix seconds,
/// in which a signature is valid. Both ends are inclusive for the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyTime {
    start: u64,
    end: u64,
}

impl KeyTime {
    /// A window from `start` to `end`; `end` before `start` is an error.
    pub fn new(start: u64, end: u64) -> Result<Self, KeyTimeError> {
        let _ = (start, end);
        todo!()
    }
    /// A window of `lifetime_secs` starting at `start` (saturating).
    pub fn starting_at(start: u64, lifetime_secs: u64) -> Self {
        let _ = (start, lifetime_secs);
        todo!()
    }
    /// Start, Unix seconds.
    pub fn start(&self) -> u64 {
        self.start
    }
    /// End, Unix seconds.
    pub fn end(&self) -> u64 {
        self.end
    }
}

// `Display` writes `start;end`; `FromStr` parses it (digits only, exactly one `;`).
// impl std::fmt::Display for KeyTime ...
// impl std::str::FromStr for KeyTime { type Err = KeyTimeError; ... }

/// Why a key time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyTimeError {
    /// Not of the form `digits;digits`.
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
