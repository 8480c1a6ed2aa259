//! Caps on the registries keyed by run-time names, in one place.
//!
//! Every registry keyed by names (operations, retry budgets, breakers, error rows, ...)
//! holds at most a capped number of distinct names. A new name past the cap is given the
//! registry's one shared entry [`OVERFLOW_NAME`] (`coord.overflow`) instead of new memory; the
//! first time, a `tracing` warning names the registry; every time, its count in
//! [`dropped_names`] (and in the Prometheus family `coord_dropped_names_total{registry}`) goes
//! up. Names already registered stay when a cap is lowered; a higher cap lets new names in
//! again. [`crate::reset`] zeroes the counts and keeps the caps.
//!
//! Names of any content are accepted as they are (empty ones too); names longer than
//! [`MAX_NAME_BYTES`] are cut to that many bytes on a character boundary. Control characters
//! are kept and escaped in every output (table, JSON, YAML, Prometheus).
//!
//! ```
//! coord::limits::set_max_operations(20_000);
//! assert_eq!(coord::limits::max_operations(), 20_000);
//! let dropped = coord::limits::dropped_names();
//! assert!(dropped.iter().any(|(registry, _)| *registry == "operations"));
//! # coord::limits::set_max_operations(coord::limits::DEFAULT_MAX_OPERATIONS);
//! ```

// Each mechanism's default cap, its reader and its setter, as the list registers them.
pub use crate::mechanisms::caps::*;

/// The name of the entry every registry gives to names past its cap.
pub const OVERFLOW_NAME: &str = crate::capped::OVERFLOW_NAME;

/// Longest name a registry keeps, in bytes; longer names are cut on a character boundary.
pub const MAX_NAME_BYTES: usize = crate::capped::MAX_NAME_BYTES;

/// For every capped registry, by the `registry` label of `coord_dropped_names_total`
/// (`"operations"`, `"retry_budgets"`, `"breakers"`, ...): how many lookups of a new name found
/// it full since start or the last [`crate::reset`].
pub fn dropped_names() -> Vec<(&'static str, u64)> {
    crate::mechanisms::CAPPED
        .iter()
        .map(|registry| (registry.label, (registry.dropped)()))
        .collect()
}
