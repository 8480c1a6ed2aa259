//! The error report: the error registry's numbers joined with every breaker's state.

use std::sync::Arc;

use crate::breaker::{self, BreakerSnapshot};
use crate::errors::{self, ErrorRecord, ErrorRow, OperationErrors, RetryStats, SeverityCounts};
use crate::status::HealthStatus;

/// Everything the error registry knows, and the breakers' states; see [`crate::error_report()`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorReport {
    /// Failed attempts, retried or not.
    pub total_errors: u64,
    /// Calls that failed for good.
    pub final_failures: u64,
    /// Failed attempts per severity.
    pub by_severity: SeverityCounts,
    /// Per operation, sorted by name.
    pub by_operation: Vec<OperationErrors>,
    /// What the retry loops did.
    pub retry: RetryStats,
    /// The latest failed attempts, oldest first (bounded, see
    /// [`set_recent_capacity`](crate::errors::set_recent_capacity)).
    pub recent: Vec<ErrorRecord>,
    /// From recent final failures: unhealthy after a critical one in the last five minutes,
    /// degraded after a high-severity one or ten of any severity, healthy otherwise.
    pub health_status: HealthStatus,
    /// Every circuit breaker's state and window, sorted by name.
    pub circuit_breaker_status: Vec<BreakerSnapshot>,
}

impl ErrorReport {
    /// The row of `operation`, if it recorded an error.
    pub fn operation(&self, operation: &str) -> Option<&OperationErrors> {
        self.by_operation.iter().find(|o| o.operation == operation)
    }
}

/// The global error report: totals, per severity and operation, retry statistics, recent
/// errors, a health verdict and every breaker's state.
pub(crate) fn error_report() -> ErrorReport {
    joined(errors::summary(), breaker::all())
}

/// The report of one operation: its row (`None`: nothing recorded yet) and the breaker of the
/// same name, if any.
pub(crate) fn operation_report(row: Option<&Arc<ErrorRow>>, name: &str) -> ErrorReport {
    let breakers = breaker::find(name)
        .map(|b| b.snapshot())
        .into_iter()
        .collect();
    joined(errors::summary_of(row), breakers)
}

fn joined(errors: errors::ErrorSummary, breakers: Vec<BreakerSnapshot>) -> ErrorReport {
    ErrorReport {
        total_errors: errors.total_errors,
        final_failures: errors.final_failures,
        by_severity: errors.by_severity,
        by_operation: errors.by_operation,
        retry: errors.retry,
        recent: errors.recent,
        health_status: errors.health_status,
        circuit_breaker_status: breakers,
    }
}
