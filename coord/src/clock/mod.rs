//! The one clock: where every time-dependent policy reads the time and waits. Rolling windows,
//! breaker open periods, half-open waits and time windows, retry back-off and deadlines all go
//! through a [`Clock`]; tests swap in a [`FakeClock`] and run without sleeping, the way Polly's
//! `TimeProvider` allows. A leaf: it imports nothing of coord.
//!
//! ```
//! use std::time::Duration;
//! use coord::{Clock, FakeClock};
//!
//! let fake = FakeClock::new();
//! let clock = Clock::from(&fake);
//! let t0 = clock.now();
//! clock.sleep(Duration::from_secs(30)); // returns at once
//! assert_eq!(clock.now() - t0, Duration::from_secs(30));
//! assert_eq!(fake.sleeps(), [Duration::from_secs(30)]);
//! ```
//!
//! The system clock is a plain enum variant, not a trait object: reading it costs one branch
//! and `Instant::now()`, so the breaker's and the monitor's paths stay as fast as before.

pub mod timer;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where time is read and how waits happen: the system clock (the default) or a [`FakeClock`].
///
/// Cheap to clone (a fake clock is shared, not copied). Give one to
/// [`RetryPolicy::clock`](crate::RetryPolicy::clock),
/// [`CircuitBreaker::with_clock`](crate::CircuitBreaker::with_clock) or
/// [`PerformanceMonitor::with_clock`](crate::PerformanceMonitor::with_clock).
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Fake(Arc<FakeState>),
    #[cfg(feature = "tokio")]
    Tokio,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
            #[cfg(feature = "tokio")]
            Source::Tokio => f.write_str("Clock::Tokio"),
            Source::Fake(state) => f
                .debug_tuple("Clock::Fake")
                .field(&Duration::from_nanos(state.elapsed_nanos.load(Relaxed)))
                .finish(),
        }
    }
}

impl PartialEq for Clock {
    /// The same source: both the system clock, or the same fake clock.
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Source::System, Source::System) => true,
            #[cfg(feature = "tokio")]
            (Source::Tokio, Source::Tokio) => true,
            (Source::Fake(a), Source::Fake(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Clock {
    /// The real clock: `Instant::now()`, `std::thread::sleep`, and coord's one shared timer
    /// thread for async waits (any executor, or none).
    pub const fn system() -> Self {
        Self(Source::System)
    }

    /// tokio's clock (cargo feature `tokio`): `tokio::time::Instant::now()` and
    /// `tokio::time::sleep`, so tests that pause tokio's time (`tokio::time::pause()`) move
    /// coord's breakers and retries too. Use it only inside tokio runtimes that have their time
    /// driver enabled (`#[tokio::main]`, `enable_all()`); tokio panics otherwise. Blocking
    /// sleeps use `std::thread::sleep`.
    #[cfg(feature = "tokio")]
    pub const fn tokio() -> Self {
        Self(Source::Tokio)
    }

    /// `true` for a clock made from a [`FakeClock`].
    pub fn is_fake(&self) -> bool {
        matches!(self.0, Source::Fake(_))
    }

    /// The current instant.
    #[inline]
    pub fn now(&self) -> Instant {
        match &self.0 {
            Source::System => Instant::now(),
            Source::Fake(state) => state.now(),
            #[cfg(feature = "tokio")]
            Source::Tokio => tokio::time::Instant::now().into_std(),
        }
    }

    /// Time since `earlier` (zero if `earlier` is later).
    #[inline]
    pub fn since(&self, earlier: Instant) -> Duration {
        match &self.0 {
            Source::System => earlier.elapsed(),
            Source::Fake(state) => state.now().saturating_duration_since(earlier),
            #[cfg(feature = "tokio")]
            Source::Tokio => self.now().saturating_duration_since(earlier),
        }
    }

    /// Nanoseconds since `earlier`, saturated to `u64`.
    #[inline]
    pub(crate) fn nanos_since(&self, earlier: Instant) -> u64 {
        saturating_nanos(self.since(earlier))
    }

    /// Blocks the current thread for `delay` (a fake clock only moves forward).
    pub fn sleep(&self, delay: Duration) {
        match &self.0 {
            Source::System => std::thread::sleep(delay),
            Source::Fake(state) => state.sleep(delay),
            #[cfg(feature = "tokio")]
            Source::Tokio => std::thread::sleep(delay),
        }
    }

    /// Completes after `delay`. A fake clock moves forward at once and the future is ready.
    pub fn sleep_async(&self, delay: Duration) -> impl Future<Output = ()> + Send + 'static {
        #[derive(Clone, Copy)]
        enum Wait {
            Done,
            Shared,
            #[cfg(feature = "tokio")]
            Tokio,
        }
        let wait = match &self.0 {
            _ if delay.is_zero() => Wait::Done,
            Source::System => Wait::Shared,
            Source::Fake(state) => {
                state.sleep(delay);
                Wait::Done
            }
            #[cfg(feature = "tokio")]
            Source::Tokio => Wait::Tokio,
        };
        async move {
            match wait {
                Wait::Done => {}
                Wait::Shared => system_sleep_async(delay).await,
                #[cfg(feature = "tokio")]
                Wait::Tokio => tokio::time::sleep(delay).await,
            }
        }
    }
}

/// A clock that moves only when told to or when something sleeps on it: every sleep returns at
/// once, advances the time by its delay and is recorded. Clones share one time line.
///
/// ```
/// use std::time::Duration;
/// use coord::{FakeClock, Jitter, RetryPolicy};
///
/// let clock = FakeClock::new();
/// let policy = RetryPolicy::exponential(3, Duration::from_secs(1), 2.0)
///     .jitter(Jitter::None)
///     .no_budget()
///     .clock(&clock);
/// let result: Result<(), &str> = policy.call(|| Err("down"));
/// assert!(result.is_err());
/// assert_eq!(clock.sleeps(), [1, 2, 4].map(Duration::from_secs));
/// assert_eq!(clock.elapsed(), Duration::from_secs(7));
/// ```
#[derive(Clone, Debug, Default)]
pub struct FakeClock(Arc<FakeState>);

#[derive(Debug)]
struct FakeState {
    origin: Instant,
    elapsed_nanos: AtomicU64,
    sleeps: Mutex<Vec<Duration>>,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            elapsed_nanos: AtomicU64::new(0),
            sleeps: Mutex::new(Vec::new()),
        }
    }
}

