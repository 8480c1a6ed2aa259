//! A lock-free log-linear latency histogram whose buckets are allocated lazily, one chunk per
//! power of two, and sharded so that concurrent recorders rarely share a cache line.
//!
//! # Layout
//!
//! Values are nanoseconds counted in units of 2 ns. Chunk 0 holds the values below 32 units
//! (64 ns), one bucket per unit. Chunk `c ≥ 1` holds the power of two `[2^(c+4), 2^(c+5))` units,
//! split into 32 equal buckets. The 42 chunks reach 2^46 units, [`MAX_TRACKED`] (2^47 ns, about
//! 39.1 hours); every value at or above it is counted in one top bucket, the *overflow*, which a
//! [`Snapshot`] reports on its own ([`Snapshot::overflow`]) and whose quantiles read as
//! "≥ [`MAX_TRACKED`]". Nothing is clamped into a tracked bucket.
//!
//! A chunk holds one row of 32 counters per shard (two rows of 256 bytes, 64-byte aligned, so
//! two shards never share a cache line) and is allocated the first time a value lands in it; it then stays until the histogram is dropped (a reset zeroes it). Recording into an
//! allocated chunk is one acquire load of its slot and one relaxed `fetch_add`; the first value in
//! a chunk allocates it with `OnceLock`, so threads racing on that first value block only each
//! other, only once per chunk.
//!
//! # Error bound
//!
//! A bucket is never wider than `1/32` ([`RELATIVE_ERROR`], 3.125 %) of the values it holds from
//! 64 ns up to [`MAX_TRACKED`]; below 64 ns a bucket is 2 ns wide. Reported values are bucket
//! midpoints, so they lie within that bound of the exact value.
//!
//! # Memory
//!
//! The slot table is inline in the histogram: 42 `OnceLock<Box<_>>` of 16 bytes, 672 bytes. Each
//! allocated chunk adds 512 bytes. An operation whose calls all fall in one power of two (the
//! common case: a call seen once) costs one chunk; the worst case, every chunk in use, is
//! 42 × 512 = 21 KiB on top of the table. In all, an operation seen once costs about 1.5 KiB
//! (its counters, this table, one chunk and its registry entry; `tests/histogram_memory.rs`
//! measures it), where a histogram allocated whole up front cost 16 KiB. Snapshots are sparse:
//! they hold only non-empty buckets (16 bytes each), so the snapshot of an unused histogram
//! allocates nothing.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Nanoseconds per unit, as a shift: 2 ns units keep 100 ns within the error bound with one
/// chunk fewer than 1 ns units.
const UNIT_SHIFT: u32 = 1;
/// Buckets per power of two, as a power of two.
const GROUPING: u32 = 5;
/// Buckets per chunk: one power of two.
const PER_CHUNK: usize = 1 << GROUPING;
/// Highest power of two (in units) tracked with full precision: up to 2^46 units = 2^47 ns.
const MAX_POWER: u32 = 45;
/// Number of chunks: one for the exact values below `2^GROUPING` units, plus one per power from
/// `GROUPING` to `MAX_POWER` inclusive.
pub(crate) const CHUNKS: usize = (MAX_POWER - GROUPING + 2) as usize;
/// Number of tracked buckets; the overflow bucket comes after them.
pub(crate) const BUCKETS: usize = CHUNKS * PER_CHUNK;
/// Index of the overflow bucket: every value from [`MAX_TRACKED`] up.
const OVERFLOW: usize = BUCKETS;
/// Lowest value counted in the overflow bucket, in nanoseconds.
const MAX_TRACKED_NANOS: u64 = 1 << (MAX_POWER + 1 + UNIT_SHIFT);
/// Independent copies of the buckets; each recording thread writes to one (see `shard`).
pub(crate) const SHARDS: usize = 2;

/// Relative error bound of a reported quantile against the true value in the same bucket, for
/// values from 64 ns to [`MAX_TRACKED`].
pub const RELATIVE_ERROR: f64 = 1.0 / (1u64 << GROUPING) as f64;

