//! Wire query encoding/decoding shared by every action, and the typed
//! errors for bad parameters.

/// Encode pairs to a wire query string `k=v&k=v` with the signature's
/// encoder (`cos_ci_sign::encode`) on every key and value, so the bytes on
/// the wire decode to exactly what was signed.
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let _ = pairs;
    todo!()
}

/// Split a wire query (without `?`) into decoded pairs. Strict percent
/// decoding; `+` is kept as a literal `+` (CI signs `%2B` for `+`, and we
/// always send `%20` for space). A part without `=` is `(key, "")`.
pub fn decode_query(wire: &str) -> Result<Vec<(String, String)>, QueryError> {
    let _ = wire;
    todo!()
}

/// A request that breaks a rule. Names the parameter (wire name) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameter `{parameter}`: {rule}")]
pub struct ValidationError {
    /// Wire name, e.g. `size`.
    pub parameter: &'static str,
    /// The rule broken, e.g. `must be between 1 and 100, got 0`.
    pub rule: String,
}

/// A wire query that does not decode to a valid request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Bad percent-encoding.
    #[error("query is not validly percent-encoded near `{near}`")]
    BadEncoding {
        /// A short excerpt.
        near: String,
    },
    /// A parameter this action does not have.
    #[error("unknown parameter `{0}`")]
    UnknownParameter(String),
    /// The same parameter twice.
    #[error("parameter `{0}` given more than once")]
    DuplicateParameter(String),
    /// A known parameter with a bad value.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}
