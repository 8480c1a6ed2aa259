//! The failure path of a call (issue #13): a failing attempt through `ErrorHandler` and through
//! `#[retry(max_retries = 0)]`, on 1 thread and on 2 threads at once (time per call of each
//! thread), beside the same calls succeeding and the cost of formatting the error once, all in
//! one run so that the ratios compare like with like.
//!
//! Targets: 2 threads ÷ 1 thread ≤ 1.3 per call (on one operation, and on two different ones:
//! `handler_failure_own_op_*`, issue #22); a failing attempt ≤ 3 × a successful one plus one
//! `format!` of the error.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

mod support;

/// An error whose message is formatted like most real ones: a few pieces written in turn.
#[derive(Debug)]
struct Reset {
    code: u32,
}

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection reset by peer (os error {})", self.code)
    }
}

#[inline(never)]
fn body(fail: bool) -> Result<u64, Reset> {
    if black_box(fail) {
        Err(Reset { code: 104 })
    } else {
        Ok(7)
    }
}

#[coord::retry(max_retries = 0)]
#[inline(never)]
fn retried(fail: bool) -> Result<u64, Reset> {
    body(fail)
}

/// Time per call of each of `threads` threads running `iters` calls of `call` at once.
/// `{prefix}_{success|failure}_{1t|2t}`: `call(fails)` on one thread, then on two at once.
fn outcomes_on_threads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    prefix: &str,
    call: &(dyn Fn(bool) + Sync),
) {
    for (outcome, fails) in [("success", false), ("failure", true)] {
        group.bench_function(format!("{prefix}_{outcome}_1t"), |b| b.iter(|| call(fails)));
    }
    for (outcome, fails) in [("success", false), ("failure", true)] {
        group.bench_function(format!("{prefix}_{outcome}_2t"), |b| {
            b.iter_custom(|iters| per_thread(2, iters, &|| call(fails)))
        });
    }
}

fn per_thread(threads: usize, iters: u64, call: &(dyn Fn() + Sync)) -> Duration {
    let times = support::thread_times(threads as u64, iters, |_| call());
    times.iter().sum::<Duration>() / threads as u32
}

/// Calls per thread and measurement at least, so that thread start-up is noise.
const MIN_BATCH: u64 = 100_000;

/// Time per call of each of `threads` threads where thread `t` calls `call(t)` (each thread on
/// its own operation): the threads' CPU time where the kernel gives it (Linux), so that other
/// processes taking the cores from the threads are not counted as the calls' cost; wall time
/// elsewhere. At least [`MIN_BATCH`] calls per thread, scaled back to `iters`.
fn per_thread_own(threads: usize, iters: u64, call: &(dyn Fn(usize) + Sync)) -> Duration {
    let batch = iters.max(MIN_BATCH);
    let barrier = Barrier::new(threads);
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let (wall, cpu) = (Instant::now(), support::thread_cpu());
                    for _ in 0..batch {
                        call(t);
                    }
                    match (cpu, support::thread_cpu()) {
                        (Some(before), Some(after)) => after.saturating_sub(before),
                        _ => wall.elapsed(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let per_thread = times.iter().sum::<Duration>() / threads as u32;
    Duration::from_secs_f64(per_thread.as_secs_f64() * iters as f64 / batch as f64)
}

fn failure_path(c: &mut Criterion) {
    coord::errors::set_recent_capacity(coord::errors::DEFAULT_RECENT_CAPACITY);
    let mut group = c.benchmark_group("failure_path");
    let handler = coord::ErrorHandler::new("bench.failure.handler")
        .retry(coord::RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget());

    group.bench_function("format_error_once", |b| {
        b.iter(|| black_box(format!("{}", black_box(&Reset { code: 104 }))))
    });

    // The 2-thread rows are the machine's own 2-thread penalty (scheduling, shared cores), as a
    // control.
    outcomes_on_threads(&mut group, "handler", &|fails| {
        _ = black_box(handler.execute(|| body(fails)));
    });

    // Two threads failing on two different operations (issue #22): nothing they write on the
    // failure path should be shared, so each should cost what one thread alone costs. CPU time
    // per thread (see `per_thread_own`), with the same for successes as the machine's control.
    let own: [coord::ErrorHandler; 2] =
        ["bench.failure.own.0", "bench.failure.own.1"].map(|name| {
            coord::ErrorHandler::new(name).retry(
                coord::RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget(),
            )
        });
    for (outcome, fails) in [("success", false), ("failure", true)] {
        for threads in [1, 2] {
            let name = format!("handler_{outcome}_own_op_{threads}t");
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    per_thread_own(threads, iters, &|t| {
                        _ = black_box(own[t].execute(|| body(fails)));
                    })
                })
            });
        }
    }

    outcomes_on_threads(&mut group, "retry_macro", &|fails| {
        _ = black_box(retried(black_box(fails)));
    });
    group.finish();
}

criterion_group!(benches, failure_path);
criterion_main!(benches);
