//! The rate limiters' section of the report: a table and the `coord_rate_limiter_*` families,
//! shown once a rate limiter exists (reports of programs without one stay as they were).

use std::fmt;

use super::RateLimitSnapshot;
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

pub(crate) const REJECTED_CALLS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_rejected_calls_total",
    "Calls each rate limiter rejected.",
);
pub(crate) const WAITS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_waits_total",
    "Calls that waited for their turn.",
);
pub(crate) const WAIT_SECONDS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_wait_seconds_total",
    "Time calls spent waiting for their turn.",
);

impl Section for Vec<RateLimitSnapshot> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section_if_any(
            f,
            "Rate limiters",
            self,
            &[
                ("rate limiter", Left, |r| table::name(&r.name)),
                ("rate", Right, |r| {
                    format!("{}/{}", r.rate, table::duration(r.per))
                }),
                ("burst", Right, |r| r.burst.to_string()),
                ("available", Right, |r| r.available.to_string()),
                ("rejected", Right, |r| r.rejected.to_string()),
                ("waits", Right, |r| r.waits.to_string()),
                ("mean wait", Right, |r| {
                    table::mean_wait(r.total_wait, r.waits)
                }),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        out.per_row_if_any(
            self,
            "rate_limiter",
            |r| &r.name,
            &[
                (REJECTED_CALLS_TOTAL, |r| r.rejected as f64),
                (WAITS_TOTAL, |r| r.waits as f64),
                (WAIT_SECONDS_TOTAL, |r| r.total_wait.as_secs_f64()),
            ],
        );
    }
}
