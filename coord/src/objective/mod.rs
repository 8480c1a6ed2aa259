//! Service-level objectives as code: a named promise about the operations that join it ("99.9 %
//! of checkout calls succeed, 99 % take under 300 ms, over 30 days"), with its compliance over a
//! few windows, the error budget it has left and how fast it is spending it, in the report, and
//! the Prometheus recording rules and multi-window, multi-burn-rate alerts that watch it
//! ([`prometheus_rules`]).
//!
//! ```
//! use std::time::Duration;
//!
//! coord::Objective::new("docs.checkout")
//!     .success_rate(0.999)
//!     .latency_below(Duration::from_millis(500), 0.99)
//!     .declare()
//!     .unwrap();
//! // `#[track_performance(objective = "docs.checkout")]` functions, or
//! // `CoordLayer::new("api").objective("docs.checkout")`, join it.
//! coord::objectives::join("docs.pay", "docs.checkout");
//! assert!(coord::objectives::prometheus_rules().contains("objective: \"docs.checkout\""));
//! ```
//!
//! # What counts
//!
//! The indicators follow the Google SRE workbook ("the proportion of valid events that were
//! good"), read from the operations' own counters and histogram, so coord and Prometheus count
//! the same calls:
//!
//! - **success**: good = calls whose outcome is `success`; valid = `success`, `failure` and
//!   `rejected` calls. A call a gate shed (open breaker, full bulkhead, rate limit) is not an
//!   error of the service (the `failure` count leaves it out), but the user did not get an
//!   answer: the workbook measures where the user is, so a rejection spends the budget. A
//!   `cancelled` call (the caller went away) is not a valid event.
//! - **latency**: good = timed calls at or under the threshold (the histogram's bucket at that
//!   bound); valid = every timed call (rejections are not timed). The threshold must be one of
//!   [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS), since Prometheus can only count calls
//!   under a bucket bound.
//!
//! # Windows and sampling
//!
//! Compliance is computed over [`WINDOWS`] and the objective's period, from samples of the
//! operations' cumulative counts taken whenever objectives are read (the report, `/metrics`,
//! `/report.json`, the readiness probe): each window keeps about 30 samples spread over it.
//! A window that goes back further than the samples says so in its `span_ms` (for example
//! right after the objective was declared).

mod eval;
pub(crate) mod file;
mod registry;
mod rules;
pub(crate) mod section;
mod site;

use std::fmt;
use std::time::Duration;

use crate::perf::histogram::EXPORT_BOUNDS;

pub(crate) use eval::OperationCounts;
pub use eval::{AlertState, ObjectiveSnapshot, SliSnapshot, WindowCompliance};
#[cfg(feature = "tower")]
pub(crate) use registry::join_layer;
pub use registry::{
    DEFAULT_MAX_OBJECTIVES, declared, dropped_names, find, join, max_objectives, readiness,
    set_clock, set_max_objectives, set_readiness,
};
pub(crate) use registry::{joins, objective_of, reset_all, snapshots};
pub(crate) use rules::prometheus_rules;
pub use rules::{AlertSeverity, BURN_ALERTS, BurnAlert};
pub use site::ObjectiveSite;

/// The default period of an objective: 30 days, the SRE workbook's.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 86_400);

/// The shortest period: the ticket alert's long window, 3 days.
pub const MIN_PERIOD: Duration = Duration::from_secs(3 * 86_400);

/// The longest period: 366 days.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 86_400);

/// The windows compliance and burn rate are computed over, besides the period: the windows of
/// the [`BURN_ALERTS`].
pub const WINDOWS: [Duration; 5] = [
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(3 * 86_400),
];

/// The longest objective name, in bytes.
pub const MAX_NAME_BYTES: usize = coord_limits::objective::MAX_NAME_BYTES;

/// `threshold` if it is one of [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS); in a `const`
/// any other value is a compile error, so a literal threshold is checked when the code is
/// built:
///
/// ```
/// use std::time::Duration;
/// const CHECKOUT_LATENCY: Duration = coord::objectives::bucket_bound(Duration::from_millis(500));
/// ```
///
/// ```compile_fail
/// use std::time::Duration;
/// // 300 ms lies between the 200 ms and 500 ms buckets: Prometheus could not count it.
/// const CHECKOUT_LATENCY: Duration = coord::objectives::bucket_bound(Duration::from_millis(300));
/// ```
///
/// # Panics
///
/// When `threshold` is not a bound (at compile time, in a `const`). Outside a `const`, use
/// [`Objective::latency_below`], whose error [`Objective::declare`] returns.
pub const fn bucket_bound(threshold: Duration) -> Duration {
    match bound_index(threshold) {
        Some(_) => threshold,
        None => panic!(
            "a latency threshold must be one of coord::perf::EXPORT_BOUNDS (100us, 200us, 500us, 1ms, ... 1000s, 2000s, 3600s): Prometheus counts calls only under a bucket bound"
        ),
    }
}

