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
//!
//! Each section is written by the mechanism that owns it (its `section.rs`); the list in
//! `crate::mechanisms` gives their order and the fields of [`Report`].

use std::fmt;

use crate::contract::exposition::{Exposition, Kind};
use crate::mechanisms::CAPPED;

pub use crate::mechanisms::Report;
pub use crate::timeout::TimeoutCount;

/// A fresh report of every registry (the door is `crate::report()`).
pub(crate) fn build() -> Report {
    crate::mechanisms::read_report()
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
        self.export_sections(&mut out);
        dropped_names(&mut out);
        out.finish()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "coord report")?;
        self.render_sections(f)
    }
}

/// The name of the family counting, per capped registry, the names sent to its overflow entry.
const DROPPED_NAMES_TOTAL: &str = "coord_dropped_names_total";

/// The family `coord_dropped_names_total{registry}`: one sample per capped registry, read now.
fn dropped_names(out: &mut Exposition) {
    out.family(
        DROPPED_NAMES_TOTAL,
        Kind::Counter,
        "Lookups of a new name that found the registry full and were given its shared entry coord.overflow.",
    );
    for registry in CAPPED {
        out.sample(
            DROPPED_NAMES_TOTAL,
            &[("registry", registry.label)],
            (registry.dropped)() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capped_registry_has_a_dropped_names_sample() {
        let mut e = Exposition::default();
        dropped_names(&mut e);
        let text = e.finish();
        assert!(
            text.contains("# TYPE coord_dropped_names_total counter\n"),
            "{text}"
        );
        for registry in CAPPED {
            let line = format!(
                "coord_dropped_names_total{{registry=\"{}\"}} ",
                registry.label
            );
            assert!(text.contains(&line), "{text}");
        }
    }
}
