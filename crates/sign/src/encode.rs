//! Percent-encoding as COS signs it: only `A-Z a-z 0-9 - _ . ~` stay
//! literal; every other UTF-8 byte becomes `%XX` with upper-case hex.
//! Space is `%20`, never `+`.

/// Upper-case hex digits, indexed by nibble.
pub(crate) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
/// Lower-case hex digits, indexed by nibble.
pub(crate) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// `true` for the bytes that stay literal: `A-Z a-z 0-9 - _ . ~`.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~')
}

/// Encode `input` with the signature's encoder.
///
/// ```
/// assert_eq!(cos_ci_sign::encode("a b+c/d~"), "a%20b%2Bc%2Fd~");
/// assert_eq!(cos_ci_sign::encode("腾"), "%E8%85%BE");
/// ```
pub fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    encode_into(&mut out, input.as_bytes());
    out
}

/// Append the encoding of `input` to `out` (no allocation beyond `out`'s growth).
///
/// `input` may be any bytes: every byte outside the unreserved set is
/// escaped, so the output is always ASCII.
pub fn encode_into(out: &mut String, input: &[u8]) {
    let mut run_start = 0;
    for (i, &b) in input.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        push_ascii_run(out, input.get(run_start..i).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        run_start = i + 1;
    }
    push_ascii_run(out, input.get(run_start..).unwrap_or_default());
}

/// Push a run of unreserved (hence ASCII) bytes.
#[inline]
fn push_ascii_run(out: &mut String, run: &[u8]) {
    if let Ok(s) = std::str::from_utf8(run) {
        out.push_str(s);
    }
}

/// `UNRESERVED[b]` is `true` for the bytes that stay literal.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_unreserved(b as u8);
        b += 1;
    }
    table
};

/// Byte-level twin of [`encode_into`] for the signer's scratch buffer.
///
/// Grows `out` by the worst case (three bytes per input byte) once, writes
/// in place, then truncates: no per-byte capacity checks and no per-run
/// `memcpy` calls, which dominate for the short names and values of a
/// request.
#[inline]
pub(crate) fn encode_bytes_into(out: &mut Vec<u8>, input: &[u8]) {
    let start = out.len();
    out.resize(start.saturating_add(input.len().saturating_mul(3)), 0);
    let mut n = start;
    if let Some(dst) = out.get_mut(start..) {
        let mut w = 0;
        for &b in input {
            if UNRESERVED[usize::from(b)] {
                if let Some(d) = dst.get_mut(w) {
                    *d = b;
                }
                w += 1;
            } else {
                if let Some(d) = dst.get_mut(w..w + 3) {
                    d.copy_from_slice(&[
                        b'%',
                        HEX_UPPER[usize::from(b >> 4)],
                        HEX_UPPER[usize::from(b & 0x0f)],
                    ]);
                }
                w += 3;
            }
        }
        n += w;
    }
    out.truncate(n);
}

/// Percent-decode `input` strictly: `%` must be followed by two hex digits
/// and the result must be UTF-8. `+` is kept as `+` (this is not form decoding).
///
/// Both upper- and lower-case hex digits are accepted.
///
/// ```
/// assert_eq!(cos_ci_sign::decode("a%20b+c").unwrap(), "a b+c");
/// assert!(cos_ci_sign::decode("100%").is_err());
/// ```
pub fn decode(input: &str) -> Result<String, DecodeError> {
    let bytes = input.as_bytes();
    if !bytes.contains(&b'%') {
        return Ok(input.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                _ => return Err(DecodeError::BadEscape { offset: i }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_encoder_string() {
        let input = "! \"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
        assert_eq!(
            encode(input),
            "%21%20%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~"
        );
    }

    #[test]
    fn bytes_and_string_encoders_agree() {
        let input = "exampleobject(腾讯云) +~/";
        let mut v = Vec::new();
        encode_bytes_into(&mut v, input.as_bytes());
        assert_eq!(String::from_utf8(v).unwrap(), encode(input));
        assert_eq!(
            encode(input),
            "exampleobject%28%E8%85%BE%E8%AE%AF%E4%BA%91%29%20%2B~%2F"
        );
    }

    #[test]
    fn encode_into_escapes_invalid_utf8() {
        let mut s = String::new();
        encode_into(&mut s, &[b'a', 0xff, 0x00]);
        assert_eq!(s, "a%FF%00");
    }

    #[test]
    fn decode_is_strict() {
        assert_eq!(decode("%2b%2B+"), Ok("++".to_owned() + "+"));
        assert_eq!(decode("%"), Err(DecodeError::BadEscape { offset: 0 }));
        assert_eq!(decode("ab%2"), Err(DecodeError::BadEscape { offset: 2 }));
        assert_eq!(decode("%zz"), Err(DecodeError::BadEscape { offset: 0 }));
        assert_eq!(decode("%FF"), Err(DecodeError::NotUtf8));
        assert_eq!(decode("%E8%85%BE").as_deref(), Ok("腾"));
    }
}
