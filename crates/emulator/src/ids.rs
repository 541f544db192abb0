//! Request ids, trace ids and the unpadded URL-safe base64 they (and
//! paging tokens) use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::random::{SplitMix64, mix64};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded URL-safe base64.
pub(crate) fn base64url_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let triple = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let sextets = [triple >> 18, triple >> 12, triple >> 6, triple];
        for sextet in sextets.iter().take(chunk.len() + 1) {
            out.push(char::from(ALPHABET[(sextet & 63) as usize]));
        }
    }
    out
}

/// Strict inverse of [`base64url_encode`]: `None` on any other input.
pub(crate) fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    for chunk in input.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut triple = 0u32;
        for (position, byte) in chunk.iter().enumerate() {
            let value = ALPHABET.iter().position(|a| a == byte)? as u32;
            triple |= value << (18 - 6 * position);
        }
        let bytes = [(triple >> 16) as u8, (triple >> 8) as u8, triple as u8];
        let kept = chunk.len() - 1;
        // Non-canonical trailing bits would let two texts decode alike.
        if bytes.iter().skip(kept).any(|b| *b != 0) {
            return None;
        }
        out.extend_from_slice(bytes.get(..kept)?);
    }
    Some(out)
}

/// Makes ids that look like CI's (base64 of `hex_hex_hex_hex`), unique per
/// emulator and different between emulator instances.
#[derive(Debug)]
pub(crate) struct IdGenerator {
    instance: u64,
    counter: AtomicU64,
}

impl IdGenerator {
    pub(crate) fn new(instance: u64) -> Self {
        IdGenerator {
            instance: mix64(instance),
            counter: AtomicU64::new(0),
        }
    }

    /// A fresh id. `now` keeps ids of different runs apart.
    pub(crate) fn next(&self, now: u64) -> String {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let noise = mix64(self.instance ^ count);
        let text = format!(
            "{:08x}_{:08x}_{:04x}_{:07x}",
            now as u32,
            (self.instance >> 32) as u32,
            (noise & 0xffff) as u16,
            count & 0xfff_ffff
        );
        base64url_encode(text.as_bytes())
    }
}

/// Mints the ids of things created while serving (runs `i…`, jobs `j…`,
/// workflows `w…`): the prefix and 32 hex digits, like the generated and
/// the real ones, the same sequence for the same seed. Callers check a new
/// id is not taken (a 128-bit collision is not expected, but a loaded
/// dataset could hold anything).
#[derive(Debug)]
pub(crate) struct IdMint {
    random: Mutex<SplitMix64>,
}

impl IdMint {
    pub(crate) fn new(seed: u64) -> Self {
        IdMint {
            random: Mutex::new(SplitMix64::new(mix64(seed ^ 0x6964_6d69_6e74_0001))),
        }
    }

    /// `prefix` + 32 hex digits.
    pub(crate) fn next(&self, prefix: char) -> String {
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        format!(
            "{prefix}{:016x}{:016x}",
            random.next_u64(),
            random.next_u64()
        )
    }

    /// A fresh id with `prefix` for which `taken` is false.
    pub(crate) fn fresh(&self, prefix: char, taken: impl Fn(&str) -> bool) -> String {
        loop {
            let id = self.next(prefix);
            if !taken(&id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for input in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "视频/测试 3.mov",
            "\u{0}\u{ff}",
        ] {
            let encoded = base64url_encode(input.as_bytes());
            assert!(encoded.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(
                base64url_decode(&encoded).as_deref(),
                Some(input.as_bytes())
            );
        }
        assert_eq!(
            base64url_encode(b"62f2122a_ec4a6264_7e65_26b4"),
            "NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0"
        );
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("ab="), None);
        assert_eq!(base64url_decode("ab"), None, "non-canonical trailing bits");
        assert_eq!(base64url_decode("YQ").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn minted_ids_look_like_ci_ids_and_repeat_per_seed() {
        let (first, second) = (IdMint::new(3), IdMint::new(3));
        let id = first.next('j');
        assert_eq!(id, second.next('j'));
        assert!(id.len() == 33 && id.starts_with('j'));
        assert!(id[1..].bytes().all(|b| b.is_ascii_hexdigit()));
        let taken = first.next('w');
        let fresh = second.fresh('w', |candidate| candidate == taken);
        assert_ne!(fresh, taken);
    }

    #[test]
    fn ids_are_unique() {
        let ids = IdGenerator::new(1);
        let first = ids.next(1_700_000_000);
        let second = ids.next(1_700_000_000);
        assert_ne!(first, second);
        assert_eq!(first.len(), 40);
    }
}
