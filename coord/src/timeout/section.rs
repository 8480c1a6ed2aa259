//! The time-outs' section of the report: time-outs per operation with a `#[timeout]`, shown
//! once one exists (reports of programs without one stay as they were).

use serde::Serialize;

use crate::contract::RowSection;
use crate::contract::exposition::{Family, PerRow};
use crate::contract::table::{self, Align::Left, Align::Right, Column};

pub(crate) const OPERATION_TIMEOUTS_TOTAL: Family = Family::counter(
    "coord_operation_timeouts_total",
    "{timeout}",
    "Calls or attempts of each operation that ran out of time.",
);

/// How many times an operation's calls or attempts ran out of time (`#[timeout]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TimeoutCount {
    /// The operation (its `#[track_performance]` name, else the function's default name).
    pub operation: String,
    /// Time-outs since start or reset, per-attempt and total together.
    pub timeouts: u64,
}

/// The rows of the section from `(operation, time-outs)` pairs sorted by name.
pub(crate) fn timeout_counts(counts: Vec<(String, u64)>) -> Vec<TimeoutCount> {
    counts
        .into_iter()
        .map(|(operation, timeouts)| TimeoutCount {
            operation,
            timeouts,
        })
        .collect()
}

impl RowSection for TimeoutCount {
    const TITLE: &'static str = "Time-outs";
    const COLUMNS: &'static [Column<Self>] = &[
        ("operation", Left, |t| table::name(&t.operation)),
        ("timeouts", Right, |t| t.timeouts.to_string()),
    ];
    const LABEL: &'static str = "operation";
    const PER_ROW: &'static [PerRow<Self>] = &[(OPERATION_TIMEOUTS_TOTAL, |t| t.timeouts as f64)];

    fn key(&self) -> &str {
        &self.operation
    }
}
