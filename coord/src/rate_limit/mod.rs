//! Rate limiters: at most `rate` calls `per` period on average, with bursts of up to `burst`
//! calls, the rest waiting up to `max_wait` or rejected with [`RateLimited`].
//!
//! The algorithm is GCRA (the generic cell rate algorithm, as in ATM networks and `governor`):
//! the whole state is one atomic word, the *theoretical arrival time* of the next call. Calls are
//! spaced `per / rate` apart; a call may arrive early by up to `burst - 1` spacings. Admitting a
//! call is one clock read and one compare-and-swap; nothing is ever refilled by a thread.
//!
//! A call allowed to wait *reserves* its place at once (the arrival time moves past it) and
//! then sleeps until its turn, so waiting callers are served in order and never retry. A wait
//! cancelled after its reservation forfeits that place.
//!
//! ```
//! use std::time::Duration;
//! use coord::RateLimitConfig;
//!
//! let config = RateLimitConfig::default().rate(10).per(Duration::from_secs(1)).burst(2);
//! let limiter = coord::rate_limiter_with("docs.api", config).unwrap();
//! assert!(limiter.check().is_ok());
//! assert!(limiter.check().is_ok());
//! let limited = limiter.check().unwrap_err();
//! assert!(limited.retry_after() <= Duration::from_millis(100));
//! ```

use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use crate::clock::{saturating_nanos, timer};

mod clock;
mod config;
pub(crate) mod file;
pub(crate) mod layer;
pub(crate) mod registry;
pub(crate) mod section;
pub mod shared;
#[cfg(feature = "tower")]
mod tower;

pub use config::{RateLimitConfig, RateLimitConfigError, RateLimited};
pub use shared::{OnFailure, SharedAdmit, SharedConfig, SharedSnapshot};

pub use registry::{find, snapshots};
// Compatibility paths: each has its one documented home at the root (the lookups, which load
// `COORD_CONFIG` first), in `coord::limits` (the cap, the overflow name and the dropped count)
// or in `coord::reset()`.
#[doc(hidden)]
pub use registry::{
    DEFAULT_MAX_RATE_LIMITERS, OVERFLOW_NAME, dropped_names, max_rate_limiters, rate_limiter,
    rate_limiter_with, reset_all, set_max_rate_limiters,
};

/// A rate limiter's numbers at one moment; see [`RateLimiter::snapshot`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct RateLimitSnapshot {
    /// The rate limiter's name.
    pub name: String,
    /// Its configured rate.
    pub rate: u64,
    /// Its period (serialized as `per_ms`).
    #[serde(rename = "per_ms", with = "crate::serde_ms::ms")]
    pub per: Duration,
    /// Its burst size.
    pub burst: u64,
    /// Its configured wait (serialized as `max_wait_ms`).
    #[serde(rename = "max_wait_ms", with = "crate::serde_ms::ms")]
    pub max_wait: Duration,
    /// Calls that could be admitted at once right now (0..=burst); for a shared limiter, by its
    /// local fallback.
    pub available: u64,
    /// Calls rejected since creation or the last [`crate::reset`].
    pub rejected: u64,
    /// Calls admitted after waiting for their turn since then.
    pub waits: u64,
    /// Time those calls waited (serialized as `total_wait_ms`).
    #[serde(rename = "total_wait_ms", with = "crate::serde_ms::ms")]
    pub total_wait: Duration,
    /// The shared backend's numbers for a fleet-wide limiter; `None` for a local one.
    pub shared: Option<SharedSnapshot>,
}

/// A named GCRA rate limiter. Get a shared one with [`rate_limiter`] or [`rate_limiter_with`],
/// or make a private one with [`RateLimiter::new`] (or [`RateLimiter::with_clock`] for tests).
pub struct RateLimiter {
    name: Arc<str>,
    /// The theoretical arrival time of the next call, in the clock's nanoseconds, alone on its
    /// cache line: the settings read beside it are not invalidated by every admission.
    tat: Padded<AtomicU64>,
    /// Spacing and tolerance, in nanoseconds.
    gcra: AtomicU64Pair,
    config: std::sync::RwLock<RateLimitConfig>,
    max_wait_nanos: AtomicU64,
    clock: clock::Source,
    counters: Arc<Counters>,
    /// Whether `shared` holds a backend: the one load a local limiter's admission adds.
    is_shared: AtomicBool,
    shared: std::sync::RwLock<Option<Arc<shared::Shared>>>,
}

/// Rejections and waits, shared with the limiter's async admissions and its shared backend
/// (whose own numbers live here too, so that a reconfigure keeps them).
#[derive(Default)]
pub(crate) struct Counters {
    rejected: AtomicU64,
    waits: AtomicU64,
    wait_nanos: AtomicU64,
    shared: shared::Stats,
}

