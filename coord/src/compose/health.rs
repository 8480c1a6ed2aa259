//! Health inputs: the process-wide monitor counts open circuit breakers for its health score.
//! Neither `perf` nor `breaker` knows the other; this layer hands one to the other.

use std::sync::Once;

use crate::breaker;
use crate::perf::{self, PerformanceMonitor};

/// The process-wide monitor, wired to the breaker registry on first use.
pub(crate) fn monitor() -> &'static PerformanceMonitor {
    static WIRED: Once = Once::new();
    let monitor = perf::global();
    WIRED.call_once(|| monitor.open_breakers_from(breaker::open_count));
    monitor
}
