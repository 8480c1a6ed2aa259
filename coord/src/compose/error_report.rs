//! The error report: the error registry's numbers joined with every breaker's state, and its
//! section of the global report (the error registry cannot write it alone: it does not know the
//! breakers).

use std::fmt;
use std::sync::Arc;

use crate::breaker::{self, BreakerSnapshot};
use crate::contract::Section;
use crate::contract::exposition::Exposition;
use crate::contract::table::{self, Align::Left, Align::Right};
use crate::errors::section::{ERRORS_TOTAL, OPERATION_FINAL_FAILURES_TOTAL, RETRY_CALLS_TOTAL};
use crate::errors::{
    self, ErrorRecord, ErrorRow, OperationErrors, RetryStats, Severity, SeverityCounts,
};
use crate::retry::RETRY_ATTEMPTS_TOTAL;
use crate::status::HealthStatus;

/// Everything the error registry knows, and the breakers' states; see [`crate::error_report()`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorReport {
    /// Failed attempts, retried or not (a gate's rejections are not failures: see
    /// [`RetryStats::rejected`]).
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
    pub fn find(&self, operation: &str) -> Option<&OperationErrors> {
        self.by_operation.iter().find(|o| o.operation == operation)
    }

    /// The row of `operation`: renamed [`find`](Self::find).
    #[deprecated(note = "renamed `find`")]
    pub fn operation(&self, operation: &str) -> Option<&OperationErrors> {
        self.find(operation)
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

impl Section for ErrorReport {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self;
        table::section(f, "Errors")?;
        writeln!(
            f,
            "  {} failed attempts, {} final failures, {} rejected (not errors), status {}",
            e.total_errors, e.final_failures, e.retry.rejected, e.health_status
        )?;
        writeln!(
            f,
            "  by severity: low {}, medium {}, high {}, critical {}",
            e.by_severity.low, e.by_severity.medium, e.by_severity.high, e.by_severity.critical
        )?;
        let r = &e.retry;
        writeln!(
            f,
            "  retries: {} sleeps, {} recovered, {} exhausted, {} permanent, {} budget-stopped, {} past deadline",
            r.retries,
            r.successes_after_retry,
            r.exhausted,
            r.permanent,
            r.budget_exhausted,
            r.deadline_exceeded
        )?;
        if e.by_operation.is_empty() {
            return Ok(());
        }
        table::table(
            f,
            &e.by_operation,
            &[
                ("operation", Left, |op| table::name(&op.operation)),
                ("errors", Right, |op| op.errors.to_string()),
                ("final", Right, |op| op.final_failures.to_string()),
                ("retries", Right, |op| op.retries.to_string()),
                ("recovered", Right, |op| {
                    op.successes_after_retry.to_string()
                }),
                ("rejected", Right, |op| op.rejected.to_string()),
                ("last error", Left, |op| {
                    let last = op
                        .last_error
                        .as_deref()
                        .map(table::name)
                        .unwrap_or_default();
                    if last.chars().count() > 60 {
                        last.chars().take(59).chain(['…']).collect()
                    } else {
                        last
                    }
                }),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        let errors = self;
        out.by_label(
            &ERRORS_TOTAL,
            "severity",
            [
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ]
            .map(|severity| (severity.as_str(), errors.by_severity.of(severity) as f64)),
        );
        out.per_row(
            &errors.by_operation,
            "operation",
            |op| &op.operation,
            &[
                (RETRY_ATTEMPTS_TOTAL, |op| op.retries as f64),
                (OPERATION_FINAL_FAILURES_TOTAL, |op| {
                    op.final_failures as f64
                }),
            ],
        );
        let r = &errors.retry;
        out.by_label(
            &RETRY_CALLS_TOTAL,
            "outcome",
            [
                ("success_after_retry", r.successes_after_retry),
                ("exhausted", r.exhausted),
                ("permanent", r.permanent),
                ("budget_exhausted", r.budget_exhausted),
                ("deadline_exceeded", r.deadline_exceeded),
                ("cancelled", r.cancelled),
                ("rejected", r.rejected),
            ]
            .map(|(outcome, count)| (outcome, count as f64)),
        );
    }
}
