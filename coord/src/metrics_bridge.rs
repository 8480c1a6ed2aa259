//! Forwarding to the [`metrics`](https://docs.rs/metrics) facade (cargo feature `metrics`).
//!
//! With the feature on, every measurement coord records is also sent to whatever `metrics`
//! recorder the application installed, under the same names as the Prometheus exposition:
//! operation calls and latencies, failed attempts by severity, retries and how retried calls
//! ended, breaker states, validations and their checks. Operation handles are resolved on an
//! operation's first measurement and cached, so install the recorder before the first
//! instrumented call. Without the feature every type here is zero-sized and every call compiles
//! to nothing.
//!
//! A leaf on purpose: the registries call it on their recording paths, so it takes plain labels
//! and indices and knows nothing of them. Even the metric names are given by the callers: each
//! is declared once, beside what it measures (`section.rs` of its mechanism). Making it an
//! observer above the registries would put a dynamic call on every recorded call.

#[cfg(feature = "metrics")]
mod imp {
    use std::sync::OnceLock;

    /// A failed attempt (`coord_errors_total{severity}`).
    pub(crate) fn failed_attempt(name: &'static str, severity: &'static str) {
        metrics::counter!(name, "severity" => severity).increment(1);
    }

    /// A back-off sleep before another attempt (`coord_retry_attempts_total{operation}`).
    pub(crate) fn retry(name: &'static str, operation: &str) {
        metrics::counter!(name, "operation" => operation.to_owned()).increment(1);
    }

    /// How a retried call ended (`coord_retry_calls_total{outcome}`).
    pub(crate) fn retried_call(name: &'static str, outcome: &'static str) {
        metrics::counter!(name, "outcome" => outcome).increment(1);
    }

    /// A breaker changed state (`coord_circuit_breaker_state{breaker,state}`: 1 for the new
    /// state, 0 for the old one).
    pub(crate) fn breaker_state(
        name: &'static str,
        breaker: &str,
        from: &'static str,
        to: &'static str,
    ) {
        metrics::gauge!(name, "breaker" => breaker.to_owned(), "state" => from).set(0.0);
        metrics::gauge!(name, "breaker" => breaker.to_owned(), "state" => to).set(1.0);
    }

    /// One validation (`coord_validations_total`, `coord_validation_checks_total`).
    pub(crate) fn validation(
        [validations, checks]: [&'static str; 2],
        rule_set: &str,
        valid: bool,
        passed: u32,
        applicable: u32,
    ) {
        let verdict = if valid { "valid" } else { "invalid" };
        metrics::counter!(validations, "rule_set" => rule_set.to_owned(), "verdict" => verdict)
            .increment(1);
        let failed = applicable.saturating_sub(passed);
        metrics::counter!(checks, "rule_set" => rule_set.to_owned(), "outcome" => "passed")
            .increment(u64::from(passed));
        metrics::counter!(checks, "rule_set" => rule_set.to_owned(), "outcome" => "failed")
            .increment(u64::from(failed));
    }

    struct Handles {
        duration: metrics::Histogram,
        /// By [`OUTCOMES`](super::OUTCOMES) index.
        calls: [metrics::Counter; 4],
    }

    /// The cached `metrics` handles of one operation.
    #[derive(Default)]
    pub(crate) struct OperationMetrics {
        handles: OnceLock<Handles>,
    }

    impl OperationMetrics {
        #[inline]
        pub(crate) fn record(
            &self,
            [calls_name, duration_name]: [&'static str; 2],
            operation: &str,
            nanos: u64,
            outcome: usize,
        ) {
            let handles = self.handles.get_or_init(|| {
                let calls = |outcome: &'static str| {
                    metrics::counter!(
                        calls_name,
                        "operation" => operation.to_owned(),
                        "outcome" => outcome
                    )
                };
                Handles {
                    duration: metrics::histogram!(
                        duration_name,
                        "operation" => operation.to_owned()
                    ),
                    calls: super::OUTCOMES.map(calls),
                }
            });
            // A rejection did no work: its time is not the operation's latency.
            if super::OUTCOMES.get(outcome) != Some(&"rejected") {
                handles.duration.record(nanos as f64 / 1e9);
            }
            if let Some(calls) = handles.calls.get(outcome) {
                calls.increment(1);
            }
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod imp {
    #[inline(always)]
    pub(crate) fn failed_attempt(_name: &'static str, _severity: &'static str) {}
    #[inline(always)]
    pub(crate) fn retry(_name: &'static str, _operation: &str) {}
    #[inline(always)]
    pub(crate) fn retried_call(_name: &'static str, _outcome: &'static str) {}
    #[inline(always)]
    pub(crate) fn breaker_state(
        _name: &'static str,
        _breaker: &str,
        _from: &'static str,
        _to: &'static str,
    ) {
    }
    #[inline(always)]
    pub(crate) fn validation(
        _names: [&'static str; 2],
        _rule_set: &str,
        _valid: bool,
        _passed: u32,
        _applicable: u32,
    ) {
    }

    /// Zero-sized without the `metrics` feature.
    #[derive(Default)]
    pub(crate) struct OperationMetrics;

    impl OperationMetrics {
        #[inline(always)]
        pub(crate) fn record(
            &self,
            _names: [&'static str; 2],
            _operation: &str,
            _nanos: u64,
            _outcome: usize,
        ) {
        }
    }
}

/// The `outcome` label values of `coord_operation_calls_total`, indexed like
/// `crate::outcome::Outcome as usize` (success, failure, cancelled, rejected).
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) const OUTCOMES: [&str; 4] = ["success", "failure", "cancelled", "rejected"];

pub(crate) use imp::{
    OperationMetrics, breaker_state, failed_attempt, retried_call, retry, validation,
};
