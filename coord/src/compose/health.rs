//! Health inputs: the process-wide monitor counts open circuit breakers for its health score.
//! Neither `perf` nor `breaker` knows the other; this layer hands one to the other.

use std::sync::Once;

use crate::breaker;
use crate::perf::{self, KeyedGroupInput, PerformanceMonitor};

/// The process-wide monitor, wired to the breaker registry on first use.
pub(crate) fn monitor() -> &'static PerformanceMonitor {
    static WIRED: Once = Once::new();
    let monitor = perf::global();
    WIRED.call_once(|| monitor.breakers_from(open_breakers));
    monitor
}

/// Open breakers outside keyed groups, and each keyed group with open keys: keys often come
/// from user data, so a group weighs its share of open keys rather than one per key.
fn open_breakers() -> (usize, Vec<KeyedGroupInput>) {
    let groups = breaker::open_keyed_shares()
        .into_iter()
        .map(|(open, keys)| KeyedGroupInput::new(open, keys))
        .collect();
    (breaker::open_unkeyed(), groups)
}
