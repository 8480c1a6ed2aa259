//! The background monitor: configuration, the `coord-monitor` sampler thread, the sample ring,
//! the rolling windows and the health assessment.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use crate::locks::lock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::health::{HealthInputs, HealthThresholds, KeyedGroupInput, SystemHealth};
use super::operation::{self, Operation, OperationStats};
use super::sampler::{self, SystemSample};
use super::window::{LONG_WINDOW, RollingWindows, SHORT_WINDOW};
use crate::clock::Clock;

/// The shortest collection interval: sysinfo cannot compute CPU use over less.
pub const MIN_COLLECTION_INTERVAL: Duration = sysinfo::MINIMUM_CPU_UPDATE_INTERVAL;

/// Settings of the [`PerformanceMonitor`](crate::PerformanceMonitor); apply them with
/// [`configure`](crate::PerformanceMonitor::configure).
///
/// ```
/// use std::time::Duration;
///
/// let config = coord::MonitorConfig::default()
///     .collection_interval(Duration::from_secs(5))
///     .max_data_points(1000);
/// coord::monitor().configure(config).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// Time between two samples of the background thread (default 1 s, at least 200 ms).
    pub collection_interval: Duration,
    /// Samples kept in [`history`](crate::PerformanceMonitor::history) (default 1000); the
    /// oldest are dropped first.
    pub max_data_points: usize,
    /// Where the health status turns degraded or unhealthy.
    pub thresholds: HealthThresholds,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            collection_interval: Duration::from_secs(1),
            max_data_points: 1000,
            thresholds: HealthThresholds::default(),
        }
    }
}

impl MonitorConfig {
    setters! {
        /// Sets the time between two samples.
        pub fn collection_interval(interval: Duration);

        /// Sets how many samples the history keeps.
        pub fn max_data_points(points: usize);

        /// Sets the health thresholds.
        pub fn thresholds(thresholds: HealthThresholds);
    }

    /// Sets the p99 latency objective of the health score.
    #[must_use]
    pub fn latency_objective(mut self, objective: Duration) -> Self {
        self.thresholds.latency_objective = objective;
        self
    }

    pub(crate) fn check(&self) -> Result<(), MonitorConfigError> {
        if self.max_data_points == 0 {
            return Err(MonitorConfigError::ZeroDataPoints);
        }
        if self.collection_interval < MIN_COLLECTION_INTERVAL {
            return Err(MonitorConfigError::IntervalTooShort {
                interval: self.collection_interval,
                minimum: MIN_COLLECTION_INTERVAL,
            });
        }
        if let Some(name) = self.thresholds.invalid() {
            return Err(MonitorConfigError::InvalidThreshold { name });
        }
        Ok(())
    }
}

/// Why [`configure`](crate::PerformanceMonitor::configure) rejected a [`MonitorConfig`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorConfigError {
    /// `max_data_points` is 0: the history could hold nothing.
    #[error("monitor config: max_data_points must be at least 1")]
    ZeroDataPoints,
    /// `collection_interval` is shorter than CPU use can be measured over.
    #[error("monitor config: collection_interval {interval:?} is below the minimum of {minimum:?}")]
    IntervalTooShort {
        /// The interval asked for.
        interval: Duration,
        /// The shortest allowed, [`MIN_COLLECTION_INTERVAL`].
        minimum: Duration,
    },
    /// A health threshold is not finite, out of range, or its "degraded" value lies above its
    /// "unhealthy" value.
    #[error(
        "monitor config: threshold `{name}` is out of range or its degraded value exceeds its unhealthy value"
    )]
    InvalidThreshold {
        /// The threshold: `cpu`, `memory`, `error_rate`, `latency_objective` or
        /// `open_breakers_unhealthy`.
        name: &'static str,
    },
}

/// Start/stop bookkeeping. A thread runs while `running` and the generation it was started
/// with is still current, so a thread that a racing `stop` missed still exits.
#[derive(Default)]
struct Control {
    running: bool,
    generation: u64,
    thread: Option<JoinHandle<()>>,
}

/// What the monitor thread and the callers share.
struct Shared {
    clock: Clock,
    config: RwLock<MonitorConfig>,
    control: Mutex<Control>,
    wake: Condvar,
    history: Mutex<VecDeque<SystemSample>>,
    windows: Mutex<RollingWindows>,
    breakers: RwLock<BreakerSource>,
}

