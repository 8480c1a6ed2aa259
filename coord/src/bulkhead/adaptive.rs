//! Adaptive concurrency limits: a bulkhead whose limit follows the latency it measures, as
//! Netflix's concurrency-limits do (TCP congestion control applied to calls).
//!
//! Each call's latency is a sample; samples are gathered into windows (at least
//! [`MIN_WINDOW_SAMPLES`], and at least as many as the limit, so one window spans about one
//! round trip of every slot), and each full window moves the limit once. Per-sample updates
//! oscillate; windows of a round trip do not (measured in the simulation of
//! `tests/adaptive_limit.rs`).
//!
//! Three algorithms ([`Algorithm`]):
//!
//! - **Vegas** (the default): the shortest latency seen is the latency without queueing; a
//!   window's average latency above it means `limit × (1 − shortest ÷ average)` calls are
//!   queued downstream. Fewer than `α = log10(limit)` (at least 1) queued: the limit grows by
//!   `log10(limit)`; more than `2α`: it shrinks by as much. It settles a few calls above the
//!   downstream's capacity.
//! - **Gradient2** (Netflix's): the baseline is a long-term average of the windows' latency
//!   (600 windows); the limit is multiplied by `clamp(1.5 × long ÷ short, 0.5, 1)` and grows by
//!   a queue allowance of 4, smoothed by 0.2. It reacts to latency rising *above its recent
//!   history*, and tolerates 1.5 times it; against a downstream whose latency only grows in
//!   proportion to its concurrency, its baseline drifts up with it and the limit settles far above
//!   capacity (about ten times, in the simulation): prefer Vegas there.
//! - **AIMD**: additive increase (one per window while the bulkhead is busy), multiplicative
//!   decrease (× 0.9) on a window with a failed call or an average latency above
//!   `latency_threshold`. It needs that signal: without failures or a threshold it only grows.
//!
//! The limit starts low (4) and grows, as TCP's slow start does. All three leave the limit alone while the bulkhead is less than half busy (nothing to learn
//! from an idle downstream), and keep it within `min_limit..=max_concurrent`.

use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use super::BulkheadConfig;

/// Windows gather at least this many samples.
pub const MIN_WINDOW_SAMPLES: usize = 10;

/// How a bulkhead's limit adapts: its algorithm and bounds. The ceiling is the bulkhead's
/// `max_concurrent`. Set it with [`BulkheadConfig::adaptive`](crate::BulkheadConfig::adaptive)
/// or `#[bulkhead(adaptive = "vegas")]`.
///
/// ```
/// use std::time::Duration;
/// use coord::BulkheadConfig;
/// use coord::bulkheads::AdaptiveLimit;
///
/// let config = BulkheadConfig::default()
///     .max_concurrent(200)
///     .adaptive(AdaptiveLimit::vegas().min_limit(4).initial_limit(20));
/// assert!(config.validate().is_ok());
/// let aimd = AdaptiveLimit::aimd().latency_threshold(Duration::from_millis(250));
/// assert_eq!(aimd.algorithm(), coord::bulkheads::Algorithm::Aimd);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdaptiveLimit {
    algorithm: Algorithm,
    min_limit: usize,
    initial_limit: usize,
    latency_threshold: Option<Duration>,
}

/// The algorithm of an [`AdaptiveLimit`] (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Algorithm {
    /// Queue estimate from the shortest latency seen (the default).
    Vegas,
    /// Netflix's Gradient2: latency against its long-term average.
    Gradient2,
    /// Additive increase, multiplicative decrease on failures or slow windows.
    Aimd,
}

