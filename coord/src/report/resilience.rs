//! The report's sections for the resilience layers: bulkheads, rate limiters and time-outs
//! per operation (Display and Prometheus; JSON and YAML serialize the same fields). A section
//! appears only once something uses the layer, so reports of programs without them stay as
//! they were.

use std::fmt;

use serde::Serialize;

use super::Report;
use super::format::{self, Align, Table};
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
    crate::pipeline::timeout_counts()
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
            let mut table = Table::new(&[
                ("bulkhead", Align::Left),
                ("in flight", Align::Right),
                ("max", Align::Right),
                ("waiting", Align::Right),
                ("accepted", Align::Right),
                ("rejected", Align::Right),
                ("waits", Align::Right),
                ("mean wait", Align::Right),
            ]);
            for b in &self.bulkheads {
                table.row(vec![
                    format::name(&b.name),
                    b.in_flight.to_string(),
                    b.max_concurrent.to_string(),
                    b.waiting.to_string(),
                    b.accepted.to_string(),
                    b.rejected.to_string(),
                    b.waits.to_string(),
                    mean_wait(b.total_wait, b.waits),
                ]);
            }
            table.render(f)?;
        }
        if !self.rate_limits.is_empty() {
            format::section(f, "Rate limiters")?;
            let mut table = Table::new(&[
                ("rate limiter", Align::Left),
                ("rate", Align::Right),
                ("burst", Align::Right),
                ("available", Align::Right),
                ("rejected", Align::Right),
                ("waits", Align::Right),
                ("mean wait", Align::Right),
            ]);
            for r in &self.rate_limits {
                table.row(vec![
                    format::name(&r.name),
                    format!("{}/{}", r.rate, format::duration(r.per)),
                    r.burst.to_string(),
                    r.available.to_string(),
                    r.rejected.to_string(),
                    r.waits.to_string(),
                    mean_wait(r.total_wait, r.waits),
                ]);
            }
            table.render(f)?;
        }
        if !self.timeouts.is_empty() {
            format::section(f, "Time-outs")?;
            let mut table = Table::new(&[("operation", Align::Left), ("timeouts", Align::Right)]);
            for t in &self.timeouts {
                table.row(vec![format::name(&t.operation), t.timeouts.to_string()]);
            }
            table.render(f)?;
        }
        Ok(())
    }

    pub(super) fn resilience_metrics(&self, out: &mut Exposition) {
        if !self.bulkheads.is_empty() {
            for (name, kind, help) in [
                (
                    "coord_bulkhead_in_flight",
                    Kind::Gauge,
                    "Calls each bulkhead holds a slot for.",
                ),
                (
                    "coord_bulkhead_max_concurrent",
                    Kind::Gauge,
                    "Slots of each bulkhead.",
                ),
                (
                    "coord_bulkhead_rejected_calls_total",
                    Kind::Counter,
                    "Calls each bulkhead rejected.",
                ),
                (
                    "coord_bulkhead_waits_total",
                    Kind::Counter,
                    "Calls that waited for a slot.",
                ),
                (
                    "coord_bulkhead_wait_seconds_total",
                    Kind::Counter,
                    "Time calls spent waiting for a slot.",
                ),
            ] {
                out.family(name, kind, help);
                for b in &self.bulkheads {
                    let value = match name {
                        "coord_bulkhead_in_flight" => b.in_flight as f64,
                        "coord_bulkhead_max_concurrent" => b.max_concurrent as f64,
                        "coord_bulkhead_rejected_calls_total" => b.rejected as f64,
                        "coord_bulkhead_waits_total" => b.waits as f64,
                        _ => b.total_wait.as_secs_f64(),
                    };
                    out.sample(name, &[("bulkhead", &b.name)], value);
                }
            }
        }
        if !self.rate_limits.is_empty() {
            for (name, kind, help) in [
                (
                    "coord_rate_limiter_rejected_calls_total",
                    Kind::Counter,
                    "Calls each rate limiter rejected.",
                ),
                (
                    "coord_rate_limiter_waits_total",
                    Kind::Counter,
                    "Calls that waited for their turn.",
                ),
                (
                    "coord_rate_limiter_wait_seconds_total",
                    Kind::Counter,
                    "Time calls spent waiting for their turn.",
                ),
            ] {
                out.family(name, kind, help);
                for r in &self.rate_limits {
                    let value = match name {
                        "coord_rate_limiter_rejected_calls_total" => r.rejected as f64,
                        "coord_rate_limiter_waits_total" => r.waits as f64,
                        _ => r.total_wait.as_secs_f64(),
                    };
                    out.sample(name, &[("rate_limiter", &r.name)], value);
                }
            }
        }
        if !self.timeouts.is_empty() {
            let name = "coord_operation_timeouts_total";
            out.family(
                name,
                Kind::Counter,
                "Calls or attempts of each operation that ran out of time.",
            );
            for t in &self.timeouts {
                out.sample(name, &[("operation", &t.operation)], t.timeouts as f64);
            }
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
