//! Exemplars (feature `otel`): per exported latency bucket, the latest call that finished
//! inside a *sampled* OpenTelemetry span, with that span's trace id and span id, its exact
//! latency and the wall-clock time it finished.
//!
//! The trace context is OpenTelemetry's current [`Context`]: a span the application entered
//! with the OpenTelemetry API, or a `tracing` span under `tracing-opentelemetry`'s layer, which
//! makes the OpenTelemetry context of the span it enters current (its context activation, on
//! by default). So coord needs no `tracing-opentelemetry` dependency.
//!
//! # Storage
//!
//! One slot per bucket of [`EXPORT_BOUNDS`] plus `+Inf` (25), allocated on the first sampled
//! call (1.2 KiB; an operation never called in a sampled span allocates nothing). A slot is a
//! sequence counter and five atomic words. A writer claims the slot by moving the counter from
//! even to odd with one compare-and-swap, writes the words and moves it to the next even value;
//! a writer that finds the slot claimed by another gives up (the other's exemplar is as recent),
//! so recording never waits. A reader copies the words between two reads of the counter and
//! keeps the copy only if the counter was even and unchanged: a torn exemplar is never reported.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{LazyLock, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

use super::EXPORT_BOUNDS;
use crate::perf::stopwatch::{self, Instant};

/// Slots: one per bound of [`EXPORT_BOUNDS`], then `+Inf`.
pub(crate) const SLOTS: usize = EXPORT_BOUNDS.len() + 1;

pub(crate) use crate::contract::exposition::Exemplar;

/// Whether calls look for a sampled span at all (on by default; see `coord::otel::set_exemplars`).
static CAPTURE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the capture of exemplars on or off for the whole process.
pub(crate) fn set_capture(on: bool) {
    CAPTURE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The sampled span current on this thread, as `(trace id, span id)`; `None` without a span or
/// when the span is not sampled (an unsampled trace is recorded nowhere, so an exemplar would
/// lead to nothing).
#[inline]
pub(crate) fn sampled_span() -> Option<([u8; 16], [u8; 8])> {
    Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let context = span.span_context();
        context
            .is_sampled()
            .then(|| (context.trace_id().to_bytes(), context.span_id().to_bytes()))
    })
}

/// The wall clock and the stopwatch read once, together: a call's end on the stopwatch, which
/// its timing read anyway, converts to wall-clock time without reading the wall clock per call
/// (about 40 ns, more than the rest of an exemplar). The two clocks may drift apart by what NTP
/// slews over the process's life (milliseconds a day at most), which an exemplar's timestamp
/// tolerates.
static ANCHOR: LazyLock<(u64, Instant)> = LazyLock::new(|| (unix_now(), stopwatch::now()));

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, crate::clock::saturating_nanos)
}

/// Nanoseconds since the Unix epoch at which a call that started at `started` and took `nanos`
/// finished; without `started`, now.
#[cold]
fn finished_at(started: Option<Instant>, nanos: u64) -> u64 {
    let Some(started) = started else {
        return unix_now();
    };
    let (wall, instant) = *ANCHOR;
    let as_nanos = crate::clock::saturating_nanos;
    let start = match started.checked_duration_since(instant) {
        Some(after) => wall.saturating_add(as_nanos(after)),
        None => wall.saturating_sub(instant.checked_duration_since(started).map_or(0, as_nanos)),
    };
    start.saturating_add(nanos)
}

/// [`EXPORT_BOUNDS`] in nanoseconds, so finding a slot compares integers.
const BOUND_NANOS: [u64; EXPORT_BOUNDS.len()] = {
    let mut out = [0u64; EXPORT_BOUNDS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = EXPORT_BOUNDS[i].as_nanos() as u64;
        i += 1;
    }
    out
};

/// The slot of a call that took `nanos`: the first bucket whose bound holds it, or `+Inf`.
/// Counting the bounds below it, without branches (24 compares the compiler vectorises).
#[inline]
fn slot_of(nanos: u64) -> usize {
    BOUND_NANOS.iter().filter(|&&bound| bound < nanos).count()
}

