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

/// Encode `(name, value)` pairs as a wire query `k=v&k=v`, every name and
/// value with [`encode`], so that what the server decodes is exactly what
/// was signed. No leading `?`.
///
/// ```
/// let query = cos_ci_sign::encode_query(&[("states", "Success,Failed"), ("name", "a b+c")]);
/// assert_eq!(query, "states=Success%2CFailed&name=a%20b%2Bc");
/// ```
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::with_capacity(
        pairs
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
            .sum(),
    );
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        encode_into(&mut out, key.as_ref().as_bytes());
        out.push('=');
        encode_into(&mut out, value.as_ref().as_bytes());
    }
    out
}

/// Split a wire query (without `?`) into decoded `(name, value)` pairs, in
/// order, with [`decode`]'s strict rules: `+` stays `+`, and a bad escape or
/// non-UTF-8 result is an error naming the part. A part without `=` is
/// `(name, "")`; empty parts (`a=1&&b=2`, a trailing `&`) are skipped.
///
/// ```
/// let pairs = cos_ci_sign::decode_query("acl&prefix=a%2Fb&x=1+1").unwrap();
/// assert_eq!(pairs, [("acl".into(), "".into()), ("prefix".into(), "a/b".into()), ("x".into(), "1+1".into())]);
/// assert!(cos_ci_sign::decode_query("name=%zz").is_err());
/// ```
pub fn decode_query(wire: &str) -> Result<Vec<(String, String)>, UrlDecodeError> {
    wire.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let decode_in_part = |component: &str| {
                decode(component).map_err(|reason| UrlDecodeError::new(part, reason))
            };
            Ok((decode_in_part(key)?, decode_in_part(value)?))
        })
        .collect()
}

/// Encode a decoded path segment by segment: every `/` stays a separator
/// and everything else is encoded with [`encode`], so the server decodes it
/// back to exactly the path that was signed. A path that does not start
/// with `/` (including the empty path, which signs as `/`) gets one.
///
/// ```
/// assert_eq!(cos_ci_sign::encode_path("/exampleobject(腾讯云)"), "/exampleobject%28%E8%85%BE%E8%AE%AF%E4%BA%91%29");
/// assert_eq!(cos_ci_sign::encode_path("/a b/c+d"), "/a%20b/c%2Bd");
/// assert_eq!(cos_ci_sign::encode_path(""), "/");
/// ```
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    if !path.starts_with('/') {
        out.push('/');
    }
    for (index, segment) in path.split('/').enumerate() {
        if index > 0 {
            out.push('/');
        }
        encode_into(&mut out, segment.as_bytes());
    }
    out
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
#[non_exhaustive]
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

/// A URL component (a query part or the path) that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not validly percent-encoded near `{near}`: {reason}")]
#[non_exhaustive]
pub struct UrlDecodeError {
    /// The start of the offending part (at most 40 characters, `…` when cut).
    pub near: String,
    /// What is wrong with it.
    pub reason: DecodeError,
}

impl UrlDecodeError {
    /// Errors echo input, so they quote only its start: a hostile URL cannot
    /// make an error (or a log line holding it) arbitrarily large.
    pub(crate) fn new(part: &str, reason: DecodeError) -> Self {
        const MAX_CHARS: usize = 40;
        let near = match part.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => format!("{}…", part.get(..cut).unwrap_or_default()),
            None => part.to_owned(),
        };
        Self { near, reason }
    }
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

    #[test]
    fn decode_query_names_the_bad_part_briefly() {
        assert_eq!(decode_query(""), Ok(vec![]));
        assert_eq!(
            decode_query("a=1&&b&c=&d=x%3Dy=z&"),
            Ok(vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "".into()),
                ("d".into(), "x=y=z".into()),
            ])
        );
        let error = decode_query("ok=1&name=%zz").unwrap_err();
        assert_eq!(error.near, "name=%zz");
        assert_eq!(error.reason, DecodeError::BadEscape { offset: 0 });
        let long = format!("v={}%", "腾".repeat(100));
        let near = decode_query(&long).unwrap_err().near;
        assert_eq!(near.chars().count(), 41);
        assert!(near.ends_with('…'));
    }

    #[test]
    fn encode_query_then_decode_query_is_the_identity() {
        let pairs = [("a b", "+/?&="), ("", ""), ("腾", "~")];
        let decoded = decode_query(&encode_query(&pairs)).unwrap();
        let decoded: Vec<(&str, &str)> = decoded
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(decoded, pairs);
    }
}
