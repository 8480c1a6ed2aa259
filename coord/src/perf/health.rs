//! The health score: one pure function of a handful of inputs, explained factor by factor.

use std::fmt;
use std::time::Duration;

use crate::status::HealthStatus;

mod thresholds;

pub use thresholds::{HealthThresholds, LATENCY_UNHEALTHY_FACTOR};

/// One keyed breaker group as a health input: how many of its keys' breakers are open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct KeyedGroupInput {
    /// Keys whose breaker is open, half-open or forced open.
    pub open: usize,
    /// Keys in the group (its overflow breaker included).
    pub keys: usize,
}

impl KeyedGroupInput {
    /// `open` of `keys` keys open.
    pub fn new(open: usize, keys: usize) -> Self {
        Self { open, keys }
    }

    /// The share of open keys, 0..=1: what the group weighs among the open breakers. Keys
    /// often come from user data (a host name in a URL), so a group counts as one breaker at
    /// most, however many keys are open.
    pub fn share(&self) -> f64 {
        if self.keys == 0 {
            0.0
        } else {
            (self.open.min(self.keys) as f64) / self.keys as f64
        }
    }
}

/// Everything the score depends on. Worse is always larger.
///
/// CPU and memory are this process's (what it can do about its own load), never the machine's:
/// other processes move the machine's figures, which [`host_cpu_usage`](Self::host_cpu_usage)
/// and [`host_memory_usage`](Self::host_memory_usage) carry for information only.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HealthInputs {
    /// This process's CPU use, in % of the cores available to it (0..=100); NaN when not
    /// measured yet.
    pub cpu_usage: f64,
    /// This process's resident memory, in % of the memory available to it (its cgroup's limit,
    /// else the machine's memory).
    pub memory_usage: f64,
    /// Failed ÷ completed calls over all operations, 0..=1.
    pub error_rate: f64,
    /// The worst p99 latency among operations.
    pub p99_latency: Duration,
    /// Circuit breakers outside keyed groups currently open (each counts one).
    pub open_breakers: usize,
    /// Keyed breaker groups with open keys: each counts its [share](KeyedGroupInput::share)
    /// of open keys, so one group weighs one breaker at most.
    pub keyed_groups: Vec<KeyedGroupInput>,
    /// The machine's CPU use, in % (informational: not part of the score).
    pub host_cpu_usage: f64,
    /// The machine's memory in use, in % (informational: not part of the score).
    pub host_memory_usage: f64,
}

impl HealthInputs {
    /// Inputs with everything at its best; set fields with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Sets this process's CPU use, in % of its cores (NaN: not measured).
        pub fn cpu_usage(percent: f64);

        /// Sets this process's memory use, in % of the memory available to it.
        pub fn memory_usage(percent: f64);

        /// Sets the error rate, 0..=1.
        pub fn error_rate(rate: f64);

        /// Sets the worst p99 latency.
        pub fn p99_latency(latency: Duration);

        /// Sets the number of open circuit breakers outside keyed groups.
        pub fn open_breakers(count: usize);
    }

    /// Adds a keyed breaker group with `open` of its `keys` keys open.
    #[must_use]
    pub fn keyed_group(mut self, open: usize, keys: usize) -> Self {
        self.keyed_groups.push(KeyedGroupInput::new(open, keys));
        self
    }

    setters! {
        /// Sets the machine's CPU use, in % (informational).
        pub fn host_cpu_usage(percent: f64);

        /// Sets the machine's memory use, in % (informational).
        pub fn host_memory_usage(percent: f64);
    }

    /// Open breakers as the score counts them: one per open breaker outside keyed groups,
    /// plus each keyed group's share of open keys.
    pub fn breaker_weight(&self) -> f64 {
        self.open_breakers as f64
            + self
                .keyed_groups
                .iter()
                .map(KeyedGroupInput::share)
                .sum::<f64>()
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
    /// Whether this input is part of the verdict: `false` when it was not measured (it then
    /// takes nothing off the score and its value is NaN, `null` in JSON).
    pub counts: bool,
    /// What the value is and where its thresholds lie, in words.
    pub why: String,
}

