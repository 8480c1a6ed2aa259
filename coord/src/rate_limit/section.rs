//! The rate limiters' section of the report: a table and the `coord_rate_limiter_*` families,
//! shown once a rate limiter exists (reports of programs without one stay as they were).

use super::{RateLimitSnapshot, SharedSnapshot};
use crate::contract::RowSection;
use crate::contract::exposition::{Exposition, Family, PerRow};
use crate::contract::table::{self, Align::Left, Align::Right, Column};

pub(crate) const REJECTED_CALLS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_rejected_calls_total",
    "{call}",
    "Calls each rate limiter rejected.",
);
pub(crate) const WAITS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_waits_total",
    "{wait}",
    "Calls that waited for their turn.",
);
pub(crate) const WAIT_SECONDS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_wait_seconds_total",
    "s",
    "Time calls spent waiting for their turn.",
);

pub(crate) const SHARED: Family = Family::gauge(
    "coord_rate_limiter_shared",
    "{state}",
    "1 while a fleet-wide rate limiter's calls are decided by Redis, 0 while they are decided locally (Redis failed or is in back-off).",
);
pub(crate) const REDIS_CALLS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_redis_calls_total",
    "{call}",
    "Round trips to Redis a fleet-wide rate limiter made and Redis answered.",
);
pub(crate) const REDIS_SECONDS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_redis_seconds_total",
    "s",
    "Time those round trips took (divide by the calls for the mean latency).",
);
pub(crate) const REDIS_ERRORS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_redis_errors_total",
    "{error}",
    "Round trips to Redis that failed other than by time (refused, broken, a server error).",
);
pub(crate) const REDIS_TIMEOUTS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_redis_timeouts_total",
    "{timeout}",
    "Round trips Redis did not answer within the timeout.",
);
pub(crate) const FALLBACK_CALLS_TOTAL: Family = Family::counter(
    "coord_rate_limiter_fallback_calls_total",
    "{call}",
    "Calls of a fleet-wide rate limiter decided locally (admitted or rejected): Redis failed, was in back-off, or the call was not sent in time.",
);
pub(crate) const FALLBACK_REJECTED_TOTAL: Family = Family::counter(
    "coord_rate_limiter_fallback_rejected_total",
    "{call}",
    "Of those, the calls rejected locally (fail-closed, or this instance's share spent); not in coord_rate_limiter_rejected_calls_total.",
);

/// The `shared` column: where the limiter's calls are decided now, and the mean round trip.
fn shared_cell(r: &RateLimitSnapshot) -> String {
    match &r.shared {
        None => "local".into(),
        Some(s) if s.redis_calls == 0 => s.state.into(),
        Some(s) => format!(
            "{} {}",
            s.state,
            table::duration(
                s.redis_latency_total / u32::try_from(s.redis_calls).unwrap_or(u32::MAX)
            )
        ),
    }
}

impl RowSection for RateLimitSnapshot {
    const TITLE: &'static str = "Rate limiters";
    const COLUMNS: &'static [Column<Self>] = &[
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
        ("shared", Left, shared_cell),
        ("fallbacks", Right, |r| {
            r.shared
                .as_ref()
                .map_or_else(|| "–".into(), |s| s.fallbacks.to_string())
        }),
    ];
    const LABEL: &'static str = "rate_limiter";
    const PER_ROW: &'static [PerRow<Self>] = &[
        (REJECTED_CALLS_TOTAL, |r| r.rejected as f64),
        (WAITS_TOTAL, |r| r.waits as f64),
        (WAIT_SECONDS_TOTAL, |r| r.total_wait.as_secs_f64()),
    ];

    fn key(&self) -> &str {
        &self.name
    }

    /// Fleet-wide limiters only: a local limiter has no Redis to count.
    fn export_more(rows: &[Self], out: &mut Exposition) {
        let shared: Vec<(&str, &SharedSnapshot)> = rows
            .iter()
            .filter_map(|r| Some((r.name.as_str(), r.shared.as_ref()?)))
            .collect();
        if shared.is_empty() {
            return;
        }
        out.per_row(
            &shared,
            Self::LABEL,
            |(name, _)| name,
            &[
                (SHARED, |(_, s)| f64::from(u8::from(s.state == "redis"))),
                (REDIS_CALLS_TOTAL, |(_, s)| s.redis_calls as f64),
                (REDIS_SECONDS_TOTAL, |(_, s)| {
                    s.redis_latency_total.as_secs_f64()
                }),
                (REDIS_ERRORS_TOTAL, |(_, s)| s.redis_errors as f64),
                (REDIS_TIMEOUTS_TOTAL, |(_, s)| s.redis_timeouts as f64),
                (FALLBACK_CALLS_TOTAL, |(_, s)| s.fallbacks as f64),
                (FALLBACK_REJECTED_TOTAL, |(_, s)| s.fallback_rejected as f64),
            ],
        );
    }
}
