//! The bulkheads' section of the report: a table and the `coord_bulkhead_*` families, shown
//! once a bulkhead exists (reports of programs without one stay as they were).

use super::BulkheadSnapshot;
use crate::contract::RowSection;
use crate::contract::exposition::{Family, PerRow};
use crate::contract::table::{self, Align::Left, Align::Right, Column};

pub(crate) const IN_FLIGHT: Family = Family::gauge(
    "coord_bulkhead_in_flight",
    "{call}",
    "Calls each bulkhead holds a slot for.",
);
pub(crate) const MAX_CONCURRENT: Family = Family::gauge(
    "coord_bulkhead_max_concurrent",
    "{call}",
    "Slots of each bulkhead now (an adaptive limit moves).",
);
pub(crate) const LIMIT_CEILING: Family = Family::gauge(
    "coord_bulkhead_limit_ceiling",
    "{call}",
    "The configured max_concurrent of each bulkhead: an adaptive limit stays below it.",
);
pub(crate) const REJECTED_CALLS_TOTAL: Family = Family::counter(
    "coord_bulkhead_rejected_calls_total",
    "{call}",
    "Calls each bulkhead rejected.",
);
pub(crate) const WAITS_TOTAL: Family = Family::counter(
    "coord_bulkhead_waits_total",
    "{wait}",
    "Calls that waited for a slot.",
);
pub(crate) const WAIT_SECONDS_TOTAL: Family = Family::counter(
    "coord_bulkhead_wait_seconds_total",
    "s",
    "Time calls spent waiting for a slot.",
);

impl RowSection for BulkheadSnapshot {
    const TITLE: &'static str = "Bulkheads";
    const COLUMNS: &'static [Column<Self>] = &[
        ("bulkhead", Left, |b| table::name(&b.name)),
        ("in flight", Right, |b| b.in_flight.to_string()),
        ("max", Right, |b| match b.adaptive {
            Some(algorithm) => {
                format!(
                    "{} ({} ≤ {})",
                    b.max_concurrent,
                    algorithm.name(),
                    b.ceiling
                )
            }
            None => b.max_concurrent.to_string(),
        }),
        ("waiting", Right, |b| b.waiting.to_string()),
        ("accepted", Right, |b| b.accepted.to_string()),
        ("rejected", Right, |b| b.rejected.to_string()),
        ("waits", Right, |b| b.waits.to_string()),
        ("mean wait", Right, |b| {
            table::mean_wait(b.total_wait, b.waits)
        }),
    ];
    const LABEL: &'static str = "bulkhead";
    const PER_ROW: &'static [PerRow<Self>] = &[
        (IN_FLIGHT, |b| b.in_flight as f64),
        (MAX_CONCURRENT, |b| b.max_concurrent as f64),
        (LIMIT_CEILING, |b| b.ceiling as f64),
        (REJECTED_CALLS_TOTAL, |b| b.rejected as f64),
        (WAITS_TOTAL, |b| b.waits as f64),
        (WAIT_SECONDS_TOTAL, |b| b.total_wait.as_secs_f64()),
    ];

    fn key(&self) -> &str {
        &self.name
    }
}