/// The end of the tracked range, 2^47 ns (about 39.1 hours, more than a day). Longer values are
/// counted in the overflow bucket, and a quantile that lands there is reported as this bound,
/// meaning "at least this long".
pub const MAX_TRACKED: Duration = Duration::from_nanos(MAX_TRACKED_NANOS);

// The promises of the module docs: within 3.2 %, at least one day.
const _: () = assert!(RELATIVE_ERROR < 0.032);
const _: () = assert!(MAX_TRACKED_NANOS >= 86_400 * 1_000_000_000);

/// Upper bounds (`le`) of the latency buckets coord exports to Prometheus: a fixed 1-2-5 series
/// from 100 µs to 1 h (100 µs, 200 µs, 500 µs, 1 ms, … 1000 s, 2000 s, 3600 s), then `+Inf`.
///
/// The counts are derived from the internal histogram: every internal bucket (at most 3.1 %
/// wide) counts at its midpoint, clamped to the exact minimum and maximum seen, as the reported
/// quantiles do; values from [`MAX_TRACKED`] up count at the exact maximum. So a bound at or
/// above the slowest call always holds every call.
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

/// The bucket index of `nanos`: [`OVERFLOW`] from [`MAX_TRACKED_NANOS`] up.
#[inline]
pub(crate) fn bucket_of(nanos: u64) -> usize {
    let value = nanos >> UNIT_SHIFT;
    if value < (1 << GROUPING) {
        return value as usize;
    }
    let power = 63 - value.leading_zeros();
    if power > MAX_POWER {
        return OVERFLOW;
    }
    let shift = power - GROUPING;
    let offset = ((value >> shift) as usize) - PER_CHUNK;
    (((power - GROUPING + 1) as usize) << GROUPING) + offset
}

/// The inclusive range of nanoseconds that land in `index` (the overflow bucket and beyond:
/// [`MAX_TRACKED_NANOS`] to `u64::MAX`).
pub(crate) fn bucket_range(index: usize) -> (u64, u64) {
    if index >= OVERFLOW {
        return (MAX_TRACKED_NANOS, u64::MAX);
    }
    let group = (index >> GROUPING) as u32;
    let (low, high) = if group == 0 {
        (index as u64, index as u64)
    } else {
        let offset = (index & (PER_CHUNK - 1)) as u64;
        let shift = group - 1;
        let low = ((1u64 << GROUPING) + offset) << shift;
        (low, low + (1u64 << shift) - 1)
    };
    (
        low << UNIT_SHIFT,
        (high << UNIT_SHIFT) | ((1 << UNIT_SHIFT) - 1),
    )
}

/// The value a quantile landing in bucket `index` reports: the midpoint, or for the overflow
/// bucket its lower bound.
fn representative(index: usize) -> u64 {
    let (low, high) = bucket_range(index);
    if index >= OVERFLOW {
        low
    } else {
        low + (high - low) / 2
    }
}

/// Adds `value` to `counter`, saturating at `u64::MAX` instead of wrapping.
///
/// One relaxed `fetch_add` while the sum is far from the limit. A sum that reaches it stays at
/// `u64::MAX` (the true sum is at least that) until it is reset.
#[inline]
pub(crate) fn add_saturating(counter: &AtomicU64, value: u64) {
    // A load first so that a saturated counter is never wrapped, not even for an instant.
    if counter.load(Relaxed) == u64::MAX {
        return;
    }
    let before = counter.fetch_add(value, Relaxed);
    if before.checked_add(value).is_none() {
        saturate(counter);
    }
}

#[cold]
#[inline(never)]
fn saturate(counter: &AtomicU64) {
    counter.store(u64::MAX, Relaxed);
}

/// One power of two's buckets: a row of counters per shard.
#[repr(align(64))]
struct Chunk([[AtomicU64; PER_CHUNK]; SHARDS]);

impl Chunk {
    fn new() -> Self {
        Self([const { [const { AtomicU64::new(0) }; PER_CHUNK] }; SHARDS])
    }

