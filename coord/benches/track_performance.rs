//! Cost of `#[track_performance]` against a bare call and a hand-timed `Instant` pair, in one run.
//!
//! Run twice to get both clocks: `cargo bench --bench track_performance` (std `Instant`) and
//! `cargo bench --bench track_performance --features fast-clock` (quanta). The ratios that matter:
//! `(tracked - bare) / (hand_timed - bare)` for the clock in use.
//!
//! With `--features otel` the same `tracked` row measures the feature's cost with no span
//! current (compare it with a run without the feature), and the group `track_performance_otel`
//! adds the calls made inside an unsampled and a sampled span (the sampled one stores an
//! exemplar), against `tracked` in the same run.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use coord::track_performance;
use criterion::{Criterion, criterion_group, criterion_main};
use support::{bare, work};

mod support;

static HAND_TOTAL: AtomicU64 = AtomicU64::new(0);

#[inline(never)]
fn hand_timed_std(x: u64) -> Result<u64, u64> {
    let start = Instant::now();
    let r = bare(x);
    HAND_TOTAL.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r
}

#[inline(never)]
fn hand_timed_quanta(x: u64) -> Result<u64, u64> {
    let start = quanta::Instant::now();
    let r = bare(x);
    HAND_TOTAL.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r
}

#[track_performance("bench.tracked")]
#[inline(never)]
fn tracked(x: u64) -> Result<u64, u64> {
    bare(x)
}

/// The same, joined to an objective (issue 26): one more atomic load per call.
#[track_performance(name = "bench.tracked_objective", objective = "bench.objective")]
#[inline(never)]
fn tracked_objective(x: u64) -> Result<u64, u64> {
    bare(x)
}

/// The clock coord reads, in the group names.
const CLOCK: &str = if cfg!(feature = "fast-clock") {
    "quanta"
} else {
    "std"
};

fn single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("track_performance/{CLOCK}"));
    group.bench_function("bare", |b| b.iter(|| bare(black_box(1))));
    group.bench_function("hand_timed_std", |b| {
        b.iter(|| hand_timed_std(black_box(1)))
    });
    group.bench_function("hand_timed_quanta", |b| {
        b.iter(|| hand_timed_quanta(black_box(1)))
    });
    group.bench_function("tracked", |b| b.iter(|| tracked(black_box(1))));
    group.bench_function("tracked_objective", |b| {
        b.iter(|| tracked_objective(black_box(1)))
    });
    // The instrumentation switch off (`coord::set_enabled(false)`): the function plus one flag
    // read, beside `bare`.
    coord::set_enabled(false);
    group.bench_function("tracked_recording_off", |b| {
        b.iter(|| tracked(black_box(1)))
    });
    coord::set_enabled(true);
    group.finish();
}

/// `work` behind the check every timed call and every breaker admission makes for fault
/// injection (`coord::chaos`): one relaxed load and a branch, the injection out of line.
#[inline(never)]
fn behind_chaos_check(x: u64) -> Result<u64, u64> {
    if coord::chaos::armed() {
        injected()
    } else {
        work(x)
    }
}

#[cold]
#[inline(never)]
fn injected() -> Result<u64, u64> {
    Err(black_box(0))
}

/// Fault injection off (nothing armed anywhere, the default): what the check costs a call,
/// beside the same call without it; and a tracked call now (the check included).
fn chaos_off(c: &mut Criterion) {
    assert!(!coord::chaos::armed(), "the off path");
    let mut group = c.benchmark_group(format!("chaos_off/{CLOCK}"));
    // `bare` is `work` alone, in a function of its own.
    group.bench_function("work_alone", |b| b.iter(|| bare(black_box(1))));
    group.bench_function("behind_chaos_check", |b| {
        b.iter(|| behind_chaos_check(black_box(1)))
    });
    group.bench_function("tracked", |b| b.iter(|| tracked(black_box(1))));
    group.finish();
}

/// Per-call cost when two threads call the same operation at once: each measured iteration runs
/// `n` calls on this thread while a second thread runs the same loop.
fn two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("track_performance_2threads/{CLOCK}"));
    for (label, f) in [
        ("bare", bare as fn(u64) -> Result<u64, u64>),
        ("hand_timed_std", hand_timed_std),
        ("hand_timed_quanta", hand_timed_quanta),
        ("tracked", tracked),
    ] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                std::thread::scope(|scope| {
                    let other = scope.spawn(move || {
                        for i in 0..iters {
                            let _ = black_box(f(black_box(i)));
                        }
                    });
                    let start = Instant::now();
                    for i in 0..iters {
                        let _ = black_box(f(black_box(i)));
                    }
                    let elapsed = start.elapsed();
                    let _ = other.join();
                    elapsed
                })
            })
        });
    }
    group.finish();
}

/// `tracked` with no span, in an unsampled span and in a sampled span (an exemplar per call).
#[cfg(feature = "otel")]
fn exemplars(c: &mut Criterion) {
    use coord::otel::opentelemetry::Context;
    use coord::otel::opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let span = |flags| {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736u128),
            SpanId::from(0x00f0_67aa_0ba9_02b7u64),
            flags,
            false,
            TraceState::default(),
        ))
    };
    let mut group = c.benchmark_group(format!("track_performance_otel/{CLOCK}"));
    group.bench_function("tracked_no_span", |b| b.iter(|| tracked(black_box(1))));
    group.bench_function("tracked_unsampled_span", |b| {
        let _span = span(TraceFlags::default()).attach();
        b.iter(|| tracked(black_box(1)))
    });
    group.bench_function("tracked_sampled_span", |b| {
        let _span = span(TraceFlags::SAMPLED).attach();
        b.iter(|| tracked(black_box(1)))
    });
    // What the exemplar's timestamp alone costs: one read of the wall clock.
    group.bench_function("system_time_now", |b| b.iter(std::time::SystemTime::now));
    group.finish();
}

#[cfg(not(feature = "otel"))]
criterion_group!(benches, single_thread, two_threads, chaos_off);
#[cfg(feature = "otel")]
criterion_group!(benches, single_thread, two_threads, chaos_off, exemplars);
criterion_main!(benches);
