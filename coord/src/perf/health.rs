//! The health score: one pure function of a handful of inputs, explained factor by factor.

use std::fmt;
use std::time::Duration;

use crate::status::HealthStatus;

/// Where each input turns the status [`Degraded`](HealthStatus::Degraded) or
/// [`Unhealthy`](HealthStatus::Unhealthy). Part of [`crate::MonitorConfig`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct HealthThresholds {
    /// Machine CPU % at which health is degraded (default 70).
    pub cpu_degraded: f64,
    /// Machine CPU % at which health is unhealthy (default 90).
    pub cpu_unhealthy: f64,
    /// Machine memory % at which health is degraded (default 80).
    pub memory_degraded: f64,
    /// Machine memory % at which health is unhealthy (default 95).
    pub memory_unhealthy: f64,
    /// Error rate (0..=1) at which health is degraded (default 0.05).
    pub error_rate_degraded: f64,
    /// Error rate (0..=1) at which health is unhealthy (default 0.25).
    pub error_rate_unhealthy: f64,
    /// The latency objective for every operation's p99 (default 500 ms). Health is degraded
    /// above it and unhealthy above [`LATENCY_UNHEALTHY_FACTOR`] times it.
    pub latency_objective: Duration,
    /// Number of open circuit breakers at which health is unhealthy (default 3; one open
    /// breaker already degrades it).
    pub open_breakers_unhealthy: usize,
}

/// A p99 this many times the latency objective makes health unhealthy.
pub const LATENCY_UNHEALTHY_FACTOR: f64 = 4.0;

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            cpu_degraded: 70.0,
            cpu_unhealthy: 90.0,
            memory_degraded: 80.0,
            memory_unhealthy: 95.0,
            error_rate_degraded: 0.05,
            error_rate_unhealthy: 0.25,
            latency_objective: Duration::from_millis(500),
            open_breakers_unhealthy: 3,
        }
    }
}

impl HealthThresholds {
    /// Sets [`cpu_degraded`](Self::cpu_degraded) and [`cpu_unhealthy`](Self::cpu_unhealthy).
    #[must_use]
    pub fn cpu(mut self, degraded: f64, unhealthy: f64) -> Self {
        self.cpu_degraded = degraded;
        self.cpu_unhealthy = unhealthy;
        self
    }

    /// Sets the two memory thresholds, in %.
    #[must_use]
    pub fn memory(mut self, degraded: f64, unhealthy: f64) -> Self {
        self.memory_degraded = degraded;
        self.memory_unhealthy = unhealthy;
        self
    }

    /// Sets the two error-rate thresholds, in 0..=1.
    #[must_use]
    pub fn error_rate(mut self, degraded: f64, unhealthy: f64) -> Self {
        self.error_rate_degraded = degraded;
        self.error_rate_unhealthy = unhealthy;
        self
    }

    /// Sets the p99 latency objective.
    #[must_use]
    pub fn latency_objective(mut self, objective: Duration) -> Self {
        self.latency_objective = objective;
        self
    }

    /// Sets how many open breakers make health unhealthy.
    #[must_use]
    pub fn open_breakers_unhealthy(mut self, count: usize) -> Self {
        self.open_breakers_unhealthy = count;
        self
    }

    /// The name of the first nonsensical threshold, if any: not finite, negative, a rate
    /// above 1 or a percentage above 100, "degraded" above "unhealthy", or a zero objective.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        let pairs = [
            ("cpu", self.cpu_degraded, self.cpu_unhealthy, 100.0),
            ("memory", self.memory_degraded, self.memory_unhealthy, 100.0),
            (
                "error_rate",
                self.error_rate_degraded,
                self.error_rate_unhealthy,
                1.0,
            ),
        ];
        for (name, degraded, unhealthy, max) in pairs {
            let in_range = |v: f64| v.is_finite() && (0.0..=max).contains(&v);
            if !in_range(degraded) || !in_range(unhealthy) || degraded > unhealthy {
                return Some(name);
            }
        }
        if self.latency_objective.is_zero() {
            return Some("latency_objective");
        }
        if self.open_breakers_unhealthy == 0 {
            return Some("open_breakers_unhealthy");
        }
        None
    }
}

