//! The hedge registry: every named hedge, created on first use and never removed (up to a cap),
//! so handles held by callers stay valid. The functions are those of every mechanism's
//! registry, written once in [`crate::capped::registry`].

use super::{Hedge, HedgeConfig, HedgeConfigError, HedgeSnapshot};

crate::capped::registry! {
    Hedge { config: HedgeConfig, error: HedgeConfigError, snapshot: HedgeSnapshot }
    noun: "hedge", default_cap: DEFAULT_MAX_HEDGES = 1_000,
    get: hedge, get_with: hedge_with, max: max_hedges, set_max: set_max_hedges,
    make: Hedge::unchecked,
    /// Zeroes every hedge's counters and forgets the latencies it learned, for
    /// [`crate::reset`]; hedges and their configurations stay.
    reset: Hedge::reset_counters,
}