/// The score explained: one [`Contribution`] per input. The score is `100 - Σ penalty`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct HealthBreakdown {
    /// This process's CPU use, in % of its cores.
    pub cpu: Contribution,
    /// This process's memory use, in % of the memory available to it.
    pub memory: Contribution,
    /// Error rate of all operations.
    pub error_rate: Contribution,
    /// Worst p99 latency, against the objective.
    pub latency: Contribution,
    /// Open circuit breakers (a keyed group counts its share of open keys).
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
    /// Why the status is what it is, in one sentence: the inputs past their thresholds, and
    /// the inputs not measured.
    pub verdict: String,
    /// Whether this process's CPU use was measured (a sample exists). Without it, CPU does
    /// not count and the verdict says so.
    pub sampled: bool,
    /// The machine's CPU use, in % (informational: other processes move it, so it is not
    /// part of the score).
    pub cpu_usage: f64,
    /// The machine's memory in use, in % (informational).
    pub memory_usage: f64,
    /// This process's CPU use, in % of the cores available to it (the `cpu` input); NaN
    /// (`null`) when not measured.
    pub process_cpu_usage: f64,
    /// This process's resident memory, in % of the memory available to it (the `memory`
    /// input).
    pub process_memory_usage: f64,
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

fn contribution(x: f64, degraded: f64, unhealthy: f64, weight: f64, why: String) -> Contribution {
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
        counts: !x.is_nan(),
        why: if x.is_nan() {
            "not measured yet".to_owned()
        } else {
            why
        },
    }
}

/// The open breakers in words: keyed groups apart, since each weighs its share of open keys.
fn breakers_why(inputs: &HealthInputs, keyed_open: usize, unhealthy: usize) -> String {
    let groups = inputs.keyed_groups.iter().filter(|g| g.open > 0).count();
    let mut text = format!("{} breaker(s) open", inputs.open_breakers);
    if groups > 0 {
        text.push_str(&format!(
            ", and {keyed_open} open key(s) in {groups} keyed group(s), each group counting its \
             share of open keys ({:.2} in all, one breaker at most per group)",
            inputs.breaker_weight() - inputs.open_breakers as f64
        ));
    }
    text.push_str(&format!("; degraded above 0, unhealthy at {unhealthy}"));
    text
}

/// "degraded above D, unhealthy at U", in the input's own unit.
fn limits(degraded: f64, unhealthy: f64, unit: impl Fn(f64) -> String) -> String {
    format!(
        "degraded above {}, unhealthy at {}",
        unit(degraded),
        unit(unhealthy)
    )
}

