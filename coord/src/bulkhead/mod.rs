//! Bulkheads: at most `max_concurrent` calls in flight, the rest wait up to `max_wait` or are
//! rejected with [`BulkheadFull`].
//!
//! The fast path is one compare-and-swap on a word holding the in-flight count and the count of
//! accepted calls, and one subtraction on release; only a caller that has to wait takes a lock,
//! to queue itself. Waiting callers are woken in arrival order as slots are released; a caller
//! arriving while a slot is free takes it at once, even if others are queued (barging keeps the
//! uncontended path lock-free). Sync callers park their thread; async callers wait without
//! blocking one, timed by the shared [`crate::clock::timer`].
//!
//! ```
//! use std::time::Duration;
//! use coord::{BulkheadConfig, BulkheadFull};
//!
//! let db = coord::bulkhead_with("docs.db", BulkheadConfig::default().max_concurrent(2)).unwrap();
//! let a = db.try_acquire().unwrap();
//! let b = db.try_acquire().unwrap();
//! let full: BulkheadFull = db.try_acquire().unwrap_err();
//! assert_eq!(full.max_concurrent(), 2);
//! drop(a); // released on drop, whatever happened while it was held
//! assert!(db.acquire(Duration::from_millis(10)).is_ok());
//! # drop(b);
//! ```

mod adaptive;
pub(crate) mod file;
pub(crate) mod layer;
pub(crate) mod registry;
pub(crate) mod section;
#[cfg(feature = "tower")]
mod tower;
mod wait;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

use adaptive::Adaptation;
pub use adaptive::{AdaptiveLimit, Algorithm, Limiter, MIN_WINDOW_SAMPLES, Sample};
pub use registry::{
    DEFAULT_MAX_BULKHEADS, OVERFLOW_NAME, bulkhead, bulkhead_with, dropped_names, find,
    max_bulkheads, reset_all, set_max_bulkheads, snapshots,
};
pub use wait::BulkheadAcquire;
use wait::Queue;

use crate::clock::saturating_nanos;

/// Bits of the state word holding the in-flight count; the bits above count accepted calls.
const IN_FLIGHT_BITS: u32 = 20;
const IN_FLIGHT_MASK: u64 = (1 << IN_FLIGHT_BITS) - 1;
const ONE_ACCEPTED: u64 = 1 << IN_FLIGHT_BITS;

/// The largest `max_concurrent` a bulkhead accepts (1,048,575), as `#[bulkhead]` checks it.
pub const MAX_CONCURRENT: usize = coord_limits::bulkhead::MAX_CONCURRENT as usize;
// The calls in flight are counted in the low bits of the state word.
const _: () = assert!(MAX_CONCURRENT as u64 <= IN_FLIGHT_MASK);

/// How a bulkhead limits concurrency. Builder methods are named like the keys of
/// `#[bulkhead(...)]`.
///
/// ```
/// use std::time::Duration;
/// use coord::BulkheadConfig;
///
/// let config = BulkheadConfig::default().max_concurrent(4).max_wait(Duration::from_millis(50));
/// assert!(config.validate().is_ok());
/// assert!(BulkheadConfig::default().max_concurrent(0).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadConfig {
    /// Calls allowed in flight at once (default 10, at most [`MAX_CONCURRENT`]).
    pub max_concurrent: usize,
    /// How long a call waits for a slot before it is rejected (default zero: reject at once).
    /// `Duration::MAX` waits forever.
    pub max_wait: Duration,
    /// The limit adapts to measured latency, up to `max_concurrent` (default: fixed). See
    /// [`AdaptiveLimit`].
    pub adaptive: Option<AdaptiveLimit>,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 10,
            max_wait: Duration::ZERO,
            adaptive: None,
        }
    }
}

impl BulkheadConfig {
    setters! {
        /// Sets how many calls may be in flight at once.
        pub fn max_concurrent(max_concurrent: usize);

        /// Sets how long a call waits for a slot.
        pub fn max_wait(max_wait: Duration);

        /// Makes the limit adapt to measured latency, up to `max_concurrent` (see [`AdaptiveLimit`]).
        pub fn adaptive(adaptive: AdaptiveLimit) = Some;
    }

    /// Checks that `max_concurrent` lies in `1..=MAX_CONCURRENT`.
    pub fn validate(&self) -> Result<(), BulkheadConfigError> {
        if (1..=MAX_CONCURRENT).contains(&self.max_concurrent) {
            Ok(())
        } else {
            Err(BulkheadConfigError {
                key: "max_concurrent",
                message: format!("{} is not in 1..={MAX_CONCURRENT}", self.max_concurrent),
            })
        }
    }
}