    /// Bucket `offset` of this chunk summed over the shards.
    fn count(&self, offset: usize) -> u64 {
        self.0.iter().fold(0, |sum, row| {
            sum.saturating_add(row.get(offset).map_or(0, |b| b.load(Relaxed)))
        })
    }
}

/// A histogram that many threads increment at once with relaxed atomics, its chunks allocated on
/// first use; see the module docs for the layout.
pub(crate) struct AtomicHistogram {
    chunks: [OnceLock<Box<Chunk>>; CHUNKS],
    /// Values from [`MAX_TRACKED`] up. Not sharded: such values are rare.
    overflow: AtomicU64,
    /// The latest call per exported bucket that ran in a sampled span.
    #[cfg(feature = "otel")]
    exemplars: exemplar::Exemplars,
}

impl AtomicHistogram {
    pub(crate) const fn new() -> Self {
        Self {
            chunks: [const { OnceLock::new() }; CHUNKS],
            overflow: AtomicU64::new(0),
            #[cfg(feature = "otel")]
            exemplars: exemplar::Exemplars::new(),
        }
    }

    #[inline]
    pub(crate) fn record(&self, nanos: u64, shard: usize) {
        let index = bucket_of(nanos);
        let Some(slot) = self.chunks.get(index / PER_CHUNK) else {
            self.overflow.fetch_add(1, Relaxed);
            return;
        };
        let chunk = match slot.get() {
            Some(chunk) => chunk,
            None => allocate(slot),
        };
        chunk.0[shard % SHARDS][index % PER_CHUNK].fetch_add(1, Relaxed);
    }

    /// Keeps a call of `nanos` as its bucket's exemplar when a sampled span is current;
    /// `started` is when the call started, if the caller timed it.
    #[cfg(feature = "otel")]
    #[inline]
    pub(crate) fn exemplar(&self, nanos: u64, started: Option<super::stopwatch::Instant>) {
        self.exemplars.record(nanos, started);
    }

    /// `(slot, exemplar)` per exported bucket (an index into [`EXPORT_BOUNDS`], or its length
    /// for `+Inf`) that holds one.
    #[cfg(feature = "otel")]
    pub(crate) fn exemplars(&self) -> Vec<(usize, exemplar::Exemplar)> {
        self.exemplars.read()
    }

    /// Zeroes every bucket; allocated chunks stay allocated.
    pub(crate) fn reset(&self) {
        for chunk in self.chunks.iter().filter_map(OnceLock::get) {
            for bucket in chunk.0.iter().flatten() {
                bucket.store(0, Relaxed);
            }
        }
        self.overflow.store(0, Relaxed);
        #[cfg(feature = "otel")]
        self.exemplars.reset();
    }

    /// A point-in-time copy. Concurrent increments may or may not be included.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut buckets = Vec::new();
        for (index, chunk) in self.chunks.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for offset in 0..PER_CHUNK {
                let count = chunk.count(offset);
                if count != 0 {
                    buckets.push((index * PER_CHUNK + offset, count));
                }
            }
        }
        let overflow = self.overflow.load(Relaxed);
        if overflow != 0 {
            buckets.push((OVERFLOW, overflow));
        }
        Snapshot { buckets }
    }

    /// Bytes of the chunks allocated so far (the slot table is inline, part of the owner's size).
    pub(crate) fn heap_bytes(&self) -> usize {
        let chunks =
            self.chunks.iter().filter_map(OnceLock::get).count() * std::mem::size_of::<Chunk>();
        #[cfg(feature = "otel")]
        let chunks = chunks + self.exemplars.heap_bytes();
        chunks
    }
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Allocates the chunk of `slot`, once; kept out of line so the recording path stays small.
#[cold]
#[inline(never)]
fn allocate(slot: &OnceLock<Box<Chunk>>) -> &Chunk {
    slot.get_or_init(|| Box::new(Chunk::new()))
}

