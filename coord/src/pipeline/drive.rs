//! The async retry loop: [`drive_async!`](crate::__drive_async), which generated code expands
//! in place, and the [`Driver`] it steps through the layers with.

use std::time::Duration;

use super::admit::admit_waiting;
use super::{
    BulkheadSlot, Driver, Expiry, Fallible, Guard, Held, Pipeline, RateSlot, RecoverAsync, Retrier,
    Retry, TimeoutSlot, Tracker,
};
use crate::perf::TimedCall;
use crate::retry::{Next, RetryLoop};

impl<Out, Body, P, R, B, F, T, L, H, A> Pipeline<Out, Body, P, R, B, F, T, L, H, A> {
    /// The operation and the layers, for [`drive_async!`](crate::__drive_async).
    #[inline(always)]
    pub fn split(self) -> (Body, Driver<Out, P, R, B, F, T, L, H, A>) {
        (self.body, self.layers)
    }
}

/// The async retry loop, written once. A `macro_rules!` rather than an `async fn` generic over
/// the operation: rustc cannot prove such a future `Send` when the operation is an async closure
/// that borrows a captured `&mut` (a `&mut self` method, say), because proving it needs the
/// closure's borrowed future under a higher-ranked lifetime (rust-lang/rust#110338). Expanded
/// in place, every type is concrete and the future is `Send` whenever the operation's is. No
/// value holding an `Out` or an error lives across an await (a fallback's future holds the
/// error it was given).
#[doc(hidden)]
#[macro_export]
macro_rules! __drive_async {
    ($pipeline:expr) => {{
        let (mut body, driver) = $pipeline.split();
        let call = driver.start();
        let out = {
            let attempts = async {
                let mut attempts = driver.attempts();
                loop {
                    let delay = {
                        let held = match driver.admit(&mut attempts).await {
                            $crate::__private::Admit::Go(held) => held,
                            $crate::__private::Admit::Done(out) => break out,
                            $crate::__private::Admit::Again => continue,
                        };
                        let out = match driver.attempt_limit() {
                            ::core::option::Option::None => body().await,
                            ::core::option::Option::Some((limit, expiry)) => {
                                match $crate::timeout(limit, body()).await {
                                    ::core::result::Result::Ok(out) => out,
                                    ::core::result::Result::Err(timed_out) => {
                                        expiry.expired(timed_out)
                                    }
                                }
                            }
                        };
                        match driver.settle(&mut attempts, held, out) {
                            ::core::result::Result::Ok(out) => break out,
                            ::core::result::Result::Err(delay) => delay,
                        }
                    };
                    attempts.sleep_async(delay).await;
                }
            };
            match driver.total_limit() {
                ::core::option::Option::None => attempts.await,
                ::core::option::Option::Some((limit, expiry)) => {
                    match $crate::timeout(limit, attempts).await {
                        ::core::result::Result::Ok(out) => out,
                        ::core::result::Result::Err(timed_out) => expiry.expired(timed_out),
                    }
                }
            }
        };
        // The await outside the `match`: its scrutinee (holding an `Out`) would live across it.
        let out = 'recovered: {
            let recovering = match driver.recover(out) {
                ::core::result::Result::Ok(out) => break 'recovered out,
                ::core::result::Result::Err(recovering) => recovering,
            };
            recovering.await
        };
        driver.finish(call, out)
    }};
}

/// Whether an attempt may run.
#[derive(Debug)]
pub enum Admit<'a, Out> {
    /// Run it, holding these permits.
    Go(Held<'a>),
    /// The call is over (a rejection), with this outcome.
    Done(Out),
    /// Try to admit again (a rejection the policy wants retried: cannot happen today, since a
    /// rejection is permanent).
    Again,
}

impl<Out, P, X, B, F, T, L, H, A, E> Driver<Out, P, Retry<'_, X, E>, B, F, T, L, H, A>
where
    Out: Fallible<Err = E>,
    P: Tracker<Out>,
    X: Retrier,
    B: Guard<Out>,
    T: TimeoutSlot<Out>,
    L: RateSlot<Out>,
    H: BulkheadSlot<Out>,
    A: TimeoutSlot<Out>,
{
    /// Starts timing the call.
    #[inline(always)]
    pub fn start(&self) -> Option<TimedCall<'_>> {
        self.perf.start()
    }

    /// Starts the retry loop.
    #[inline(always)]
    pub fn attempts(&self) -> RetryLoop<'_> {
        self.retry.retrier.start()
    }

    /// Takes an attempt's permits (waiting for a rate limiter's turn or a bulkhead's slot
    /// without blocking a thread); a rejection ends the call.
    #[inline(always)]
    pub async fn admit(&self, attempts: &mut RetryLoop<'_>) -> Admit<'_, Out> {
        match admit_waiting(&self.breaker, &self.limit, &self.bulkhead).await {
            Ok(held) => Admit::Go(held),
            Err(rejected) => match self.retry.rejected(rejected) {
                Ok(out) => Admit::Done(out),
                Err(failure) => match attempts.failed(failure) {
                    Next::Stop(error) => Admit::Done(Out::from_result(Err(error))),
                    Next::Retry(_) => Admit::Again,
                },
            },
        }
    }

    /// The per-attempt time limit, if any.
    #[inline(always)]
    pub fn attempt_limit(&self) -> Option<(Duration, Expiry<'_, Out>)> {
        self.attempt.limit()
    }

    /// The whole call's time limit, if any.
    #[inline(always)]
    pub fn total_limit(&self) -> Option<(Duration, Expiry<'_, Out>)> {
        self.total.limit()
    }

    /// Records an attempt's outcome: the call's outcome, or how long to wait before the next
    /// attempt.
    #[inline(always)]
    pub fn settle(
        &self,
        attempts: &mut RetryLoop<'_>,
        held: Held<'_>,
        out: Out,
    ) -> Result<Out, Duration> {
        match self.retry.settle(attempts, &self.breaker, held, out) {
            Ok(out) => Ok(out),
            Err(failure) => match attempts.failed(failure) {
                Next::Retry(delay) => Err(delay),
                Next::Stop(error) => Ok(Out::from_result(Err(error))),
            },
        }
    }

    /// The call's outcome, or the fallback's future recovering from its error.
    #[inline(always)]
    pub fn recover<Fut>(&self, out: Out) -> Result<Out, Fut>
    where
        F: RecoverAsync<Out, Fut>,
    {
        self.fallback.recover(out)
    }

    /// Records the call's outcome on the timing slot.
    #[inline(always)]
    pub fn finish(&self, call: Option<TimedCall<'_>>, out: Out) -> Out {
        self.perf.finish(call, &out);
        out
    }
}
