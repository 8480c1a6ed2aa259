//! Rolling 10 s / 60 s windows per operation, computed off the hot path.
//!
//! The recorders only ever bump cumulative atomics. On every tick the monitor thread takes a
//! *checkpoint* of each operation (its counters and the histogram's growth since the previous
//! checkpoint, stored sparsely). A window ending now is "the cumulative state now minus the state
//! at the oldest checkpoint that is not older than the window", so it never counts a call that is
//! older than the window; its real length is reported as [`WindowStats::span`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::histogram::Snapshot;
use super::operation::Operation;

/// The short rolling window.
pub const SHORT_WINDOW: Duration = Duration::from_secs(10);
/// The long rolling window.
pub const LONG_WINDOW: Duration = Duration::from_secs(60);
/// Checkpoints kept per operation at most, whatever the tick rate (60 s at the 200 ms minimum
/// interval is 300; the rest is slack for explicit [`crate::PerformanceMonitor::roll_windows`]).
const MAX_CHECKPOINTS: usize = 600;

/// One operation's calls within a recent window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct WindowStats {
    /// The window's real length: from the oldest usable checkpoint to now. At most the nominal
    /// window (10 s or 60 s), shorter right after the monitor started.
    #[serde(rename = "span_ms", with = "crate::serde_ms::ms")]
    pub span: Duration,
    /// Calls finished within the window (successes, failures, cancellations and rejections).
    pub calls: u64,
    /// Successful calls within the window.
    pub successes: u64,
    /// Failed calls within the window.
    pub failures: u64,
    /// Calls a gate rejected within the window (not failures; not in the error rate or the
    /// latency figures).
    pub rejected: u64,
    /// `calls / span`, per second.
    pub call_rate: f64,
    /// `failures / (successes + failures)` within the window, 0.0 when nothing completed.
    pub error_rate: f64,
    /// Median latency within the window (zero when empty).
    #[serde(rename = "p50_ms", with = "crate::serde_ms::ms")]
    pub p50: Duration,
    /// 99th percentile latency within the window (zero when empty).
    #[serde(rename = "p99_ms", with = "crate::serde_ms::ms")]
    pub p99: Duration,
}

#[derive(Clone, Copy, Default)]
struct Counters {
    successes: u64,
    failures: u64,
    cancelled: u64,
    rejected: u64,
}

impl Counters {
    fn read(op: &Operation, histogram: &Snapshot) -> Self {
        let (successes, failures, cancelled) = op.counters(histogram);
        Self {
            successes,
            failures,
            cancelled,
            rejected: op.rejected(),
        }
    }
}

struct Checkpoint {
    at: Instant,
    counters: Counters,
    /// Histogram growth between the previous checkpoint and this one.
    delta: Vec<(usize, u64)>,
}

#[derive(Default)]
struct Track {
    checkpoints: VecDeque<Checkpoint>,
    /// The histogram as of the newest checkpoint.
    latest: Snapshot,
}

/// Checkpoints of every operation seen by one monitor.
#[derive(Default)]
pub(crate) struct RollingWindows {
    /// When each checkpoint still kept was taken, oldest first. An operation without a
    /// checkpoint at one of these times did not exist yet then, so had no calls.
    times: VecDeque<Instant>,
    tracks: HashMap<Arc<str>, Track>,
}

/// Whether a checkpoint taken `at` is too old for any window at `now`.
fn expired(at: Instant, now: Instant, count: usize) -> bool {
    count > MAX_CHECKPOINTS || now.saturating_duration_since(at) > LONG_WINDOW
}

impl RollingWindows {
    /// Takes a checkpoint of every operation in `ops` at `now` and forgets checkpoints that no
    /// window can use any more.
    pub(crate) fn checkpoint(&mut self, ops: &[Arc<Operation>], now: Instant) {
        self.times.push_back(now);
        while let Some(&oldest) = self.times.front() {
            if !expired(oldest, now, self.times.len()) {
                break;
            }
            self.times.pop_front();
        }
        for op in ops {
            let histogram = op.histogram();
            let counters = Counters::read(op, &histogram);
            let track = match self.tracks.get_mut(op.name()) {
                Some(track) => track,
                None => self.tracks.entry(Arc::from(op.name())).or_default(),
            };
            let delta = histogram.since(&track.latest).nonzero().collect();
            track.latest = histogram;
            track.checkpoints.push_back(Checkpoint {
                at: now,
                counters,
                delta,
            });
            while let Some(oldest) = track.checkpoints.front() {
                if !expired(oldest.at, now, track.checkpoints.len()) {
                    break;
                }
                track.checkpoints.pop_front();
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.times.clear();
        self.tracks.clear();
    }

    /// `op`'s calls in the windows of lengths `spans` ending at `now`, each `None` when no
    /// checkpoint lies inside it (the monitor is not running, or stopped longer ago). The
    /// operation is read once for all of them.
    pub(crate) fn windows<const N: usize>(
        &self,
        op: &Operation,
        spans: [Duration; N],
        now: Instant,
    ) -> [Option<WindowStats>; N] {
        let histogram = op.histogram();
        let counters = Counters::read(op, &histogram);
        spans.map(|span| self.window(op.name(), &counters, &histogram, span, now))
    }

    fn window(
        &self,
        name: &str,
        now_counters: &Counters,
        current: &Snapshot,
        span: Duration,
        now: Instant,
    ) -> Option<WindowStats> {
        let within = |at: Instant| now.saturating_duration_since(at) <= span;
        let start = *self.times.iter().find(|&&at| within(at))?;
        let (base, histogram) = match self.tracks.get(name).and_then(|track| {
            let (first, base) = track
                .checkpoints
                .iter()
                .enumerate()
                .find(|(_, c)| within(c.at))?;
            // A track that begins after `start` belongs to an operation created since then.
            (base.at <= start).then_some((track, first, base.counters))
        }) {
            Some((track, first, base)) => {
                // State at `first` = latest - deltas after it, so the window is
                // (current - latest) plus every delta after `first`.
                let mut histogram = current.since(&track.latest);
                for later in track.checkpoints.iter().skip(first + 1) {
                    for &(index, count) in &later.delta {
                        histogram.add(index, count);
                    }
                }
                (base, histogram)
            }
            None => (Counters::default(), current.clone()),
        };
        let successes = now_counters.successes.saturating_sub(base.successes);
        let failures = now_counters.failures.saturating_sub(base.failures);
        let cancelled = now_counters.cancelled.saturating_sub(base.cancelled);
        let rejected = now_counters.rejected.saturating_sub(base.rejected);
        let calls = successes + failures + cancelled + rejected;
        let elapsed = now.saturating_duration_since(start);
        let [p50, p99] = histogram.quantiles(&[0.5, 0.99]).unwrap_or_default();
        let completed = successes + failures;
        Some(WindowStats {
            span: elapsed,
            calls,
            successes,
            failures,
            rejected,
            call_rate: if elapsed.is_zero() {
                0.0
            } else {
                calls as f64 / elapsed.as_secs_f64()
            },
            error_rate: if completed == 0 {
                0.0
            } else {
                failures as f64 / completed as f64
            },
            p50: Duration::from_nanos(p50),
            p99: Duration::from_nanos(p99),
        })
    }
}
