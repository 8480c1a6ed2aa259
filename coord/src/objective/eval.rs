//! An objective's numbers: its indicators' compliance over each window, from samples of the
//! joined operations' cumulative counts; the error budget left over the period; the burn
//! rates and which of the burn alerts would fire.

use std::collections::VecDeque;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::registry::Entry;
use super::rules::{AlertSeverity, BURN_ALERTS};
use super::{Indicator, Objective, WINDOWS, bound_index, promql_duration};

/// Samples each window keeps: one every window / 30, so a window's start is known to 1/30 of it.
const SAMPLES: u32 = 30;

/// What an operation has counted since start or reset (from its report row).
pub(crate) struct OperationCounts<'a> {
    pub(crate) name: &'a str,
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) rejected: u64,
    /// Calls in the histogram (every call but rejections).
    pub(crate) timed: u64,
    /// Cumulative counts at each exported bucket bound.
    pub(crate) cumulative: &'a [u64],
}

/// An objective's cumulative good and valid events, per indicator.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Counts {
    success_good: u64,
    success_valid: u64,
    latency_good: u64,
    latency_valid: u64,
}

impl Counts {
    fn of(objective: &Objective, ops: &[&OperationCounts<'_>]) -> Self {
        let bucket = objective.latency.and_then(|(t, _)| bound_index(t));
        let mut counts = Self::default();
        for op in ops {
            counts.success_good += op.successes;
            counts.success_valid += op.successes + op.failures + op.rejected;
            counts.latency_valid += op.timed;
            counts.latency_good += bucket
                .and_then(|i| op.cumulative.get(i))
                .copied()
                .unwrap_or(0);
        }
        counts
    }

    fn went_back_from(&self, earlier: &Self) -> bool {
        self.success_good < earlier.success_good
            || self.success_valid < earlier.success_valid
            || self.latency_good < earlier.latency_good
            || self.latency_valid < earlier.latency_valid
    }

    fn get(&self, indicator: Indicator) -> (u64, u64) {
        match indicator {
            Indicator::Success => (self.success_good, self.success_valid),
            Indicator::Latency => (self.latency_good, self.latency_valid),
        }
    }
}

/// Samples of an objective's counts, one ring per window, and the origin: when the counts were
/// zero as far as the objective knows (its declaration, the last reset).
pub(crate) struct History {
    rings: Vec<VecDeque<(Instant, Counts)>>,
    last: Option<Counts>,
    origin: Instant,
}

impl History {
    /// No samples; the counts started at `origin`.
    pub(crate) fn new(origin: Instant) -> Self {
        Self {
            rings: Vec::new(),
            last: None,
            origin,
        }
    }

    /// Records `counts` at `now`; forgets everything when a count went back (a reset).
    fn sample(&mut self, windows: &[Duration], now: Instant, counts: Counts) {
        if self.last.is_some_and(|last| counts.went_back_from(&last)) {
            // Reset between two reads: the counts are what came since, at most.
            self.rings.clear();
            self.origin = now;
        }
        if self.rings.len() != windows.len() {
            self.rings = vec![VecDeque::new(); windows.len()];
        }
        self.last = Some(counts);
        for (ring, window) in self.rings.iter_mut().zip(windows) {
            let due = ring
                .back()
                .is_none_or(|(at, _)| now.saturating_duration_since(*at) >= *window / SAMPLES);
            if due {
                if ring.len() > SAMPLES as usize + 1 {
                    ring.pop_front();
                }
                ring.push_back((now, counts));
            }
        }
    }

    /// The sample a window of `ring` starts at: the oldest no older than the window (the
    /// origin, with zero counts, first), else the newest one before `now`.
    fn start(&self, ring: usize, window: Duration, now: Instant) -> Option<(Instant, Counts)> {
        let origin = [(self.origin, Counts::default())];
        let samples = self.rings.get(ring).into_iter().flatten();
        let mut before_now = origin.iter().chain(samples).filter(|(at, _)| *at < now);
        before_now
            .clone()
            .find(|(at, _)| now.saturating_duration_since(*at) <= window)
            .or_else(|| before_now.next_back())
            .copied()
    }
}

/// An objective's numbers at one moment, in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ObjectiveSnapshot {
    /// The objective's name.
    pub name: String,
    /// Its period.
    #[serde(rename = "period_ms", with = "crate::serde_ms::ms")]
    pub period: Duration,
    /// The operations that joined it and have been called, sorted.
    pub operations: Vec<String>,
    /// One entry per indicator it has: success first, then latency.
    pub indicators: Vec<SliSnapshot>,
}

/// One indicator of an objective.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SliSnapshot {
    /// `success` or `latency`.
    pub indicator: Indicator,
    /// The target share of good events.
    pub target: f64,
    /// The latency threshold (latency only).
    #[serde(rename = "threshold_ms", serialize_with = "crate::serde_ms::opt_ms")]
    pub threshold: Option<Duration>,
    /// Compliance over each of [`WINDOWS`] shorter than the period, then over the period.
    pub windows: Vec<WindowCompliance>,
    /// The share of the period's error budget left: 1.0 untouched, 0.0 spent, negative
    /// overspent (1 − bad / (valid × (1 − target)) over the period).
    pub error_budget_remaining: f64,
    /// Each burn alert, and whether it would fire now.
    pub alerts: Vec<AlertState>,
}

