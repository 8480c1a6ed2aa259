//! A key's identity and its text: the two-lane hasher a lookup uses (so a lookup never formats
//! the key) and the bounded text a new key's breaker is named with.

use std::fmt;
use std::hash::Hasher;

use super::MAX_KEY_TEXT;

/// `#` and 16 hex digits: what a hashed key text ends with.
const HASH_SUFFIX: usize = 17;

/// A seeded multiply-rotate hasher with two independent lanes (128 bits): one lane picks the
/// map slot, the other confirms the key, so a lookup never formats the key.
#[derive(Clone, Copy)]
pub(super) struct KeyHasher(pub(super) u64, pub(super) u64);

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        self.mix(tail(rest) ^ ((rest.len() as u64) << 56));
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        // `str`'s `Hash` ends with `write_u8(0xff)`: one mix, not a one-byte `write`.
        self.mix(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        crate::rng::splitmix(self.0)
    }
}

impl KeyHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        self.1 = (self.1.rotate_left(23) ^ word).wrapping_mul(0x9e_37_79_b9_7f_4a_7c_15);
    }

    /// The second lane, finished.
    #[inline]
    pub(super) fn check(&self) -> u64 {
        crate::rng::splitmix(self.1 ^ 0x2545_f491_4f6c_dd1d)
    }
}

/// The up to 7 bytes of `rest` as a little-endian word, read as two overlapping halves rather
/// than copied into a buffer: a byte copy followed by a word load stalls store forwarding, which
/// cost a known-key lookup about a quarter of its time.
#[inline]
fn tail(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        // The halves overlap on equal bytes, so OR-ing them at their offsets is exact.
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(lo) | (u64::from(hi) << ((n - 4) * 8))
    } else if n > 0 {
        u64::from(rest[0])
            | (u64::from(rest[n / 2]) << ((n / 2) * 8))
            | (u64::from(rest[n - 1]) << ((n - 1) * 8))
    } else {
        0
    }
}

/// Passes an already mixed `u64` through.
#[derive(Default)]
pub(super) struct Identity(u64);

impl Hasher for Identity {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Collects at most [`MAX_KEY_TEXT`] bytes of a key's `Display` output, and a stable hash
/// (64-bit FNV-1a, the same in every process) of all of it.
pub(super) struct KeyText {
    pub(super) text: String,
    /// `false` once a character did not fit: `text` is a prefix.
    pub(super) whole: bool,
    hash: u64,
}

impl Default for KeyText {
    fn default() -> Self {
        KeyText {
            text: String::new(),
            whole: true,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl fmt::Write for KeyText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        if self.whole {
            for c in s.chars() {
                if self.text.len() + c.len_utf8() > MAX_KEY_TEXT {
                    self.whole = false;
                    break;
                }
                self.text.push(c);
            }
        }
        Ok(())
    }
}

impl KeyText {
    /// The `attempt`-th hashed form: a prefix, `#`, 16 hex digits; at most `MAX_KEY_TEXT` bytes.
    pub(super) fn hashed(&self, attempt: u64) -> String {
        let mut cut = self.text.len().min(MAX_KEY_TEXT - HASH_SUFFIX);
        while !self.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let hash = if attempt == 0 {
            self.hash
        } else {
            crate::rng::splitmix(self.hash ^ attempt)
        };
        format!("{}#{hash:016x}", &self.text[..cut])
    }
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_is_the_little_endian_word_of_every_length() {
        let bytes = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        for n in 0..=bytes.len() {
            let mut word = [0u8; 8];
            word[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail(&bytes[..n]), u64::from_le_bytes(word), "length {n}");
        }
    }
}
