//! Every metric family of the Prometheus exposition, each with its OpenTelemetry unit. The
//! families and their units stay in their one home (the mechanisms' `section.rs`, gathered by
//! the mechanism list); this table only joins them, so the instruments can be created before
//! the first collection (an instrument cannot be created from inside a collection callback: the
//! SDK holds its pipeline lock while it runs them).

use std::sync::LazyLock;

use crate::contract::exposition::Family;
use crate::{mechanisms, report};

/// Every mechanism's families in the order of the list, then the report's own. The integration
/// test `tests/otel.rs` checks that a workload using every mechanism exposes no family missing
/// here. A new `outcome` value of a family needs nothing (samples are read from the
/// exposition); a new family needs its name in its mechanism's `families:` entry of `mechanisms.rs`.
pub(crate) static FAMILIES: LazyLock<Vec<Family>> = LazyLock::new(|| {
    mechanisms::FAMILIES
        .iter()
        .flat_map(|families| families.iter().copied())
        .chain([report::DROPPED_NAMES_TOTAL])
        .collect()
});

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
            otel_name("coord_queue_wait_seconds_total"),
            "coord_queue_wait"
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
        for family in FAMILIES.iter() {
            let (name, unit) = (family.name, family.unit());
            let want_seconds = name.ends_with("_seconds") || name.ends_with("_seconds_total");
            assert_eq!(unit == "s", want_seconds, "{name}");
            assert_eq!(unit == "1", name.ends_with("_ratio"), "{name}");
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FAMILIES.iter().map(|f| otel_name(f.name)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
    }
}