#[derive(Default)]
struct Slot {
    /// Even: at rest (0: never written); odd: a writer is in the middle.
    sequence: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
    span: AtomicU64,
    nanos: AtomicU64,
    /// 0 for "no exemplar" (never written, or cleared by a reset).
    unix_nanos: AtomicU64,
}

impl Slot {
    /// Writes `words` unless another writer holds the slot.
    fn write(&self, words: [u64; 5]) {
        let at = self.sequence.load(Ordering::Relaxed);
        if at & 1 == 1
            || self
                .sequence
                .compare_exchange(at, at + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // The words below must not become visible before the odd counter does.
        fence(Ordering::Release);
        let [high, low, span, nanos, unix_nanos] = words;
        self.trace_high.store(high, Ordering::Relaxed);
        self.trace_low.store(low, Ordering::Relaxed);
        self.span.store(span, Ordering::Relaxed);
        self.nanos.store(nanos, Ordering::Relaxed);
        self.unix_nanos.store(unix_nanos, Ordering::Relaxed);
        self.sequence.store(at + 2, Ordering::Release);
    }

    /// A consistent copy, or `None` when empty or being written (a few retries first).
    fn read(&self) -> Option<Exemplar> {
        for _ in 0..4 {
            let before = self.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let high = self.trace_high.load(Ordering::Relaxed);
            let low = self.trace_low.load(Ordering::Relaxed);
            let span = self.span.load(Ordering::Relaxed);
            let nanos = self.nanos.load(Ordering::Relaxed);
            let unix_nanos = self.unix_nanos.load(Ordering::Relaxed);
            // The loads above must complete before the counter is read again.
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) != before {
                continue;
            }
            if unix_nanos == 0 {
                return None;
            }
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&high.to_be_bytes());
            trace_id[8..].copy_from_slice(&low.to_be_bytes());
            return Some(Exemplar {
                trace_id,
                span_id: span.to_be_bytes(),
                nanos,
                unix_nanos,
            });
        }
        None
    }
}

/// The exemplar slots of one histogram, allocated on the first sampled call.
#[derive(Default)]
pub(crate) struct Exemplars {
    slots: OnceLock<Box<[Slot; SLOTS]>>,
}

impl Exemplars {
    pub(crate) const fn new() -> Self {
        Self {
            slots: OnceLock::new(),
        }
    }

    /// Records a call of `nanos` as its bucket's exemplar when a sampled span is current;
    /// `started` (when the call started, if the caller timed it) dates it.
    #[inline]
    pub(crate) fn record(&self, nanos: u64, started: Option<Instant>) {
        if !CAPTURE.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        if let Some((trace, span)) = sampled_span() {
            self.store(nanos, finished_at(started, nanos), trace, span);
        }
    }

    /// Stores an exemplar (the sampled path: out of line, so the common one stays small).
    #[cold]
    #[inline(never)]
    pub(crate) fn store(&self, nanos: u64, unix_nanos: u64, trace: [u8; 16], span: [u8; 8]) {
        // 0 means "empty".
        let unix_nanos = unix_nanos.max(1);
        let slots = self
            .slots
            .get_or_init(|| Box::new(std::array::from_fn(|_| Slot::default())));
        let (high, low) = trace.split_at(8);
        let word = |bytes: &[u8]| {
            let mut out = [0u8; 8];
            out.copy_from_slice(bytes);
            u64::from_be_bytes(out)
        };
        if let Some(slot) = slots.get(slot_of(nanos)) {
            slot.write([
                word(high),
                word(low),
                u64::from_be_bytes(span),
                nanos,
                unix_nanos,
            ]);
        }
    }

