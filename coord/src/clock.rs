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
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
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
            (Source::Fake(a), Source::Fake(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Clock {
    /// The real clock: `Instant::now()`, `std::thread::sleep`, and tokio's timer for async
    /// waits inside a tokio runtime (a small timer thread elsewhere, so no executor is needed).
    pub const fn system() -> Self {
        Self(Source::System)
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
        }
    }

    /// Time since `earlier` (zero if `earlier` is later).
    #[inline]
    pub fn since(&self, earlier: Instant) -> Duration {
        match &self.0 {
            Source::System => earlier.elapsed(),
            Source::Fake(state) => state.now().saturating_duration_since(earlier),
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
        }
    }

    /// Completes after `delay`. A fake clock moves forward at once and the future is ready.
    pub fn sleep_async(&self, delay: Duration) -> impl Future<Output = ()> + Send + 'static {
        let real = match &self.0 {
            Source::System => true,
            Source::Fake(state) => {
                state.sleep(delay);
                false
            }
        };
        async move {
            if real && !delay.is_zero() {
                system_sleep_async(delay).await;
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

/// The system clock's async wait: tokio's timer inside a tokio runtime (which must have its
/// time driver enabled, as `#[tokio::main]` and `enable_all()` do), a small timer thread
/// anywhere else, so no executor is required.
async fn system_sleep_async(delay: Duration) {
    #[cfg(feature = "tokio")]
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::sleep(delay).await;
        return;
    }
    thread_timer::sleep(delay).await;
}

/// A runtime-agnostic async sleep: one short-lived thread wakes the task. Used when tokio is
/// not available.
mod thread_timer {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    #[derive(Default)]
    struct Shared {
        done: bool,
        waker: Option<Waker>,
    }

    pub(super) struct ThreadSleep {
        delay: Duration,
        shared: Option<Arc<Mutex<Shared>>>,
    }

    pub(super) fn sleep(delay: Duration) -> ThreadSleep {
        ThreadSleep {
            delay,
            shared: None,
        }
    }

    impl Future for ThreadSleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.delay.is_zero() {
                return Poll::Ready(());
            }
            let delay = self.delay;
            let shared = self.shared.get_or_insert_with(|| {
                let shared = Arc::new(Mutex::new(Shared::default()));
                let timer = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("coord-retry-timer".into())
                    .spawn(move || {
                        std::thread::sleep(delay);
                        let mut state = timer.lock().unwrap_or_else(PoisonError::into_inner);
                        state.done = true;
                        if let Some(waker) = state.waker.take() {
                            waker.wake();
                        }
                    });
                if spawned.is_err() {
                    // No thread to wait on (the process is out of threads): retrying at once
                    // beats hanging the caller or panicking inside the library.
                    shared.lock().unwrap_or_else(PoisonError::into_inner).done = true;
                }
                shared
            });
            let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
            if state.done {
                Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_sleeps_without_an_async_runtime_timer() {
        // A current-thread runtime without the time driver: only the timer thread can wake us.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let clock = Clock::system();
        runtime.block_on(thread_timer::sleep(Duration::from_millis(1)));
        runtime.block_on(clock.sleep_async(Duration::ZERO));
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
