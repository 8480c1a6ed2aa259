//! Every metric family of the Prometheus exposition, with its OpenTelemetry unit. The names
//! stay in their one home (the mechanisms' `section.rs`); this table only lists them, so the
//! instruments can be created before the first collection (an instrument cannot be created
//! from inside a collection callback: the SDK holds its pipeline lock while it runs them).

use crate::contract::exposition::Family;
use crate::{
    breaker, bulkhead, chaos, errors, hedge, objective, perf, rate_limit, report, retry, timeout,
    validate,
};

/// A family and the OpenTelemetry unit of its values (UCUM, `{annotation}` for counts).
pub(crate) struct Mirrored {
    pub(crate) family: Family,
    pub(crate) unit: &'static str,
}

const fn m(family: Family, unit: &'static str) -> Mirrored {
    Mirrored { family, unit }
}

/// The families in the order of the exposition. The integration test `tests/otel.rs` checks
/// that a workload using every mechanism exposes no family missing here.
pub(crate) const FAMILIES: &[Mirrored] = &[
    // merge: rejected. A new `outcome` value of this family needs nothing here (samples are
    // read from the exposition); a new family needs its line (tests/otel.rs fails without it).
    m(perf::section::OPERATION_CALLS_TOTAL, "{call}"),
    m(perf::section::OPERATION_DURATION_SECONDS, "s"),
    m(perf::section::SYSTEM_CPU_USAGE_RATIO, "1"),
    m(perf::section::SYSTEM_MEMORY_USAGE_RATIO, "1"),
    m(perf::section::PROCESS_CPU_USAGE_RATIO, "1"),
    m(perf::section::PROCESS_MEMORY_USAGE_RATIO, "1"),
    m(perf::section::HEALTH_SCORE, "{point}"),
    m(perf::section::HEALTH_STATUS, "{status}"),
    m(perf::section::HEALTH_PENALTY, "{point}"),
    m(errors::section::ERRORS_TOTAL, "{error}"),
    m(errors::section::OPERATION_FINAL_FAILURES_TOTAL, "{call}"),
    m(errors::section::RETRY_CALLS_TOTAL, "{call}"),
    m(retry::RETRY_ATTEMPTS_TOTAL, "{attempt}"),
    m(breaker::section::STATE, "{state}"),
    m(breaker::section::FAILURE_RATIO, "1"),
    m(breaker::section::REJECTED_CALLS_TOTAL, "{call}"),
    m(breaker::section::TRANSITIONS_TOTAL, "{transition}"),
    m(bulkhead::section::IN_FLIGHT, "{call}"),
    m(bulkhead::section::MAX_CONCURRENT, "{call}"),
    m(bulkhead::section::LIMIT_CEILING, "{call}"),
    m(bulkhead::section::REJECTED_CALLS_TOTAL, "{call}"),
    m(bulkhead::section::WAITS_TOTAL, "{wait}"),
    m(bulkhead::section::WAIT_SECONDS_TOTAL, "s"),
    m(hedge::section::CALLS_TOTAL, "{call}"),
    m(hedge::section::STARTED_TOTAL, "{attempt}"),
    m(hedge::section::WON_TOTAL, "{call}"),
    m(hedge::section::DENIED_TOTAL, "{attempt}"),
    m(hedge::section::DELAY_SECONDS, "s"),
    m(rate_limit::section::REJECTED_CALLS_TOTAL, "{call}"),
    m(rate_limit::section::WAITS_TOTAL, "{wait}"),
    m(rate_limit::section::WAIT_SECONDS_TOTAL, "s"),
    m(rate_limit::section::SHARED, "{state}"),
    m(rate_limit::section::REDIS_CALLS_TOTAL, "{call}"),
    m(rate_limit::section::REDIS_SECONDS_TOTAL, "s"),
    m(rate_limit::section::REDIS_ERRORS_TOTAL, "{error}"),
    m(rate_limit::section::REDIS_TIMEOUTS_TOTAL, "{timeout}"),
    m(rate_limit::section::FALLBACK_CALLS_TOTAL, "{call}"),
    m(rate_limit::section::FALLBACK_REJECTED_TOTAL, "{call}"),
    m(timeout::section::OPERATION_TIMEOUTS_TOTAL, "{timeout}"),
    m(validate::section::VALIDATIONS_TOTAL, "{validation}"),
    m(validate::section::CHECKS_TOTAL, "{check}"),
    m(validate::section::COMPLIANCE_RATIO, "1"),
    m(report::DROPPED_NAMES_TOTAL, "{name}"),
    m(objective::section::OBJECTIVE_OPERATION_INFO, "{info}"),
    m(objective::section::OBJECTIVE_TARGET_RATIO, "1"),
    m(objective::section::OBJECTIVE_COMPLIANCE_RATIO, "1"),
    m(objective::section::OBJECTIVE_BURN_RATE, "{factor}"),
    m(
        objective::section::OBJECTIVE_ERROR_BUDGET_REMAINING_RATIO,
        "1",
    ),
    m(objective::section::OBJECTIVE_ALERT_FIRING, "{alert}"),
    m(chaos::section::INJECTED_TOTAL, "{fault}"),
];

/// The OpenTelemetry name of a Prometheus family name: without the `_total` of counters and
/// the unit suffix (`_seconds`, `_ratio`), which OpenTelemetry carries in the unit and which
/// OTLP-to-Prometheus translation appends again, so both paths end at the same series names.
pub(crate) fn otel_name(prometheus: &'static str) -> &'static str {
    let name = prometheus.strip_suffix("_total").unwrap_or(prometheus);
    name.strip_suffix("_seconds")
        .or_else(|| name.strip_suffix("_ratio"))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_total_and_unit_suffixes() {
        assert_eq!(
            otel_name("coord_operation_duration_seconds"),
            "coord_operation_duration"
        );
        assert_eq!(
            otel_name("coord_bulkhead_wait_seconds_total"),
            "coord_bulkhead_wait"
        );
        assert_eq!(
            otel_name("coord_operation_calls_total"),
            "coord_operation_calls"
        );
        assert_eq!(
            otel_name("coord_circuit_breaker_failure_ratio"),
            "coord_circuit_breaker_failure"
        );
        assert_eq!(otel_name("coord_health_score"), "coord_health_score");
    }

    #[test]
    fn units_match_the_suffixes() {
        for Mirrored { family, unit } in FAMILIES {
            let name = family.name;
            let want_seconds = name.ends_with("_seconds") || name.ends_with("_seconds_total");
            assert_eq!(*unit == "s", want_seconds, "{name}");
            assert_eq!(*unit == "1", name.ends_with("_ratio"), "{name}");
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FAMILIES.iter().map(|m| otel_name(m.family.name)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
    }
}
