//! The error registry's metric families. Its report section is written by
//! [`ErrorReport`](crate::ErrorReport), which joins these numbers with the breakers' states
//! one layer up (`crate::compose::error_report`).

use crate::contract::exposition::families;

families! {
    /// Also sent to the `metrics` facade on every failed attempt.
    ERRORS_TOTAL: counter("coord_errors_total", "{error}")
        "Failed attempts by severity.";
    OPERATION_FINAL_FAILURES_TOTAL: counter("coord_operation_final_failures_total", "{call}")
        "Calls that failed for good, after any retries, by operation.";
    /// Also sent to the `metrics` facade when a retried call ends.
    RETRY_CALLS_TOTAL: counter("coord_retry_calls_total", "{call}")
        "How retried calls ended.";
}
