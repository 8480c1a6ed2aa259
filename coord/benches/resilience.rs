//! The resilience layers' cost on their fast paths, each beside a peer in the same run:
//! bulkhead acquire + release (sync, and async vs tokio's `Semaphore`), rate limiter `check` vs
//! `governor` on 1 and 2 threads, and `coord::timeout` vs `tokio::time::timeout` on a future
//! that is ready at once; and the `#[timeout]` attribute vs a hand-written
//! `tokio::time::timeout` around the same `async fn`; and `#[hedge]` on a call that answers
//! before its delay (the common case: no hedge starts) beside the bare call.
//!
//! `cargo bench -p coord --bench resilience -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use coord::{Bulkhead, BulkheadConfig, RateLimitConfig, RateLimiter};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use governor::clock::MonotonicClock;
use governor::{Quota, RateLimiter as Governor};

mod support;

/// Polls a future once, as an executor's first poll would.
#[inline]
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(f).poll(&mut cx)
}

fn bulkhead(c: &mut Criterion) {
    let coord = Bulkhead::new("bench", BulkheadConfig::default().max_concurrent(100)).unwrap();
    let tokio = tokio::sync::Semaphore::new(100);

    let mut group = c.benchmark_group("bulkhead_acquire_release/sync");
    group.bench_function("coord_try_acquire", |b| {
        b.iter(|| drop(black_box(coord.try_acquire())))
    });
    group.bench_function("tokio_semaphore_try_acquire", |b| {
        b.iter(|| drop(black_box(tokio.try_acquire())))
    });
    group.finish();

    let mut group = c.benchmark_group("bulkhead_acquire_release/async");
    group.bench_function("coord_acquire_async", |b| {
        b.iter(|| drop(black_box(poll_once(coord.acquire_async(Duration::ZERO)))))
    });
    group.bench_function("coord_acquire_async_with_wait", |b| {
        b.iter(|| {
            drop(black_box(poll_once(
                coord.acquire_async(Duration::from_millis(10)),
            )))
        })
    });
    group.bench_function("tokio_semaphore_acquire", |b| {
        b.iter(|| drop(black_box(poll_once(tokio.acquire()))))
    });
    group.finish();
}

/// A limit no loop reaches: every check is admitted, as in governor's own benchmarks.
fn coord_limiter() -> RateLimiter {
    let config = RateLimitConfig::default()
        .rate(1_000_000_000)
        .per(Duration::from_secs(1))
        .burst(1_000_000_000);
    RateLimiter::new("bench", config).unwrap()
}

fn quota() -> Quota {
    Quota::with_period(Duration::from_nanos(1))
        .unwrap()
        .allow_burst(NonZeroU32::new(1_000_000_000).unwrap())
}

/// A name and one admission check (the same indirection for all).
type Candidate = (&'static str, Box<dyn Fn() -> bool + Sync>);

fn limiters() -> Vec<Candidate> {
    let coord = coord_limiter();
    let governor = Governor::direct(quota());
    let governor_std = Governor::direct_with_clock(quota(), MonotonicClock);
    vec![
        ("coord", Box::new(move || coord.check().is_ok())),
        // governor's default clock is quanta's TSC clock.
        ("governor", Box::new(move || governor.check().is_ok())),
        // governor on `std::time::Instant`, the clock coord uses without `fast-clock`.
        (
            "governor_std_clock",
            Box::new(move || governor_std.check().is_ok()),
        ),
    ]
}

fn rate_limit_one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit_check/1_thread");
    for (name, check) in limiters() {
        group.bench_function(name, |b| b.iter(|| black_box(check())));
    }
    group.finish();
}

/// Two threads check one shared limiter; the time reported is per check on each thread.
fn rate_limit_two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit_check/2_threads");
    for (name, check) in limiters() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                support::thread_times(2, iters, |_| check())
                    .into_iter()
                    .max()
                    .unwrap_or_default()
            })
        });
    }
    group.finish();
}

/// A current-thread tokio runtime with timers, for the async baselines.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Benchmarks the future `call(x)` polled once, `x` hidden from the optimiser: the future is
/// ready at once, so the time is the wrapper's fast path around it.
fn bench_first_poll<F: Future>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    call: impl Fn(u64) -> F,
) {
    group.bench_function(id, |b| b.iter(|| black_box(poll_once(call(black_box(1))))));
}

fn timeout(c: &mut Criterion) {
    let runtime = current_thread_runtime();
    let _context = runtime.enter();
    let limit = Duration::from_secs(2);
    let mut group = c.benchmark_group("timeout_ready_future");
    bench_first_poll(&mut group, "bare", std::future::ready);
    bench_first_poll(&mut group, "coord_timeout", |x| {
        coord::timeout(limit, std::future::ready(x))
    });
    bench_first_poll(&mut group, "tokio_timeout", |x| {
        tokio::time::timeout(limit, std::future::ready(x))
    });
    group.finish();
}

async fn ready_body(x: u64) -> Result<u64, coord::TimedOut> {
    Ok(x)
}

#[coord::timeout("2s")]
async fn ready_with_attribute(x: u64) -> Result<u64, coord::TimedOut> {
    Ok(x)
}

/// What a user would write by hand instead of the attribute.
async fn ready_by_hand(x: u64) -> Result<u64, coord::TimedOut> {
    let limit = Duration::from_secs(2);
    match tokio::time::timeout(limit, ready_body(x)).await {
        Ok(out) => out,
        Err(_) => Err(coord::TimedOut::new(limit, limit)),
    }
}

/// The group `name`: an attribute on an `async fn` whose body is ready at once (`id`,
/// `wrapped`) beside the bare body and the baselines `more` adds, in a current-thread runtime.
fn attribute_beside_bare<F: Future>(
    c: &mut Criterion,
    name: &str,
    (id, wrapped): (&str, impl Fn(u64) -> F),
    more: impl FnOnce(&mut BenchmarkGroup<'_, WallTime>),
) {
    let runtime = current_thread_runtime();
    let _context = runtime.enter();
    // Resolve the call site's counter outside the measurement.
    let _ = poll_once(wrapped(0));
    let mut group = c.benchmark_group(name);
    bench_first_poll(&mut group, "bare", ready_body);
    bench_first_poll(&mut group, id, wrapped);
    more(&mut group);
    group.finish();
}

fn timeout_attribute(c: &mut Criterion) {
    attribute_beside_bare(
        c,
        "timeout_attribute_ready",
        ("coord_timeout_attribute", ready_with_attribute),
        |group| bench_first_poll(group, "tokio_timeout_by_hand", ready_by_hand),
    );
}

#[coord::hedge(after = "50ms", name = "bench.hedge")]
async fn ready_hedged(x: u64) -> Result<u64, coord::TimedOut> {
    Ok(x)
}

fn hedge_attribute(c: &mut Criterion) {
    attribute_beside_bare(
        c,
        "hedge_attribute_ready",
        ("coord_hedge_attribute", ready_hedged),
        |_| {},
    );
}

criterion_group!(
    benches,
    hedge_attribute,
    timeout_attribute,
    bulkhead,
    rate_limit_one_thread,
    rate_limit_two_threads,
    timeout
);
criterion_main!(benches);
