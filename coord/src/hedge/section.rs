//! The hedges' section of the report: a table and the `coord_hedge_*` families, shown once a
//! hedge exists. The extra load hedging puts on a downstream is `hedges_started ÷ calls`.

use super::HedgeSnapshot;
use crate::contract::RowSection;
use crate::contract::exposition::{Family, PerRow};
use crate::contract::table::{self, Align::Left, Align::Right, Column};

pub(crate) const CALLS_TOTAL: Family = Family::counter(
    "coord_hedge_calls_total",
    "{race}",
    "Races each hedge ran: one per call, or one per attempt of a retried call.",
);
pub(crate) const STARTED_TOTAL: Family = Family::counter(
    "coord_hedge_started_total",
    "{attempt}",
    "Extra attempts each hedge started (the extra load on the downstream).",
);
pub(crate) const WON_TOTAL: Family = Family::counter(
    "coord_hedge_won_total",
    "{race}",
    "Races an extra attempt answered first.",
);
pub(crate) const DENIED_TOTAL: Family = Family::counter(
    "coord_hedge_denied_total",
    "{attempt}",
    "Extra attempts held back (an open breaker, an empty retry budget).",
);
pub(crate) const DELAY_SECONDS: Family = Family::gauge(
    "coord_hedge_delay_seconds",
    "s",
    "The delay after which each hedge starts an extra attempt now (NaN while unknown).",
);

impl RowSection for HedgeSnapshot {
    const TITLE: &'static str = "Hedges";
    const COLUMNS: &'static [Column<Self>] = &[
        ("hedge", Left, |h| table::name(&h.name)),
        ("calls", Right, |h| h.calls.to_string()),
        ("started", Right, |h| h.hedges_started.to_string()),
        ("won", Right, |h| h.hedges_won.to_string()),
        ("denied", Right, |h| h.hedges_denied.to_string()),
        ("delay", Right, |h| {
            h.delay.map_or_else(|| "-".to_owned(), table::duration)
        }),
    ];
    const LABEL: &'static str = "hedge";
    const PER_ROW: &'static [PerRow<Self>] = &[
        (CALLS_TOTAL, |h| h.calls as f64),
        (STARTED_TOTAL, |h| h.hedges_started as f64),
        (WON_TOTAL, |h| h.hedges_won as f64),
        (DENIED_TOTAL, |h| h.hedges_denied as f64),
        (DELAY_SECONDS, |h| {
            h.delay.map_or(f64::NAN, |d| d.as_secs_f64())
        }),
    ];

    fn key(&self) -> &str {
        &self.name
    }
}
