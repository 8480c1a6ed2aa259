//! The report's sections for the resilience layers: bulkheads, rate limiters and time-outs
//! per operation (Display and Prometheus; JSON and YAML serialize the same fields). A section
//! appears only once something uses the layer, so reports of programs without them stay as
//! they were.

use std::fmt;

use serde::Serialize;

use super::Report;
use super::format::{self, Align::Left, Align::Right};
use super::prometheus::{Exposition, Kind};

/// How many times an operation's calls or attempts ran out of time (`#[timeout]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TimeoutCount {
    /// The operation (its `#[track_performance]` name, else the function's default name).
    pub operation: String,
    /// Time-outs since start or reset, per-attempt and total together.
    pub timeouts: u64,
}

/// Every operation with a time limit, sorted by name.
pub(crate) fn timeout_counts() -> Vec<TimeoutCount> {
    crate::timeout::timeout_counts()
        .into_iter()
        .map(|(operation, timeouts)| TimeoutCount {
            operation,
            timeouts,
        })
        .collect()
}

impl Report {
    pub(super) fn render_resilience(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.bulkheads.is_empty() {
            format::section(f, "Bulkheads")?;
            format::table(
                f,
                &self.bulkheads,
                &[
                    ("bulkhead", Left, |b| format::name(&b.name)),
                    ("in flight", Right, |b| b.in_flight.to_string()),
                    ("max", Right, |b| b.max_concurrent.to_string()),
                    ("waiting", Right, |b| b.waiting.to_string()),
                    ("accepted", Right, |b| b.accepted.to_string()),
                    ("rejected", Right, |b| b.rejected.to_string()),
                    ("waits", Right, |b| b.waits.to_string()),
                    ("mean wait", Right, |b| mean_wait(b.total_wait, b.waits)),
                ],
            )?;
        }
        if !self.rate_limits.is_empty() {
            format::section(f, "Rate limiters")?;
            format::table(
                f,
                &self.rate_limits,
                &[
                    ("rate limiter", Left, |r| format::name(&r.name)),
                    ("rate", Right, |r| {
                        format!("{}/{}", r.rate, format::duration(r.per))
                    }),
                    ("burst", Right, |r| r.burst.to_string()),
                    ("available", Right, |r| r.available.to_string()),
                    ("rejected", Right, |r| r.rejected.to_string()),
                    ("waits", Right, |r| r.waits.to_string()),
                    ("mean wait", Right, |r| mean_wait(r.total_wait, r.waits)),
                ],
            )?;
        }
        if !self.timeouts.is_empty() {
            format::section(f, "Time-outs")?;
            format::table(
                f,
                &self.timeouts,
                &[
                    ("operation", Left, |t| format::name(&t.operation)),
                    ("timeouts", Right, |t| t.timeouts.to_string()),
                ],
            )?;
        }
        Ok(())
    }

    pub(super) fn resilience_metrics(&self, out: &mut Exposition) {
        if !self.bulkheads.is_empty() {
            out.per_row(
                &self.bulkheads,
                "bulkhead",
                |b| &b.name,
                &[
                    (
                        "coord_bulkhead_in_flight",
                        Kind::Gauge,
                        "Calls each bulkhead holds a slot for.",
                        |b| b.in_flight as f64,
                    ),
                    (
                        "coord_bulkhead_max_concurrent",
                        Kind::Gauge,
                        "Slots of each bulkhead.",
                        |b| b.max_concurrent as f64,
                    ),
                    (
                        "coord_bulkhead_rejected_calls_total",
                        Kind::Counter,
                        "Calls each bulkhead rejected.",
                        |b| b.rejected as f64,
                    ),
                    (
                        "coord_bulkhead_waits_total",
                        Kind::Counter,
                        "Calls that waited for a slot.",
                        |b| b.waits as f64,
                    ),
                    (
                        "coord_bulkhead_wait_seconds_total",
                        Kind::Counter,
                        "Time calls spent waiting for a slot.",
                        |b| b.total_wait.as_secs_f64(),
                    ),
                ],
            );
        }
        if !self.rate_limits.is_empty() {
            out.per_row(
                &self.rate_limits,
                "rate_limiter",
                |r| &r.name,
                &[
                    (
                        "coord_rate_limiter_rejected_calls_total",
                        Kind::Counter,
                        "Calls each rate limiter rejected.",
                        |r| r.rejected as f64,
                    ),
                    (
                        "coord_rate_limiter_waits_total",
                        Kind::Counter,
                        "Calls that waited for their turn.",
                        |r| r.waits as f64,
                    ),
                    (
                        "coord_rate_limiter_wait_seconds_total",
                        Kind::Counter,
                        "Time calls spent waiting for their turn.",
                        |r| r.total_wait.as_secs_f64(),
                    ),
                ],
            );
        }
        if !self.timeouts.is_empty() {
            out.per_row(
                &self.timeouts,
                "operation",
                |t| &t.operation,
                &[(
                    "coord_operation_timeouts_total",
                    Kind::Counter,
                    "Calls or attempts of each operation that ran out of time.",
                    |t| t.timeouts as f64,
                )],
            );
        }
    }
}

fn mean_wait(total: std::time::Duration, waits: u64) -> String {
    if waits == 0 {
        return "-".into();
    }
    let waits = u32::try_from(waits).unwrap_or(u32::MAX);
    format::duration(total / waits)
}