fn percent(v: f64) -> String {
    format!("{v:.1} %")
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
    /// | CPU | this process's CPU, % of its cores | `cpu_degraded` | `cpu_unhealthy` | 20 |
    /// | memory | this process's memory, % of what it may use | `memory_degraded` | `memory_unhealthy` | 20 |
    /// | errors | error rate | `error_rate_degraded` | `error_rate_unhealthy` | 30 |
    /// | latency | worst p99 ÷ `latency_objective` | 1 | [`LATENCY_UNHEALTHY_FACTOR`] | 20 |
    /// | breakers | open breakers, a keyed group counting its share of open keys | 0 | `open_breakers_unhealthy` | 10 |
    ///
    /// `penalty = w × clamp((x − d/2) / (u − d/2), 0, 1)`: nothing below half the degraded
    /// threshold, all `w` points at the unhealthy threshold. `performance_score = 100 − Σ penalty`.
    /// An input's own status is unhealthy at `x ≥ u`, degraded at `x > d`. The overall status is
    /// the worst of the inputs' statuses, and at least degraded below a score of 80 and unhealthy
    /// below 50. A NaN input (not measured) does not count: no penalty, `counts: false`, and
    /// the [`verdict`](Self::verdict) names it. The machine's CPU and memory never count.
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
        let breakers = inputs.breaker_weight();
        let keyed_open: usize = inputs.keyed_groups.iter().map(|g| g.open).sum();
        let breakdown = HealthBreakdown {
            cpu: contribution(
                inputs.cpu_usage,
                t.cpu_degraded,
                t.cpu_unhealthy,
                CPU_WEIGHT,
                format!(
                    "this process uses {} of its cores; {}",
                    percent(inputs.cpu_usage),
                    limits(t.cpu_degraded, t.cpu_unhealthy, percent)
                ),
            ),
            memory: contribution(
                inputs.memory_usage,
                t.memory_degraded,
                t.memory_unhealthy,
                MEMORY_WEIGHT,
                format!(
                    "this process holds {} of the memory available to it; {}",
                    percent(inputs.memory_usage),
                    limits(t.memory_degraded, t.memory_unhealthy, percent)
                ),
            ),
            error_rate: contribution(
                inputs.error_rate,
                t.error_rate_degraded,
                t.error_rate_unhealthy,
                ERROR_WEIGHT,
                format!(
                    "{} of completed calls failed; {}",
                    percent(inputs.error_rate * 100.0),
                    limits(t.error_rate_degraded, t.error_rate_unhealthy, |r| percent(
                        r * 100.0
                    ))
                ),
            ),
            latency: contribution(
                latency_ratio,
                1.0,
                LATENCY_UNHEALTHY_FACTOR,
                LATENCY_WEIGHT,
                format!(
                    "worst p99 {:?} is {latency_ratio:.2}x the {:?} objective; {}",
                    inputs.p99_latency,
                    t.latency_objective,
                    limits(1.0, LATENCY_UNHEALTHY_FACTOR, |x| format!("{x}x"))
                ),
            ),
            open_breakers: contribution(
                breakers,
                0.0,
                t.open_breakers_unhealthy.max(1) as f64,
                BREAKER_WEIGHT,
                breakers_why(inputs, keyed_open, t.open_breakers_unhealthy.max(1)),
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
        let verdict = verdict(
            &breakdown,
            health_status,
            by_score,
            performance_score,
            inputs,
        );
        SystemHealth {
            health_status,
            performance_score,
            verdict,
            sampled: !inputs.cpu_usage.is_nan(),
            cpu_usage: inputs.host_cpu_usage,
            memory_usage: inputs.host_memory_usage,
            process_cpu_usage: inputs.cpu_usage,
            process_memory_usage: inputs.memory_usage,
            breakdown,
        }
    }

    /// Whether a readiness probe should send traffic here: every status but unhealthy.
    pub fn is_ready(&self) -> bool {
        self.health_status != HealthStatus::Unhealthy
    }
}

/// The verdict in words: the status, the inputs that made it, what was not measured, and
/// that the machine's figures do not count.
fn verdict(
    breakdown: &HealthBreakdown,
    status: HealthStatus,
    by_score: HealthStatus,
    score: f64,
    inputs: &HealthInputs,
) -> String {
    let mut reasons: Vec<String> = breakdown
        .iter()
        .filter(|(_, c)| c.counts && c.status != HealthStatus::Healthy)
        .map(|(name, c)| format!("{name} is {} ({})", c.status, c.why))
        .collect();
    if by_score > HealthStatus::Healthy {
        let line = if by_score == HealthStatus::Unhealthy {
            50
        } else {
            80
        };
        reasons.push(format!("the score {score:.1} is below {line}"));
    }
    let mut text = if reasons.is_empty() {
        format!("{status}: every input that counts is within its thresholds")
    } else {
        format!("{status}: {}", reasons.join("; "))
    };
    let missing: Vec<&str> = breakdown
        .iter()
        .filter(|(_, c)| !c.counts)
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        text.push_str(&format!(
            "; not measured, so not counted: {} (no sample of this process yet: the monitor \
             samples once per collection interval once started, which serving does unless \
             told not to)",
            missing.join(", ")
        ));
    }
    let host = |v: f64| {
        if v.is_nan() {
            "unknown".to_owned()
        } else {
            percent(v)
        }
    };
    text.push_str(&format!(
        "; the machine's CPU ({}) and memory ({}) are information only",
        host(inputs.host_cpu_usage),
        host(inputs.host_memory_usage)
    ));
    text
}

impl fmt::Display for SystemHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "status {}, score {:.1}/100 (process CPU {:.1} %, memory {:.1} %; machine CPU {:.1} %, memory {:.1} %)",
            self.health_status,
            self.performance_score,
            self.process_cpu_usage,
            self.process_memory_usage,
            self.cpu_usage,
            self.memory_usage
        )?;
        for (name, c) in self.breakdown.iter() {
            writeln!(
                f,
                "  {name:<14} {:>9.3}  -{:>4.1} of {:>2.0} points  {}",
                c.value, c.penalty, c.weight, c.status
            )?;
        }
        writeln!(f, "  {}", self.verdict)
    }
}
#[cfg(test)]
mod tests;
