//! After the first call (and once its histogram chunks exist), a tracked call allocates nothing. Its own test binary, because it
//! installs a counting global allocator.

use std::time::Duration;

use coord::track_performance;

mod support;

use support::DbError;
use support::alloc::{Counting, Measure, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records one value in every power of two of nanoseconds up to 2^48 (beyond the histogram's
/// range), so that every chunk of `name`'s histogram is allocated: a chunk is allocated the first
/// time a call's latency reaches its power of two, which would otherwise happen at random.
fn allocate_every_histogram_chunk(name: &str) {
    let op = coord::monitor().operation_handle(name);
    for power in 0..=48 {
        op.record(
            Duration::from_nanos(1 << power),
            coord::perf::Outcome::Success,
        );
    }
}

#[track_performance("alloc.ok")]
fn work(x: u64) -> Result<u64, u64> {
    if x == u64::MAX { Err(x) } else { Ok(x + 1) }
}

#[track_performance("alloc.composed")]
#[coord::retry(max_retries = 2, base_delay = "1ms")]
#[coord::circuit_breaker(name = "alloc.composed")]
fn composed(x: u64) -> Result<u64, DbError> {
    Ok(x + 1)
}

#[tokio::main(flavor = "current_thread")]
async fn composed_async_calls(n: u64) -> u64 {
    #[track_performance("alloc.composed_async")]
    #[coord::retry(max_retries = 2, base_delay = "1ms")]
    #[coord::circuit_breaker(name = "alloc.composed_async")]
    async fn composed_async(x: u64) -> Result<u64, DbError> {
        Ok(x + 1)
    }
    allocate_every_histogram_chunk("alloc.composed_async");
    let mut sum = 0;
    // Warm-up: the first calls resolve the call-site handles and let tokio set up its
    // thread-locals; only what happens after that is per-call cost.
    for i in 0..100 {
        sum += composed_async(i).await.unwrap();
    }
    // A current-thread runtime polls the calls on this thread, where they are counted.
    let measure = Measure::start();
    for i in 0..n {
        sum += composed_async(i).await.unwrap();
    }
    assert_eq!(measure.stop(), 0, "async composed calls allocated");
    sum
}

/// Makes the first call of operation `name` (through `f`) and allocates its histogram, then
/// counts what `calls` more successful calls allocate.
fn allocations_after_warm_up<E: std::fmt::Debug>(
    name: &str,
    f: fn(u64) -> Result<u64, E>,
    calls: u64,
) -> usize {
    f(0).unwrap();
    allocate_every_histogram_chunk(name);
    let (n, ()) = allocations_during(|| {
        for i in 0..calls {
            std::hint::black_box(f(std::hint::black_box(i)).unwrap());
        }
    });
    n
}

#[test]
fn composed_wrappers_allocate_nothing_on_success() {
    let n = allocations_after_warm_up("alloc.composed", composed, 10_000);
    assert_eq!(n, 0, "sync composed calls allocated");
    assert!(composed_async_calls(1_000) > 0);
}

#[test]
fn no_allocation_per_call_after_the_first() {
    let n = allocations_after_warm_up("alloc.ok", work, 10_000);
    assert_eq!(n, 0, "allocations during 10,000 tracked calls");
    let (n, _) = allocations_during(|| work(u64::MAX));
    assert_eq!(n, 0, "a failing tracked call allocated");
    assert_eq!(coord::operation("alloc.ok").unwrap().calls, 10_002 + 49);
}
