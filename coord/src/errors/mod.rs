//! The error registry: severities, failed attempts per operation and severity, what the retry
//! loops did, and the bounded list of recent failures behind [`crate::error_report()`].
//!
//! A mechanism layer: it imports only leaves. The retry loop reports into it through the
//! composition layer (`crate::compose`), which also runs [`ErrorHandler`](crate::ErrorHandler)
//! and joins the breakers' states into the [`ErrorReport`](crate::ErrorReport).

mod registry;
pub(crate) mod section;

use std::time::SystemTime;

pub use crate::status::AttemptOutcome;
use crate::status::HealthStatus;
pub use registry::{
    DEFAULT_RECENT_CAPACITY, MAX_MESSAGE_LEN, operation_errors, set_recent_capacity,
};
// Compatibility paths: the caps' documented home is `coord::limits`.
#[doc(hidden)]
pub use registry::{DEFAULT_MAX_ROWS, dropped_names, max_rows, set_max_rows};
pub(crate) use registry::{ErrorRow, ErrorSummary, find_row, reset_all, row, summary, summary_of};

named_enum! {
    /// How much a failure matters.
    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize,
    )]
    #[serde(rename_all = "lowercase")]
    pub enum Severity {
        /// Cosmetic or expected.
        Low = "low",
        /// Worth a look (the default).
        #[default]
        Medium = "medium",
        /// A feature is failing.
        High = "high",
        /// The service is failing.
        Critical = "critical",
    }
}

/// One failed attempt, as kept in [`ErrorReport::recent`](crate::ErrorReport::recent).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorRecord {
    /// The operation that failed.
    pub operation: String,
    /// Its severity.
    pub severity: Severity,
    /// The error's Rust type name.
    pub error_type: &'static str,
    /// The error's message, at most [`MAX_MESSAGE_LEN`] bytes (cut on a character boundary;
    /// `"<message unavailable>"` when the error's `Display` panicked).
    pub message: String,
    /// Which attempt failed (1 = the first).
    pub attempt: u32,
    /// Whether it was retried or ended the call, and why.
    pub outcome: AttemptOutcome,
    /// When it was recorded (serialized as `at_unix_ms`).
    #[serde(rename = "at_unix_ms", serialize_with = "crate::serde_ms::unix_ms")]
    pub at: SystemTime,
}

/// Failed attempts per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SeverityCounts {
    /// [`Severity::Low`].
    pub low: u64,
    /// [`Severity::Medium`].
    pub medium: u64,
    /// [`Severity::High`].
    pub high: u64,
    /// [`Severity::Critical`].
    pub critical: u64,
}

impl SeverityCounts {
    /// The count for `severity`.
    pub fn of(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }
}

/// What the retry loops did, process-wide. First attempts that succeed are not counted here
/// (that would put a shared counter on the success path); `#[track_performance]` counts calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RetryStats {
    /// Attempts that failed.
    pub failed_attempts: u64,
    /// Back-off sleeps started (each followed by another attempt unless cancelled).
    pub retries: u64,
    /// Calls that succeeded after at least one failed attempt.
    pub successes_after_retry: u64,
    /// Calls that failed after using all their retries.
    pub exhausted: u64,
    /// Calls that failed with an error classified as not retryable.
    pub permanent: u64,
    /// Calls that failed because the retry budget was empty.
    pub budget_exhausted: u64,
    /// Calls that failed because the next sleep would pass the deadline.
    pub deadline_exceeded: u64,
    /// Calls dropped after a failure and before finishing (an async call cancelled mid-sleep).
    pub cancelled: u64,
    /// Calls a gate rejected (open breaker, full bulkhead, rate limit): load shed by design,
    /// not failed attempts, in no severity and not in the recent failures.
    pub rejected: u64,
}

/// Errors of one operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct OperationErrors {
    /// The operation.
    pub operation: String,
    /// Failed attempts.
    pub errors: u64,
    /// Calls that failed for good.
    pub final_failures: u64,
    /// Back-off sleeps started.
    pub retries: u64,
    /// Calls that succeeded after a retry.
    pub successes_after_retry: u64,
    /// Calls stopped by an empty retry budget.
    pub budget_exhausted: u64,
    /// Calls cancelled after a failure.
    pub cancelled: u64,
    /// Calls a gate rejected: not errors (see [`RetryStats::rejected`]).
    pub rejected: u64,
    /// The latest error message, at most [`MAX_MESSAGE_LEN`] bytes: the same value as
    /// [`OperationStats::last_error`](crate::OperationStats::last_error) for this name.
    pub last_error: Option<String>,
}