impl Algorithm {
    /// Its name, as in `#[bulkhead(adaptive = "...")]` and the configuration file.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Vegas => "vegas",
            Algorithm::Gradient2 => "gradient2",
            Algorithm::Aimd => "aimd",
        }
    }

    /// The algorithm called `name` (`vegas`, `gradient2`, `aimd`).
    pub fn from_name(name: &str) -> Option<Self> {
        [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

impl Default for AdaptiveLimit {
    fn default() -> Self {
        Self::vegas()
    }
}

impl AdaptiveLimit {
    fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            min_limit: 1,
            initial_limit: 4,
            latency_threshold: None,
        }
    }

    /// Vegas (see the module documentation).
    pub fn vegas() -> Self {
        Self::new(Algorithm::Vegas)
    }

    /// Gradient2.
    pub fn gradient2() -> Self {
        Self::new(Algorithm::Gradient2)
    }

    /// AIMD.
    pub fn aimd() -> Self {
        Self::new(Algorithm::Aimd)
    }

    /// `algorithm` with the default bounds.
    pub fn of(algorithm: Algorithm) -> Self {
        Self::new(algorithm)
    }

    setters! {
        /// The lowest the limit goes (default 1).
        pub fn min_limit(limit: usize);

        /// Where the limit starts (default 4, or `max_concurrent` if lower). Starting low lets the
        /// limiter see the downstream's latency without queueing before it grows: Vegas takes the
        /// shortest latency it has seen for it, and one that starts above the downstream's capacity
        /// under constant overload never sees it, and settles too high.
        pub fn initial_limit(limit: usize);

        /// AIMD: a window averaging more than `threshold` counts as congested, like a failure.
        pub fn latency_threshold(threshold: Duration) = Some;
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowest limit.
    pub fn lowest(&self) -> usize {
        self.min_limit
    }

    /// A limiter of this algorithm, between `min_limit` and `max` (the bulkhead's
    /// `max_concurrent`).
    pub fn limiter(&self, max: usize) -> Limiter {
        let max = max.max(1);
        let min = self.min_limit.clamp(1, max);
        Limiter {
            config: self.clone(),
            min,
            max,
            limit: self.initial_limit.clamp(min, max) as f64,
            window: Window::default(),
            shortest: None,
            long: None,
            windows: 0,
        }
    }
}

/// One finished call, as a limiter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// How long the call held its slot.
    pub latency: Duration,
    /// Calls in flight when it finished (itself included).
    pub in_flight: usize,
    /// Whether it failed (a congestion signal for AIMD; the others ignore it).
    pub failed: bool,
}

#[derive(Clone, Debug, Default)]
struct Window {
    samples: usize,
    /// Successful calls, whose latency is averaged: a failure's (a refused connection's
    /// microseconds, a time-out's limit) says nothing of queueing.
    timed: usize,
    total_nanos: u128,
    max_in_flight: usize,
    failed: usize,
}

/// The state of one adaptive limit: feed it every finished call with [`on_sample`]
/// (a bulkhead does, when configured with an [`AdaptiveLimit`]); it returns the limit.
/// Deterministic: tests drive it with simulated latencies.
///
/// [`on_sample`]: Limiter::on_sample
#[derive(Clone, Debug)]
pub struct Limiter {
    config: AdaptiveLimit,
    min: usize,
    max: usize,
    limit: f64,
    window: Window,
    /// Vegas: the shortest window average seen (the latency without queueing).
    shortest: Option<f64>,
    /// Gradient2: the long-term average of the windows' latency.
    long: Option<f64>,
    windows: u64,
}

impl Limiter {
    /// The limit now.
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Takes one finished call into the current window; a full window moves the limit. Returns
    /// the limit.
    pub fn on_sample(&mut self, sample: Sample) -> usize {
        let w = &mut self.window;
        w.samples += 1;
        if sample.failed {
            w.failed += 1;
        } else {
            w.timed += 1;
            w.total_nanos += sample.latency.as_nanos();
        }
        w.max_in_flight = w.max_in_flight.max(sample.in_flight);
        if w.samples >= MIN_WINDOW_SAMPLES.max(self.limit as usize) {
            let window = std::mem::take(&mut self.window);
            let average = (window.timed > 0)
                .then(|| (window.total_nanos as f64 / window.timed as f64).max(1.0));
            // Congested for AIMD: a tenth of the window failed (an occasional business error
            // is not congestion).
            let congested = window.failed * 10 >= window.samples;
            self.update(average, window.max_in_flight, congested);
        }
        self.limit()
    }

