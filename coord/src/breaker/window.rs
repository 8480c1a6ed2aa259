//! The sliding windows a closed breaker judges its failure rate on: the last N calls (a ring of
//! atomic slots plus packed running totals), or the last T seconds (10 buckets).
//!
//! Every entry is tagged with the breaker generation it was recorded in (the full 29 bits of the
//! state word's generation, everywhere); entries of another generation count as empty, so
//! entering a new closed period restarts the window without any sweep, and a late result from an
//! older period cannot land in the new one.
//!
//! Recording is built for failure-heavy traffic too: a call that leaves its ring slot as it was
//! (a success replacing a success of the same period) is one `fetch_add` and one load, no write;
//! only a call that changes the slot touches the shared totals (one compare-and-swap). A time
//! bucket is counted into with one `fetch_add`, never a retry loop.

use std::sync::OnceLock;

use super::machine::GEN_MASK;
use super::sync::{AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

/// Largest count-based window, in calls (shared with the attribute's compile-time check).
pub(crate) const MAX_WINDOW_CALLS: u32 = coord_limits::breaker::MAX_WINDOW_CALLS;
// The ring sizes below are the powers of two up to it.
const _: () = assert!(MAX_WINDOW_CALLS.is_power_of_two());
/// Buckets of a time-based window.
pub(crate) const BUCKETS: u64 = 10;
/// Ring sizes: powers of two from 1 to `MAX_WINDOW_CALLS`, allocated when first used.
const RING_CLASSES: usize = MAX_WINDOW_CALLS.trailing_zeros() as usize + 1;

/// Calls, failures and slow calls in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) calls: u32,
    pub(crate) failed: u32,
    pub(crate) slow: u32,
}

impl Counts {
    pub(crate) fn failure_rate(self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            f64::from(self.failed) / f64::from(self.calls)
        }
    }
    pub(crate) fn slow_rate(self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            f64::from(self.slow) / f64::from(self.calls)
        }
    }
}

/// `a` is a later generation than `b` (modulo the 29-bit generation).
fn is_later(a: u64, b: u64) -> bool {
    let distance = a.wrapping_sub(b) & GEN_MASK;
    distance != 0 && distance < GEN_MASK / 2
}

// Slot: generation << 3 | slow << 2 | failed << 1 | present.
fn slot(generation: u64, failed: bool, slow: bool) -> u64 {
    (generation & GEN_MASK) << 3 | u64::from(slow) << 2 | u64::from(failed) << 1 | 1
}

// Totals: generation (29 bits) << 33 | slow << 22 | failed << 11 | calls, each 11-bit field
// biased by 512 so that it may dip below zero while two updates of one slot land out of order
// (calls are at most 1024, so a field never exceeds 1536 < 2048).
const TOTAL_BITS: u32 = 11;
const TOTAL_MASK: u64 = (1 << TOTAL_BITS) - 1;
const BIAS: i64 = 512;
const TOTALS_GEN_SHIFT: u32 = 3 * TOTAL_BITS;

#[inline]
fn pack_totals(generation: u64, calls: i64, failed: i64, slow: i64) -> u64 {
    let field = |v: i64, shift: u32| ((v + BIAS).clamp(0, TOTAL_MASK as i64) as u64) << shift;
    (generation & GEN_MASK) << TOTALS_GEN_SHIFT
        | field(slow, 2 * TOTAL_BITS)
        | field(failed, TOTAL_BITS)
        | field(calls, 0)
}

fn unpack_totals(word: u64) -> (u64, i64, i64, i64) {
    let field = |shift: u32| ((word >> shift) & TOTAL_MASK) as i64 - BIAS;
    (
        word >> TOTALS_GEN_SHIFT,
        field(0),
        field(TOTAL_BITS),
        field(2 * TOTAL_BITS),
    )
}

fn counts_of(calls: i64, failed: i64, slow: i64) -> Counts {
    let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    Counts {
        calls: clamp(calls),
        failed: clamp(failed),
        slow: clamp(slow),
    }
}

/// What recording one call did to a count window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The window's totals are unchanged (a success replaced a success): nothing to judge.
    Unchanged,
    /// The window's totals afterwards.
    Changed(Counts),
    /// The window already belongs to a later generation; the call was not counted.
    Stale,
}

/// The last `len` calls. The ring is sized to the configured window (rounded up to a power of
/// two), allocated on first use: a breaker of 20 calls holds 32 slots, not 1024.
#[derive(Debug)]
pub(crate) struct CountWindow {
    rings: [OnceLock<Box<[AtomicU64]>>; RING_CLASSES],
    cursor: AtomicU64,
    totals: AtomicU64,
}

