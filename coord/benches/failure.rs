//! The failure path of a call (issue #13): a failing attempt through `ErrorHandler` and through
//! `#[retry(max_retries = 0)]`, on 1 thread and on 2 threads at once (time per call of each
//! thread), beside the same calls succeeding and the cost of formatting the error once, all in
//! one run so that the ratios compare like with like.
//!
//! Targets: 2 threads ÷ 1 thread ≤ 1.3 per call; a failing attempt ≤ 3 × a successful one plus
//! one `format!` of the error.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

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
fn per_thread(threads: usize, iters: u64, call: &(dyn Fn() + Sync)) -> Duration {
    let times = support::thread_times(threads as u64, iters, |_| call());
    times.iter().sum::<Duration>() / threads as u32
}

fn failure_path(c: &mut Criterion) {
    coord::errors::set_recent_capacity(coord::errors::DEFAULT_RECENT_CAPACITY);
    let mut group = c.benchmark_group("failure_path");
    let handler = coord::ErrorHandler::new("bench.failure.handler")
        .retry(coord::RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget());

    group.bench_function("format_error_once", |b| {
        b.iter(|| black_box(format!("{}", black_box(&Reset { code: 104 }))))
    });

    group.bench_function("handler_success_1t", |b| {
        b.iter(|| handler.execute(|| body(false)))
    });
    group.bench_function("handler_failure_1t", |b| {
        b.iter(|| handler.execute(|| body(true)))
    });
    // The machine's own 2-thread penalty (scheduling, shared cores), as a control.
    group.bench_function("handler_success_2t", |b| {
        b.iter_custom(|iters| {
            per_thread(2, iters, &|| {
                _ = black_box(handler.execute(|| body(false)));
            })
        })
    });
    group.bench_function("handler_failure_2t", |b| {
        b.iter_custom(|iters| {
            per_thread(2, iters, &|| {
                _ = black_box(handler.execute(|| body(true)));
            })
        })
    });

    group.bench_function("retry_macro_success_1t", |b| {
        b.iter(|| retried(black_box(false)))
    });
    group.bench_function("retry_macro_failure_1t", |b| {
        b.iter(|| retried(black_box(true)))
    });
    group.bench_function("retry_macro_success_2t", |b| {
        b.iter_custom(|iters| {
            per_thread(2, iters, &|| {
                _ = black_box(retried(black_box(false)));
            })
        })
    });
    group.bench_function("retry_macro_failure_2t", |b| {
        b.iter_custom(|iters| {
            per_thread(2, iters, &|| {
                _ = black_box(retried(black_box(true)));
            })
        })
    });
    group.finish();
}

criterion_group!(benches, failure_path);
criterion_main!(benches);
