//! The global report: everything the registries hold, for people (`Display`) and for tools
//! (`to_json`, `to_yaml`, `to_prometheus`).
//!
//! # Serialized schema
//!
//! `to_json()` and `to_yaml()` serialize the same tree. Field names are stable; durations are
//! milliseconds as floats with a `_ms` suffix; rates are ratios in `0.0..=1.0`.
//!
//! ```text
//! performance:
//!   operations:            # sorted by name; only operations with calls since start or reset
//!     - name, calls, successes, failures, cancelled, error_rate,
//!       total_ms, mean_ms, min_ms, max_ms, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, last_error,
//!       last_10s, last_60s:  # null unless the monitor runs
//!         span_ms, calls, successes, failures, call_rate, error_rate, p50_ms, p99_ms
//! breakers:               # sorted by name
//!   - name, state: closed | open | half_open | forced_open | disabled, failure_rate,
//!     slow_call_rate, calls_in_window, failures_in_window, half_open_in_flight, rejected,
//!     next_probe_in_ms, transitions, generation
//! errors:                  # also carries circuit_breaker_status (same rows as breakers)
//!   total_errors, final_failures, health_status: healthy | degraded | unhealthy
//!   by_severity: { low, medium, high, critical }
//!   by_operation:          # sorted by name
//!     - operation, errors, final_failures, retries, successes_after_retry,
//!       budget_exhausted, cancelled, last_error
//!   retry: { failed_attempts, retries, successes_after_retry, exhausted, permanent,
//!            budget_exhausted, deadline_exceeded, cancelled }
//!   recent:                # oldest first, bounded
//!     - operation, severity, error_type, message, attempt, outcome, at_unix_ms
//! validation:
//!   total, valid, invalid, compliance_score, passed_checks, applicable_checks
//!   rule_sets:             # sorted by name
//!     - name, total, valid, invalid, compliance_score, passed_checks, applicable_checks
//!   top_failures:          # most frequent first
//!     - rule_set, path, rule, count
//!   other_failures
//! bulkheads:               # sorted by name; empty until a bulkhead is used
//!   - name, in_flight, max_concurrent, max_wait_ms, waiting, accepted, rejected, waits,
//!     total_wait_ms
//! rate_limits:             # sorted by name; empty until a rate limiter is used
//!   - name, rate, per_ms, burst, max_wait_ms, available, rejected, waits, total_wait_ms
//! timeouts:                # operations with a #[timeout], sorted by name
//!   - operation, timeouts
//! system:                  # null before the first system sample
//!   health_status: healthy | degraded | unhealthy
//!   performance_score, cpu_usage, memory_usage   # score 0..=100, usage in %
//!   breakdown:
//!     cpu | memory | error_rate | latency | open_breakers:
//!       value, penalty, weight, status
//! ```

mod format;
mod prometheus;
mod render;
mod resilience;

pub use resilience::TimeoutCount;

use std::fmt;

use serde::Serialize;

use crate::breaker::{BreakerSnapshot, BreakerState};
use crate::bulkhead::BulkheadSnapshot;
use crate::compose::error_report::ErrorReport;
use crate::errors::Severity;
use crate::perf::{PerformanceReport, SystemHealth};
use crate::rate_limit::RateLimitSnapshot;
use crate::validate::ValidationReport;

pub(crate) use prometheus::CAPPED_REGISTRIES;
use prometheus::{Exposition, Kind};

/// Everything coord knows, read at one moment. Build one with [`report()`](crate::report()).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Every tracked operation.
    pub performance: PerformanceReport,
    /// Every circuit breaker, sorted by name.
    pub breakers: Vec<BreakerSnapshot>,
    /// Failed attempts, final failures and what the retry loops did.
    pub errors: ErrorReport,
    /// Every validation since start or reset, per rule set and by failing rule.
    pub validation: ValidationReport,
    /// Health of the host from the latest system sample; `None` before the first sample (start
    /// the monitor, or call `record_system_health`). Building a report never takes a sample.
    pub system: Option<SystemHealth>,
    /// Every bulkhead, sorted by name (the overflow one last).
    pub bulkheads: Vec<BulkheadSnapshot>,
    /// Every rate limiter, sorted by name (the overflow one last).
    pub rate_limits: Vec<RateLimitSnapshot>,
    /// Time-outs per operation with a `#[timeout]`, sorted by name.
    pub timeouts: Vec<TimeoutCount>,
}

