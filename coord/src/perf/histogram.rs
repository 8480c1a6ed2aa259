//! A lock-free log-linear latency histogram, sharded so that concurrent recorders rarely share a
//! cache line.
//!
//! Values are nanoseconds counted in units of 2 ns. Below 32 units every unit has its own bucket;
//! above, every power of two is split into `2^GROUPING` equal buckets, so a bucket is never wider
//! than `1/2^GROUPING` (3.125 %) of the values it holds. From 64 ns to about 68.7 s
//! (`2^(MAX_POWER + 1)` units) that is the bound; below 64 ns a bucket is 2 ns wide, and longer
//! values land in the last bucket. Reported values are bucket midpoints.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Nanoseconds per unit, as a shift: 2 ns units keep 100 ns within the error bound while the
/// histogram stays small enough to shard.
const UNIT_SHIFT: u32 = 1;
/// Buckets per power of two, as a power of two.
const GROUPING: u32 = 5;
/// Highest power of two (in units) tracked with full precision: 2^35 units = 68.7 s.
const MAX_POWER: u32 = 34;
/// Number of buckets: `2^GROUPING` exact ones plus `2^GROUPING` per power from `GROUPING` to
/// `MAX_POWER` inclusive.
pub(crate) const BUCKETS: usize = ((MAX_POWER - GROUPING + 2) as usize) << GROUPING;
/// Independent copies of the buckets; each recording thread writes to one (see `shard`).
pub(crate) const SHARDS: usize = 2;

/// Relative error bound of a reported quantile against the true value in the same bucket, for
/// values from 64 ns to 68 s.
pub const RELATIVE_ERROR: f64 = 1.0 / (1u64 << GROUPING) as f64;

/// Upper bounds (`le`) of the latency buckets coord exports to Prometheus: a fixed 1-2-5 series
/// from 100 µs to 1 h (100 µs, 200 µs, 500 µs, 1 ms, … 1000 s, 2000 s, 3600 s), then `+Inf`.
///
/// The counts are derived from the internal histogram: every internal bucket (at most 3.1 %
/// wide) counts at its midpoint, clamped to the exact minimum and maximum seen, as the reported
/// quantiles do. Values past the internal range (68.7 s) count at the exact maximum, so a bound
/// at or above the slowest call always holds every call.
pub const EXPORT_BOUNDS: [Duration; 24] = {
    let mut bounds = [Duration::ZERO; 24];
    let steps = [1, 2, 5];
    let mut i = 0;
    let mut decade = 100_000u64; // 100 µs in nanoseconds
    while i < 23 {
        bounds[i] = Duration::from_nanos(decade * steps[i % 3]);
        i += 1;
        if i % 3 == 0 {
            decade *= 10;
        }
    }
    bounds[23] = Duration::from_secs(3600);
    bounds
};

/// The bucket index of `nanos`.
#[inline]
pub(crate) fn bucket_of(nanos: u64) -> usize {
    let value = nanos >> UNIT_SHIFT;
    if value < (1 << GROUPING) {
        return value as usize;
    }
    let power = 63 - value.leading_zeros();
    if power > MAX_POWER {
        return BUCKETS - 1;
    }
    let shift = power - GROUPING;
    let offset = ((value >> shift) as usize) - (1 << GROUPING);
    (((power - GROUPING + 1) as usize) << GROUPING) + offset
}

/// The inclusive range of nanoseconds that land in `index`.
pub(crate) fn bucket_range(index: usize) -> (u64, u64) {
    let group = (index >> GROUPING) as u32;
    let (low, high) = if group == 0 {
        (index as u64, index as u64)
    } else {
        let offset = (index & ((1 << GROUPING) - 1)) as u64;
        let shift = group - 1;
        let low = ((1u64 << GROUPING) + offset) << shift;
        (low, low + (1u64 << shift) - 1)
    };
    (
        low << UNIT_SHIFT,
        (high << UNIT_SHIFT) | ((1 << UNIT_SHIFT) - 1),
    )
}

/// A histogram that many threads increment at once with relaxed atomics: [`SHARDS`] copies of
/// the buckets, one per recording thread (as far as there are shards), summed when read.
pub(crate) struct AtomicHistogram {
    buckets: Box<[AtomicU64]>,
}

impl AtomicHistogram {
    pub(crate) fn new() -> Self {
        Self {
            buckets: (0..BUCKETS * SHARDS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    pub(crate) fn record(&self, nanos: u64, shard: usize) {
        let index = (shard % SHARDS) * BUCKETS + bucket_of(nanos);
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn reset(&self) {
        for b in self.buckets.iter() {
            b.store(0, Relaxed);
        }
    }

    /// A point-in-time copy. Concurrent increments may or may not be included.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut counts = vec![0u64; BUCKETS].into_boxed_slice();
        for shard in self.buckets.chunks(BUCKETS) {
            for (sum, bucket) in counts.iter_mut().zip(shard) {
                *sum += bucket.load(Relaxed);
            }
        }
        Snapshot { counts }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<AtomicU64>()
    }
}

/// A plain copy of a histogram's buckets: what percentiles are computed from, and what two
/// snapshots are diffed into for rolling windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    counts: Box<[u64]>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS].into_boxed_slice(),
        }
    }
}