/// A call not admitted: the time until one would be (nanoseconds), and whether a shared
/// limiter's local fallback decided it (Redis gave no answer) rather than the quota.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusal {
    retry_after: u64,
    fallback: bool,
}

impl Refusal {
    /// Refused by the quota.
    #[inline]
    pub(crate) fn quota(retry_after: u64) -> Self {
        Self {
            retry_after,
            fallback: false,
        }
    }

    /// Refused locally while Redis gave no answer.
    pub(crate) fn fallback(retry_after: u64) -> Self {
        Self {
            retry_after,
            fallback: true,
        }
    }
}

impl Counters {
    #[cold]
    fn reject(&self, name: &Arc<str>, refusal: Refusal) -> RateLimited {
        let Refusal {
            retry_after,
            fallback,
        } = refusal;
        if fallback {
            self.shared.fallback_rejected.fetch_add(1, Relaxed);
        } else {
            self.rejected.fetch_add(1, Relaxed);
        }
        // Debug level: under overload every rejected call emits one.
        tracing::debug!(
            target: "coord::rate_limit",
            rate_limiter = &**name,
            retry_after_ms = retry_after as f64 / 1e6,
            fallback,
            "rate limit exceeded; call rejected"
        );
        RateLimited {
            name: Arc::clone(name),
            retry_after: Duration::from_nanos(retry_after),
            fallback,
        }
    }

    #[cold]
    fn record_wait(&self, wait: u64) -> Duration {
        self.waits.fetch_add(1, Relaxed);
        let _ = self
            .wait_nanos
            .fetch_update(Relaxed, Relaxed, |t| Some(t.saturating_add(wait)));
        Duration::from_nanos(wait)
    }

    fn reset(&self) {
        self.rejected.store(0, Relaxed);
        self.waits.store(0, Relaxed);
        self.wait_nanos.store(0, Relaxed);
        self.shared.reset();
    }
}

/// Keeps a hot atomic on a cache line of its own (128 bytes: adjacent-line prefetching pairs
/// 64-byte lines on x86).
#[repr(align(128))]
struct Padded<T>(T);

/// Spacing and tolerance: read on every call, written only by [`RateLimiter::configure`].
struct AtomicU64Pair {
    interval: AtomicU64,
    tolerance: AtomicU64,
}

impl AtomicU64Pair {
    fn new((interval, tolerance): (u64, u64)) -> Self {
        Self {
            interval: AtomicU64::new(interval),
            tolerance: AtomicU64::new(tolerance),
        }
    }

    #[inline]
    fn load(&self) -> (u64, u64) {
        (self.interval.load(Relaxed), self.tolerance.load(Relaxed))
    }

    fn store(&self, (interval, tolerance): (u64, u64)) {
        // A call between the two stores uses the new spacing with the old tolerance: one
        // call's admission is decided by a mix, never the state's consistency (it is one word).
        self.interval.store(interval, Relaxed);
        self.tolerance.store(tolerance, Relaxed);
    }
}

named_debug!(RateLimiter { config: config() });

impl RateLimiter {
    /// A rate limiter of its own, outside the registry, on the real clock.
    pub fn new(name: &str, config: RateLimitConfig) -> Result<Self, RateLimitConfigError> {
        config.validate()?;
        Ok(Self::unchecked(
            Arc::from(name),
            config,
            clock::Source::system(),
        ))
    }

    /// A rate limiter of its own on `clock` (a [`FakeClock`](crate::FakeClock) in tests): time moves only
    /// when the clock does. Waits still sleep for real.
    pub fn with_clock(
        name: &str,
        config: RateLimitConfig,
        clock: impl Into<crate::clock::Clock>,
    ) -> Result<Self, RateLimitConfigError> {
        config.validate()?;
        Ok(Self::unchecked(
            Arc::from(name),
            config,
            clock::Source::injected(clock.into()),
        ))
    }

    fn unchecked(name: Arc<str>, config: RateLimitConfig, clock: clock::Source) -> Self {
        let counters = Arc::new(Counters::default());
        let shared = config
            .shared
            .clone()
            .map(|shared| Arc::new(shared::Shared::new(&name, &config, shared, &counters)));
        Self {
            name,
            tat: Padded(AtomicU64::new(0)),
            gcra: AtomicU64Pair::new(config.gcra()),
            max_wait_nanos: AtomicU64::new(saturating_nanos(config.max_wait)),
            config: std::sync::RwLock::new(config),
            clock,
            counters,
            is_shared: AtomicBool::new(shared.is_some()),
            shared: std::sync::RwLock::new(shared),
        }
    }

