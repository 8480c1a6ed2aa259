//! The success path of a retried call (the first attempt succeeds): a bare function, the same
//! function under `#[retry]`, under `RetryPolicy::call`, and under backon's blocking retry, all
//! in one run.

use std::hint::black_box;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

/// The operation measured: inlined into both functions, so that they differ only by `#[retry]`.
#[inline(always)]
fn operation(x: u64) -> Result<u64, Failed> {
    if black_box(x) == u64::MAX {
        Err(Failed)
    } else {
        Ok(x.wrapping_mul(31))
    }
}

#[inline(never)]
fn bare(x: u64) -> Result<u64, Failed> {
    operation(x)
}

#[coord::retry(max_retries = 3, base_delay = "10ms")]
#[inline(never)]
fn retried(x: u64) -> Result<u64, Failed> {
    operation(x)
}

fn success_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("retry_success_path");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(7))));
    group.bench_function("coord_retry_macro", |b| b.iter(|| retried(black_box(7))));
    let policy = coord::RetryPolicy::exponential(3, Duration::from_millis(10), 2.0)
        .named("bench.retry_policy_call");
    group.bench_function("coord_policy_call", |b| {
        b.iter(|| policy.call(|| bare(black_box(7))))
    });
    let unbudgeted = coord::RetryPolicy::exponential(3, Duration::from_millis(10), 2.0)
        .no_budget()
        .named("bench.retry_policy_call_no_budget");
    group.bench_function("coord_policy_call_no_budget", |b| {
        b.iter(|| unbudgeted.call(|| bare(black_box(7))))
    });
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_max_times(3);
    group.bench_function("backon_blocking", |b| {
        b.iter(|| (|| bare(black_box(7))).retry(backoff).call())
    });
    group.finish();
}

criterion_group!(benches, success_path);
criterion_main!(benches);
