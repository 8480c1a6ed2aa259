//! A counting global allocator for the allocation tests. Only the measuring thread's
//! allocations count, so the harness's other threads (and sibling tests running meanwhile)
//! never disturb a count. A binary opts in with
//! `#[global_allocator] static GLOBAL: support::alloc::Counting = support::alloc::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to the system allocator and counts the measuring thread's allocations.
pub struct Counting;

thread_local! {
    /// `Some(n)` while this thread is measured: `n` allocations so far. A `const` initializer
    /// with no destructor, so reading it from inside the allocator never allocates.
    static MEASURED: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the counting touches only a `Cell` of this thread and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc`, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this `layout` (see `alloc` and `realloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `realloc`, forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Counts one allocation if this thread is measured.
fn count() {
    // `try_with`: a thread being torn down has no thread-locals left and is not measured.
    let _ = MEASURED.try_with(|m| {
        if let Some(n) = m.get() {
            m.set(Some(n + 1));
        }
    });
}

/// A measurement of this thread's allocations, from [`Measure::start`] to [`Measure::stop`];
/// for code that cannot sit in a closure (an `async` body between awaits).
pub struct Measure {
    outer: Option<usize>,
}

impl Measure {
    /// Starts counting this thread's allocations. A measurement started inside another one
    /// counts in the outer one too.
    pub fn start() -> Self {
        Measure {
            outer: MEASURED.replace(Some(0)),
        }
    }

    /// How many allocations this thread made since [`Measure::start`].
    pub fn stop(self) -> usize {
        let n = MEASURED.get().unwrap_or(0);
        MEASURED.set(self.outer.map(|k| k + n));
        n
    }
}

/// Runs `f` and returns how many allocations this thread made during it (a `realloc` counts
/// as one), with `f`'s result.
pub fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let measure = Measure::start();
    let result = f();
    (measure.stop(), result)
}
