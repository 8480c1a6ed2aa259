//! Back-off delays and the small random source behind jitter.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::Jitter;

/// A xorshift64* generator, seeded per retrying call from a process-wide splitmix sequence.
/// Jitter needs spread, not cryptographic quality.
#[derive(Debug)]
pub(crate) struct Rng(u64);

static SEQUENCE: AtomicU64 = AtomicU64::new(0x853C_49E6_748F_EA9B);

/// Differs per process (std's hash keys come from the OS), so that processes started together
/// do not jitter in lockstep.
static PROCESS_SEED: LazyLock<u64> = LazyLock::new(|| {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
});

impl Rng {
    pub(crate) fn new() -> Self {
        let mut z = SEQUENCE.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed) ^ *PROCESS_SEED;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = u128::from(hi - lo) + 1;
        lo + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The delay before retry number `retry` (0 = the first retry), before jitter: `base ×
/// multiplier^retry`, capped at `max`.
pub(crate) fn exponential(base: Duration, multiplier: f64, retry: u32, max: Duration) -> u64 {
    let max = nanos(max);
    let exponent = i32::try_from(retry).unwrap_or(i32::MAX);
    let raw = nanos(base) as f64 * multiplier.powi(exponent);
    if raw.is_nan() || raw >= max as f64 {
        max
    } else {
        raw as u64
    }
}

/// Applies `jitter` to the capped exponential delay `capped`; `previous` is the last delay of
/// this call (decorrelated jitter grows from it). The result never exceeds `max`.
pub(crate) fn jittered(
    jitter: Jitter,
    capped: u64,
    base: Duration,
    previous: Option<u64>,
    max: Duration,
    rng: &mut Rng,
) -> u64 {
    let max = nanos(max);
    let delay = match jitter {
        Jitter::None => capped,
        Jitter::Full => rng.between(0, capped),
        Jitter::Equal => {
            let half = capped / 2;
            rng.between(capped - half, capped)
        }
        Jitter::Decorrelated => {
            let base = nanos(base).min(max);
            let upper = previous.unwrap_or(base).saturating_mul(3);
            rng.between(base, upper.max(base))
        }
    };
    delay.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_grows_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let d = |n| exponential(base, 2.0, n, max);
        assert_eq!(d(0), 100_000_000);
        assert_eq!(d(1), 200_000_000);
        assert_eq!(d(3), 800_000_000);
        assert_eq!(d(4), 1_000_000_000);
        assert_eq!(d(1000), 1_000_000_000);
        assert_eq!(exponential(base, f64::NAN, 3, max), 1_000_000_000);
    }

    #[test]
    fn between_stays_in_range() {
        let mut rng = Rng::new();
        for _ in 0..10_000 {
            let v = rng.between(10, 20);
            assert!((10..=20).contains(&v));
        }
        assert_eq!(rng.between(5, 5), 5);
        assert_eq!(rng.between(7, 3), 7);
        let _ = rng.between(0, u64::MAX);
    }
}