/// A fresh report of every registry (the door is `crate::report()`).
pub(crate) fn build() -> Report {
    let monitor = crate::compose::health::monitor();
    Report {
        performance: monitor.performance_report(),
        breakers: crate::breaker::all(),
        errors: crate::compose::error_report::error_report(),
        validation: crate::validate::validator().validation_report(),
        system: monitor.current_health(),
        bulkheads: crate::bulkhead::snapshots(),
        rate_limits: crate::rate_limit::snapshots(),
        timeouts: resilience::timeout_counts(),
    }
}

/// Why a report could not be serialized.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// JSON serialization failed.
    Json(serde_json::Error),
    /// YAML serialization failed.
    Yaml(serde_norway::Error),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Json(e) => write!(f, "cannot write the report as JSON: {e}"),
            ReportError::Yaml(e) => write!(f, "cannot write the report as YAML: {e}"),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportError::Json(e) => Some(e),
            ReportError::Yaml(e) => Some(e),
        }
    }
}

impl Report {
    /// The report as pretty-printed JSON (schema in the [module docs](self)).
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(ReportError::Json)
    }

    /// The report as YAML (same schema as JSON).
    pub fn to_yaml(&self) -> Result<String, ReportError> {
        serde_norway::to_string(self).map_err(ReportError::Yaml)
    }

    /// The report in the Prometheus text exposition format, in base units (seconds, ratios).
    /// Latency is the histogram `coord_operation_duration_seconds` with the fixed bucket bounds
    /// of [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS), so instances aggregate.
    pub fn to_prometheus(&self) -> String {
        let mut out = Exposition::default();
        self.performance_metrics(&mut out);
        self.breaker_metrics(&mut out);
        self.error_metrics(&mut out);
        self.validation_metrics(&mut out);
        self.system_metrics(&mut out);
        self.resilience_metrics(&mut out);
        out.dropped_names();
        out.finish()
    }

    fn performance_metrics(&self, out: &mut Exposition) {
        let ops = &self.performance.operations;
        out.per_row_split(
            (
                "coord_operation_calls_total",
                Kind::Counter,
                "Calls of each tracked operation by outcome.",
            ),
            ops,
            ["operation", "outcome"],
            |op| &op.name,
            |op| {
                [
                    ("success", op.successes as f64),
                    ("failure", op.failures as f64),
                    ("cancelled", op.cancelled as f64),
                ]
            },
        );
        out.family(
            "coord_operation_duration_seconds",
            Kind::Histogram,
            "Latency of each tracked operation; buckets are a fixed 1-2-5 series from 100 us to 1 h.",
        );
        for op in ops {
            out.histogram(
                "coord_operation_duration_seconds",
                &[("operation", &op.name)],
                op.cumulative_buckets(),
                op.calls,
                op.total.as_secs_f64(),
            );
        }
    }

    fn breaker_metrics(&self, out: &mut Exposition) {
        out.per_row_split(
            (
                "coord_circuit_breaker_state",
                Kind::Gauge,
                "1 for each breaker's current state, 0 for the others.",
            ),
            &self.breakers,
            ["breaker", "state"],
            |b| &b.name,
            |b| {
                BreakerState::ALL
                    .map(|state| (state.metric_label(), f64::from(u8::from(b.state == state))))
            },
        );
        out.per_row(
            &self.breakers,
            "breaker",
            |b| &b.name,
            &[
                (
                    "coord_circuit_breaker_failure_ratio",
                    Kind::Gauge,
                    "Failure rate of each breaker's window (0..1).",
                    |b| b.failure_rate,
                ),
                (
                    "coord_circuit_breaker_rejected_calls_total",
                    Kind::Counter,
                    "Calls each breaker rejected.",
                    |b| b.rejected as f64,
                ),
                (
                    "coord_circuit_breaker_transitions_total",
                    Kind::Counter,
                    "State changes of each breaker.",
                    |b| b.transitions as f64,
                ),
            ],
        );
    }

    fn error_metrics(&self, out: &mut Exposition) {
        let errors = &self.errors;
        out.by_label(
            (
                "coord_errors_total",
                Kind::Counter,
                "Failed attempts by severity.",
            ),
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
                (
                    "coord_retry_attempts_total",
                    Kind::Counter,
                    "Attempts after the first (retries) by operation.",
                    |op| op.retries as f64,
                ),
                (
                    "coord_operation_final_failures_total",
                    Kind::Counter,
                    "Calls that failed for good, after any retries, by operation.",
                    |op| op.final_failures as f64,
                ),
            ],
        );
        let r = &errors.retry;
        out.by_label(
            (
                "coord_retry_calls_total",
                Kind::Counter,
                "How retried calls ended.",
            ),
            "outcome",
            [
                ("success_after_retry", r.successes_after_retry),
                ("exhausted", r.exhausted),
                ("permanent", r.permanent),
                ("budget_exhausted", r.budget_exhausted),
                ("deadline_exceeded", r.deadline_exceeded),
                ("cancelled", r.cancelled),
            ]
            .map(|(outcome, count)| (outcome, count as f64)),
        );
    }

    fn validation_metrics(&self, out: &mut Exposition) {
        let sets = &self.validation.rule_sets;
        out.per_row_split(
            (
                "coord_validations_total",
                Kind::Counter,
                "Validations by rule set and verdict.",
            ),
            sets,
            ["rule_set", "verdict"],
            |set| &set.name,
            |set| [("valid", set.valid as f64), ("invalid", set.invalid as f64)],
        );
        out.per_row_split(
            (
                "coord_validation_checks_total",
                Kind::Counter,
                "Applicable validation checks by rule set and outcome.",
            ),
            sets,
            ["rule_set", "outcome"],
            |set| &set.name,
            |set| {
                let failed = set.applicable_checks.saturating_sub(set.passed_checks);
                [
                    ("passed", set.passed_checks as f64),
                    ("failed", failed as f64),
                ]
            },
        );
        out.single(
            (
                "coord_validation_compliance_ratio",
                Kind::Gauge,
                "Passed over applicable checks, all validations since start or reset (0..1).",
            ),
            self.validation.compliance_score / 100.0,
        );
    }

    fn system_metrics(&self, out: &mut Exposition) {
        let Some(system) = &self.system else { return };
        out.single(
            (
                "coord_system_cpu_usage_ratio",
                Kind::Gauge,
                "CPU use of the whole machine at the latest sample (0..1).",
            ),
            system.cpu_usage / 100.0,
        );
        out.single(
            (
                "coord_system_memory_usage_ratio",
                Kind::Gauge,
                "Memory in use on the machine at the latest sample (0..1).",
            ),
            system.memory_usage / 100.0,
        );
        out.single(
            (
                "coord_health_score",
                Kind::Gauge,
                "coord's health score, 0 (worst) to 100 (best).",
            ),
            system.performance_score,
        );
        let status = system.health_status.to_string();
        out.by_label(
            (
                "coord_health_status",
                Kind::Gauge,
                "1 for the current health status, 0 for the others.",
            ),
            "status",
            ["healthy", "degraded", "unhealthy"].map(|s| (s, f64::from(u8::from(status == s)))),
        );
        out.by_label(
            (
                "coord_health_penalty",
                Kind::Gauge,
                "Points each input takes off the health score.",
            ),
            "input",
            system.breakdown.iter().map(|(input, c)| (input, c.penalty)),
        );
    }
}
