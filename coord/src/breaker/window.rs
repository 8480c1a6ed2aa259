//! The sliding windows a closed breaker judges its failure rate on: the last N calls (a ring of
//! atomic slots plus packed running totals), or the last T seconds (10 packed buckets).
//!
//! Every entry is tagged with the breaker generation it was recorded in; entries of another
//! generation count as empty, so entering a new closed period restarts the window without any
//! sweep, and a late result from an older period cannot land in the new one.

use super::sync::{AtomicU64, Ordering::Relaxed};

/// Largest count-based window, in calls.
pub(crate) const MAX_WINDOW_CALLS: u32 = 1024;
/// Buckets of a time-based window.
pub(crate) const BUCKETS: u64 = 10;

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

// Slot: generation << 3 | slow << 2 | failed << 1 | present.
fn slot(generation: u64, failed: bool, slow: bool) -> u64 {
    generation << 3 | u64::from(slow) << 2 | u64::from(failed) << 1 | 1
}

// Totals: generation (28 bits) << 36 | slow << 24 | failed << 12 | calls, each 12-bit field
// biased by 2048 so that it may dip below zero while two updates of one slot land out of order.
const TOTAL_BITS: u32 = 12;
const TOTAL_MASK: u64 = (1 << TOTAL_BITS) - 1;
const BIAS: i64 = 2048;
const TOTALS_GEN_SHIFT: u32 = 3 * TOTAL_BITS;
const TOTALS_GEN_MASK: u64 = (1 << (64 - TOTALS_GEN_SHIFT)) - 1;

#[inline]
fn pack_totals(generation: u64, calls: i64, failed: i64, slow: i64) -> u64 {
    let field = |v: i64, shift: u32| ((v + BIAS).clamp(0, TOTAL_MASK as i64) as u64) << shift;
    (generation & TOTALS_GEN_MASK) << TOTALS_GEN_SHIFT
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

/// `a` is a later generation than `b` (modulo the totals' 28-bit generation).
fn is_later(a: u64, b: u64) -> bool {
    let distance = a.wrapping_sub(b) & TOTALS_GEN_MASK;
    distance != 0 && distance < TOTALS_GEN_MASK / 2
}

fn counts_of(calls: i64, failed: i64, slow: i64) -> Counts {
    let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    Counts {
        calls: clamp(calls),
        failed: clamp(failed),
        slow: clamp(slow),
    }
}

/// The last `len` calls.
#[derive(Debug)]
pub(crate) struct CountWindow {
    slots: Box<[AtomicU64]>,
    cursor: AtomicU64,
    totals: AtomicU64,
}

impl CountWindow {
    pub(crate) fn new() -> Self {
        Self {
            slots: (0..MAX_WINDOW_CALLS).map(|_| AtomicU64::new(0)).collect(),
            cursor: AtomicU64::new(0),
            totals: AtomicU64::new(pack_totals(0, 0, 0, 0)),
        }
    }

    /// `true` when recording a plain success in `generation` would change nothing: the window
    /// is full and holds no failure and no slow call. One load, no write.
    #[inline]
    pub(crate) fn success_is_noop(&self, generation: u64, len: u32) -> bool {
        self.totals.load(Relaxed) == pack_totals(generation, i64::from(len), 0, 0)
    }

    /// Records one call of `generation` in a window of `len` calls and returns the window's
    /// totals afterwards, or `None` when the window already belongs to a later generation.
    pub(crate) fn record(
        &self,
        generation: u64,
        len: u32,
        failed: bool,
        slow: bool,
    ) -> Option<Counts> {
        let len = u64::from(len.clamp(1, MAX_WINDOW_CALLS));
        let index = self.cursor.fetch_add(1, Relaxed) % len;
        let index = usize::try_from(index).unwrap_or(0);
        let old = self.slots[index].swap(slot(generation, failed, slow), Relaxed);
        let old_counts = old >> 3 == generation;
        let bit = |word: u64, n: u32| i64::from(old_counts) * ((word >> n) & 1) as i64;
        let d_calls = 1 - bit(old, 0);
        let d_failed = i64::from(failed) - bit(old, 1);
        let d_slow = i64::from(slow) - bit(old, 2);
        let ours = generation & TOTALS_GEN_MASK;
        let mut current = self.totals.load(Relaxed);
        loop {
            let (tag, calls, fails, slows) = unpack_totals(current);
            let (calls, fails, slows) = if tag == ours {
                (calls, fails, slows)
            } else if is_later(ours, tag) {
                (0, 0, 0)
            } else {
                return None;
            };
            let (calls, fails, slows) = (calls + d_calls, fails + d_failed, slows + d_slow);
            let next = pack_totals(ours, calls, fails, slows);
            match self
                .totals
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return Some(counts_of(calls, fails, slows)),
                Err(actual) => current = actual,
            }
        }
    }

    /// The totals of `generation`; zero if the window holds another generation.
    pub(crate) fn counts(&self, generation: u64) -> Counts {
        let (tag, calls, failed, slow) = unpack_totals(self.totals.load(Relaxed));
        if tag == generation & TOTALS_GEN_MASK {
            counts_of(calls, failed, slow)
        } else {
            Counts::default()
        }
    }
}

