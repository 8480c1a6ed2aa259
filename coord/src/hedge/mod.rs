//! Hedged requests: when a call has not answered within a delay (a fixed one, or a percentile
//! of the latency its attempts have shown), start another attempt of the same idempotent call;
//! the first success wins and the attempts still running are dropped (cancelled). Tail latency
//! falls at the price of a few extra calls: with the 95th percentile as the delay, about 5 % of
//! calls start a hedge.
//!
//! A failed attempt does not start a hedge: hedging is for latency, errors are the retry layer's
//! business. The call fails when every attempt it started has failed (with the last error), and
//! only then. [`Hedge::run_when`] takes a check made before each hedge starts, so that an open
//! circuit breaker or an empty retry budget holds hedges back.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use coord::HedgeConfig;
//!
//! let hedge = coord::hedge_with("docs.hedge", HedgeConfig::after(Duration::from_millis(5))).unwrap();
//! let answer: Result<u32, ()> = hedge.run(|| async { Ok(42) }).await;
//! assert_eq!(answer, Ok(42));
//! assert_eq!(hedge.snapshot().hedges_started, 0, "it answered within 5 ms");
//! # });
//! ```

pub(crate) mod file;
pub(crate) mod layer;
mod race;
pub(crate) mod registry;
pub(crate) mod section;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::clock::Clock;

pub use registry::{
    DEFAULT_MAX_HEDGES, OVERFLOW_NAME, dropped_names, find, hedge, hedge_with, max_hedges,
    reset_all, set_max_hedges, snapshots,
};

/// The most extra attempts one call may start.
pub const MAX_EXTRA: u32 = coord_limits::hedge::MAX_EXTRA;

/// Latencies kept for a percentile delay (the most recent ones).
pub const RECENT_SAMPLES: usize = 256;

/// A percentile delay is recomputed every this many samples, and hedging starts with the first
/// computation.
pub const RECOMPUTE_EVERY: u64 = 32;

/// When a hedge starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeAfter {
    /// After this long.
    Fixed(Duration),
    /// After the given percentile (`0.95`) of the latency the call's successful attempts took,
    /// over the last [`RECENT_SAMPLES`]; no hedge before [`RECOMPUTE_EVERY`] samples.
    Percentile(f64),
}

/// How a [`Hedge`] hedges. `HedgeConfig::default()` hedges once after the 95th percentile.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct HedgeConfig {
    /// When a hedge starts (and, after a hedge, when the next one may).
    pub after: HedgeAfter,
    /// Extra attempts a call may start (`1..=MAX_EXTRA`, default 1).
    pub max_extra: u32,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        Self {
            after: HedgeAfter::Percentile(0.95),
            max_extra: 1,
        }
    }
}

impl HedgeConfig {
    /// Hedges once after `delay`.
    pub fn after(delay: Duration) -> Self {
        Self {
            after: HedgeAfter::Fixed(delay),
            ..Self::default()
        }
    }

    /// Hedges once after the `quantile` (`0.95`) of recent latency.
    pub fn percentile(quantile: f64) -> Self {
        Self {
            after: HedgeAfter::Percentile(quantile),
            ..Self::default()
        }
    }

    /// Sets how many extra attempts a call may start.
    #[must_use]
    pub fn max_extra(mut self, max_extra: u32) -> Self {
        self.max_extra = max_extra;
        self
    }

    /// Checks the percentile (strictly between 0 and 1) and `max_extra` (`1..=MAX_EXTRA`).
    pub fn validate(&self) -> Result<(), HedgeConfigError> {
        if let HedgeAfter::Percentile(q) = self.after
            && !(q > 0.0 && q < 1.0)
        {
            return Err(HedgeConfigError {
                key: "after",
                message: format!("the percentile {q} is not strictly between 0 and 1"),
            });
        }
        if !(1..=MAX_EXTRA).contains(&self.max_extra) {
            return Err(HedgeConfigError {
                key: "max_extra",
                message: format!("{} is not in 1..={MAX_EXTRA}", self.max_extra),
            });
        }
        Ok(())
    }
}

config_error! {
    /// A [`HedgeConfig`] refused by [`HedgeConfig::validate`].
    pub struct HedgeConfigError: "hedge", as in "#[hedge(...)]";
}

