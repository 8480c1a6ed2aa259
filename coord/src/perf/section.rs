//! The operations' and the system's sections of the report: their tables and the
//! `coord_operation_*`, `coord_system_*`, `coord_process_*` and `coord_health_*` families.
//!
//! Operation latency is the histogram [`OPERATION_DURATION_SECONDS`] with the fixed bucket
//! bounds of [`EXPORT_BOUNDS`](super::EXPORT_BOUNDS) (a 1-2-5 series from 100 µs to 1 h), so
//! buckets from many processes add up and
//! `histogram_quantile(0.99, sum by (le, operation) (rate(coord_operation_duration_seconds_bucket[5m])))`
//! works across a fleet.

use std::fmt;

use super::{PerformanceReport, SystemHealth};
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

/// Also sent to the `metrics` facade on every call.
pub(crate) const OPERATION_CALLS_TOTAL: Family = Family::counter(
    "coord_operation_calls_total",
    "{call}",
    "Calls of each tracked operation by outcome: success, failure, cancelled, rejected (by a gate; not an error).",
);
/// Also sent to the `metrics` facade on every call.
pub(crate) const OPERATION_DURATION_SECONDS: Family = Family::histogram(
    "coord_operation_duration_seconds",
    "s",
    "Latency of each tracked operation; buckets are a fixed 1-2-5 series from 100 us to 1 h.",
);
pub(crate) const SYSTEM_CPU_USAGE_RATIO: Family = Family::gauge(
    "coord_system_cpu_usage_ratio",
    "1",
    "CPU use of the whole machine at the latest sample (0..1).",
);
pub(crate) const SYSTEM_MEMORY_USAGE_RATIO: Family = Family::gauge(
    "coord_system_memory_usage_ratio",
    "1",
    "Memory in use on the machine at the latest sample (0..1).",
);
pub(crate) const PROCESS_CPU_USAGE_RATIO: Family = Family::gauge(
    "coord_process_cpu_usage_ratio",
    "1",
    "CPU use of this process at the latest sample, of the cores it may use (0..1); the health score's cpu input.",
);
pub(crate) const PROCESS_MEMORY_USAGE_RATIO: Family = Family::gauge(
    "coord_process_memory_usage_ratio",
    "1",
    "Resident memory of this process at the latest sample, of the memory it may use (0..1); the health score's memory input.",
);
pub(crate) const HEALTH_SCORE: Family = Family::gauge(
    "coord_health_score",
    "{point}",
    "coord's health score, 0 (worst) to 100 (best).",
);
pub(crate) const HEALTH_STATUS: Family = Family::gauge(
    "coord_health_status",
    "{status}",
    "1 for the current health status, 0 for the others.",
);
pub(crate) const HEALTH_PENALTY: Family = Family::gauge(
    "coord_health_penalty",
    "{point}",
    "Points each input takes off the health score.",
);

/// The `le` label of each bucket: [`EXPORT_BOUNDS`](super::EXPORT_BOUNDS) in seconds, then
/// `+Inf`.
const LE: [&str; 25] = [
    "0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2",
    "0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "3600", "+Inf",
];

impl Section for PerformanceReport {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section(f, "Operations")?;
        if self.operations.is_empty() {
            return writeln!(f, "  (no calls recorded)");
        }
        table::table(
            f,
            &self.operations,
            &[
                ("operation", Left, |op| table::name(&op.name)),
                ("calls", Right, |op| op.calls.to_string()),
                ("failed", Right, |op| op.failures.to_string()),
                ("rejected", Right, |op| op.rejected.to_string()),
                ("error %", Right, |op| table::percent(op.error_rate)),
                ("mean", Right, |op| table::duration(op.mean)),
                ("p50", Right, |op| table::duration(op.p50)),
                ("p95", Right, |op| table::duration(op.p95)),
                ("p99", Right, |op| table::duration(op.p99)),
                ("max", Right, |op| table::duration(op.max)),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        let ops = &self.operations;
        out.per_row_split(
            &OPERATION_CALLS_TOTAL,
            ops,
            ["operation", "outcome"],
            |op| &op.name,
            |op| {
                [
                    ("success", op.successes as f64),
                    ("failure", op.failures as f64),
                    ("cancelled", op.cancelled as f64),
                    ("rejected", op.rejected as f64),
                ]
            },
        );
        out.family(&OPERATION_DURATION_SECONDS);
        for op in ops {
            out.histogram(
                OPERATION_DURATION_SECONDS.name,
                &[("operation", &op.name)],
                &LE,
                op.cumulative_buckets(),
                // Rejections are not timed: the count is the +Inf bucket's.
                op.calls.saturating_sub(op.rejected),
                op.total.as_secs_f64(),
                &op.exemplars,
            );
        }
    }
}

impl Section for Option<SystemHealth> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section(f, "System health")?;
        let Some(system) = self else {
            return writeln!(
                f,
                "  (no sample yet: start the monitor or call record_system_health)"
            );
        };
        writeln!(
            f,
            "  status {}, score {:.1}/100, process cpu {:.1}%, memory {:.1}% (machine cpu {:.1}%, memory {:.1}%: information only)",
            system.health_status,
            system.performance_score,
            system.process_cpu_usage,
            system.process_memory_usage,
            system.cpu_usage,
            system.memory_usage
        )?;
        table::table(
            f,
            system.breakdown.iter(),
            &[
                ("input", Left, |(input, _)| input.to_string()),
                ("value", Right, |(_, c)| format!("{:.3}", c.value)),
                ("penalty", Right, |(_, c)| format!("{:.1}", c.penalty)),
                ("of", Right, |(_, c)| format!("{:.0}", c.weight)),
                ("status", Left, |(_, c)| c.status.to_string()),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        let Some(system) = self else { return };
        out.single(&SYSTEM_CPU_USAGE_RATIO, system.cpu_usage / 100.0);
        out.single(&SYSTEM_MEMORY_USAGE_RATIO, system.memory_usage / 100.0);
        out.single(&PROCESS_CPU_USAGE_RATIO, system.process_cpu_usage / 100.0);
        out.single(
            &PROCESS_MEMORY_USAGE_RATIO,
            system.process_memory_usage / 100.0,
        );
        out.single(&HEALTH_SCORE, system.performance_score);
        let status = system.health_status.to_string();
        out.by_label(
            &HEALTH_STATUS,
            "status",
            ["healthy", "degraded", "unhealthy"].map(|s| (s, f64::from(u8::from(status == s)))),
        );
        out.by_label(
            &HEALTH_PENALTY,
            "input",
            system.breakdown.iter().map(|(input, c)| (input, c.penalty)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_labels_match_the_export_bounds() {
        use super::super::EXPORT_BOUNDS;
        assert_eq!(LE.len(), EXPORT_BOUNDS.len() + 1);
        for (le, bound) in LE.iter().zip(EXPORT_BOUNDS) {
            assert_eq!(le.parse::<f64>().unwrap(), bound.as_secs_f64(), "{le}");
        }
        assert_eq!(LE[LE.len() - 1], "+Inf");
    }
}