// Bucket: tick (20 bits) << 44 | generation (8 bits) << 36 | slow << 24 | failed << 12 | calls.
const TICK_SHIFT: u32 = 44;
const TICK_MASK: u64 = (1 << 20) - 1;
const BUCKET_GEN_SHIFT: u32 = 36;
const BUCKET_GEN_MASK: u64 = 0xff;

fn pack_bucket(tick: u64, generation: u64, calls: u64, failed: u64, slow: u64) -> u64 {
    (tick & TICK_MASK) << TICK_SHIFT
        | (generation & BUCKET_GEN_MASK) << BUCKET_GEN_SHIFT
        | (slow & TOTAL_MASK) << (2 * TOTAL_BITS)
        | (failed & TOTAL_MASK) << TOTAL_BITS
        | (calls & TOTAL_MASK)
}

fn unpack_bucket(word: u64) -> (u64, u64, u64, u64, u64) {
    (
        word >> TICK_SHIFT,
        (word >> BUCKET_GEN_SHIFT) & BUCKET_GEN_MASK,
        word & TOTAL_MASK,
        (word >> TOTAL_BITS) & TOTAL_MASK,
        (word >> (2 * TOTAL_BITS)) & TOTAL_MASK,
    )
}

/// The last `BUCKETS` ticks. A bucket that fills up (4095 calls) halves its counts, which keeps
/// the rates and loses only resolution.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    buckets: [AtomicU64; BUCKETS as usize],
}

impl TimeWindow {
    pub(crate) fn new() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Records one call of `generation` at `tick` (time ÷ bucket width) and returns the totals
    /// over the window ending at `tick`.
    pub(crate) fn record(&self, generation: u64, tick: u64, failed: bool, slow: bool) -> Counts {
        let index = usize::try_from(tick % BUCKETS).unwrap_or(0);
        let bucket = &self.buckets[index];
        let mut current = bucket.load(Relaxed);
        loop {
            let (btick, bgen, mut calls, mut fails, mut slows) = unpack_bucket(current);
            if btick != tick & TICK_MASK || bgen != generation & BUCKET_GEN_MASK {
                (calls, fails, slows) = (0, 0, 0);
            }
            if calls == TOTAL_MASK {
                (calls, fails, slows) = (calls / 2, fails.div_ceil(2), slows.div_ceil(2));
            }
            let next = pack_bucket(
                tick,
                generation,
                calls + 1,
                fails + u64::from(failed),
                slows + u64::from(slow),
            );
            match bucket.compare_exchange_weak(current, next, Relaxed, Relaxed) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        self.counts(generation, tick)
    }

    /// The totals of `generation` over the `BUCKETS` ticks ending at `tick`.
    pub(crate) fn counts(&self, generation: u64, tick: u64) -> Counts {
        let mut sum = Counts::default();
        for bucket in &self.buckets {
            let (btick, bgen, calls, failed, slow) = unpack_bucket(bucket.load(Relaxed));
            let age = tick.wrapping_sub(btick) & TICK_MASK;
            if bgen == generation & BUCKET_GEN_MASK && age < BUCKETS && calls > 0 {
                // Fields are 12 bits wide, so the casts cannot truncate.
                sum.calls += calls as u32;
                sum.failed += failed as u32;
                sum.slow += slow as u32;
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
                        let counts = window.record(generation, len, failed, slow);
                        model.push((failed, slow));
                        if model.len() > len as usize {
                            model.remove(0);
                        }
                        let expected = Counts {
                            calls: model.len() as u32,
                            failed: model.iter().filter(|c| c.0).count() as u32,
                            slow: model.iter().filter(|c| c.1).count() as u32,
                        };
                        prop_assert_eq!(counts, Some(expected));
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
            prop_assert_eq!(window.record(4, len, true, true), None);
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
        assert!(counts.calls < 4096);
        assert!((counts.failure_rate() - 0.25).abs() < 0.01, "{counts:?}");
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
        let recount = window.slots[..7]
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