/// A hedge's numbers at one moment; see [`Hedge::snapshot`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct HedgeSnapshot {
    /// The hedge's name.
    pub name: String,
    /// Races run: calls, or with retries, the attempts of the retry loop (each one a race).
    pub calls: u64,
    /// Extra attempts started.
    pub hedges_started: u64,
    /// Calls answered by an extra attempt (the first success was a hedge's).
    pub hedges_won: u64,
    /// Hedges the check of [`Hedge::run_when`] held back (an open breaker, an empty budget).
    pub hedges_denied: u64,
    /// The delay now (serialized as `delay_ms`); `None` while a percentile has too few samples.
    #[serde(rename = "delay_ms", serialize_with = "crate::serde_ms::opt_ms")]
    pub delay: Option<Duration>,
}

/// Hedges calls of one operation. Make one with [`Hedge::new`]; share it (an `Arc` or a
/// `static`) among the calls it hedges, since a percentile delay learns from all of them.
pub struct Hedge {
    name: Arc<str>,
    config: Mutex<HedgeConfig>,
    clock: Clock,
    /// Set once by [`set_clock`](Hedge::set_clock) on a hedge already shared (a test's paused
    /// clock): read without a lock, unlike a replaceable clock would be.
    test_clock: OnceLock<Clock>,
    /// The delay in nanoseconds; `u64::MAX` while a percentile has too few samples.
    delay_nanos: AtomicU64,
    /// `config`'s `max_extra` and percentile (as `f64` bits; 0 for a fixed delay), read per
    /// call without its lock.
    max_extra: AtomicU32,
    quantile_bits: AtomicU64,
    recent: Mutex<Recent>,
    calls: AtomicU64,
    started: AtomicU64,
    won: AtomicU64,
    denied: AtomicU64,
}

named_debug!(Hedge { config: config() });

/// The latest latencies, in a ring.
#[derive(Debug, Default)]
struct Recent {
    nanos: Vec<u64>,
    next: usize,
    seen: u64,
}

impl Hedge {
    /// A hedge of its own named `name` (for its numbers), outside the registry: see
    /// [`crate::hedge()`] for the shared, reported one.
    pub fn new(name: &str, config: HedgeConfig) -> Result<Self, HedgeConfigError> {
        config.validate()?;
        Ok(Self::unchecked(Arc::from(name), config))
    }

    fn unchecked(name: Arc<str>, config: HedgeConfig) -> Self {
        let hedge = Self {
            name,
            config: Mutex::new(config),
            clock: Clock::system(),
            test_clock: OnceLock::new(),
            delay_nanos: AtomicU64::new(u64::MAX),
            max_extra: AtomicU32::new(config.max_extra),
            quantile_bits: AtomicU64::new(0),
            recent: Mutex::default(),
            calls: AtomicU64::new(0),
            started: AtomicU64::new(0),
            won: AtomicU64::new(0),
            denied: AtomicU64::new(0),
        };
        hedge.apply_delay(&config);
        hedge
    }

    /// Times the hedges on `clock` (a test's `Clock::tokio()` under `tokio::time::pause()`).
    #[must_use]
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Times this hedge's later calls on `clock`, once: for a shared hedge (the registry's,
    /// the one of a `#[hedge]` function) in a test on a paused or fake clock. `false` if a
    /// clock was set this way before (it stays).
    pub fn set_clock(&self, clock: impl Into<Clock>) -> bool {
        self.test_clock.set(clock.into()).is_ok()
    }

    fn current_clock(&self) -> &Clock {
        self.test_clock.get().unwrap_or(&self.clock)
    }

    /// The hedge's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration.
    pub fn config(&self) -> HedgeConfig {
        *crate::locks::lock(&self.config)
    }

    /// Applies a new configuration; calls running keep the one they started with.
    pub fn configure(&self, config: HedgeConfig) -> Result<(), HedgeConfigError> {
        config.validate()?;
        *crate::locks::lock(&self.config) = config;
        self.apply_delay(&config);
        Ok(())
    }