impl CountWindow {
    pub(crate) fn new() -> Self {
        Self {
            rings: std::array::from_fn(|_| OnceLock::new()),
            cursor: AtomicU64::new(0),
            totals: AtomicU64::new(pack_totals(0, 0, 0, 0)),
        }
    }

    /// The ring for windows of `len` calls (`len` in `1..=MAX_WINDOW_CALLS`).
    #[inline]
    fn ring(&self, len: u32) -> &[AtomicU64] {
        let size = len.next_power_of_two();
        let class = size.trailing_zeros() as usize;
        self.rings[class.min(RING_CLASSES - 1)]
            .get_or_init(|| (0..size).map(|_| AtomicU64::new(0)).collect())
    }

    /// Bytes held by the rings allocated so far.
    #[cfg(test)]
    pub(crate) fn ring_bytes(&self) -> usize {
        self.rings
            .iter()
            .filter_map(OnceLock::get)
            .map(|ring| ring.len() * size_of::<AtomicU64>())
            .sum()
    }

    /// `true` when recording a plain success in `generation` would change nothing: the window
    /// is full and holds no failure and no slow call. One load, no write.
    #[inline]
    pub(crate) fn success_is_noop(&self, generation: u64, len: u32) -> bool {
        self.totals.load(Relaxed) == pack_totals(generation, i64::from(len), 0, 0)
    }

    /// Records one call of `generation` in a window of `len` calls.
    #[inline]
    pub(crate) fn record(&self, generation: u64, len: u32, failed: bool, slow: bool) -> Recorded {
        let len = len.clamp(1, MAX_WINDOW_CALLS);
        let ring = self.ring(len);
        let index = self.cursor.fetch_add(1, Relaxed) % u64::from(len);
        let cell = &ring[usize::try_from(index).unwrap_or(0)];
        let new = slot(generation, failed, slow);
        // A slot that already holds this outcome is left alone: a load instead of a write
        // keeps the cache line shared between threads. (Equivalent to a swap at this load.)
        let seen = cell.load(Relaxed);
        let old = if seen == new {
            return Recorded::Unchanged;
        } else {
            cell.swap(new, Relaxed)
        };
        let old_counts = old >> 3 == generation & GEN_MASK;
        let bit = |word: u64, n: u32| i64::from(old_counts) * ((word >> n) & 1) as i64;
        let d_calls = 1 - bit(old, 0);
        let d_failed = i64::from(failed) - bit(old, 1);
        let d_slow = i64::from(slow) - bit(old, 2);
        if d_calls == 0 && d_failed == 0 && d_slow == 0 {
            return Recorded::Unchanged;
        }
        self.add(generation, d_calls, d_failed, d_slow)
    }

    #[cold]
    fn add(&self, generation: u64, d_calls: i64, d_failed: i64, d_slow: i64) -> Recorded {
        let ours = generation & GEN_MASK;
        let mut current = self.totals.load(Relaxed);
        loop {
            let (tag, calls, fails, slows) = unpack_totals(current);
            let (calls, fails, slows) = if tag == ours {
                (calls, fails, slows)
            } else if is_later(ours, tag) {
                (0, 0, 0)
            } else {
                return Recorded::Stale;
            };
            let (calls, fails, slows) = (calls + d_calls, fails + d_failed, slows + d_slow);
            let next = pack_totals(ours, calls, fails, slows);
            match self
                .totals
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return Recorded::Changed(counts_of(calls, fails, slows)),
                Err(actual) => current = actual,
            }
        }
    }

    /// The totals of `generation`; zero if the window holds another generation.
    pub(crate) fn counts(&self, generation: u64) -> Counts {
        let (tag, calls, failed, slow) = unpack_totals(self.totals.load(Relaxed));
        if tag == generation & GEN_MASK {
            counts_of(calls, failed, slow)
        } else {
            Counts::default()
        }
    }
}

// Bucket tag: generation (29 bits) << 35 | tick (35 bits).
const TICK_BITS: u32 = 35;
const TICK_MASK: u64 = (1 << TICK_BITS) - 1;

fn bucket_tag(generation: u64, tick: u64) -> u64 {
    (generation & GEN_MASK) << TICK_BITS | (tick & TICK_MASK)
}

// Bucket counts: slow << 42 | failed << 21 | calls, 21 bits each; halved past 2^20 calls.
const COUNT_BITS: u32 = 21;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const HALVE_AT: u64 = 1 << 20;

fn unpack_counts(word: u64) -> (u64, u64, u64) {
    (
        word & COUNT_MASK,
        (word >> COUNT_BITS) & COUNT_MASK,
        (word >> (2 * COUNT_BITS)) & COUNT_MASK,
    )
}

fn pack_counts(calls: u64, failed: u64, slow: u64) -> u64 {
    (slow & COUNT_MASK) << (2 * COUNT_BITS)
        | (failed & COUNT_MASK) << COUNT_BITS
        | calls & COUNT_MASK
}

