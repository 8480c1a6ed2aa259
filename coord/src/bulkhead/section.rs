//! The bulkheads' section of the report: a table and the `coord_bulkhead_*` families, shown
//! once a bulkhead exists (reports of programs without one stay as they were).

use std::fmt;

use super::BulkheadSnapshot;
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Kind};
use crate::contract::table::{self, Align::Left, Align::Right};

/// Calls each bulkhead holds a slot for (gauge).
pub(crate) const IN_FLIGHT: &str = "coord_bulkhead_in_flight";
/// Slots of each bulkhead (gauge).
pub(crate) const MAX_CONCURRENT: &str = "coord_bulkhead_max_concurrent";
/// Calls each bulkhead rejected (counter).
pub(crate) const REJECTED_CALLS_TOTAL: &str = "coord_bulkhead_rejected_calls_total";
/// Calls that waited for a slot (counter).
pub(crate) const WAITS_TOTAL: &str = "coord_bulkhead_waits_total";
/// Time calls spent waiting for a slot (counter).
pub(crate) const WAIT_SECONDS_TOTAL: &str = "coord_bulkhead_wait_seconds_total";

impl Section for Vec<BulkheadSnapshot> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        table::section(f, "Bulkheads")?;
        table::table(
            f,
            self,
            &[
                ("bulkhead", Left, |b| table::name(&b.name)),
                ("in flight", Right, |b| b.in_flight.to_string()),
                ("max", Right, |b| b.max_concurrent.to_string()),
                ("waiting", Right, |b| b.waiting.to_string()),
                ("accepted", Right, |b| b.accepted.to_string()),
                ("rejected", Right, |b| b.rejected.to_string()),
                ("waits", Right, |b| b.waits.to_string()),
                ("mean wait", Right, |b| {
                    table::mean_wait(b.total_wait, b.waits)
                }),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        if self.is_empty() {
            return;
        }
        out.per_row(
            self,
            "bulkhead",
            |b| &b.name,
            &[
                (
                    IN_FLIGHT,
                    Kind::Gauge,
                    "Calls each bulkhead holds a slot for.",
                    |b| b.in_flight as f64,
                ),
                (
                    MAX_CONCURRENT,
                    Kind::Gauge,
                    "Slots of each bulkhead.",
                    |b| b.max_concurrent as f64,
                ),
                (
                    REJECTED_CALLS_TOTAL,
                    Kind::Counter,
                    "Calls each bulkhead rejected.",
                    |b| b.rejected as f64,
                ),
                (
                    WAITS_TOTAL,
                    Kind::Counter,
                    "Calls that waited for a slot.",
                    |b| b.waits as f64,
                ),
                (
                    WAIT_SECONDS_TOTAL,
                    Kind::Counter,
                    "Time calls spent waiting for a slot.",
                    |b| b.total_wait.as_secs_f64(),
                ),
            ],
        );
    }
}