/// The index of `threshold` in [`EXPORT_BOUNDS`], if it is one.
pub(crate) const fn bound_index(threshold: Duration) -> Option<usize> {
    let mut i = 0;
    while i < EXPORT_BOUNDS.len() {
        if EXPORT_BOUNDS[i].as_nanos() == threshold.as_nanos() {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// A service-level objective: a name, a success-rate target, a latency target, or both, over a
/// period (default [`DEFAULT_PERIOD`]). Build it, then [`declare`](Self::declare) it; the
/// builder methods record what they are given and `declare` (or
/// [`validate`](Self::validate)) reports what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    name: String,
    success: Option<f64>,
    latency: Option<(Duration, f64)>,
    period: Duration,
}

impl Objective {
    /// Its indicators: each with its target and, for latency, its threshold.
    pub(crate) fn indicators(&self) -> impl Iterator<Item = (Indicator, f64, Option<Duration>)> {
        let success = self.success.map(|t| (Indicator::Success, t, None));
        let latency = self.latency.map(|(d, t)| (Indicator::Latency, t, Some(d)));
        success.into_iter().chain(latency)
    }

    /// An objective named `name`, with no target yet and the default period.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            success: None,
            latency: None,
            period: DEFAULT_PERIOD,
        }
    }

    /// At least `target` (in `0.0..1.0`, e.g. `0.999`) of the valid calls succeed.
    #[must_use]
    pub fn success_rate(mut self, target: f64) -> Self {
        self.success = Some(target);
        self
    }

    /// At least `target` of the timed calls take at most `threshold`, which must be one of
    /// [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS) (see [`bucket_bound`]).
    #[must_use]
    pub fn latency_below(mut self, threshold: Duration, target: f64) -> Self {
        self.latency = Some((threshold, target));
        self
    }

    /// The period the targets hold over and the error budget is counted in
    /// ([`MIN_PERIOD`]`..=`[`MAX_PERIOD`]).
    #[must_use]
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// The objective's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The success-rate target, if any.
    pub fn success_target(&self) -> Option<f64> {
        self.success
    }

    /// The latency threshold and target, if any.
    pub fn latency(&self) -> Option<(Duration, f64)> {
        self.latency
    }

    /// The period.
    pub fn period_length(&self) -> Duration {
        self.period
    }

    /// Checks the name, the targets, the threshold and the period.
    pub fn validate(&self) -> Result<(), ObjectiveError> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > MAX_NAME_BYTES || name != self.name {
            return Err(ObjectiveError::Name {
                name: self.name.clone(),
            });
        }
        if self.success.is_none() && self.latency.is_none() {
            return Err(ObjectiveError::NoTarget);
        }
        if let Some(target) = self.success {
            check_target(Indicator::Success, target)?;
        }
        if let Some((threshold, target)) = self.latency {
            check_threshold(threshold)?;
            check_target(Indicator::Latency, target)?;
        }
        check_period(self.period)
    }

    /// Checks the objective and registers it process-wide, replacing an objective of the same
    /// name declared in code. An objective the configuration file declared keeps the file's
    /// targets (the file is the operator's word, as for circuit breakers); `Ok` either way.
    ///
    /// # Errors
    ///
    /// What [`validate`](Self::validate) finds, or [`ObjectiveError::TooMany`] past
    /// [`max_objectives`] (counted in [`dropped_names`]).
    pub fn declare(self) -> Result<(), ObjectiveError> {
        self.validate()?;
        registry::declare(self, registry::Source::Code)
    }
}

/// One of an objective's two indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Indicator {
    /// The share of valid calls that succeeded.
    Success,
    /// The share of timed calls at or under the threshold.
    Latency,
}

impl Indicator {
    /// `success` or `latency`: the `sli` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Latency => "latency",
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an objective was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectiveError {
    /// The name is empty, longer than [`MAX_NAME_BYTES`] or has surrounding white space.
    #[error(
        "objective name {name:?} must be 1 to {MAX_NAME_BYTES} bytes without surrounding spaces"
    )]
    Name {
        /// The name given.
        name: String,
    },
    /// Neither a success rate nor a latency target.
    #[error("an objective needs success_rate, latency, or both")]
    NoTarget,
    /// A target outside `0.0..1.0` (1.0 leaves no budget; NaN is never a target).
    #[error("{indicator} target {target} is outside 0.0..1.0 (1.0 would leave no error budget)")]
    Target {
        /// Which target.
        indicator: Indicator,
        /// The value given.
        target: f64,
    },
    /// A latency threshold between two exported bucket bounds.
    #[error(
        "latency threshold {threshold:?} is not a bucket bound of coord_operation_duration_seconds, so Prometheus could not count the calls under it{}",
        NearestBounds(.below, .above)
    )]
    Threshold {
        /// The value given.
        threshold: Duration,
        /// The nearest bound under it, if any.
        below: Option<Duration>,
        /// The nearest bound over it, if any.
        above: Option<Duration>,
    },
    /// A period outside [`MIN_PERIOD`]`..=`[`MAX_PERIOD`].
    #[error("period {period:?} is outside 3 days..=366 days (the ticket alert looks back 3 days)")]
    Period {
        /// The value given.
        period: Duration,
    },
    /// The registry holds [`max_objectives`] objectives already.
    #[error("at most {cap} objectives (coord::objectives::set_max_objectives)")]
    TooMany {
        /// The cap.
        cap: usize,
    },
}

