//! The rate limiters' section of the report: a table and the `coord_rate_limiter_*` families,
//! shown once a rate limiter exists (reports of programs without one stay as they were).

use std::fmt;

use super::RateLimitSnapshot;
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Kind};
use crate::contract::table::{self, Align::Left, Align::Right};

/// Calls each rate limiter rejected (counter).
pub(crate) const REJECTED_CALLS_TOTAL: &str = "coord_rate_limiter_rejected_calls_total";
/// Calls that waited for their turn (counter).
pub(crate) const WAITS_TOTAL: &str = "coord_rate_limiter_waits_total";
/// Time calls spent waiting for their turn (counter).
pub(crate) const WAIT_SECONDS_TOTAL: &str = "coord_rate_limiter_wait_seconds_total";

impl Section for Vec<RateLimitSnapshot> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        table::section(f, "Rate limiters")?;
        table::table(
            f,
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
        if self.is_empty() {
            return;
        }
        out.per_row(
            self,
            "rate_limiter",
            |r| &r.name,
            &[
                (
                    REJECTED_CALLS_TOTAL,
                    Kind::Counter,
                    "Calls each rate limiter rejected.",
                    |r| r.rejected as f64,
                ),
                (
                    WAITS_TOTAL,
                    Kind::Counter,
                    "Calls that waited for their turn.",
                    |r| r.waits as f64,
                ),
                (
                    WAIT_SECONDS_TOTAL,
                    Kind::Counter,
                    "Time calls spent waiting for their turn.",
                    |r| r.total_wait.as_secs_f64(),
                ),
            ],
        );
    }
}
