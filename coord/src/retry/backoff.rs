//! Back-off delays: the exponential curve and its jitter.

use std::time::Duration;

use super::Jitter;
use crate::rng::Rng;

use crate::clock::saturating_nanos;

/// The delay before retry number `retry` (0 = the first retry), before jitter: `base ×
/// multiplier^retry`, capped at `max`.
pub(crate) fn exponential(base: Duration, multiplier: f64, retry: u32, max: Duration) -> u64 {
    let max = saturating_nanos(max);
    let exponent = i32::try_from(retry).unwrap_or(i32::MAX);
    let raw = saturating_nanos(base) as f64 * multiplier.powi(exponent);
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
    let max = saturating_nanos(max);
    let delay = match jitter {
        Jitter::None => capped,
        Jitter::Full => rng.between(0, capped),
        Jitter::Equal => {
            let half = capped / 2;
            rng.between(capped - half, capped)
        }
        Jitter::Decorrelated => {
            let base = saturating_nanos(base).min(max);
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
}