#[derive(Debug)]
struct Bucket {
    /// Which generation and tick `counts` belongs to.
    tag: AtomicU64,
    counts: AtomicU64,
}

/// The last `BUCKETS` ticks. Each bucket carries the full generation and a 35-bit tick; a call
/// is counted with one `fetch_add`. A bucket is claimed for a new tick by compare-and-swap on its
/// tag (the few calls racing that claim may be lost, which costs resolution, not correctness), and
/// a bucket that passes 2^20 calls halves its counts, which keeps the rates.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    buckets: [Bucket; BUCKETS as usize],
}

impl TimeWindow {
    pub(crate) fn new() -> Self {
        Self {
            buckets: std::array::from_fn(|_| Bucket {
                tag: AtomicU64::new(u64::MAX),
                counts: AtomicU64::new(0),
            }),
        }
    }

    /// Records one call of `generation` at `tick` (time ÷ bucket width) and returns the totals
    /// over the window ending at `tick`.
    pub(crate) fn record(&self, generation: u64, tick: u64, failed: bool, slow: bool) -> Counts {
        let index = usize::try_from(tick % BUCKETS).unwrap_or(0);
        let bucket = &self.buckets[index];
        let want = bucket_tag(generation, tick);
        let mut tag = bucket.tag.load(Acquire);
        while tag != want {
            let (bgen, btick) = (tag >> TICK_BITS, tag & TICK_MASK);
            let newer = tag != u64::MAX
                && (is_later(bgen, generation & GEN_MASK)
                    || (bgen == generation & GEN_MASK && btick > tick & TICK_MASK));
            if newer {
                // This call is late: its bucket already serves a newer tick or period.
                return self.counts(generation, tick);
            }
            match bucket.tag.compare_exchange(tag, want, Relaxed, Acquire) {
                Ok(_) => {
                    bucket.counts.store(0, Release);
                    break;
                }
                Err(actual) => tag = actual,
            }
        }
        let delta = pack_counts(1, u64::from(failed), u64::from(slow));
        let before = bucket.counts.fetch_add(delta, Relaxed);
        if before & COUNT_MASK >= HALVE_AT {
            Self::halve(&bucket.counts);
        }
        self.counts(generation, tick)
    }

