//! After the first call, a tracked call allocates nothing. Its own test binary, because it
//! installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use coord::track_performance;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// Sound: every method forwards to the system allocator unchanged and only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
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

#[track_performance("alloc.ok")]
fn work(x: u64) -> Result<u64, u64> {
    if x == u64::MAX { Err(x) } else { Ok(x + 1) }
}

#[test]
fn no_allocation_per_call_after_the_first() {
    work(0).unwrap();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..10_000 {
        std::hint::black_box(work(std::hint::black_box(i)).unwrap());
    }
    let _ = work(u64::MAX);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "allocations during 10,001 tracked calls");
    assert_eq!(coord::operation("alloc.ok").unwrap().calls, 10_002);
}