/// Where the health score learns about open breakers.
#[derive(Clone, Copy)]
enum BreakerSource {
    /// A plain count ([`PerformanceMonitor::open_breakers_from`]).
    Count(fn() -> usize),
    /// Breakers outside keyed groups, and each keyed group with open keys.
    Detailed(fn() -> (usize, Vec<KeyedGroupInput>)),
}

fn no_breakers() -> usize {
    0
}

impl Shared {
    fn config(&self) -> MonitorConfig {
        crate::locks::read(&self.config).clone()
    }

    fn push_sample(&self, sample: SystemSample) {
        let _ = self.push_sample_if(sample, |_| true);
    }

    /// Adds `sample` unless the newest one already there fails `replaceable`, decided under
    /// the history's lock; returns that newest one when it is kept instead, so the caller scores
    /// it (a sample taken right after another measures CPU over almost no time).
    #[must_use]
    fn push_sample_if(
        &self,
        sample: SystemSample,
        replaceable: impl Fn(&SystemSample) -> bool,
    ) -> Option<SystemSample> {
        let max = crate::locks::read(&self.config).max_data_points;
        let mut history = lock(&self.history);
        if let Some(newest) = history.back()
            && !replaceable(newest)
        {
            return Some(newest.clone());
        }
        while history.len() >= max.max(1) {
            history.pop_front();
        }
        history.push_back(sample);
        None
    }

    fn roll_windows(&self) {
        let ops = operation::all();
        let now = self.clock.now();
        lock(&self.windows).checkpoint(&ops, now);
    }

    /// One tick of the monitor thread.
    fn tick(&self) {
        // Skipped only in the first 200 ms of the process's probe, when CPU use is unknowable.
        if let Some(sample) = sampler::sample_if_ready() {
            self.push_sample(sample);
        }
        self.roll_windows();
    }

    fn run(&self, generation: u64) {
        sampler::prime();
        // The first sample as soon as CPU use can be measured rather than a whole interval
        // later: a server that starts the monitor has its `system` section within 200 ms.
        let mut first = Some(Instant::now() + sampler::time_to_ready());
        let mut last = Instant::now();
        loop {
            {
                let mut control = lock(&self.control);
                loop {
                    if !control.running || control.generation != generation {
                        return;
                    }
                    // An interval too long for the clock means "not in this process's lifetime":
                    // wait for stop() alone.
                    let due = first.or_else(|| last.checked_add(self.config().collection_interval));
                    let Some(due) = due else {
                        control = self
                            .wake
                            .wait(control)
                            .unwrap_or_else(PoisonError::into_inner);
                        continue;
                    };
                    let now = Instant::now();
                    if now >= due {
                        break;
                    }
                    control = self
                        .wake
                        .wait_timeout(control, due - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
            first = None;
            last = Instant::now();
            self.tick();
        }
    }
}

/// The performance monitor: operation metrics, host samples, rolling windows and health.
///
/// The process-wide one is [`crate::monitor()`]; [`PerformanceMonitor::with_clock`] builds a
/// private one (sharing the same operation registry) for tests.
pub struct PerformanceMonitor {
    shared: Arc<Shared>,
}

impl fmt::Debug for PerformanceMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerformanceMonitor")
            .field("active", &self.is_active())
            .field("config", &self.shared.config())
            .finish_non_exhaustive()
    }
}

impl Default for PerformanceMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PerformanceMonitor {
    fn drop(&mut self) {
        self.stop();
    }
}

impl PerformanceMonitor {
    /// A monitor of its own, on the real clock, with the default configuration. Operations are
    /// process-wide, so it sees the same ones as [`crate::monitor()`].
    pub fn new() -> Self {
        Self::with_clock(Clock::system())
    }

    /// A monitor whose rolling windows read the time from `clock`, e.g. a
    /// [`FakeClock`](crate::FakeClock) in tests. Sampling intervals always use real time.
    pub fn with_clock(clock: impl Into<Clock>) -> Self {
        Self {
            shared: Arc::new(Shared {
                clock: clock.into(),
                config: RwLock::new(MonitorConfig::default()),
                control: Mutex::new(Control::default()),
                wake: Condvar::new(),
                history: Mutex::new(VecDeque::new()),
                windows: Mutex::new(RollingWindows::default()),
                breakers: RwLock::new(BreakerSource::Count(no_breakers)),
            }),
        }
    }

