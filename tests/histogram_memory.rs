//! Memory of operation histograms: what an operation seen once costs, that reading an unused one
//! allocates nothing, and that memory stays flat over many calls. Its own test binary, because it
//! installs a counting global allocator; one `#[test]`, because the counters are process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use coord::perf::Outcome;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// Sound: every method forwards to the system allocator unchanged and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        LIVE_BYTES.fetch_add(layout.size(), Ordering::SeqCst);
        // SAFETY: same contract as the caller's, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System` with `layout` in `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE_BYTES.load(Ordering::SeqCst)
}

fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::SeqCst)
}

/// Live bytes per operation created and recorded once, registry entry included.
fn bytes_per_operation_seen_once(count: usize) -> usize {
    let names: Vec<String> = (0..count).map(|i| format!("hm.once.{i}")).collect();
    let before = live();
    for name in &names {
        coord::monitor()
            .operation_handle(name)
            .record(Duration::from_micros(150), Outcome::Success);
    }
    (live() - before) / count
}

fn an_unused_operation_allocates_nothing_when_read() {
    let op = coord::monitor().operation_handle("hm.unused");
    let before = allocations();
    let snapshot = op.histogram();
    assert_eq!(allocations() - before, 0, "snapshot of an unused operation");
    assert_eq!(snapshot.count(), 0);
    assert_eq!(op.calls(), 0);
}

/// Every chunk in use after one value per power of two; no byte more over 10 M calls spread
/// over the whole range.
fn memory_stays_flat_over_ten_million_calls() {
    let op = coord::monitor().operation_handle("hm.flat");
    let before = live();
    // 2^48 ns spans every chunk and the overflow bucket.
    let value = |i: u64| Duration::from_nanos((i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 16);
    for power in 0..=48 {
        op.record(Duration::from_nanos(1 << power), Outcome::Success);
    }
    let grown = live() - before;
    assert!(grown <= 42 * 512, "{grown} bytes for every chunk");
    let (bytes, calls) = (live(), allocations());
    for i in 49..10_000_000 {
        op.record(value(i), Outcome::Success);
    }
    assert_eq!(
        allocations() - calls,
        0,
        "allocations after every chunk is in use"
    );
    assert_eq!(live(), bytes);
    assert_eq!(op.calls(), 10_000_000);
}

#[test]
fn operation_memory() {
    // Warm-up: the registry, the environment configuration and the thread's shard.
    coord::monitor()
        .operation_handle("hm.warm")
        .record(Duration::from_micros(1), Outcome::Success);
    let per_operation = bytes_per_operation_seen_once(2_000);
    eprintln!("an operation seen once: {per_operation} bytes");
    assert!(
        per_operation <= 2_048,
        "{per_operation} bytes per operation"
    );
    an_unused_operation_allocates_nothing_when_read();
    memory_stays_flat_over_ten_million_calls();
}
