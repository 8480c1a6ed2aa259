//! The error registry's metric names. Its report section is written by
//! [`ErrorReport`](crate::ErrorReport), which joins these numbers with the breakers' states
//! one layer up (`crate::compose::error_report`).

/// Failed attempts by severity (counter; also sent to the `metrics` facade).
pub(crate) const ERRORS_TOTAL: &str = "coord_errors_total";
/// Calls that failed for good, after any retries, by operation (counter).
pub(crate) const OPERATION_FINAL_FAILURES_TOTAL: &str = "coord_operation_final_failures_total";
/// How retried calls ended (counter; also sent to the `metrics` facade).
pub(crate) const RETRY_CALLS_TOTAL: &str = "coord_retry_calls_total";
