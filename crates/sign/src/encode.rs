//! Percent-encoding as COS signs it: only `A-Z a-z 0-9 - _ . ~` stay
//! literal; every other UTF-8 byte becomes `%XX` with upper-case hex.
//! Space is `%20`, never `+`.

/// Encode `input` with the signature's encoder.
pub fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    encode_into(&mut out, input.as_bytes());
    out
}

/// Append the encoding of `input` to `out` (no allocation beyond `out`'s growth).
pub fn encode_into(out: &mut String, input: &[u8]) {
    let _ = (out, input);
    todo!("cos-ci-sign: encode_into")
}

/// Percent-decode `input` strictly: `%` must be followed by two hex digits
/// and the result must be UTF-8. `+` is kept as `+` (this is not form decoding).
pub fn decode(input: &str) -> Result<String, DecodeError> {
    let _ = input;
    todo!("cos-ci-sign: decode")
}

/// Why [`decode`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits, at this byte offset.
    #[error("bad percent escape at byte {offset}")]
    BadEscape {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8.
    #[error("percent-decoded bytes are not valid UTF-8")]
    NotUtf8,
}