    /// One full window: `rtt`, the average latency of its successful calls (`None`: none
    /// succeeded), the most calls in flight, and whether a tenth of it failed.
    fn update(&mut self, rtt: Option<f64>, in_flight: usize, failed: bool) {
        self.windows += 1;
        let limit = self.limit;
        let busy = in_flight as f64 * 2.0 >= limit;
        let next = match (self.config.algorithm, rtt) {
            // Nothing succeeded: no latency to learn from (AIMD still hears the failures).
            (Algorithm::Vegas | Algorithm::Gradient2, None) => limit,
            (Algorithm::Vegas, Some(rtt)) => {
                let shortest = self.shortest.map_or(rtt, |s| s.min(rtt));
                self.shortest = Some(shortest);
                let queued = limit * (1.0 - shortest / rtt);
                let step = limit.log10().max(1.0);
                if !busy {
                    limit
                } else if queued <= step {
                    limit + step
                } else if queued >= 2.0 * step {
                    limit - step
                } else {
                    limit
                }
            }
            (Algorithm::Gradient2, Some(rtt)) => {
                // Exponential average over 600 windows, a plain mean while warming up.
                let long = match self.long {
                    None => rtt,
                    Some(long) => {
                        let n = self.windows as f64;
                        let alpha = if n < 10.0 { 1.0 / n } else { 2.0 / 601.0 };
                        long * (1.0 - alpha) + rtt * alpha
                    }
                };
                // Recover quickly from a baseline left high by a latency spike.
                let long = if long / rtt > 2.0 { long * 0.95 } else { long };
                self.long = Some(long);
                if busy {
                    let gradient = (1.5 * long / rtt).clamp(0.5, 1.0);
                    let target = limit * gradient + 4.0;
                    limit * 0.8 + target * 0.2
                } else {
                    limit
                }
            }
            (Algorithm::Aimd, rtt) => {
                let slow = self
                    .config
                    .latency_threshold
                    .zip(rtt)
                    .is_some_and(|(t, rtt)| rtt > t.as_nanos() as f64);
                if failed || slow {
                    (limit * 0.9).floor()
                } else if busy {
                    limit + 1.0
                } else {
                    limit
                }
            }
        };
        self.limit = next.clamp(self.min as f64, self.max as f64);
    }
}

/// A bulkhead's adaptation: its limiter (if adaptive) and its configured ceiling.
#[derive(Debug)]
pub(super) struct Adaptation {
    /// Read on every admission: whether permits take their start time.
    on: AtomicBool,
    /// The configured `max_concurrent` (the bulkhead's own limit is the limiter's).
    ceiling: AtomicU64,
    limiter: Mutex<Option<Limiter>>,
}

impl Adaptation {
    /// The adaptation of `config`, and the limit to start with.
    pub(super) fn new(config: &BulkheadConfig) -> (Self, usize) {
        let adaptation = Self {
            on: AtomicBool::new(false),
            ceiling: AtomicU64::new(config.max_concurrent as u64),
            limiter: Mutex::new(None),
        };
        let limit = adaptation.configure(config);
        (adaptation, limit)
    }

    /// Applies `config`; returns the limit to use now. The same adaptive configuration and
    /// ceiling again (a file reloaded, only `max_wait` changed) keeps what the limiter learned.
    pub(super) fn configure(&self, config: &BulkheadConfig) -> usize {
        let current = crate::locks::lock(&self.limiter);
        if let (Some(adaptive), Some(limiter)) = (&config.adaptive, current.as_ref())
            && *adaptive == limiter.config
            && limiter.max == config.max_concurrent.max(1)
        {
            return limiter.limit();
        }
        drop(current);
        let limiter = config
            .adaptive
            .as_ref()
            .map(|adaptive| adaptive.limiter(config.max_concurrent));
        let limit = limiter
            .as_ref()
            .map_or(config.max_concurrent, Limiter::limit);
        self.ceiling.store(config.max_concurrent as u64, Relaxed);
        self.on.store(limiter.is_some(), Relaxed);
        *crate::locks::lock(&self.limiter) = limiter;
        limit
    }

    /// When a permit taken now started, if the limit adapts.
    #[inline]
    pub(super) fn start(&self) -> Option<Instant> {
        self.on.load(Relaxed).then(Instant::now)
    }

    /// The configured `max_concurrent`.
    pub(super) fn ceiling(&self) -> usize {
        self.ceiling.load(Relaxed) as usize
    }

    /// The algorithm, if the limit adapts.
    pub(super) fn algorithm(&self) -> Option<Algorithm> {
        crate::locks::lock(&self.limiter)
            .as_ref()
            .map(|limiter| limiter.config.algorithm)
    }