/// Compliance over one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WindowCompliance {
    /// The window as PromQL writes it (`5m`, `1h`, `30d`).
    pub window: String,
    /// The time the numbers cover: the window, or less right after the objective was declared
    /// (or when objectives were not read for a while, more).
    #[serde(rename = "span_ms", with = "crate::serde_ms::ms")]
    pub span: Duration,
    /// Valid events in the span.
    pub valid: u64,
    /// Good events in the span.
    pub good: u64,
    /// good / valid; `None` without valid events.
    pub compliance: Option<f64>,
    /// The error ratio over the budget (1 − target): 1.0 spends the budget exactly over the
    /// period; `None` without valid events.
    pub burn_rate: Option<f64>,
}

/// A burn alert of an indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AlertState {
    /// The alert's name in the rules (`CoordObjectiveFastBurn`, ...).
    pub alert: &'static str,
    /// `page` or `ticket`.
    pub severity: AlertSeverity,
    /// The burn rate both windows must exceed.
    pub burn_rate: f64,
    /// Whether both windows exceed it now.
    pub firing: bool,
}

impl SliSnapshot {
    /// The compliance over `window` (`"5m"`, `"1h"`, ...), if it is one of the windows.
    pub fn window(&self, window: &str) -> Option<&WindowCompliance> {
        self.windows.iter().find(|w| w.window == window)
    }
}

impl ObjectiveSnapshot {
    /// The indicator `indicator`, if the objective has it.
    pub fn indicator(&self, indicator: Indicator) -> Option<&SliSnapshot> {
        self.indicators.iter().find(|s| s.indicator == indicator)
    }

    /// Whether a page alert (of any indicator) would fire now.
    pub fn paging(&self) -> bool {
        self.indicators
            .iter()
            .flat_map(|s| &s.alerts)
            .any(|a| a.firing && a.severity == AlertSeverity::Page)
    }
}

/// The windows of an objective of `period`: [`WINDOWS`] shorter than it, then the period.
pub(crate) fn windows_of(period: Duration) -> Vec<Duration> {
    WINDOWS
        .iter()
        .copied()
        .filter(|w| *w < period)
        .chain([period])
        .collect()
}

impl Entry {
    pub(crate) fn snapshot(&self, now: Instant, ops: &[&OperationCounts<'_>]) -> ObjectiveSnapshot {
        let objective = &self.objective;
        let windows = windows_of(objective.period);
        let counts = Counts::of(objective, ops);
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        history.sample(&windows, now, counts);
        let mut indicators = Vec::new();
        let specs = objective.indicators();
        for (indicator, target, threshold) in specs {
            let budget = 1.0 - target;
            let windows: Vec<WindowCompliance> = windows
                .iter()
                .enumerate()
                .map(|(i, window)| {
                    let (span, good, valid) = match history.start(i, *window, now) {
                        Some((at, start)) => {
                            let (good_then, valid_then) = start.get(indicator);
                            let (good_now, valid_now) = counts.get(indicator);
                            (
                                now.saturating_duration_since(at),
                                good_now.saturating_sub(good_then),
                                valid_now.saturating_sub(valid_then),
                            )
                        }
                        None => (Duration::ZERO, 0, 0),
                    };
                    let compliance = (valid > 0).then(|| good as f64 / valid as f64);
                    WindowCompliance {
                        window: promql_duration(*window),
                        span,
                        valid,
                        good,
                        compliance,
                        burn_rate: compliance.map(|c| (1.0 - c) / budget),
                    }
                })
                .collect();
            let period = windows.last();
            let error_budget_remaining = match period {
                Some(w) if w.valid > 0 => {
                    let bad = (w.valid - w.good) as f64;
                    1.0 - bad / (w.valid as f64 * budget)
                }
                _ => 1.0,
            };
            let burn = |d: Duration| {
                let text = promql_duration(d);
                windows
                    .iter()
                    .find(|w| w.window == text)
                    .and_then(|w| w.burn_rate)
            };
            let alerts = BURN_ALERTS
                .iter()
                .map(|alert| {
                    let factor = alert.factor(objective.period);
                    AlertState {
                        alert: alert.name,
                        severity: alert.severity,
                        burn_rate: factor,
                        firing: burn(alert.long).is_some_and(|b| b > factor)
                            && burn(alert.short).is_some_and(|b| b > factor),
                    }
                })
                .collect();
            indicators.push(SliSnapshot {
                indicator,
                target,
                threshold,
                windows,
                error_budget_remaining,
                alerts,
            });
        }
        let mut operations: Vec<String> = ops.iter().map(|op| op.name.to_owned()).collect();
        operations.sort_unstable();
        ObjectiveSnapshot {
            name: objective.name.clone(),
            period: objective.period,
            operations,
            indicators,
        }
    }
}
