//! Helpers shared by the benchmarks: the bare call, threads calling at once, and what a
//! background reader (reports, scrapes) costs threads recording at the same time. Each bench binary uses only
//! some of them.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use coord::perf::Outcome;
use criterion::Criterion;

/// The work of the timed functions of `track_performance` and `spans`: small, with a branch
/// the optimiser cannot fold. Inlined where it is used.
#[inline(always)]
pub fn work(x: u64) -> Result<u64, u64> {
    if x == u64::MAX {
        Err(x)
    } else {
        Ok(x.wrapping_mul(31) ^ 7)
    }
}

/// [`work`] in a function of its own: the bare call an instrumented function is measured beside.
#[inline(never)]
pub fn bare(x: u64) -> Result<u64, u64> {
    work(x)
}

/// The error of a benchmarked guarded operation: the breaker's rejection carries nothing.
#[derive(Debug)]
pub struct Failed;

impl From<coord::CircuitOpen> for Failed {
    fn from(_: coord::CircuitOpen) -> Self {
        Failed
    }
}

/// 1,000 operations named `{prefix}.{i:04}`, 200 recorded calls each (1 in 17 failing, latencies
/// spread over 20 µs to 5 ms): a large process's performance registry.
pub fn populate_operations(prefix: &str) {
    for i in 0..1_000u64 {
        let op = coord::monitor().operation_handle(&format!("{prefix}.{i:04}"));
        for n in 0..200u64 {
            let outcome = if n % 17 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            op.record(Duration::from_micros(20 + (n * 37 + i) % 5_000), outcome);
        }
    }
}

/// CPU time of the calling thread (Linux `schedstat`), or `None` elsewhere.
pub fn thread_cpu() -> Option<Duration> {
    // The kernel folds the running slice into the total only at scheduling events; a yield is
    // one, so the figure read next is current.
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// Calls per recorder and measurement at least, so thread start-up and the reader's first
/// pass are noise.
const MIN_BATCH: u64 = 200_000;

/// `recorders` threads each record `iters` calls on `site` (at least [`MIN_BATCH`], scaled
/// back to `iters`) while `reader`, if any, runs in a loop on another thread until they finish
/// or it returns `false`. Returns the recorders' mean CPU time, or wall time where there is no
/// per-thread CPU clock: on a small machine a busy reader also steals the recorders' cores,
/// which says nothing about what it does to their cache lines.
pub fn recorder_cpu_while(
    iters: u64,
    recorders: u32,
    site: &'static OperationSite,
    reader: Option<impl FnMut() -> bool + Send + 'static>,
) -> Duration {
    let batch = iters.max(MIN_BATCH);
    let done = Arc::new(AtomicBool::new(false));
    let reader = reader.map(|mut read| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || while !done.load(Ordering::Relaxed) && read() {})
    });
    let threads: Vec<_> = (0..recorders)
        .map(|_| {
            std::thread::spawn(move || {
                let (wall, cpu) = (Instant::now(), thread_cpu());
                for _ in 0..batch {
                    site.start().finish(false);
                }
                match (cpu, thread_cpu()) {
                    (Some(before), Some(after)) => after.saturating_sub(before),
                    _ => wall.elapsed(),
                }
            })
        })
        .collect();
    let total: Duration = threads
        .into_iter()
        .map(|t| t.join().unwrap_or_default())
        .sum();
    done.store(true, Ordering::Relaxed);
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    let mean = total / recorders.max(1);
    Duration::from_secs_f64(mean.as_secs_f64() * iters as f64 / batch as f64)
}

/// The benchmark group `group` of what a background reader costs one thread recording on
/// `site`: `baseline` records alone, `loaded` records while a reader made by `reader` runs in
/// a loop (a new one per measurement).
pub fn recorder_beside_reader<R>(
    c: &mut Criterion,
    group: &str,
    site: &'static OperationSite,
    (baseline, loaded): (&str, &str),
    reader: impl Fn() -> R,
) where
    R: FnMut() -> bool + Send + 'static,
{
    let mut group = c.benchmark_group(group);
    group.sample_size(20);
    group.bench_function(baseline, |b| {
        b.iter_custom(|iters| recorder_cpu_while(iters, 1, site, None::<R>))
    });
    group.bench_function(loaded, |b| {
        b.iter_custom(|iters| recorder_cpu_while(iters, 1, site, Some(reader())))
    });
    group.finish();
}

/// Runs `call(i ^ thread)` for every `i` in `0..iters` on each of `threads` threads, released
/// together by a barrier so that they contend; returns each thread's time.
pub fn thread_times<R>(threads: u64, iters: u64, call: impl Fn(u64) -> R + Sync) -> Vec<Duration> {
    let barrier = Barrier::new(threads as usize);
    let (call, barrier) = (&call, &barrier);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(call(i ^ t));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