    /// The shared backend, for a fleet-wide limiter.
    #[inline]
    fn shared_part(&self) -> Option<Arc<shared::Shared>> {
        if !self.is_shared.load(Relaxed) {
            return None;
        }
        self.shared
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the quota is shared across the fleet (see [`shared`]).
    pub fn is_shared(&self) -> bool {
        self.is_shared.load(Relaxed)
    }

    /// The rate limiter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current configuration.
    pub fn config(&self) -> RateLimitConfig {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Applies a new configuration; the calls already admitted keep counting against it.
    pub fn configure(&self, config: RateLimitConfig) -> Result<(), RateLimitConfigError> {
        config.validate()?;
        let mut current = self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *current != config {
            self.gcra.store(config.gcra());
            self.max_wait_nanos
                .store(saturating_nanos(config.max_wait), Relaxed);
            let shared = config.shared.clone().map(|shared| {
                Arc::new(shared::Shared::new(
                    &self.name,
                    &config,
                    shared,
                    &self.counters,
                ))
            });
            let mut slot = self
                .shared
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.is_shared.store(shared.is_some(), Relaxed);
            *slot = shared;
            *current = config;
        }
        Ok(())
    }

    /// The configured wait, used by [`call`](Self::call) and [`call_async`](Self::call_async).
    pub fn max_wait(&self) -> Duration {
        Duration::from_nanos(self.max_wait_nanos.load(Relaxed))
    }

    /// Admits a call now, or rejects it with the time until one would be admitted.
    #[inline]
    pub fn check(&self) -> Result<(), RateLimited> {
        match self.decide(0) {
            Ok(_) => Ok(()),
            Err(refusal) => Err(self.reject(refusal)),
        }
    }

    /// Admits a call, sleeping this thread until its turn if that comes within `max_wait`.
    pub fn acquire(&self, max_wait: Duration) -> Result<(), RateLimited> {
        match self.decide(saturating_nanos(max_wait)) {
            Ok(0) => Ok(()),
            Ok(wait) => {
                let wait = self.record_wait(wait);
                std::thread::sleep(wait);
                Ok(())
            }
            Err(refusal) => Err(self.reject(refusal)),
        }
    }

    /// Admits a call, waiting without blocking a thread (on the shared [`crate::clock::timer`]) until
    /// its turn if that comes within `max_wait`.
    pub async fn acquire_async(&self, max_wait: Duration) -> Result<(), RateLimited> {
        if let Some(shared) = self.shared_part() {
            return SharedAdmit::new(shared, saturating_nanos(max_wait)).await;
        }
        match self.reserve(saturating_nanos(max_wait)) {
            Ok(0) => Ok(()),
            Ok(wait) => {
                timer::sleep(self.record_wait(wait)).await;
                Ok(())
            }
            Err(retry_after) => Err(self.reject(Refusal::quota(retry_after))),
        }
    }

    /// Runs `f` once admitted (waiting up to the configured `max_wait` on this thread); a
    /// rejection becomes `E::from(RateLimited)` without running `f`.
    #[inline]
    pub fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E>,
        E: From<RateLimited>,
    {
        self.acquire(self.max_wait())?;
        f()
    }

    /// [`call`](Self::call) for futures: waits for its turn without blocking a thread.
    pub async fn call_async<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<RateLimited>,
    {
        self.acquire_async(self.max_wait()).await?;
        f().await
    }

    /// The rate limiter's numbers now.
    pub fn snapshot(&self) -> RateLimitSnapshot {
        let config = self.config();
        let (interval, tolerance) = self.gcra.load();
        let now = self.clock.now_nanos();
        let ahead = self.tat.0.load(Acquire).saturating_sub(now);
        // Calls admissible now: those that fit between the arrival time and the tolerance.
        let available = tolerance
            .saturating_add(interval)
            .saturating_sub(ahead)
            .checked_div(interval)
            .unwrap_or(0)
            .min(config.burst);
        let shared = self.shared_part();
        // A shared limiter's own word is unused: what it could admit at once locally is its
        // fallback's (the fleet's is in Redis, and reading it would cost a round trip).
        let available = shared
            .as_ref()
            .map_or(available, |shared| shared.fallback_available());
        RateLimitSnapshot {
            name: self.name.to_string(),
            rate: config.rate,
            per: config.per,
            burst: config.burst,
            max_wait: config.max_wait,
            available,
            rejected: self.counters.rejected.load(Relaxed),
            waits: self.counters.waits.load(Relaxed),
            total_wait: Duration::from_nanos(self.counters.wait_nanos.load(Relaxed)),
            shared: shared.map(|shared| shared.snapshot()),
        }
    }

    /// Zeroes the counters and forgets past calls (a full burst is available again); the
    /// configuration stays. A shared limiter forgets its local state only: the fleet's
    /// arrival time in Redis is the other instances' too.
    pub fn reset(&self) {
        self.tat.0.store(0, Relaxed);
        self.counters.reset();
        if let Some(shared) = self.shared_part() {
            shared.reset();
        }
    }

    /// Reserves the next turn if it comes within the configured `max_wait`: the wait until it
    /// (zero: admitted now; counted as a wait otherwise), or the rejection. What a tower
    /// service's `poll_ready` reserves before it has a request.
    #[cfg(feature = "tower")]
    pub(crate) fn reserve_turn(&self) -> Result<Duration, RateLimited> {
        match self.decide(saturating_nanos(self.max_wait())) {
            Ok(0) => Ok(Duration::ZERO),
            Ok(wait) => Ok(self.record_wait(wait)),
            Err(refusal) => Err(self.reject(refusal)),
        }
    }

    /// [`reserve`](Self::reserve) on this process's word, or for a shared limiter on Redis's
    /// (blocking this thread for at most the shared timeout).
    #[inline]
    fn decide(&self, max_wait: u64) -> Result<u64, Refusal> {
        if self.is_shared.load(Relaxed) {
            return self.decide_shared(max_wait);
        }
        self.reserve(max_wait).map_err(Refusal::quota)
    }

    #[cold]
    fn decide_shared(&self, max_wait: u64) -> Result<u64, Refusal> {
        match self.shared_part() {
            Some(shared) => shared.reserve(max_wait),
            None => self.reserve(max_wait).map_err(Refusal::quota),
        }
    }

    /// A shared limiter's admission future, waiting up to the configured `max_wait` (what a
    /// tower service's `poll_ready` polls instead of blocking); `None` for a local limiter.
    #[cfg(feature = "tower")]
    pub(crate) fn shared_admit(&self) -> Option<SharedAdmit> {
        self.shared_part()
            .map(|shared| SharedAdmit::new(shared, saturating_nanos(self.max_wait())))
    }

    /// Whether a call would be admitted now without waiting, taking nothing (a hedge asks before
    /// it starts). A shared limiter cannot tell without a round trip: yes.
    pub(crate) fn turn_free_now(&self) -> bool {
        if self.is_shared.load(Relaxed) {
            return true;
        }
        let (_, tolerance) = self.gcra.load();
        self.tat
            .0
            .load(Acquire)
            .saturating_sub(self.clock.now_nanos())
            <= tolerance
    }

    /// GCRA: reserves the next turn if it comes within `max_wait` nanoseconds, returning the
    /// wait until it (0: admitted now); otherwise the time until a call would be admitted.
    #[inline]
    fn reserve(&self, max_wait: u64) -> Result<u64, u64> {
        let now = self.clock.now_nanos();
        let (interval, tolerance) = self.gcra.load();
        let mut tat = self.tat.0.load(Acquire);
        loop {
            let start = tat.max(now);
            let wait = (start - now).saturating_sub(tolerance);
            if wait > max_wait {
                return Err(wait);
            }
            match self.tat.0.compare_exchange_weak(
                tat,
                start.saturating_add(interval),
                AcqRel,
                Acquire,
            ) {
                Ok(_) => return Ok(wait),
                Err(actual) => tat = actual,
            }
        }
    }

    #[cold]
    fn reject(&self, refusal: Refusal) -> RateLimited {
        self.counters.reject(&self.name, refusal)
    }

    #[cold]
    fn record_wait(&self, wait: u64) -> Duration {
        self.counters.record_wait(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_tolerance() {
        let c = RateLimitConfig::default()
            .rate(4)
            .per(Duration::from_secs(1))
            .burst(3);
        assert_eq!(c.gcra(), (250_000_000, 500_000_000));
        let huge = RateLimitConfig::default()
            .rate(1)
            .per(Duration::MAX)
            .burst(u64::MAX);
        assert_eq!(huge.gcra(), (u64::MAX, u64::MAX));
    }

    #[test]
    fn zero_counts_are_refused_by_their_key() {
        let refused = |config: RateLimitConfig| config.validate().unwrap_err().to_string();
        let shared = |shared: SharedConfig| RateLimitConfig::default().shared_with(shared);
        for (config, key) in [
            (RateLimitConfig::default().rate(0), "rate"),
            (RateLimitConfig::default().burst(0), "burst"),
            (
                shared(SharedConfig::default().instances(0)),
                "shared.instances",
            ),
            (shared(SharedConfig::default().batch(0)), "shared.batch"),
        ] {
            let expected = format!("invalid rate limit `{key}`: must be at least 1");
            assert_eq!(refused(config), expected);
        }
    }
}