    fn apply_delay(&self, config: &HedgeConfig) {
        self.max_extra.store(config.max_extra, Relaxed);
        let q = match config.after {
            HedgeAfter::Fixed(_) => 0.0,
            HedgeAfter::Percentile(q) => q,
        };
        self.quantile_bits.store(q.to_bits(), Relaxed);
        match config.after {
            HedgeAfter::Fixed(delay) => self.delay_nanos.store(nanos(delay), Relaxed),
            HedgeAfter::Percentile(q) => {
                let recent = crate::locks::lock(&self.recent);
                let delay = quantile(&recent.nanos, q).unwrap_or(u64::MAX);
                self.delay_nanos.store(delay, Relaxed);
            }
        }
    }

    /// The delay after which a hedge starts now (`None`: not yet known).
    pub fn delay(&self) -> Option<Duration> {
        match self.delay_nanos.load(Relaxed) {
            u64::MAX => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Runs `attempt`, and again after the delay while no attempt has succeeded, up to
    /// `max_extra` more times; the first success is the answer and the other attempts are
    /// dropped. Every attempt failing: the last error.
    pub async fn run<T, E, F, Fut>(&self, attempt: F) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_when(attempt, || true).await
    }

    /// [`run`](Self::run), asking `may_hedge()` before each extra attempt (an open breaker, an
    /// empty retry budget): `false` holds that hedge back, and the call goes on with the
    /// attempts it has.
    pub async fn run_when<T, E, F, Fut>(
        &self,
        attempt: F,
        may_hedge: impl Fn() -> bool,
    ) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_ranked(attempt, may_hedge, |_, _| true).await
    }

    /// [`run_when`](Self::run_when), keeping of two errors the one `replaces(kept, new)`
    /// ranks (the layer stack keeps a failure over a hedge's rejection).
    pub(crate) async fn run_ranked<T, E, F, Fut>(
        &self,
        attempt: F,
        may_hedge: impl Fn() -> bool,
        replaces: fn(&E, &E) -> bool,
    ) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.calls.fetch_add(1, Relaxed);
        let max_extra = self.max_extra.load(Relaxed);
        race::Race::new(self, &attempt, &may_hedge, max_extra, replaces)
            .run()
            .await
    }

    /// The hedge's numbers now.
    pub fn snapshot(&self) -> HedgeSnapshot {
        HedgeSnapshot {
            name: self.name.to_string(),
            calls: self.calls.load(Relaxed),
            hedges_started: self.started.load(Relaxed),
            hedges_won: self.won.load(Relaxed),
            hedges_denied: self.denied.load(Relaxed),
            delay: self.delay(),
        }
    }

    /// Zeroes the counters and forgets the latencies seen; the configuration stays.
    pub fn reset_counters(&self) {
        for counter in [&self.calls, &self.started, &self.won, &self.denied] {
            counter.store(0, Relaxed);
        }
        *crate::locks::lock(&self.recent) = Recent::default();
        self.apply_delay(&self.config());
    }

    /// A successful attempt took `latency`: a sample for a percentile delay. Dropped when
    /// another thread is recording (the percentile is a statistic; calls must not queue on it).
    fn record(&self, latency: Duration) {
        let q = f64::from_bits(self.quantile_bits.load(Relaxed));
        if q == 0.0 {
            return;
        }
        let Ok(mut recent) = self.recent.try_lock() else {
            return;
        };
        let nanos = nanos(latency);
        if recent.nanos.len() < RECENT_SAMPLES {
            recent.nanos.push(nanos);
        } else {
            let at = recent.next;
            recent.nanos[at] = nanos;
        }
        recent.next = (recent.next + 1) % RECENT_SAMPLES;
        recent.seen += 1;
        if recent.seen.is_multiple_of(RECOMPUTE_EVERY)
            && let Some(delay) = quantile(&recent.nanos, q)
        {
            self.delay_nanos.store(delay, Relaxed);
        }
    }
}

/// The `q` quantile (nearest rank) of `samples` (at most [`RECENT_SAMPLES`]), selected in a
/// copy on the stack.
fn quantile(samples: &[u64], q: f64) -> Option<u64> {
    if samples.is_empty() {
        return None;
    }
    let mut copy = [0u64; RECENT_SAMPLES];
    let copy = &mut copy[..samples.len().min(RECENT_SAMPLES)];
    copy.copy_from_slice(&samples[..copy.len()]);
    let rank = ((q * copy.len() as f64).ceil() as usize).clamp(1, copy.len());
    Some(*copy.select_nth_unstable(rank - 1).1)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
}
