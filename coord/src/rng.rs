//! The one small random source: jitter for retry delays and breaker open periods. Spread, not
//! cryptographic quality. A leaf.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The splitmix64 finaliser: a well-mixed 64-bit value from any seed.
pub(crate) fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xorshift64* generator, seeded per user from a process-wide splitmix sequence.
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
    /// A generator with a fresh seed.
    pub(crate) fn new() -> Self {
        let seed = SEQUENCE.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed) ^ *PROCESS_SEED;
        Self(splitmix(seed) | 1)
    }

    /// A generator whose sequence `seed` fixes (fault injection's, for runs that repeat).
    pub(crate) fn seeded(seed: u64) -> Self {
        Self(splitmix(seed) | 1)
    }

    /// `true` with probability `p` (`p` at or below 0: never; at or above 1: always).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        // The top 53 bits as a uniform float in [0, 1).
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
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
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = u128::from(hi - lo) + 1;
        lo + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn chance_follows_its_probability_and_a_seed_repeats() {
        let mut rng = Rng::seeded(7);
        let hits = (0..100_000).filter(|_| rng.chance(0.25)).count();
        assert!((24_000..26_000).contains(&hits), "{hits}");
        assert!((0..1000).all(|_| !rng.chance(0.0) && rng.chance(1.0)));
        let draw = |seed| {
            let mut rng = Rng::seeded(seed);
            (0..64).map(|_| rng.chance(0.5)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