/// Everything the score depends on. Worse is always larger.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HealthInputs {
    /// Machine CPU use, in %.
    pub cpu_usage: f64,
    /// Machine memory use, in %.
    pub memory_usage: f64,
    /// Failed ÷ completed calls over all operations, 0..=1.
    pub error_rate: f64,
    /// The worst p99 latency among operations.
    pub p99_latency: Duration,
    /// Circuit breakers currently open.
    pub open_breakers: usize,
}

impl HealthInputs {
    /// Inputs with everything at its best; set fields with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets machine CPU use, in %.
    #[must_use]
    pub fn cpu_usage(mut self, percent: f64) -> Self {
        self.cpu_usage = percent;
        self
    }

    /// Sets machine memory use, in %.
    #[must_use]
    pub fn memory_usage(mut self, percent: f64) -> Self {
        self.memory_usage = percent;
        self
    }

    /// Sets the error rate, 0..=1.
    #[must_use]
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.error_rate = rate;
        self
    }

    /// Sets the worst p99 latency.
    #[must_use]
    pub fn p99_latency(mut self, latency: Duration) -> Self {
        self.p99_latency = latency;
        self
    }

    /// Sets the number of open circuit breakers.
    #[must_use]
    pub fn open_breakers(mut self, count: usize) -> Self {
        self.open_breakers = count;
        self
    }
}

/// How one input weighs on the score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Contribution {
    /// The input's value (CPU and memory in %, error rate in 0..=1, latency as a multiple of
    /// the objective, breakers as a count).
    pub value: f64,
    /// Points this input takes off the score, `0.0..=weight`.
    pub penalty: f64,
    /// The most this input can take off.
    pub weight: f64,
    /// This input's own verdict against its thresholds.
    pub status: HealthStatus,
}

/// The score explained: one [`Contribution`] per input. The score is `100 - Σ penalty`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct HealthBreakdown {
    /// Machine CPU use.
    pub cpu: Contribution,
    /// Machine memory use.
    pub memory: Contribution,
    /// Error rate of all operations.
    pub error_rate: Contribution,
    /// Worst p99 latency, against the objective.
    pub latency: Contribution,
    /// Open circuit breakers.
    pub open_breakers: Contribution,
}

impl HealthBreakdown {
    /// The contributions with their names, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Contribution)> {
        [
            ("cpu", &self.cpu),
            ("memory", &self.memory),
            ("error_rate", &self.error_rate),
            ("latency", &self.latency),
            ("open_breakers", &self.open_breakers),
        ]
        .into_iter()
    }
}

/// The assessment returned by [`crate::PerformanceMonitor::system_health`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct SystemHealth {
    /// The verdict.
    pub health_status: HealthStatus,
    /// 0..=100, higher is better.
    pub performance_score: f64,
    /// Machine CPU use, in %.
    pub cpu_usage: f64,
    /// Machine memory use, in %.
    pub memory_usage: f64,
    /// What each input took off the score.
    pub breakdown: HealthBreakdown,
}

/// Points each input can take off: they add up to 100.
const CPU_WEIGHT: f64 = 20.0;
const MEMORY_WEIGHT: f64 = 20.0;
const ERROR_WEIGHT: f64 = 30.0;
const LATENCY_WEIGHT: f64 = 20.0;
const BREAKER_WEIGHT: f64 = 10.0;

/// 0 at or below `from`, 1 at or above `to`, linear in between; NaN counts as 0 (unknown is not
/// held against the system). Non-decreasing in `x`.
fn ramp(x: f64, from: f64, to: f64) -> f64 {
    if x.is_nan() || x <= from {
        0.0
    } else if x >= to {
        1.0
    } else {
        (x - from) / (to - from)
    }
}

fn status_of(x: f64, degraded: f64, unhealthy: f64) -> HealthStatus {
    if x >= unhealthy {
        HealthStatus::Unhealthy
    } else if x > degraded {
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    }
}