/// The end of [`ObjectiveError::Threshold`]'s message: the bucket bounds around the threshold.
struct NearestBounds<'a>(&'a Option<Duration>, &'a Option<Duration>);

impl fmt::Display for NearestBounds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(b), Some(a)) => write!(f, "; the nearest bounds are {b:?} and {a:?}"),
            (Some(b), None) => write!(f, "; the largest bound is {b:?}"),
            (None, Some(a)) => write!(f, "; the smallest bound is {a:?}"),
            (None, None) => Ok(()),
        }
    }
}

pub(crate) fn check_target(indicator: Indicator, target: f64) -> Result<(), ObjectiveError> {
    if target > 0.0 && target < 1.0 {
        Ok(())
    } else {
        Err(ObjectiveError::Target { indicator, target })
    }
}

pub(crate) fn check_threshold(threshold: Duration) -> Result<(), ObjectiveError> {
    if bound_index(threshold).is_some() {
        return Ok(());
    }
    let above_at = EXPORT_BOUNDS.partition_point(|b| *b < threshold);
    Err(ObjectiveError::Threshold {
        threshold,
        below: above_at.checked_sub(1).map(|i| EXPORT_BOUNDS[i]),
        above: EXPORT_BOUNDS.get(above_at).copied(),
    })
}

pub(crate) fn check_period(period: Duration) -> Result<(), ObjectiveError> {
    if (MIN_PERIOD..=MAX_PERIOD).contains(&period) {
        Ok(())
    } else {
        Err(ObjectiveError::Period { period })
    }
}

/// A duration as PromQL writes it (`5m`, `1h`, `3d`, `7d12h`), in whole seconds at least.
pub(crate) fn promql_duration(d: Duration) -> String {
    let mut secs = d.as_secs().max(1);
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_export_bound_is_a_bound_and_nothing_between() {
        for bound in EXPORT_BOUNDS {
            assert_eq!(bucket_bound(bound), bound);
            assert!(check_threshold(bound).is_ok());
        }
        let Err(ObjectiveError::Threshold { below, above, .. }) =
            check_threshold(Duration::from_millis(300))
        else {
            panic!("300ms is between buckets")
        };
        assert_eq!(below, Some(Duration::from_millis(200)));
        assert_eq!(above, Some(Duration::from_millis(500)));
        assert!(matches!(
            check_threshold(Duration::from_secs(7200)),
            Err(ObjectiveError::Threshold { above: None, .. })
        ));
    }

    #[test]
    fn promql_durations() {
        assert_eq!(promql_duration(Duration::from_secs(300)), "5m");
        assert_eq!(promql_duration(DEFAULT_PERIOD), "30d");
        assert_eq!(
            promql_duration(Duration::from_secs(7 * 86_400 + 12 * 3600)),
            "7d12h"
        );
        assert_eq!(promql_duration(Duration::from_secs(3600)), "1h");
    }

    #[test]
    fn validation_refuses_each_kind() {
        let ok = Objective::new("x").success_rate(0.99);
        assert!(ok.validate().is_ok());
        assert!(matches!(
            Objective::new(" x").success_rate(0.9).validate(),
            Err(ObjectiveError::Name { .. })
        ));
        assert!(matches!(
            Objective::new("x").validate(),
            Err(ObjectiveError::NoTarget)
        ));
        assert!(matches!(
            Objective::new("x").success_rate(1.0).validate(),
            Err(ObjectiveError::Target { .. })
        ));
        assert!(matches!(
            Objective::new("x").success_rate(f64::NAN).validate(),
            Err(ObjectiveError::Target { .. })
        ));
        assert!(matches!(
            Objective::new("x")
                .latency_below(Duration::from_millis(300), 0.99)
                .validate(),
            Err(ObjectiveError::Threshold { .. })
        ));
        assert!(matches!(
            ok.clone().period(Duration::from_secs(86_400)).validate(),
            Err(ObjectiveError::Period { .. })
        ));
    }
}
