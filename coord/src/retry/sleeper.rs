//! How a retry waits: blocking, on tokio, or on a fake clock in tests.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A future that completes when a back-off delay has passed.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Waits between attempts and tells the time, so other runtimes and tests can plug in.
///
/// [`RetryPolicy::sleeper`](crate::RetryPolicy::sleeper) installs one; without it a policy
/// sleeps with [`std::thread::sleep`] in `call` and with tokio's timer in `call_async`.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Blocks the current thread for `delay`.
    fn sleep(&self, delay: Duration);

    /// A future that completes after `delay`.
    fn sleep_async(&self, delay: Duration) -> SleepFuture;

    /// The current time, used for [`RetryPolicy::deadline`](crate::RetryPolicy::deadline).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Blocks with [`std::thread::sleep`]; its async sleep runs a timer thread, so it works
/// without any async runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdSleeper;

impl Sleeper for StdSleeper {
    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn sleep_async(&self, delay: Duration) -> SleepFuture {
        Box::pin(thread_timer::sleep(delay))
    }
}

/// Sleeps on tokio's timer (blocking sleeps use [`std::thread::sleep`]).
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

#[cfg(feature = "tokio")]
impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn sleep_async(&self, delay: Duration) -> SleepFuture {
        Box::pin(default_sleep_async(delay))
    }
}

/// The async sleep used when a policy has no sleeper of its own: tokio's timer inside a tokio
/// runtime (which must have its time driver enabled, as `#[tokio::main]` and `enable_all()` do),
/// a small timer thread anywhere else, so no executor is required.
pub(crate) async fn default_sleep_async(delay: Duration) {
    #[cfg(feature = "tokio")]
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::sleep(delay).await;
        return;
    }
    thread_timer::sleep(delay).await;
}

/// A sleeper that never waits: it advances its own clock by each delay and records them, so
/// tests of back-off and deadlines run instantly and can inspect every delay.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use coord::{FakeSleeper, Jitter, RetryPolicy};
///
/// let sleeper = Arc::new(FakeSleeper::new());
/// let policy = RetryPolicy::exponential(3, Duration::from_secs(1), 2.0)
///     .jitter(Jitter::None)
///     .no_budget()
///     .sleeper(sleeper.clone());
/// let result: Result<(), &str> = policy.call(|| Err("down"));
/// assert!(result.is_err());
/// assert_eq!(sleeper.delays(), [1, 2, 4].map(Duration::from_secs));
/// ```
#[derive(Debug)]
pub struct FakeSleeper {
    origin: Instant,
    elapsed_nanos: AtomicU64,
    delays: Mutex<Vec<Duration>>,
}

impl Default for FakeSleeper {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSleeper {
    /// A fake clock starting now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            elapsed_nanos: AtomicU64::new(0),
            delays: Mutex::new(Vec::new()),
        }
    }

    /// Every delay slept so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.delays
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Total fake time slept or advanced.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Relaxed))
    }

    /// Moves the fake clock forward without recording a sleep (time spent in an attempt).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // Saturating: a fake clock pushed past u64 nanoseconds just stops.
        let _ = self
            .elapsed_nanos
            .fetch_update(Relaxed, Relaxed, |t| Some(t.saturating_add(nanos)));
    }

    fn record(&self, delay: Duration) {
        self.delays
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delay);
        self.advance(delay);
    }
}

impl Sleeper for FakeSleeper {
    fn sleep(&self, delay: Duration) {
        self.record(delay);
    }

    fn sleep_async(&self, delay: Duration) -> SleepFuture {
        self.record(delay);
        Box::pin(std::future::ready(()))
    }

    fn now(&self) -> Instant {
        let elapsed = self.elapsed();
        self.origin.checked_add(elapsed).unwrap_or(self.origin)
    }
}

/// A runtime-agnostic async sleep: one short-lived thread wakes the task. Used only on the
/// retry path when tokio is not available.
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
    fn std_sleeper_sleeps_without_an_async_runtime_timer() {
        // A current-thread runtime without the time driver: only the timer thread can wake us.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(StdSleeper.sleep_async(Duration::from_millis(1)));
        runtime.block_on(StdSleeper.sleep_async(Duration::ZERO));
    }

    #[test]
    fn fake_sleeper_advances_its_clock() {
        let fake = FakeSleeper::new();
        let t0 = fake.now();
        fake.sleep(Duration::from_secs(5));
        fake.advance(Duration::from_secs(1));
        assert_eq!(fake.now() - t0, Duration::from_secs(6));
        assert_eq!(fake.delays(), [Duration::from_secs(5)]);
    }
}