/// A plain copy of a histogram's non-empty buckets: what percentiles are computed from, and what
/// two snapshots are diffed into for rolling windows.
///
/// Values from [`MAX_TRACKED`] up are counted in an overflow bucket ([`overflow`](Self::overflow));
/// a quantile that lands there is reported as [`MAX_TRACKED`], to be read as "at least that".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// `(bucket index, count)` of every non-empty bucket, ascending by index; the overflow
    /// bucket, if any, last.
    buckets: Vec<(usize, u64)>,
}

impl Snapshot {
    /// Total number of values recorded, overflow included.
    pub fn count(&self) -> u64 {
        self.buckets
            .iter()
            .fold(0, |sum, &(_, count)| sum.saturating_add(count))
    }

    /// Number of values at or above [`MAX_TRACKED`], which no quantile can tell apart.
    pub fn overflow(&self) -> u64 {
        match self.buckets.last() {
            Some(&(OVERFLOW, count)) => count,
            _ => 0,
        }
    }

    /// Every non-empty bucket as `(lowest, highest, count)`, bounds in nanoseconds and
    /// inclusive, ascending; the overflow bucket, if any, last, with `u64::MAX` as its highest.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.buckets.iter().map(|&(index, count)| {
            let (low, high) = bucket_range(index);
            (low, high, count)
        })
    }

    /// Counts recorded in `self` but not in the `earlier` snapshot of the same histogram.
    /// Buckets that went down (a reset in between) count as zero.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let mut then = earlier.buckets.iter().peekable();
        let buckets = self
            .buckets
            .iter()
            .filter_map(|&(index, now)| {
                while then.next_if(|&&(i, _)| i < index).is_some() {}
                let before = then.next_if(|&&(i, _)| i == index).map_or(0, |&(_, c)| c);
                let count = now.saturating_sub(before);
                (count != 0).then_some((index, count))
            })
            .collect();
        Snapshot { buckets }
    }

    /// `(bucket index, count)` of every non-empty bucket, for storing a window's delta sparsely.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.buckets.iter().copied()
    }

    /// Adds `count` values to bucket `index` (ignored when out of range).
    pub(crate) fn add(&mut self, index: usize, count: u64) {
        if index > OVERFLOW || count == 0 {
            return;
        }
        match self.buckets.binary_search_by_key(&index, |&(i, _)| i) {
            Ok(at) => {
                if let Some((_, slot)) = self.buckets.get_mut(at) {
                    *slot = slot.saturating_add(count);
                }
            }
            Err(at) => self.buckets.insert(at, (index, count)),
        }
    }

    /// Cumulative counts at each of [`EXPORT_BOUNDS`], given the exact extremes seen.
    pub(crate) fn export_buckets(&self, min: u64, max: u64) -> [u64; EXPORT_BOUNDS.len()] {
        let mut out = [0u64; EXPORT_BOUNDS.len()];
        for &(index, count) in &self.buckets {
            let value = if index >= OVERFLOW {
                max
            } else {
                representative(index).clamp(min.min(max), max)
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

    /// The value at quantile `q` (0.0..=1.0) in nanoseconds, or `None` when empty.
    ///
    /// The value is the midpoint of its bucket, within [`RELATIVE_ERROR`] of the exact one. A
    /// quantile that lands among the values from [`MAX_TRACKED`] up reports [`MAX_TRACKED`]
    /// itself, meaning "at least that"; [`overflow`](Self::overflow) counts those values.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.quantiles(&[q]).map(|[v]| v)
    }

    /// Several quantiles in one pass, as [`quantile`](Self::quantile); `qs` must be ascending.
    pub fn quantiles<const N: usize>(&self, qs: &[f64; N]) -> Option<[u64; N]> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let mut out = [0u64; N];
        let mut seen = 0u64;
        let mut next = 0;
        for &(index, count) in &self.buckets {
            seen = seen.saturating_add(count);
            while let Some(&q) = qs.get(next) {
                if seen < rank(q, total) {
                    break;
                }
                if let Some(slot) = out.get_mut(next) {
                    *slot = representative(index);
                }
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

#[cfg(feature = "otel")]
pub(crate) mod exemplar;
#[cfg(test)]
mod tests;
