//! After the first call (and once its histogram chunks exist), a tracked call allocates nothing. Its own test binary, because it
//! installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use coord::track_performance;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only allocations made by the thread that makes the calls count: other threads of the
    /// process (the test harness's, say) may allocate at any time and are not the call's cost.
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

// Sound: every method forwards to the system allocator unchanged and only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread being torn down has no thread-locals left, and is not counted.
        if COUNTED.try_with(std::cell::Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as the caller's, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` in `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records one value in every power of two of nanoseconds up to 2^48 (beyond the histogram's
/// range), so that every chunk of `name`'s histogram is allocated: a chunk is allocated the first
/// time a call's latency reaches its power of two, which would otherwise happen at random.
fn allocate_every_histogram_chunk(name: &str) {
    let op = coord::monitor().operation(name);
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

#[derive(Debug)]
struct Unavailable;

impl From<coord::CircuitOpen> for Unavailable {
    fn from(_: coord::CircuitOpen) -> Self {
        Unavailable
    }
}

#[track_performance("alloc.composed")]
#[coord::retry(max_retries = 2, base_delay = "1ms")]
#[coord::circuit_breaker(name = "alloc.composed")]
fn composed(x: u64) -> Result<u64, Unavailable> {
    Ok(x + 1)
}

#[tokio::main(flavor = "current_thread")]
async fn composed_async_calls(n: u64) -> u64 {
    #[track_performance("alloc.composed_async")]
    #[coord::retry(max_retries = 2, base_delay = "1ms")]
    #[coord::circuit_breaker(name = "alloc.composed_async")]
    async fn composed_async(x: u64) -> Result<u64, Unavailable> {
        Ok(x + 1)
    }
    allocate_every_histogram_chunk("alloc.composed_async");
    let mut sum = 0;
    // Warm-up: the first calls resolve the call-site handles and let tokio set up its
    // thread-locals; only what happens after that is per-call cost.
    for i in 0..100 {
        sum += composed_async(i).await.unwrap();
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..n {
        sum += composed_async(i).await.unwrap();
    }
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "async composed calls allocated"
    );
    sum
}

// Not a #[test] of its own: the allocation counter is process-wide, so the checks run one after
// another inside a single test.
fn composed_wrappers_allocate_nothing_on_success() {
    composed(0).unwrap();
    allocate_every_histogram_chunk("alloc.composed");
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..10_000 {
        std::hint::black_box(composed(std::hint::black_box(i)).unwrap());
    }
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "sync composed calls allocated"
    );
    assert!(composed_async_calls(1_000) > 0);
}

#[test]
fn no_allocation_per_call_after_the_first() {
    COUNTED.with(|counted| counted.set(true));
    work(0).unwrap();
    allocate_every_histogram_chunk("alloc.ok");
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..10_000 {
        std::hint::black_box(work(std::hint::black_box(i)).unwrap());
    }
    let _ = work(u64::MAX);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "allocations during 10,001 tracked calls");
    assert_eq!(coord::operation("alloc.ok").unwrap().calls, 10_002 + 49);
    composed_wrappers_allocate_nothing_on_success();
}
