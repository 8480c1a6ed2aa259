//! Time limits for futures: [`timeout`] and [`timeout_at`] end a future that runs too long with
//! [`TimedOut`], dropping it (a thread cannot be interrupted, so there is no sync version).
//!
//! The limit is timed by the shared [`crate::clock::timer`], on every executor, tokio or not, and
//! whether or not a tokio runtime has its time driver: tokio offers no way to ask whether the
//! current runtime has one without panicking when it has not. One consequence: a paused tokio
//! clock (`tokio::time::pause`) does not move these deadlines. A future that completes on its
//! first poll never touches the timer; one that waits registers one timer entry, removed when
//! it completes or is dropped.
//!
//! ```
//! use std::time::Duration;
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::sync::Arc;
//! #     use std::task::{Context, Poll, Wake};
//! #     struct Unpark(std::thread::Thread);
//! #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark(); } }
//! #     let waker = Arc::new(Unpark(std::thread::current())).into();
//! #     let mut cx = Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop {
//! #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
//! #         std::thread::park();
//! #     }
//! # }
//!
//! let fast = coord::timeout(Duration::from_secs(1), async { 42 });
//! assert_eq!(block_on(fast), Ok(42));
//!
//! let slow = coord::timeout(Duration::from_millis(5), std::future::pending::<()>());
//! let timed_out = block_on(slow).unwrap_err();
//! assert_eq!(timed_out.limit(), Duration::from_millis(5));
//! assert!(timed_out.elapsed() >= Duration::from_millis(5));
//! ```

use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::clock::timer;

pub(crate) mod counters;
pub(crate) mod layer;
pub(crate) mod section;

pub(crate) use counters::{dropped_timeout_names, reset_timeouts, timeout_count};
pub use section::TimeoutCount;
pub(crate) use section::timeout_counts;

/// The error of a call that did not finish within its time limit; the call's future was
/// dropped.
///
/// Displays like `timed out after 2.0s (limit 2s)` or `timed out after 40.2ms (limit 40ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut {
    limit: Duration,
    elapsed: Duration,
}

impl TimedOut {
    /// A timeout error, for layers that time calls themselves.
    pub fn new(limit: Duration, elapsed: Duration) -> Self {
        Self { limit, elapsed }
    }

    /// The time limit that was exceeded.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// How long the call ran before it was given up.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {} (limit {:?})",
            Short(self.elapsed),
            self.limit
        )
    }
}

impl std::error::Error for TimedOut {}

/// A duration with one decimal in the largest fitting unit: `40.2ms`, `2.0s`.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs >= 1.0 {
            write!(f, "{secs:.1}s")
        } else if secs >= 1e-3 {
            write!(f, "{:.1}ms", secs * 1e3)
        } else {
            write!(f, "{:.1}µs", secs * 1e6)
        }
    }
}

/// Runs `future` for at most `limit` from its first poll: its output, or [`TimedOut`] once the
/// limit has passed, the future then being dropped.
///
/// The future is always polled before the deadline is checked, so one that is ready is never
/// timed out (as with `tokio::time::timeout`). The returned future is `Send` when `future` is.
pub fn timeout<F: IntoFuture>(
    limit: Duration,
    future: F,
) -> impl Future<Output = Result<F::Output, TimedOut>> {
    run(Limit::For(limit), future.into_future())
}

/// Runs `future` until `deadline` at most: its output, or [`TimedOut`] once the deadline has
/// passed, the future then being dropped. For a limit shared by several steps (a whole call,
/// retries included).
pub fn timeout_at<F: IntoFuture>(
    deadline: Instant,
    future: F,
) -> impl Future<Output = Result<F::Output, TimedOut>> {
    run(Limit::Until(deadline), future.into_future())
}

/// A limit, counted from the first poll.
#[derive(Clone, Copy)]
enum Limit {
    For(Duration),
    Until(Instant),
}

// One `async fn` under the public ones (not one calling another): each level of `async` stores
// the future it is given once more.
async fn run<F: Future>(limit: Limit, future: F) -> Result<F::Output, TimedOut> {
    let start = Instant::now();
    let (limit, deadline) = match limit {
        Limit::For(limit) => (limit, start.checked_add(limit)),
        Limit::Until(deadline) => (deadline.saturating_duration_since(start), Some(deadline)),
    };
    let mut future = pin!(future);
    // Made on the first `Pending` only: a ready future costs no timer entry.
    let mut sleep: Option<timer::Sleep> = None;
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let sleep = sleep.get_or_insert_with(|| match deadline {
            Some(deadline) => timer::sleep_until(deadline),
            // Beyond what `Instant` can hold: never.
            None => timer::sleep(Duration::MAX),
        });
        match std::pin::Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => {
                let elapsed = start.elapsed();
                tracing::debug!(
                    target: "coord::timeout",
                    limit_ms = limit.as_secs_f64() * 1e3,
                    elapsed_ms = elapsed.as_secs_f64() * 1e3,
                    "call timed out; its future is dropped"
                );
                Poll::Ready(Err(TimedOut { limit, elapsed }))
            }
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Waker};

    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn ready_futures_leave_no_timer_entry() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut t = pin!(timeout(Duration::from_secs(3600), async { 1 }));
        assert_eq!(t.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    }

    #[test]
    fn zero_limit_times_out_a_pending_future_and_drops_it() {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let mut cx = Context::from_waker(Waker::noop());
        let mut t = pin!(timeout(Duration::ZERO, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        let Poll::Ready(Err(timed_out)) = t.as_mut().poll(&mut cx) else {
            panic!("a zero limit must time out a pending future at once");
        };
        assert_eq!(timed_out.limit(), Duration::ZERO);
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[test]
    fn display() {
        let t = TimedOut::new(Duration::from_secs(2), Duration::from_millis(2004));
        assert_eq!(t.to_string(), "timed out after 2.0s (limit 2s)");
    }
}