impl Snapshot {
    /// Total number of values recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Counts recorded in `self` but not in the `earlier` snapshot of the same histogram.
    /// Buckets that went down (a reset in between) count as zero.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .zip(earlier.counts.iter())
                .map(|(now, then)| now.saturating_sub(*then))
                .collect(),
        }
    }

    /// `(bucket index, count)` of every non-empty bucket, for storing a window's delta sparsely.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count != 0)
            .map(|(index, count)| (index, *count))
    }

    /// Adds `count` values to bucket `index` (ignored when out of range).
    pub(crate) fn add(&mut self, index: usize, count: u64) {
        if let Some(slot) = self.counts.get_mut(index) {
            *slot = slot.saturating_add(count);
        }
    }

    /// Cumulative counts at each of [`EXPORT_BOUNDS`], given the exact extremes seen.
    pub(crate) fn export_buckets(&self, min: u64, max: u64) -> [u64; EXPORT_BOUNDS.len()] {
        let mut out = [0u64; EXPORT_BOUNDS.len()];
        let last = self.counts.len().saturating_sub(1);
        for (index, count) in self.nonzero() {
            let (low, high) = bucket_range(index);
            let value = if index == last {
                max
            } else {
                (low + (high - low) / 2).clamp(min.min(max), max)
            };
            let first = EXPORT_BOUNDS.partition_point(|b| (b.as_nanos() as u64) < value);
            if let Some(slot) = out.get_mut(first) {
                *slot = slot.saturating_add(count);
            }
        }
        // Per-bucket counts to cumulative ones.
        let mut running = 0u64;
        for slot in &mut out {
            running = running.saturating_add(*slot);
            *slot = running;
        }
        out
    }

    /// The value at quantile `q` (0.0..=1.0) as the midpoint of its bucket, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.quantiles(&[q]).map(|v| v[0])
    }

    /// Several quantiles in one pass; `qs` must be ascending.
    pub fn quantiles<const N: usize>(&self, qs: &[f64; N]) -> Option<[u64; N]> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let mut out = [0u64; N];
        let mut seen = 0u64;
        let mut next = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            seen += count;
            while next < N && seen >= rank(qs[next], total) {
                let (low, high) = bucket_range(index);
                out[next] = low + (high - low) / 2;
                next += 1;
            }
            if next == N {
                break;
            }
        }
        Some(out)
    }
}

/// The 1-based rank of quantile `q` among `total` values (nearest-rank definition).
fn rank(q: f64, total: u64) -> u64 {
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
    ((q * total as f64).ceil() as u64).clamp(1, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bucket_holds_its_own_values() {
        for index in 0..BUCKETS {
            let (low, high) = bucket_range(index);
            assert_eq!(bucket_of(low), index, "low of {index}");
            assert_eq!(bucket_of(high), index, "high of {index}");
            if index + 1 < BUCKETS {
                assert_eq!(bucket_range(index + 1).0, high + 1, "contiguous at {index}");
            }
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn bucket_width_stays_within_the_error_bound() {
        for index in (1 << GROUPING)..BUCKETS {
            let (low, high) = bucket_range(index);
            assert!(((high - low + 1) as f64) / (low as f64) <= RELATIVE_ERROR + 1e-12);
        }
    }

    #[test]
    fn memory_per_histogram_is_bounded() {
        assert!(AtomicHistogram::new().heap_bytes() <= 15_900);
    }

    #[test]
    fn shards_are_summed() {
        let h = AtomicHistogram::new();
        h.record(1_000, 0);
        h.record(1_000, 1);
        h.record(5_000, 7);
        let s = h.snapshot();
        assert_eq!(s.count(), 3);
        assert!(s.quantile(1.0).unwrap() >= 4_900);
    }

    #[test]
    fn export_bounds_are_one_two_five_to_an_hour() {
        let secs: Vec<f64> = EXPORT_BOUNDS.iter().map(Duration::as_secs_f64).collect();
        assert_eq!(&secs[..4], &[0.0001, 0.0002, 0.0005, 0.001]);
        assert_eq!(&secs[20..], &[500.0, 1000.0, 2000.0, 3600.0]);
        assert!(secs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn export_buckets_are_cumulative_and_hold_the_maximum() {
        let h = AtomicHistogram::new();
        h.record(50_000, 0); // 50 µs
        h.record(150_000, 0); // 150 µs
        h.record(3_000_000, 1); // 3 ms
        let huge = 90_000_000_000; // 90 s: past the internal range
        h.record(huge, 1);
        let b = h.snapshot().export_buckets(50_000, huge);
        assert_eq!(&b[..3], &[1, 2, 2]); // 100 µs, 200 µs, 500 µs
        assert_eq!(b[5], 3); // 5 ms
        assert_eq!(b[17], 3); // 50 s
        assert_eq!(b[18], 4); // 100 s holds the 90 s call
        assert_eq!(b[23], 4);
        assert_eq!(Snapshot::default().export_buckets(u64::MAX, 0), [0; 24]);
    }

    #[test]
    fn quantiles_of_an_empty_histogram_are_none() {
        assert_eq!(Snapshot::default().quantile(0.5), None);
    }

    #[test]
    fn diff_forgets_earlier_counts() {
        let h = AtomicHistogram::new();
        h.record(10, 0);
        let first = h.snapshot();
        h.record(1_000, 0);
        h.record(1_000, 1);
        let window = h.snapshot().since(&first);
        assert_eq!(window.count(), 2);
        assert_eq!(
            window.quantile(0.0),
            Some(h.snapshot().quantile(1.0).unwrap())
        );
    }
}
