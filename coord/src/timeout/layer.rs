//! Time limits as layers of the stack: a [`TimeLimit`] wraps the whole call (`total`, retries
//! and back-off sleeps included) or each attempt; a time-out becomes the function's error
//! ([`TimedOut`]) and is counted for the report.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::counters::TimeoutCounter;
use super::{TimedOut, timeout};
use crate::layer::{LayerReturn, Limit, LimitFor, from_rejection};

/// A time limit (per attempt or for the whole call) of an operation returning `Out`, and the
/// counter its time-outs go to. Made by [`new`](Self::new), whose bounds say what `Out` needs;
/// the conversion is kept as a function pointer, so the stack asks nothing more of `Out` (one
/// error message per mistake).
pub struct TimeLimit<'a, Out> {
    limit: Duration,
    count: Option<&'a TimeoutCounter>,
    expired: fn(TimedOut) -> Out,
}

impl<'a, Out> TimeLimit<'a, Out> {
    /// A limit of `limit`, whose time-outs are counted on `count`.
    #[inline(always)]
    pub fn new(limit: Duration, count: Option<&'a TimeoutCounter>) -> Self
    where
        Out: LayerReturn,
        Out::Err: FromTimedOut,
    {
        Self {
            limit,
            count,
            expired: |timed_out| Out::from_error(Out::Err::from_timed_out(timed_out)),
        }
    }

    /// Counts the time-out and returns it.
    #[cold]
    fn count(&self, timed_out: TimedOut) -> TimedOut {
        if let Some(count) = self.count {
            count.count.fetch_add(1, Relaxed);
            tracing::warn!(
                target: "coord::timeout",
                operation = &*count.name,
                limit_ms = timed_out.limit().as_secs_f64() * 1e3,
                "attempt timed out"
            );
        }
        timed_out
    }
}

crate::layer::copy_whatever_out!(TimeLimit);

impl<Out> fmt::Debug for TimeLimit<'_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeLimit")
            .field("limit", &self.limit)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<Out> Limit for TimeLimit<'_, Out> {
    type Expired = TimedOut;
    #[inline(always)]
    fn within<F: Future>(
        self,
        future: Pin<&mut F>,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> {
        timeout(self.limit, future)
    }
}

impl<Out> LimitFor<Out> for TimeLimit<'_, Out> {
    #[cold]
    fn expired(&self, timed_out: TimedOut) -> Out {
        crate::semconv::timeout(timed_out.limit());
        (self.expired)(self.count(timed_out))
    }
}

from_rejection! {
    /// Turns a time-out into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[timeout] functions must return `Result<T, E>` where `E: From<coord::TimedOut>`; `{Self}` does not implement `From<coord::TimedOut>`",
        label = "`{Self}` cannot hold the `coord::TimedOut` a timed-out call returns",
        note = "add `impl From<coord::TimedOut> for {Self}` (for example a `TimedOut` variant of your error enum)"
    )]
    FromTimedOut::from_timed_out(timed_out: TimedOut)
}
