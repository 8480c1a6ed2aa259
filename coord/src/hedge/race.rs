//! One hedged call: the first attempt, and more as the delay passes, raced until one succeeds.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;

use super::Hedge;

/// A call's attempts, what may start more, and which of two errors the call keeps.
pub(super) struct Race<'h, F, C, E> {
    hedge: &'h Hedge,
    attempt: &'h F,
    may_hedge: &'h C,
    max_extra: u32,
    /// Whether a new error replaces the one kept (`run`: always, the last error wins).
    replaces: fn(&E, &E) -> bool,
}

impl<'h, F, C, E> Race<'h, F, C, E> {
    pub(super) fn new(
        hedge: &'h Hedge,
        attempt: &'h F,
        may_hedge: &'h C,
        max_extra: u32,
        replaces: fn(&E, &E) -> bool,
    ) -> Self {
        Self {
            hedge,
            attempt,
            may_hedge,
            max_extra,
            replaces,
        }
    }

    pub(super) async fn run<T, Fut>(self) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Fn() -> bool,
    {
        let Self {
            hedge,
            attempt,
            may_hedge,
            max_extra,
            replaces,
        } = self;
        let clock = hedge.current_clock();
        let started = clock.now();
        let Some(delay) = hedge.delay() else {
            // Nothing to hedge with yet: the attempt alone, learning its latency.
            let out = attempt().await;
            if out.is_ok() {
                hedge.record(clock.since(started));
            }
            return out;
        };
        let mut primary = pin!(Some(attempt()));
        let mut timer = pin!(clock.sleep_async(delay));
        // Extra attempts, boxed: only calls slower than the delay pay for one.
        let mut hedges: Vec<Pin<Box<Fut>>> = Vec::new();
        let mut extra = 0;
        let mut last_error: Option<E> = None;
        poll_fn(|cx| {
            loop {
                if let Some(first) = primary.as_mut().as_pin_mut()
                    && let Poll::Ready(out) = first.poll(cx)
                {
                    primary.set(None);
                    match out {
                        Ok(value) => {
                            hedge.record(clock.since(started));
                            return Poll::Ready(Ok(value));
                        }
                        Err(error) => keep(&mut last_error, error, replaces),
                    }
                }
                let mut i = 0;
                while i < hedges.len() {
                    match hedges[i].as_mut().poll(cx) {
                        Poll::Pending => i += 1,
                        Poll::Ready(out) => {
                            hedges.swap_remove(i);
                            match out {
                                Ok(value) => {
                                    // What the caller waited, not the hedge's own latency:
                                    // the hedged calls are the slow tail the delay's percentile
                                    // must keep seeing, or it drifts down.
                                    hedge.record(clock.since(started));
                                    hedge.won.fetch_add(1, Relaxed);
                                    return Poll::Ready(Ok(value));
                                }
                                Err(error) => keep(&mut last_error, error, replaces),
                            }
                        }
                    }
                }
                if primary.is_none() && hedges.is_empty() {
                    // Every attempt started has failed: a failure does not start a hedge.
                    return match last_error.take() {
                        Some(error) => Poll::Ready(Err(error)),
                        None => Poll::Pending,
                    };
                }
                if extra < max_extra && timer.as_mut().poll(cx).is_ready() {
                    if may_hedge() {
                        hedges.push(Box::pin(attempt()));
                        hedge.started.fetch_add(1, Relaxed);
                        extra += 1;
                        timer.set(clock.sleep_async(delay));
                        // Poll the new attempt (and the new timer) at once.
                        continue;
                    }
                    hedge.denied.fetch_add(1, Relaxed);
                    extra = max_extra;
                }
                return Poll::Pending;
            }
        })
        .await
    }
}

/// Keeps `error` in `kept` unless the error there outranks it.
fn keep<E>(kept: &mut Option<E>, error: E, replaces: fn(&E, &E) -> bool) {
    if kept.as_ref().is_none_or(|old| replaces(old, &error)) {
        *kept = Some(error);
    }
}