    /// `(slot, exemplar)` of every bucket that has one, ascending.
    pub(crate) fn read(&self) -> Vec<(usize, Exemplar)> {
        let Some(slots) = self.slots.get() else {
            return Vec::new();
        };
        slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| slot.read().map(|e| (index, e)))
            .collect()
    }

    /// Forgets every exemplar (a slot being written at that moment keeps its newer one).
    pub(crate) fn reset(&self) {
        if let Some(slots) = self.slots.get() {
            for slot in slots.iter() {
                slot.write([0; 5]);
            }
        }
    }

    /// Bytes allocated for the slots.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots
            .get()
            .map_or(0, |_| std::mem::size_of::<[Slot; SLOTS]>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    fn span(trace: u128, span: u64, flags: TraceFlags) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            flags,
            false,
            TraceState::default(),
        ))
    }

    #[test]
    fn only_a_sampled_span_leaves_an_exemplar() {
        let exemplars = Exemplars::default();
        exemplars.record(1_000_000, None);
        assert!(exemplars.read().is_empty());
        assert_eq!(
            exemplars.heap_bytes(),
            0,
            "nothing allocated without a span"
        );
        {
            let _unsampled = span(7, 8, TraceFlags::default()).attach();
            exemplars.record(1_000_000, None);
        }
        assert!(exemplars.read().is_empty());
        {
            let _sampled = span(0xabc, 0xdef, TraceFlags::SAMPLED).attach();
            exemplars.record(1_000_000, None);
        }
        let read = exemplars.read();
        assert_eq!(read.len(), 1);
        let (slot, e) = read[0];
        assert_eq!(slot, 3, "1 ms lands in le=0.001");
        assert_eq!(u128::from_be_bytes(e.trace_id), 0xabc);
        assert_eq!(u64::from_be_bytes(e.span_id), 0xdef);
        assert_eq!(e.nanos, 1_000_000);
        assert!(e.unix_nanos > 1_600_000_000_000_000_000);
    }

    #[test]
    fn latest_per_bucket_and_reset() {
        let exemplars = Exemplars::default();
        let trace = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        exemplars.store(150_000, 5, u128::to_be_bytes(trace), [1; 8]);
        exemplars.store(160_000, 6, u128::to_be_bytes(trace), [2; 8]);
        exemplars.store(7200 * 1_000_000_000, 7, [9; 16], [3; 8]);
        let read = exemplars.read();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0, 1, "150 us and 160 us land in le=0.0002");
        assert_eq!(read[0].1.span_id, [2; 8]);
        assert_eq!(u128::from_be_bytes(read[0].1.trace_id), trace);
        assert_eq!(read[1].0, SLOTS - 1, "two hours land in +Inf");
        exemplars.reset();
        assert!(exemplars.read().is_empty());
    }

    #[test]
    fn a_timed_call_is_dated_by_its_end_on_the_stopwatch() {
        let before = unix_now();
        let started = stopwatch::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let nanos = stopwatch::nanos_since(started);
        let at = finished_at(Some(started), nanos);
        let after = unix_now();
        // Within the clocks' granularity of the wall clock read around it.
        assert!(
            at + 1_000_000 >= before + nanos && at <= after + 1_000_000,
            "{before} {at} {after}"
        );
        // A call that started before the anchor was set.
        let earlier = finished_at(Some(started), 0);
        assert!(
            earlier + 1_000_000 >= before && earlier <= at,
            "{earlier} {at}"
        );
    }

    #[test]
    fn a_bound_holds_its_own_value() {
        for (i, bound) in EXPORT_BOUNDS.iter().enumerate() {
            let nanos = bound.as_nanos() as u64;
            assert_eq!(slot_of(nanos), i);
            assert_eq!(slot_of(nanos + 1), i + 1);
        }
        assert_eq!(slot_of(100_000), 0);
        assert_eq!(slot_of(100_001), 1);
        assert_eq!(slot_of(0), 0);
        assert_eq!(slot_of(u64::MAX), SLOTS - 1);
    }

    #[test]
    fn concurrent_writers_never_tear_an_exemplar() {
        let exemplars = Exemplars::default();
        std::thread::scope(|s| {
            for t in 1..=4u8 {
                let exemplars = &exemplars;
                s.spawn(move || {
                    for _ in 0..20_000 {
                        exemplars.store(u64::from(t), 1, [t; 16], [t; 8]);
                    }
                });
            }
            for _ in 0..20_000 {
                for (_, e) in exemplars.read() {
                    let t = e.span_id[0];
                    assert_eq!(e.trace_id, [t; 16], "torn: {e:?}");
                    assert_eq!(e.span_id, [t; 8], "torn: {e:?}");
                    assert_eq!(e.nanos, u64::from(t), "torn: {e:?}");
                }
            }
        });
    }
}
