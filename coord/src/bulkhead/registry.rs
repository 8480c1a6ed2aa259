//! The bulkhead registry: every named bulkhead, created on first use and never removed (up to a
//! cap), so handles cached by call sites stay valid. The functions are those of every
//! mechanism's registry, written once in [`crate::capped::registry`].

use super::{Bulkhead, BulkheadConfig, BulkheadConfigError, BulkheadSnapshot};

crate::capped::registry! {
    Bulkhead { config: BulkheadConfig, error: BulkheadConfigError, snapshot: BulkheadSnapshot }
    noun: "bulkhead", default_cap: DEFAULT_MAX_BULKHEADS = 1_000,
    get: bulkhead, get_with: bulkhead_with, max: max_bulkheads, set_max: set_max_bulkheads,
    make: Bulkhead::unchecked,
    /// Zeroes every bulkhead's counters and the dropped-name count, for [`crate::reset`].
    /// Bulkheads, their configurations and the slots of calls in flight stay, so cached handles
    /// keep working.
    reset: Bulkhead::reset_counters,
}
