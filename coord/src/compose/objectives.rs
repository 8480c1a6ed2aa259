//! Objectives meet the operations here: the objectives' numbers are computed from the
//! operations' counters and histogram, which the objectives mechanism may not read itself.

use crate::objective::{self as objectives, ObjectiveSnapshot, OperationCounts};
use crate::perf::OperationStats;

/// Every objective's numbers now (empty, without reading the operations, when none is
/// declared). Only the operations that joined an objective are read (a scrape or a readiness
/// probe must not pay for every operation's percentiles).
pub(crate) fn snapshots() -> Vec<ObjectiveSnapshot> {
    if objectives::declared().is_empty() {
        return Vec::new();
    }
    let joins = objectives::joins();
    let joined: Vec<OperationStats> = crate::perf::all_operations()
        .iter()
        .filter(|op| objectives::objective_of(&joins, op.name()).is_some())
        .map(|op| op.stats())
        .collect();
    drop(joins);
    let counts: Vec<OperationCounts<'_>> = joined.iter().map(counts).collect();
    objectives::snapshots(&counts)
}

fn counts(op: &OperationStats) -> OperationCounts<'_> {
    OperationCounts {
        name: &op.name,
        successes: op.successes,
        failures: op.failures,
        rejected: op.rejected,
        timed: op.calls.saturating_sub(op.rejected),
        cumulative: op.cumulative_buckets(),
    }
}

/// Why the readiness probe should answer `503`: the objectives whose fast page alert would
/// fire, when [`objectives::set_readiness`] turned the input on; `None` otherwise.
#[cfg(feature = "http")]
pub(crate) fn not_ready() -> Option<Vec<String>> {
    if !objectives::readiness() {
        return None;
    }
    let burning: Vec<String> = snapshots()
        .into_iter()
        .filter(|o| {
            o.indicators.iter().any(|s| {
                s.alerts
                    .iter()
                    .any(|a| a.firing && a.alert == objectives::BURN_ALERTS[0].name)
            })
        })
        .map(|o| o.name)
        .collect();
    (!burning.is_empty()).then_some(burning)
}
