//! Where each health input turns the status degraded or unhealthy.

use std::time::Duration;

/// Where each input turns the status [`Degraded`](crate::HealthStatus::Degraded) or
/// [`Unhealthy`](crate::HealthStatus::Unhealthy). Part of [`crate::MonitorConfig`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct HealthThresholds {
    /// This process's CPU %, of the cores available to it, at which health is degraded
    /// (default 70).
    pub cpu_degraded: f64,
    /// This process's CPU % at which health is unhealthy (default 90).
    pub cpu_unhealthy: f64,
    /// This process's resident memory, in % of the memory available to it, at which health is
    /// degraded (default 80).
    pub memory_degraded: f64,
    /// This process's memory % at which health is unhealthy (default 95).
    pub memory_unhealthy: f64,
    /// Error rate (0..=1) at which health is degraded (default 0.05).
    pub error_rate_degraded: f64,
    /// Error rate (0..=1) at which health is unhealthy (default 0.25).
    pub error_rate_unhealthy: f64,
    /// The latency objective for every operation's p99 (default 500 ms). Health is degraded
    /// above it and unhealthy above [`LATENCY_UNHEALTHY_FACTOR`] times it.
    pub latency_objective: Duration,
    /// Number of open circuit breakers at which health is unhealthy (default 3; one open
    /// breaker already degrades it). A keyed group counts as one breaker at most: its share
    /// of open keys (see [`HealthInputs::keyed_groups`](super::HealthInputs::keyed_groups)).
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

    setters! {
        /// Sets the p99 latency objective.
        pub fn latency_objective(objective: Duration);

        /// Sets how many open breakers make health unhealthy.
        pub fn open_breakers_unhealthy(count: usize);
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