    /// The adaptive configuration, if any.
    pub(super) fn config(&self) -> Option<AdaptiveLimit> {
        crate::locks::lock(&self.limiter)
            .as_ref()
            .map(|limiter| limiter.config.clone())
    }

    /// Takes one finished call; the new limit, if the limiter moved it. A sample arriving while
    /// another is being taken is dropped: the window is statistics, and admission must not
    /// queue behind it.
    #[cold]
    pub(super) fn sample(&self, sample: Sample) -> Option<usize> {
        let mut limiter = self.limiter.try_lock().ok()?;
        let limiter = limiter.as_mut()?;
        let before = limiter.limit();
        let after = limiter.on_sample(sample);
        (after != before).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` samples; the limit after them.
    fn feed(
        limiter: &mut Limiter,
        n: usize,
        latency_ms: u64,
        in_flight: usize,
        failed: bool,
    ) -> usize {
        for _ in 0..n {
            limiter.on_sample(Sample {
                latency: Duration::from_millis(latency_ms),
                in_flight,
                failed,
            });
        }
        limiter.limit()
    }

    #[test]
    fn an_idle_bulkhead_leaves_the_limit_alone() {
        for algorithm in [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd] {
            let mut limiter = AdaptiveLimit::of(algorithm).initial_limit(20).limiter(100);
            assert_eq!(feed(&mut limiter, 1_000, 10, 2, false), 20, "{algorithm:?}");
        }
    }

    #[test]
    fn vegas_grows_without_queueing_and_shrinks_with_it() {
        let mut limiter = AdaptiveLimit::vegas().initial_limit(20).limiter(100);
        let grown = feed(&mut limiter, 200, 10, 20, false);
        assert!(grown > 20, "{grown}");
        // Latency doubled at full use: half the calls are queued.
        feed(&mut limiter, 400, 20, grown, false);
        assert!(limiter.limit() < grown, "{} !< {grown}", limiter.limit());
    }

    #[test]
    fn aimd_backs_off_on_failures_and_slow_windows() {
        let mut limiter = AdaptiveLimit::aimd()
            .initial_limit(20)
            .latency_threshold(Duration::from_millis(50))
            .limiter(100);
        assert_eq!(feed(&mut limiter, 20, 10, 20, true), 18);
        assert_eq!(feed(&mut limiter, 18, 60, 18, false), 16);
        assert_eq!(feed(&mut limiter, 16, 10, 16, false), 17);
    }

    #[test]
    fn a_burst_of_fast_failures_teaches_vegas_nothing() {
        let mut limiter = AdaptiveLimit::vegas().initial_limit(40).limiter(100);
        // Refused connections while the downstream restarts: microseconds, all failed.
        for _ in 0..200 {
            limiter.on_sample(Sample {
                latency: Duration::from_micros(50),
                in_flight: 40,
                failed: true,
            });
        }
        assert_eq!(limiter.limit(), 40);
        // Back to its normal 10 ms without queueing: the limit grows again.
        feed(&mut limiter, 400, 10, 40, false);
        assert!(limiter.limit() > 40, "{}", limiter.limit());
    }

    #[test]
    fn aimd_shrugs_off_an_occasional_business_error() {
        let mut limiter = AdaptiveLimit::aimd().initial_limit(50).limiter(100);
        for i in 0..5_000_u32 {
            limiter.on_sample(Sample {
                latency: Duration::from_millis(10),
                in_flight: limiter.limit(),
                failed: i.is_multiple_of(100),
            });
        }
        assert_eq!(limiter.limit(), 100, "1 % of errors is no congestion");
    }

    #[test]
    fn limits_stay_within_their_bounds() {
        let mut limiter = AdaptiveLimit::aimd()
            .min_limit(5)
            .initial_limit(500)
            .limiter(30);
        assert_eq!(limiter.limit(), 30);
        assert_eq!(feed(&mut limiter, 10_000, 10, 30, true), 5);
        assert_eq!(feed(&mut limiter, 10_000, 10, 30, false), 30);
    }

    #[test]
    fn names_round_trip() {
        for algorithm in [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd] {
            assert_eq!(Algorithm::from_name(algorithm.name()), Some(algorithm));
        }
        assert_eq!(Algorithm::from_name("gradient"), None);
    }
}
