//! The time-outs' section of the report: time-outs per operation with a `#[timeout]`, shown
//! once one exists (reports of programs without one stay as they were).

use std::fmt;

use serde::Serialize;

use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

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

impl Section for Vec<TimeoutCount> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section_if_any(
            f,
            "Time-outs",
            self,
            &[
                ("operation", Left, |t| table::name(&t.operation)),
                ("timeouts", Right, |t| t.timeouts.to_string()),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        out.per_row_if_any(
            self,
            "operation",
            |t| &t.operation,
            &[(OPERATION_TIMEOUTS_TOTAL, |t| t.timeouts as f64)],
        );
    }
}
