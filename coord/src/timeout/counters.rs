//! The time-out counts of operations with a time limit, by name (capped like the other
//! registries), for the report.

use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::capped::{Capped, Lookup};

/// The time-outs of one operation, counted by its time limits (shown in the report).
#[derive(Debug)]
pub struct TimeoutCounter {
    pub(super) name: Arc<str>,
    pub(super) count: AtomicU64,
}

static TIMEOUTS: LazyLock<Capped<TimeoutCounter>> =
    LazyLock::new(|| Capped::new("timeout counter", 1_000));

/// The time-out counter of operation `name` (capped like the other registries).
pub(crate) fn timeout_count(name: &str) -> Arc<TimeoutCounter> {
    let make = |name: Arc<str>| TimeoutCounter {
        name,
        count: AtomicU64::new(0),
    };
    match TIMEOUTS.get_or_make(name, make) {
        Lookup::Found(c) | Lookup::Created(c) | Lookup::Overflow(c) => c,
    }
}

/// Lookups of a new operation name that found the time-out counters full, since start or the
/// last reset (for `coord_dropped_names_total`).
pub(crate) fn dropped_timeout_names() -> u64 {
    TIMEOUTS.dropped()
}

/// Every operation's time-out count, sorted by name.
pub(crate) fn timeout_counts() -> Vec<(String, u64)> {
    let mut counts: Vec<_> = TIMEOUTS
        .all()
        .iter()
        .map(|c| (c.name.to_string(), c.count.load(Relaxed)))
        .collect();
    counts.sort();
    counts
}

/// Zeroes every time-out count, for [`crate::reset`].
pub(crate) fn reset_timeouts() {
    TIMEOUTS
        .all()
        .iter()
        .for_each(|c| c.count.store(0, Relaxed));
    TIMEOUTS.reset_dropped();
}