impl FakeState {
    fn now(&self) -> Instant {
        let elapsed = Duration::from_nanos(self.elapsed_nanos.load(Relaxed));
        self.origin.checked_add(elapsed).unwrap_or(self.origin)
    }

    fn advance(&self, by: Duration) {
        let nanos = saturating_nanos(by);
        // Saturating: a fake clock pushed past u64 nanoseconds just stops.
        let _ = self
            .elapsed_nanos
            .fetch_update(Relaxed, Relaxed, |t| Some(t.saturating_add(nanos)));
    }

    fn sleep(&self, delay: Duration) {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delay);
        self.advance(delay);
    }
}

impl FakeClock {
    /// A fake clock standing at the current instant.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the time forward by `by` without recording a sleep (time spent working).
    pub fn advance(&self, by: Duration) {
        self.0.advance(by);
    }

    /// The fake current instant.
    pub fn now(&self) -> Instant {
        self.0.now()
    }

    /// Total time advanced or slept since creation.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.0.elapsed_nanos.load(Relaxed))
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.0
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl From<FakeClock> for Clock {
    fn from(fake: FakeClock) -> Self {
        Clock(Source::Fake(fake.0))
    }
}

impl From<&FakeClock> for Clock {
    fn from(fake: &FakeClock) -> Self {
        Clock(Source::Fake(Arc::clone(&fake.0)))
    }
}

/// `d` in nanoseconds, saturated to `u64` (584 years).
#[inline]
pub(crate) fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The system clock's async wait: coord's one shared timer ([`crate::clock::timer`]), on any executor
/// and without one. Not tokio's timer even inside a tokio runtime: tokio offers no way to ask
/// whether a runtime has its time driver, and its `sleep` panics without one.
async fn system_sleep_async(delay: Duration) {
    crate::clock::timer::sleep(delay).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_sleeps_in_a_runtime_without_a_timer() {
        // A current-thread runtime without the time driver: tokio's own sleep would panic here.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let clock = Clock::system();
        let start = Instant::now();
        runtime.block_on(clock.sleep_async(Duration::from_millis(2)));
        assert!(start.elapsed() >= Duration::from_millis(2));
        runtime.block_on(clock.sleep_async(Duration::ZERO));
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn the_tokio_clock_follows_paused_time() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let clock = Clock::tokio();
            let t0 = clock.now();
            // Paused time auto-advances while the runtime is idle: an hour passes at once.
            clock.sleep_async(Duration::from_secs(3600)).await;
            assert!(clock.since(t0) >= Duration::from_secs(3600));
        });
    }

    #[test]
    fn a_fake_clock_advances_and_records() {
        let fake = FakeClock::new();
        let clock = Clock::from(&fake);
        let t0 = clock.now();
        clock.sleep(Duration::from_secs(5));
        fake.advance(Duration::from_secs(1));
        assert_eq!(clock.now() - t0, Duration::from_secs(6));
        assert_eq!(clock.since(t0), Duration::from_secs(6));
        assert_eq!(fake.sleeps(), [Duration::from_secs(5)]);
        assert_eq!(clock, Clock::from(&fake));
        assert_ne!(clock, Clock::system());
    }
}