config_error! {
    /// A [`BulkheadConfig`] whose `max_concurrent` is zero or above [`MAX_CONCURRENT`].
    pub struct BulkheadConfigError: "bulkhead", as in "#[bulkhead(...)]";
}

/// The error of a call a bulkhead rejected without running it: every slot stayed taken for
/// `max_wait`.
///
/// Displays like `bulkhead 'db' is full (10 calls in flight); waited 5.0ms`. Like an open
/// breaker, it is a rejection, not a failure of the guarded code: retry layers must not retry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadFull {
    name: Arc<str>,
    max_concurrent: usize,
    waited: Duration,
}

impl BulkheadFull {
    /// The bulkhead's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its limit when the call was rejected.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// How long the call waited for a slot before giving up.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bulkhead '{}' is full ({} calls in flight); waited {:.1}ms",
            self.name,
            self.max_concurrent,
            self.waited.as_secs_f64() * 1e3
        )
    }
}

impl std::error::Error for BulkheadFull {}

/// A bulkhead's numbers at one moment; see [`Bulkhead::snapshot`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BulkheadSnapshot {
    /// The bulkhead's name.
    pub name: String,
    /// Calls holding a slot now.
    pub in_flight: usize,
    /// Its limit now (an adaptive limit's current value).
    pub max_concurrent: usize,
    /// Its configured `max_concurrent`: the limit, or the most an adaptive limit may reach.
    pub ceiling: usize,
    /// The algorithm of its adaptive limit, if it adapts.
    pub adaptive: Option<Algorithm>,
    /// Its configured wait (serialized as `max_wait_ms`).
    #[serde(rename = "max_wait_ms", with = "crate::serde_ms::ms")]
    pub max_wait: Duration,
    /// Callers waiting for a slot now.
    pub waiting: usize,
    /// Calls given a slot since creation or the last [`crate::reset`].
    pub accepted: u64,
    /// Calls rejected since then.
    pub rejected: u64,
    /// Calls that had to wait for a slot (admitted or not) since then.
    pub waits: u64,
    /// Time those calls spent waiting (serialized as `total_wait_ms`).
    #[serde(rename = "total_wait_ms", with = "crate::serde_ms::ms")]
    pub total_wait: Duration,
}

/// A named limit on concurrent calls. Get a shared one with [`bulkhead`] or
/// [`bulkhead_with`], or make a private one with [`Bulkhead::new`].
pub struct Bulkhead {
    name: Arc<str>,
    /// Low [`IN_FLIGHT_BITS`]: calls in flight; above: calls accepted (wrapping after 2^44).
    /// Alone on its cache line, so the settings read beside it stay shared under contention.
    state: Padded<AtomicU64>,
    max_concurrent: AtomicU64,
    max_wait_nanos: AtomicU64,
    /// Entries in `queue`, readable without its lock, so a release checks for waiters with one
    /// load.
    waiting: AtomicUsize,
    queue: Mutex<Queue>,
    rejected: AtomicU64,
    waits: AtomicU64,
    wait_nanos: AtomicU64,
    adaptation: Adaptation,
}

/// Keeps a hot atomic on a cache line of its own (128 bytes: adjacent-line prefetching pairs
/// 64-byte lines on x86).
#[repr(align(128))]
struct Padded<T>(T);

named_debug!(Bulkhead {
    in_flight: in_flight(),
    max_concurrent: max_concurrent(),
});

impl Bulkhead {
    /// A bulkhead of its own, outside the registry.
    pub fn new(name: &str, config: BulkheadConfig) -> Result<Self, BulkheadConfigError> {
        config.validate()?;
        Ok(Self::unchecked(Arc::from(name), config))
    }

    fn unchecked(name: Arc<str>, config: BulkheadConfig) -> Self {
        let (adaptation, limit) = Adaptation::new(&config);
        Self {
            name,
            state: Padded(AtomicU64::new(0)),
            max_concurrent: AtomicU64::new(limit as u64),
            max_wait_nanos: AtomicU64::new(saturating_nanos(config.max_wait)),
            waiting: AtomicUsize::new(0),
            queue: Mutex::default(),
            rejected: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
            adaptation,
        }
    }

    /// The bulkhead's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls holding a slot now.
    pub fn in_flight(&self) -> usize {
        (self.state.0.load(Relaxed) & IN_FLIGHT_MASK) as usize
    }

