//! Which histogram shard the current thread records into.
//!
//! Each thread takes the least-used shard the first time it records and gives it back when it
//! exits, so two busy threads land on different shards (different cache lines) even when threads
//! come and go, as in a thread pool that grows and shrinks.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::histogram::SHARDS;

static USERS: [AtomicUsize; SHARDS] = [const { AtomicUsize::new(0) }; SHARDS];

struct Slot(usize);

impl Slot {
    fn claim() -> Self {
        let index = (0..SHARDS)
            .min_by_key(|&i| USERS[i].load(Relaxed))
            .unwrap_or(0);
        USERS[index].fetch_add(1, Relaxed);
        Slot(index)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        USERS[self.0].fetch_sub(1, Relaxed);
    }
}

thread_local! {
    static SLOT: Slot = Slot::claim();
}

/// The current thread's shard (0 while the thread's locals are being torn down).
#[inline]
pub(crate) fn current() -> usize {
    SLOT.try_with(|slot| slot.0).unwrap_or(0)
}