    /// Replaces the configuration, or says why `config` is nonsense (and keeps the old one).
    /// A running sampler picks up the new interval at once; a smaller `max_data_points` drops
    /// the oldest samples.
    pub fn configure(&self, config: MonitorConfig) -> Result<(), MonitorConfigError> {
        config.check()?;
        let max = config.max_data_points;
        *crate::locks::write(&self.shared.config) = config;
        {
            let mut history = lock(&self.shared.history);
            while history.len() > max {
                history.pop_front();
            }
        }
        let _control = lock(&self.shared.control);
        self.shared.wake.notify_all();
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> MonitorConfig {
        self.shared.config()
    }

    /// Starts the background thread `coord-monitor`, which samples the host and rolls the
    /// windows every `collection_interval`. Does nothing if it is already running.
    ///
    /// The windows start here: every call recorded after `start` returns is in them.
    pub fn start(&self) {
        let mut control = lock(&self.shared.control);
        if control.running {
            return;
        }
        self.shared.roll_windows();
        control.generation = control.generation.wrapping_add(1);
        let generation = control.generation;
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name("coord-monitor".into())
            .spawn(move || shared.run(generation));
        // A thread that cannot be spawned leaves the monitor inactive; nothing else to do.
        if let Ok(handle) = spawned {
            control.running = true;
            // A thread left by a stop that raced with us exits on its own (stale generation).
            control.thread = Some(handle);
        }
    }

    /// Stops the background thread and waits for it to finish: returns within one tick's work
    /// (well under a millisecond), whatever the interval. Does nothing when not running.
    pub fn stop(&self) {
        let thread = {
            let mut control = lock(&self.shared.control);
            control.running = false;
            self.shared.wake.notify_all();
            control.thread.take()
        };
        if let Some(thread) = thread {
            // Joining from the monitor thread itself would deadlock; it exits on its own.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// Whether the background thread is running.
    pub fn is_active(&self) -> bool {
        lock(&self.shared.control).running
    }

    /// Takes one sample of the host now and adds it to the history. The first sample of a
    /// process waits up to 200 ms: CPU use is a difference of two readings that far apart.
    pub fn record_system_health(&self) -> SystemSample {
        let sample = sampler::sample_blocking();
        self.shared.push_sample(sample.clone());
        sample
    }

    /// The health assessment from the latest sample, or `None` before the first sample.
    /// Unlike [`system_health`](Self::system_health) it never takes a sample, so it never waits.
    pub fn current_health(&self) -> Option<SystemHealth> {
        let has_sample = !lock(&self.shared.history).is_empty();
        has_sample.then(|| self.system_health())
    }

    /// The samples kept, oldest first, at most `max_data_points`.
    pub fn history(&self) -> Vec<SystemSample> {
        lock(&self.shared.history).iter().cloned().collect()
    }

    /// Takes a window checkpoint of every operation now. The background thread does this every
    /// `collection_interval`; call it yourself to use the windows without the thread.
    pub fn roll_windows(&self) {
        self.shared.roll_windows();
    }

    /// Tells the monitor how to count open circuit breakers for the health score (default:
    /// always 0; the process-wide monitor counts coord's breakers, a keyed group as its share
    /// of open keys). Each breaker `count` returns weighs one.
    pub fn open_breakers_from(&self, count: fn() -> usize) {
        *crate::locks::write(&self.shared.breakers) = BreakerSource::Count(count);
    }

    /// Like [`open_breakers_from`](Self::open_breakers_from), with keyed groups apart.
    pub(crate) fn breakers_from(&self, read: fn() -> (usize, Vec<KeyedGroupInput>)) {
        *crate::locks::write(&self.shared.breakers) = BreakerSource::Detailed(read);
    }

    /// Scores this process and its operations; see [`SystemHealth::assess`] for the formula.
    ///
    /// Never waits, so it is safe inside async handlers: CPU and memory come from the latest
    /// sample (read again now when the background thread is not running and it is older than
    /// the collection interval). If there is none yet, one is read now without waiting (and kept in the history):
    /// within the first 200 ms of the process's first reading CPU use cannot be measured yet,
    /// so it does not count (`sampled: false`, the verdict says so) and that reading is not
    /// kept. Error rate and worst p99 come from the operations' last 60 s when the windows
    /// have data, otherwise from everything recorded since start.
    pub fn system_health(&self) -> SystemHealth {
        let latest = lock(&self.shared.history).back().cloned();
        // Without the background thread nothing renews the sample: one older than the
        // collection interval is read again here, so that readiness does not freeze on the
        // first reading (kept only if no concurrent caller kept a fresher one meanwhile).
        let interval = crate::locks::read(&self.shared.config).collection_interval;
        let stale = |sample: &SystemSample| {
            !self.is_active()
                && sample
                    .timestamp
                    .elapsed()
                    .map_or(true, |age| age >= interval)
        };
        let (sample, measured) = match latest {
            Some(sample) if !stale(&sample) => (sample, true),
            _ => {
                let (sample, measured) = sampler::sample_now();
                let kept = measured
                    .then(|| (self.shared).push_sample_if(sample.clone(), |newest| stale(newest)))
                    .flatten();
                (kept.unwrap_or(sample), measured)
            }
        };
        let (error_rate, p99) = self.operations_health();
        let source = *crate::locks::read(&self.shared.breakers);
        let (open_breakers, keyed_groups) = match source {
            BreakerSource::Count(count) => (count(), Vec::new()),
            BreakerSource::Detailed(read) => read(),
        };
        let unknown = |v: f64| if measured { v } else { f64::NAN };
        let mut inputs = HealthInputs::new()
            .cpu_usage(unknown(sample.process_cpu_share()))
            .memory_usage(sample.process_memory_share())
            .error_rate(error_rate)
            .p99_latency(p99)
            .open_breakers(open_breakers)
            .host_cpu_usage(unknown(sample.cpu_usage))
            .host_memory_usage(sample.memory_usage);
        inputs.keyed_groups = keyed_groups;
        SystemHealth::assess(&inputs, &self.shared.config().thresholds)
    }

    /// Error rate over all operations and the worst p99, from the 60 s windows if any.
    fn operations_health(&self) -> (f64, Duration) {
        let ops = operation::all();
        let now = self.shared.clock.now();
        let windows = lock(&self.shared.windows);
        let (mut failures, mut completed, mut worst) = (0u64, 0u64, Duration::ZERO);
        for op in &ops {
            let [long] = windows.windows(op, [LONG_WINDOW], now);
            let (calls, ok, fails, p99) = match long {
                Some(w) => (w.calls, w.successes, w.failures, w.p99),
                None => {
                    let histogram = op.histogram();
                    let (s, f, c) = op.counters(&histogram);
                    let p99 = histogram.quantile(0.99).unwrap_or(0);
                    (s + f + c, s, f, Duration::from_nanos(p99))
                }
            };
            if calls == 0 {
                continue;
            }
            failures += fails;
            completed += fails + ok;
            worst = worst.max(p99);
        }
        let rate = if completed == 0 {
            0.0
        } else {
            failures as f64 / completed as f64
        };
        (rate, worst)
    }

    /// Fills `stats`' rolling windows from this monitor's checkpoints.
    pub(crate) fn fill_windows(&self, op: &Operation, stats: &mut OperationStats) {
        let now = self.shared.clock.now();
        let windows = lock(&self.shared.windows);
        [stats.last_10s, stats.last_60s] = windows.windows(op, [SHORT_WINDOW, LONG_WINDOW], now);
    }

    /// Forgets the sample history and the window checkpoints (for [`crate::reset`]).
    pub(crate) fn clear(&self) {
        lock(&self.shared.history).clear();
        lock(&self.shared.windows).clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::outcome::Outcome;

    #[test]
    fn reset_forgets_samples_and_windows() {
        let monitor = super::super::global();
        let op = monitor.operation_handle("monitor_unit.reset");
        monitor.roll_windows();
        op.record(Duration::from_millis(1), Outcome::Success);
        monitor.record_system_health();
        assert_eq!(monitor.history().len(), 1);
        assert!(
            super::super::operation("monitor_unit.reset")
                .unwrap()
                .last_10s
                .is_some()
        );
        super::super::reset_all();
        assert!(monitor.history().is_empty());
        assert_eq!(
            super::super::operation("monitor_unit.reset")
                .unwrap()
                .last_10s,
            None
        );
    }
}