    /// The current limit (an adaptive one's, which moves: see [`AdaptiveLimit`]).
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent.load(Relaxed) as usize
    }

    /// The configured wait for a slot, used by [`call`](Self::call) and
    /// [`call_async`](Self::call_async).
    pub fn max_wait(&self) -> Duration {
        Duration::from_nanos(self.max_wait_nanos.load(Relaxed))
    }

    /// The current configuration.
    pub fn config(&self) -> BulkheadConfig {
        BulkheadConfig {
            max_concurrent: self.adaptation.ceiling(),
            max_wait: self.max_wait(),
            adaptive: self.adaptation.config(),
        }
    }

    /// Applies a new configuration. Calls in flight keep their slots; a lower limit takes effect
    /// as they finish, a higher one at once.
    pub fn configure(&self, config: BulkheadConfig) -> Result<(), BulkheadConfigError> {
        config.validate()?;
        self.max_wait_nanos
            .store(saturating_nanos(config.max_wait), Relaxed);
        let limit = self.adaptation.configure(&config);
        self.set_limit(limit);
        Ok(())
    }

    /// Moves the limit; calls in flight keep their slots.
    fn set_limit(&self, limit: usize) {
        let old = self.max_concurrent.swap(limit as u64, SeqCst);
        if limit as u64 > old {
            // New slots: tell as many waiters as there are new slots (extra wakes are harmless).
            let mut queue = self.lock();
            for _ in old..limit as u64 {
                if !self.wake_first(&mut queue) {
                    break;
                }
            }
        }
    }

    /// A permit for a slot just taken.
    #[inline]
    fn permit(&self) -> BulkheadPermit<'_> {
        BulkheadPermit {
            bulkhead: self,
            started: self.adaptation.start(),
        }
    }

    /// An owned permit for a slot just taken.
    #[inline]
    fn owned_permit(self: &Arc<Self>) -> OwnedBulkheadPermit {
        OwnedBulkheadPermit {
            bulkhead: Arc::clone(self),
            started: self.adaptation.start(),
        }
    }

    /// A call that held a slot since `started` finished: a sample for the adaptive limit.
    #[cold]
    fn finished(&self, started: Instant, failed: bool) {
        let sample = Sample {
            latency: started.elapsed(),
            in_flight: self.in_flight(),
            failed,
        };
        if let Some(limit) = self.adaptation.sample(sample) {
            self.set_limit(limit);
        }
    }

    /// Takes a slot if one is free now, else rejects at once.
    #[inline]
    pub fn try_acquire(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        if self.try_take() {
            Ok(self.permit())
        } else {
            Err(self.reject(Duration::ZERO))
        }
    }

    /// [`try_acquire`](Self::try_acquire) with a permit that owns a handle to the bulkhead,
    /// for a slot held by a spawned task.
    pub fn try_acquire_owned(self: &Arc<Self>) -> Result<OwnedBulkheadPermit, BulkheadFull> {
        if self.try_take() {
            Ok(self.owned_permit())
        } else {
            Err(self.reject(Duration::ZERO))
        }
    }

    /// A free slot now as an owned permit, or `None` without counting a rejection (the caller
    /// goes on to wait: a tower service's `poll_ready`).
    #[inline]
    #[cfg(feature = "tower")]
    pub(crate) fn take_owned(self: &Arc<Self>) -> Option<OwnedBulkheadPermit> {
        self.try_take().then(|| self.owned_permit())
    }

    /// [`acquire_async`](Self::acquire_async) with a permit that owns a handle to the
    /// bulkhead, for a slot held by a spawned task.
    pub async fn acquire_owned_async(
        self: Arc<Self>,
        max_wait: Duration,
    ) -> Result<OwnedBulkheadPermit, BulkheadFull> {
        let permit = self.acquire_async(max_wait).await?;
        // The slot (and its start) moves to the owned permit, which releases it.
        let started = permit.started;
        std::mem::forget(permit);
        Ok(OwnedBulkheadPermit {
            bulkhead: self,
            started,
        })
    }

    /// Runs `f` holding a slot (waiting up to the configured `max_wait` on this thread); a
    /// rejection becomes `E::from(BulkheadFull)` without running `f`. The slot is released when
    /// `f` returns or panics.
    #[inline]
    pub fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E>,
        E: From<BulkheadFull>,
    {
        let _permit = self.acquire(self.max_wait())?;
        f()
    }

    /// [`call`](Self::call) for futures: waits for a slot without blocking a thread, and
    /// releases it when the future completes, panics or is dropped.
    pub async fn call_async<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<BulkheadFull>,
    {
        let _permit = self.acquire_async(self.max_wait()).await?;
        f().await
    }

    /// The bulkhead's numbers now.
    pub fn snapshot(&self) -> BulkheadSnapshot {
        let state = self.state.0.load(Relaxed);
        BulkheadSnapshot {
            name: self.name.to_string(),
            in_flight: (state & IN_FLIGHT_MASK) as usize,
            max_concurrent: self.max_concurrent(),
            ceiling: self.adaptation.ceiling(),
            adaptive: self.adaptation.algorithm(),
            max_wait: self.max_wait(),
            waiting: self.waiting.load(Relaxed),
            accepted: state >> IN_FLIGHT_BITS,
            rejected: self.rejected.load(Relaxed),
            waits: self.waits.load(Relaxed),
            total_wait: Duration::from_nanos(self.wait_nanos.load(Relaxed)),
        }
    }

    /// Zeroes the counters; calls in flight keep their slots and the configuration stays.
    pub fn reset_counters(&self) {
        // Only the accepted bits are cleared: the in-flight count is live state.
        let _ = self
            .state
            .0
            .fetch_update(SeqCst, Relaxed, |s| Some(s & IN_FLIGHT_MASK));
        self.rejected.store(0, Relaxed);
        self.waits.store(0, Relaxed);
        self.wait_nanos.store(0, Relaxed);
    }

    #[inline]
    fn try_take(&self) -> bool {
        let max = self.max_concurrent.load(Relaxed);
        let mut state = self.state.0.load(Relaxed);
        loop {
            if state & IN_FLIGHT_MASK >= max {
                return false;
            }
            // SeqCst pairs with the waiter count: see `release` and `poll_take`.
            match self.state.0.compare_exchange_weak(
                state,
                state.wrapping_add(ONE_ACCEPTED + 1),
                SeqCst,
                Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    #[inline]
    fn release(&self) {
        self.state.0.fetch_sub(1, SeqCst);
        // A waiter publishes itself before its last try; we free the slot before this load.
        // So either it sees the free slot, or we see it and wake someone.
        if self.waiting.load(SeqCst) != 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn reject(&self, waited: Duration) -> BulkheadFull {
        self.rejected.fetch_add(1, Relaxed);
        // Debug level: under overload every rejected call emits one.
        tracing::debug!(
            target: "coord::bulkhead",
            bulkhead = &*self.name,
            max_concurrent = self.max_concurrent(),
            waited_ms = waited.as_secs_f64() * 1e3,
            "bulkhead full; call rejected"
        );
        BulkheadFull {
            name: Arc::clone(&self.name),
            max_concurrent: self.max_concurrent(),
            waited,
        }
    }
}

/// A slot in a [`Bulkhead`], released when dropped (on success, error, panic or cancellation).
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct BulkheadPermit<'a> {
    bulkhead: &'a Bulkhead,
    /// When the slot was taken, if the bulkhead's limit adapts.
    started: Option<Instant>,
}

impl BulkheadPermit<'_> {
    /// The bulkhead this slot belongs to.
    pub fn bulkhead(&self) -> &Bulkhead {
        self.bulkhead
    }

    /// Releases the slot of a call that finished, `failed` or not: an adaptive limit takes it
    /// as a sample (a permit merely dropped, by a panic or a cancellation, is no sample).
    #[inline]
    pub fn finish(mut self, failed: bool) {
        if let Some(started) = self.started.take() {
            self.bulkhead.finished(started, failed);
        }
    }
}

impl fmt::Debug for BulkheadPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadPermit")
            .field("bulkhead", &self.bulkhead.name)
            .finish()
    }
}

impl Drop for BulkheadPermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.bulkhead.release();
    }
}

/// A slot in a [`Bulkhead`] held through an `Arc` (see [`Bulkhead::try_acquire_owned`]),
/// released when dropped.
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct OwnedBulkheadPermit {
    bulkhead: Arc<Bulkhead>,
    started: Option<Instant>,
}

impl OwnedBulkheadPermit {
    /// The bulkhead this slot belongs to.
    pub fn bulkhead(&self) -> &Arc<Bulkhead> {
        &self.bulkhead
    }

    /// Releases the slot of a call that finished: see [`BulkheadPermit::finish`].
    #[inline]
    pub fn finish(mut self, failed: bool) {
        if let Some(started) = self.started.take() {
            self.bulkhead.finished(started, failed);
        }
    }
}

impl fmt::Debug for OwnedBulkheadPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedBulkheadPermit")
            .field("bulkhead", &self.bulkhead.name)
            .finish()
    }
}

impl Drop for OwnedBulkheadPermit {
    fn drop(&mut self) {
        self.bulkhead.release();
    }
}