fn contribution(x: f64, degraded: f64, unhealthy: f64, weight: f64) -> Contribution {
    Contribution {
        value: x,
        // The penalty starts at half the "degraded" threshold and is full at "unhealthy".
        penalty: weight * ramp(x, degraded / 2.0, unhealthy),
        weight,
        status: if x.is_nan() {
            HealthStatus::Healthy
        } else {
            status_of(x, degraded, unhealthy)
        },
    }
}

impl SystemHealth {
    /// Scores `inputs` against `thresholds`. A pure function: the same inputs always give the
    /// same result, and no input getting worse ever raises the score or improves the status.
    ///
    /// Each input `x` has a "degraded" threshold `d`, an "unhealthy" threshold `u` and a weight
    /// `w` (the weights add up to 100):
    ///
    /// | input | `x` | `d` | `u` | `w` |
    /// |---|---|---|---|---|
    /// | CPU | machine CPU % | `cpu_degraded` | `cpu_unhealthy` | 20 |
    /// | memory | machine memory % | `memory_degraded` | `memory_unhealthy` | 20 |
    /// | errors | error rate | `error_rate_degraded` | `error_rate_unhealthy` | 30 |
    /// | latency | worst p99 ÷ `latency_objective` | 1 | [`LATENCY_UNHEALTHY_FACTOR`] | 20 |
    /// | breakers | open breakers | 0 | `open_breakers_unhealthy` | 10 |
    ///
    /// `penalty = w × clamp((x − d/2) / (u − d/2), 0, 1)`: nothing below half the degraded
    /// threshold, all `w` points at the unhealthy threshold. `performance_score = 100 − Σ penalty`.
    /// An input's own status is unhealthy at `x ≥ u`, degraded at `x > d`. The overall status is
    /// the worst of the inputs' statuses, and at least degraded below a score of 80 and unhealthy
    /// below 50. A NaN input (unknown) counts as healthy.
    ///
    /// ```
    /// use coord::perf::HealthInputs;
    /// use coord::{HealthStatus, HealthThresholds, SystemHealth};
    ///
    /// let calm = SystemHealth::assess(&HealthInputs::new().cpu_usage(20.0), &HealthThresholds::default());
    /// assert_eq!((calm.performance_score, calm.health_status), (100.0, HealthStatus::Healthy));
    ///
    /// let busy = SystemHealth::assess(
    ///     &HealthInputs::new().cpu_usage(95.0).error_rate(0.1),
    ///     &HealthThresholds::default(),
    /// );
    /// assert_eq!(busy.breakdown.cpu.penalty, 20.0);
    /// assert_eq!(busy.health_status, HealthStatus::Unhealthy);
    /// ```
    pub fn assess(inputs: &HealthInputs, thresholds: &HealthThresholds) -> SystemHealth {
        let t = thresholds;
        let objective = t.latency_objective.as_secs_f64();
        let latency_ratio = if objective > 0.0 {
            inputs.p99_latency.as_secs_f64() / objective
        } else {
            0.0
        };
        let breakdown = HealthBreakdown {
            cpu: contribution(
                inputs.cpu_usage,
                t.cpu_degraded,
                t.cpu_unhealthy,
                CPU_WEIGHT,
            ),
            memory: contribution(
                inputs.memory_usage,
                t.memory_degraded,
                t.memory_unhealthy,
                MEMORY_WEIGHT,
            ),
            error_rate: contribution(
                inputs.error_rate,
                t.error_rate_degraded,
                t.error_rate_unhealthy,
                ERROR_WEIGHT,
            ),
            latency: contribution(latency_ratio, 1.0, LATENCY_UNHEALTHY_FACTOR, LATENCY_WEIGHT),
            open_breakers: contribution(
                inputs.open_breakers as f64,
                0.0,
                t.open_breakers_unhealthy.max(1) as f64,
                BREAKER_WEIGHT,
            ),
        };
        let penalty: f64 = breakdown.iter().map(|(_, c)| c.penalty).sum();
        let performance_score = (100.0 - penalty).clamp(0.0, 100.0);
        let by_score = if performance_score < 50.0 {
            HealthStatus::Unhealthy
        } else if performance_score < 80.0 {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        let health_status = breakdown
            .iter()
            .map(|(_, c)| c.status)
            .fold(by_score, Ord::max);
        SystemHealth {
            health_status,
            performance_score,
            cpu_usage: inputs.cpu_usage,
            memory_usage: inputs.memory_usage,
            breakdown,
        }
    }
}

impl fmt::Display for SystemHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "status {}, score {:.1}/100 (CPU {:.1} %, memory {:.1} %)",
            self.health_status, self.performance_score, self.cpu_usage, self.memory_usage
        )?;
        for (name, c) in self.breakdown.iter() {
            writeln!(
                f,
                "  {name:<14} {:>9.3}  -{:>4.1} of {:>2.0} points  {}",
                c.value, c.penalty, c.weight, c.status
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> HealthThresholds {
        HealthThresholds::default()
    }

    #[test]
    fn a_quiet_system_scores_100() {
        let h = SystemHealth::assess(&HealthInputs::new(), &t());
        assert_eq!(h.performance_score, 100.0);
        assert_eq!(h.health_status, HealthStatus::Healthy);
    }

    #[test]
    fn everything_at_its_worst_scores_0() {
        let inputs = HealthInputs::new()
            .cpu_usage(100.0)
            .memory_usage(100.0)
            .error_rate(1.0)
            .p99_latency(Duration::from_secs(10))
            .open_breakers(5);
        let h = SystemHealth::assess(&inputs, &t());
        assert_eq!(h.performance_score, 0.0);
        assert_eq!(h.health_status, HealthStatus::Unhealthy);
    }

    #[test]
    fn penalties_start_at_half_the_degraded_threshold() {
        let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(35.0), &t());
        assert_eq!(h.breakdown.cpu.penalty, 0.0);
        let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(62.5), &t());
        assert!((h.breakdown.cpu.penalty - 10.0).abs() < 1e-9);
        assert_eq!(h.health_status, HealthStatus::Healthy);
    }

    #[test]
    fn one_open_breaker_degrades() {
        let h = SystemHealth::assess(&HealthInputs::new().open_breakers(1), &t());
        assert_eq!(h.health_status, HealthStatus::Degraded);
        assert!(h.performance_score < 100.0);
    }

    #[test]
    fn latency_is_judged_against_the_objective() {
        let at = SystemHealth::assess(
            &HealthInputs::new().p99_latency(Duration::from_millis(500)),
            &t(),
        );
        assert_eq!(at.breakdown.latency.status, HealthStatus::Healthy);
        let over = SystemHealth::assess(
            &HealthInputs::new().p99_latency(Duration::from_millis(501)),
            &t(),
        );
        assert_eq!(over.breakdown.latency.status, HealthStatus::Degraded);
        let far = SystemHealth::assess(
            &HealthInputs::new().p99_latency(Duration::from_secs(2)),
            &t(),
        );
        assert_eq!(far.breakdown.latency.status, HealthStatus::Unhealthy);
        assert_eq!(far.breakdown.latency.penalty, 20.0);
    }

    #[test]
    fn unknown_inputs_count_as_healthy() {
        let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(f64::NAN), &t());
        assert_eq!(h.performance_score, 100.0);
        assert_eq!(h.health_status, HealthStatus::Healthy);
    }

    #[test]
    fn nonsense_thresholds_are_named() {
        assert_eq!(t().invalid(), None);
        assert_eq!(t().cpu(95.0, 90.0).invalid(), Some("cpu"));
        assert_eq!(t().memory(f64::NAN, 90.0).invalid(), Some("memory"));
        assert_eq!(t().error_rate(0.1, 1.5).invalid(), Some("error_rate"));
        assert_eq!(
            t().latency_objective(Duration::ZERO).invalid(),
            Some("latency_objective")
        );
        assert_eq!(
            t().open_breakers_unhealthy(0).invalid(),
            Some("open_breakers_unhealthy")
        );
    }
}