    #[cold]
    fn halve(counts: &AtomicU64) {
        let mut current = counts.load(Relaxed);
        loop {
            let (calls, failed, slow) = unpack_counts(current);
            if calls < HALVE_AT {
                return;
            }
            let next = pack_counts(calls / 2, failed.div_ceil(2), slow.div_ceil(2));
            match counts.compare_exchange_weak(current, next, Relaxed, Relaxed) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// The totals of `generation` over the `BUCKETS` ticks ending at `tick`.
    pub(crate) fn counts(&self, generation: u64, tick: u64) -> Counts {
        let mut sum = Counts::default();
        for bucket in &self.buckets {
            let tag = bucket.tag.load(Acquire);
            if tag == u64::MAX || tag >> TICK_BITS != generation & GEN_MASK {
                continue;
            }
            let age = (tick & TICK_MASK).wrapping_sub(tag & TICK_MASK) & TICK_MASK;
            if age < BUCKETS {
                let (calls, failed, slow) = unpack_counts(bucket.counts.load(Relaxed));
                let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
                sum.calls = sum.calls.saturating_add(narrow(calls));
                sum.failed = sum.failed.saturating_add(narrow(failed));
                sum.slow = sum.slow.saturating_add(narrow(slow));
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Record { failed: bool, slow: bool },
        NewGeneration,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (any::<bool>(), any::<bool>()).prop_map(|(failed, slow)| Op::Record { failed, slow }),
            1 => Just(Op::NewGeneration),
        ]
    }

    proptest! {
        /// The running totals always equal a plain recount of the last `len` calls of the
        /// current generation.
        #[test]
        fn count_window_matches_a_model(len in 1u32..40, ops in proptest::collection::vec(op(), 0..300)) {
            let window = CountWindow::new();
            let mut generation = 0u64;
            let mut model: Vec<(bool, bool)> = Vec::new();
            for op in ops {
                match op {
                    Op::Record { failed, slow } => {
                        let recorded = window.record(generation, len, failed, slow);
                        model.push((failed, slow));
                        if model.len() > len as usize {
                            model.remove(0);
                        }
                        let expected = Counts {
                            calls: model.len() as u32,
                            failed: model.iter().filter(|c| c.0).count() as u32,
                            slow: model.iter().filter(|c| c.1).count() as u32,
                        };
                        match recorded {
                            Recorded::Changed(counts) => prop_assert_eq!(counts, expected),
                            Recorded::Unchanged => {}
                            Recorded::Stale => prop_assert!(false, "stale"),
                        }
                        prop_assert_eq!(window.counts(generation), expected);
                        let noop = window.success_is_noop(generation, len);
                        prop_assert_eq!(noop, expected.calls == len && expected.failed == 0 && expected.slow == 0);
                    }
                    Op::NewGeneration => {
                        generation += 1;
                        model.clear();
                        prop_assert_eq!(window.counts(generation), Counts::default());
                    }
                }
            }
        }

        /// A result from an older generation never lands in the newer window.
        #[test]
        fn stale_generation_is_dropped(len in 1u32..40, n in 1usize..50) {
            let window = CountWindow::new();
            for _ in 0..n {
                window.record(5, len, true, false);
            }
            prop_assert_eq!(window.record(4, len, true, true), Recorded::Stale);
            let counts = window.counts(5);
            prop_assert_eq!(counts.calls as usize, n.min(len as usize));
            prop_assert_eq!(counts.failed, counts.calls);
        }

        /// Time buckets sum exactly the ticks inside the window, and halving on overflow keeps
        /// the failure rate.
        #[test]
        fn time_window_matches_a_model(calls in proptest::collection::vec((0u64..30, any::<bool>()), 0..300)) {
            let window = TimeWindow::new();
            let mut tick = 0u64;
            let mut model: Vec<(u64, bool)> = Vec::new();
            for (advance, failed) in calls {
                tick += advance / 10; // mostly the same tick, sometimes a jump
                let counts = window.record(1, tick, failed, false);
                model.push((tick, failed));
                let live: Vec<_> = model.iter().filter(|(t, _)| tick - t < BUCKETS).collect();
                prop_assert_eq!(counts.calls as usize, live.len());
                prop_assert_eq!(counts.failed as usize, live.iter().filter(|(_, f)| *f).count());
            }
        }
    }

    #[test]
    fn full_bucket_halves_and_keeps_the_rate() {
        let window = TimeWindow::new();
        let mut counts = Counts::default();
        for i in 0..10_000u32 {
            counts = window.record(0, 7, i % 4 == 0, false);
        }
        assert_eq!(counts.calls, 10_000);
        // Fill the bucket to the halving point, then one more call.
        window.buckets[7]
            .counts
            .store(pack_counts(HALVE_AT, HALVE_AT / 4, 0), Relaxed);
        let counts = window.record(0, 7, false, false);
        assert!(u64::from(counts.calls) <= HALVE_AT / 2 + 1, "{counts:?}");
        assert!((counts.failure_rate() - 0.25).abs() < 0.01, "{counts:?}");
    }

    /// Generations are compared at full width in time buckets: 256 generations later (an 8-bit
    /// tag would wrap) the old bucket does not count.
    #[test]
    fn time_buckets_compare_the_full_generation() {
        let window = TimeWindow::new();
        for _ in 0..5 {
            window.record(1, 5, true, false);
        }
        let counts = window.record(1 + 256, 5, false, false);
        assert_eq!(
            counts,
            Counts {
                calls: 1,
                failed: 0,
                slow: 0
            }
        );
        assert_eq!(window.counts(1, 5), Counts::default());
        // A late call of the old generation does not land in the new bucket.
        window.record(1, 5, true, false);
        assert_eq!(window.counts(257, 5).failed, 0);
    }

    /// The failures-in-a-row counter, the totals and the slots keep 29-bit generations.
    #[test]
    fn count_window_compares_the_full_generation() {
        let window = CountWindow::new();
        window.record(3, 4, true, false);
        let later = 3 + (1 << 27);
        assert_eq!(window.counts(later), Counts::default());
        assert_eq!(
            window.record(later, 4, false, false),
            Recorded::Changed(Counts {
                calls: 1,
                failed: 0,
                slow: 0
            })
        );
    }

    #[test]
    fn ring_is_sized_to_the_window() {
        let window = CountWindow::new();
        window.record(0, 20, false, false);
        assert_eq!(window.ring_bytes(), 32 * 8);
    }

    #[test]
    fn concurrent_records_keep_totals_exact() {
        let window = std::sync::Arc::new(CountWindow::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let window = std::sync::Arc::clone(&window);
                std::thread::spawn(move || {
                    for i in 0..20_000u32 {
                        window.record(3, 7, (i + t) % 3 == 0, false);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let recount = window.ring(7)[..7]
            .iter()
            .map(|s| s.load(Relaxed))
            .filter(|s| s >> 3 == 3)
            .fold(Counts::default(), |mut c, s| {
                c.calls += 1;
                c.failed += ((s >> 1) & 1) as u32;
                c
            });
        assert_eq!(window.counts(3), recount);
    }
}
