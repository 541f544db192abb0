//! Wire query encoding/decoding shared by every action, and the typed
//! errors for bad parameters.

/// Encode pairs to a wire query string `k=v&k=v` with the signature's
/// encoder on every key and value, so the bytes on the wire decode to
/// exactly what was signed. The same function as [`cos_ci_sign::encode_query`].
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    cos_ci_sign::encode_query(pairs)
}

/// Split a wire query (without `?`) into decoded pairs. Strict percent
/// decoding; `+` is kept as a literal `+` (CI signs `%2B` for `+`, and we
/// always send `%20` for space). A part without `=` is `(key, "")`.
/// [`cos_ci_sign::decode_query`] with this crate's error type.
pub fn decode_query(wire: &str) -> Result<Vec<(String, String)>, QueryError> {
    cos_ci_sign::decode_query(wire).map_err(|error| QueryError::BadEncoding { near: error.near })
}

/// At most `max_chars` characters of `text`, marked with `…` when cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
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
#[non_exhaustive]
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
    /// The path is not this action's path.
    #[error("the path does not match this action")]
    PathMismatch,
    /// The request body is not the expected document.
    #[error("request body: {0}")]
    BadBody(String),
}

impl ValidationError {
    /// A broken rule for the parameter with this wire name.
    pub fn new(parameter: &'static str, rule: impl Into<String>) -> Self {
        ValidationError {
            parameter,
            rule: rule.into(),
        }
    }
}

/// Collects decoded pairs into one slot per known parameter, refusing
/// unknown and repeated names, so an action's decoding only parses values.
/// An empty value counts as unset (the official Python SDK sends `name=`
/// and `nextToken=`), but still counts as given for the duplicate check.
/// Used by the code [`crate::ci_action!`] generates.
#[derive(Debug)]
pub struct QuerySlots<'p> {
    names: &'p [&'static str],
    values: Vec<Option<&'p str>>,
}

impl<'p> QuerySlots<'p> {
    /// Sort `pairs` into the slots of `names`.
    pub fn collect<K: AsRef<str>, V: AsRef<str>>(
        names: &'p [&'static str],
        pairs: &'p [(K, V)],
    ) -> Result<Self, QueryError> {
        let mut values = vec![None; names.len()];
        let mut seen = vec![false; names.len()];
        for (key, value) in pairs {
            let key = key.as_ref();
            let index = names
                .iter()
                .position(|name| *name == key)
                .ok_or_else(|| QueryError::UnknownParameter(excerpt(key, 64)))?;
            if std::mem::replace(&mut seen[index], true) {
                return Err(QueryError::DuplicateParameter(names[index].to_owned()));
            }
            let value = value.as_ref();
            values[index] = (!value.is_empty()).then_some(value);
        }
        Ok(QuerySlots { names, values })
    }

    /// The non-empty value of `name` (a name given to [`Self::collect`]).
    pub fn get(&self, name: &str) -> Option<&'p str> {
        let index = self.names.iter().position(|known| *known == name)?;
        self.values.get(index).copied().flatten()
    }
}
