//! The bulkhead registry: every named bulkhead, created on first use and never removed (up to a
//! cap), so handles cached by call sites stay valid.

use std::sync::{Arc, LazyLock};

use super::{Bulkhead, BulkheadConfig, BulkheadConfigError, BulkheadSnapshot};
use crate::capped::{Capped, Configurable};

/// Default cap on the number of named bulkheads in the registry (see [`bulkhead`]).
pub const DEFAULT_MAX_BULKHEADS: usize = 1_000;

/// The name of the one bulkhead shared by every name past the registry's cap.
pub const OVERFLOW_NAME: &str = crate::capped::OVERFLOW_NAME;

impl Configurable for Bulkhead {
    type Config = BulkheadConfig;
    type Error = BulkheadConfigError;

    fn validate(config: &BulkheadConfig) -> Result<(), BulkheadConfigError> {
        config.validate()
    }

    fn make(name: Arc<str>, config: BulkheadConfig) -> Self {
        Bulkhead::unchecked(name, &config)
    }

    fn configure(&self, config: BulkheadConfig) -> Result<(), BulkheadConfigError> {
        Bulkhead::configure(self, config)
    }
}

static REGISTRY: LazyLock<Capped<Bulkhead>> =
    LazyLock::new(|| Capped::new("bulkhead", DEFAULT_MAX_BULKHEADS));

/// The bulkhead called `name`, created with [`BulkheadConfig::default`] on first use.
///
/// The registry holds at most [`max_bulkheads`] names ([`DEFAULT_MAX_BULKHEADS`] unless
/// [`set_max_bulkheads`] changed it); a new name past the cap gets the one shared bulkhead
/// [`OVERFLOW_NAME`] (with the default configuration), and is counted in [`dropped_names`].
pub fn bulkhead(name: &str) -> Arc<Bulkhead> {
    REGISTRY.get(name)
}

/// The bulkhead called `name` with `config`: created with it, or reconfigured if it exists (the
/// last configuration applied wins). A name past the registry's cap gets the shared overflow
/// bulkhead, which keeps its own configuration.
pub fn bulkhead_with(
    name: &str,
    config: BulkheadConfig,
) -> Result<Arc<Bulkhead>, BulkheadConfigError> {
    REGISTRY.get_with(name, config)
}

/// The bulkhead called `name`, if it has been created (the overflow one is found by
/// [`OVERFLOW_NAME`]).
pub fn find(name: &str) -> Option<Arc<Bulkhead>> {
    REGISTRY.find(name)
}

/// The registry's cap on distinct names.
pub fn max_bulkheads() -> usize {
    REGISTRY.cap()
}

/// Sets the registry's cap on distinct names. Names already registered stay; a lower cap only
/// stops new ones.
pub fn set_max_bulkheads(cap: usize) {
    REGISTRY.set_cap(cap);
}

/// How many lookups of a new name found the registry full and got the overflow bulkhead.
pub fn dropped_names() -> u64 {
    REGISTRY.dropped()
}

/// Every registered bulkhead's numbers, sorted by name, the overflow bulkhead last.
pub fn snapshots() -> Vec<BulkheadSnapshot> {
    REGISTRY.all().iter().map(|b| b.snapshot()).collect()
}

/// Zeroes every bulkhead's counters and the dropped-name count, for [`crate::reset`]. Bulkheads,
/// their configurations and the slots of calls in flight stay, so cached handles keep working.
pub fn reset_all() {
    REGISTRY.reset_all(Bulkhead::reset_counters);
}
