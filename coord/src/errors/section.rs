//! The error registry's metric families. Its report section is written by
//! [`ErrorReport`](crate::ErrorReport), which joins these numbers with the breakers' states
//! one layer up (`crate::compose::error_report`).

use crate::contract::exposition::Family;

/// Also sent to the `metrics` facade on every failed attempt.
pub(crate) const ERRORS_TOTAL: Family = Family::counter(
    "coord_errors_total",
    "{error}",
    "Failed attempts by severity.",
);
pub(crate) const OPERATION_FINAL_FAILURES_TOTAL: Family = Family::counter(
    "coord_operation_final_failures_total",
    "{call}",
    "Calls that failed for good, after any retries, by operation.",
);
/// Also sent to the `metrics` facade when a retried call ends.
pub(crate) const RETRY_CALLS_TOTAL: Family = Family::counter(
    "coord_retry_calls_total",
    "{call}",
    "How retried calls ended.",
);
