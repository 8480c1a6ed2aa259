//! The success path of `#[retry]` and `RetryPolicy::call` allocates nothing (own binary: it
//! installs a counting global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use coord::{RetryPolicy, retry};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[retry(max_retries = 3, base_delay = "1ms")]
fn succeed(x: u64) -> Result<u64, String> {
    Ok(x + 1)
}

#[test]
fn first_attempt_successes_do_not_allocate() {
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), 2.0).named("alloc.policy");
    // Warm up: the call site and the budget registry allocate once, on first use.
    succeed(0).unwrap();
    let _: Result<u64, String> = policy.call(|| Ok(1));

    let before = ALLOCATIONS.load(SeqCst);
    for i in 0..1_000 {
        succeed(i).unwrap();
        let _: Result<u64, String> = policy.call(|| Ok(i));
    }
    assert_eq!(ALLOCATIONS.load(SeqCst) - before, 0);
}
