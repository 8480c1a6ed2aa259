//! The circuit breakers' section of the report: a table and the `coord_circuit_breaker_*`
//! families.

use std::fmt;

use super::{BreakerSnapshot, BreakerState};
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

/// Also sent to the `metrics` facade on every state change.
pub(crate) const STATE: Family = Family::gauge(
    "coord_circuit_breaker_state",
    "{state}",
    "1 for each breaker's current state, 0 for the others.",
);
pub(crate) const FAILURE_RATIO: Family = Family::gauge(
    "coord_circuit_breaker_failure_ratio",
    "1",
    "Failure rate of each breaker's window (0..1).",
);
pub(crate) const REJECTED_CALLS_TOTAL: Family = Family::counter(
    "coord_circuit_breaker_rejected_calls_total",
    "{call}",
    "Calls each breaker rejected.",
);
pub(crate) const TRANSITIONS_TOTAL: Family = Family::counter(
    "coord_circuit_breaker_transitions_total",
    "{transition}",
    "State changes of each breaker.",
);

impl Section for Vec<BreakerSnapshot> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section(f, "Circuit breakers")?;
        if self.is_empty() {
            return writeln!(f, "  (none)");
        }
        table::table(
            f,
            self,
            &[
                ("breaker", Left, |b| table::name(&b.name)),
                ("state", Left, |b| b.state.to_string()),
                ("failure %", Right, |b| table::percent(b.failure_rate)),
                ("window", Right, |b| b.calls_in_window.to_string()),
                ("rejected", Right, |b| b.rejected.to_string()),
                ("next probe", Right, |b| {
                    b.next_probe_in
                        .map(table::duration)
                        .unwrap_or_else(|| "-".into())
                }),
                ("transitions", Right, |b| b.transitions.to_string()),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        out.per_row_split(
            &STATE,
            self,
            ["breaker", "state"],
            |b| &b.name,
            |b| {
                BreakerState::ALL
                    .map(|state| (state.metric_label(), f64::from(u8::from(b.state == state))))
            },
        );
        out.per_row(
            self,
            "breaker",
            |b| &b.name,
            &[
                (FAILURE_RATIO, |b| b.failure_rate),
                (REJECTED_CALLS_TOTAL, |b| b.rejected as f64),
                (TRANSITIONS_TOTAL, |b| b.transitions as f64),
            ],
        );
    }
}
