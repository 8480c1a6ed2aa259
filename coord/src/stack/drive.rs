//! The async retry loop: [`drive_async!`](crate::__drive_async), which generated code expands
//! in place, and the two steps it takes after an admission ([`rejected`]) and after an
//! attempt ([`settle`]).

use std::time::Duration;

use crate::layer::{Fallible, GateFor};
use crate::retry::layer::{Retrier, Retry};
use crate::retry::{Next, RetryLoop};

/// The async retry loop, written once. A `macro_rules!` rather than an `async fn` generic over
/// the operation: rustc cannot prove such a future `Send` when the operation is an async closure
/// that borrows a captured `&mut` (a `&mut self` method, say), because proving it needs the
/// closure's borrowed future under a higher-ranked lifetime (rust-lang/rust#110338). Expanded
/// in place, every type is concrete and the future is `Send` whenever the operation's is; the
/// layers' generic code only receives the futures made here. No value holding an `Out` or an
/// error lives across an await (a fallback's future holds the error it was given).
#[doc(hidden)]
#[macro_export]
macro_rules! __drive_async {
    // The loop itself: each attempt admitted by `$gates`, run by `$attempt` (an expression
    // giving its outcome), its permits released and judged, then the back-off sleep; the
    // call's outcome with whether a gate rejected its last attempt.
    (@attempts($retry:ident, $gates:ident, $attempts:ident) $attempt:expr) => {
        loop {
            let delay = {
                let permit = match $crate::__private::Gate::admit_async(&$gates).await {
                    ::core::result::Result::Ok(permit) => permit,
                    ::core::result::Result::Err(rejection) => {
                        break $crate::__private::rejected(&$gates, &mut $attempts, rejection);
                    }
                };
                let out = $attempt;
                match $crate::__private::settle(&$retry, &$gates, &mut $attempts, permit, out) {
                    ::core::result::Result::Ok(out) => break (out, false),
                    ::core::result::Result::Err(delay) => delay,
                }
            };
            $attempts.sleep_async(delay).await;
        }
    };
    // Without time limits or a fallback (the composer knows): the same loop with nothing to
    // wrap it in, so that less generated code is checked per function.
    ($stack:expr, plain) => {{
        let (mut body, (timer, _, _, retry, gates, _)) = $stack.split();
        'call: {
            $crate::__chaos_async!(timer, gates, 'call);
            let started = $crate::__private::Timer::start(&timer);
            let mut attempts = retry.start();
            let (out, rejected) =
                $crate::__drive_async!(@attempts(retry, gates, attempts) body().await);
            $crate::__private::finish(&timer, started, &out, rejected);
            out
        }
    }};
    ($stack:expr) => {{
        let (mut body, (timer, recover, total, retry, gates, attempt)) = $stack.split();
        'call: {
            $crate::__chaos_async!(timer, gates, 'call);
            let started = $crate::__private::Timer::start(&timer);
            let retried = ::core::pin::pin!(async {
                let mut attempts = retry.start();
                $crate::__drive_async!(@attempts(retry, gates, attempts) {
                    let attempt_future = ::core::pin::pin!(body());
                    match $crate::__private::Limit::within(attempt, attempt_future).await {
                        ::core::result::Result::Ok(out) => out,
                        ::core::result::Result::Err(expired) => {
                            $crate::__private::LimitFor::expired(&attempt, expired)
                        }
                    }
                })
            });
            // With whether a gate rejected the last attempt, for the timer.
            let (out, rejected) = match $crate::__private::Limit::within(total, retried).await {
                ::core::result::Result::Ok(finished) => finished,
                ::core::result::Result::Err(expired) => {
                    ($crate::__private::LimitFor::expired(&total, expired), false)
                }
            };
            // The await outside the `match`: its scrutinee (holding an `Out`) would live across it.
            let out = 'recovered: {
                let recovering = match $crate::__private::RecoverAsync::recover(&recover, out) {
                    ::core::result::Result::Ok(out) => break 'recovered out,
                    ::core::result::Result::Err(recovering) => recovering,
                };
                recovering.await
            };
            $crate::__private::finish(&timer, started, &out, rejected);
            out
        }
    }};
}

/// Fault injection at the start of an async call (`coord::chaos`), before its timing starts:
/// one relaxed load while nothing is armed; else the injected latency's wait, then an injected
/// error, else a rejection injected into one of `$gates`, ends the call as its value (counted
/// apart, never timed): out of the block `$call`, or with `return`.
/// Nothing holding an `Out` lives across the wait.
#[doc(hidden)]
#[macro_export]
macro_rules! __chaos_async {
    (@exit [$($exit:tt)+] $timer:expr, $gates:expr) => {
        if $crate::__private::chaos::armed() {
            if let ::core::option::Option::Some(delay) = $crate::__private::chaos::delay(&$timer) {
                delay.await;
            }
            if let ::core::option::Option::Some(out) = $crate::__private::chaos::error(&$timer) {
                $($exit)+ out;
            }
            if let ::core::option::Option::Some(rejection) =
                $crate::__private::Gate::chaos_reject(&$gates)
            {
                $($exit)+ $crate::__private::GateFor::reject(&$gates, rejection);
            }
        }
    };
    ($timer:expr, $gates:expr, return) => {
        $crate::__chaos_async!(@exit [return] $timer, $gates)
    };
    ($timer:expr, $gates:expr, $call:lifetime) => {
        $crate::__chaos_async!(@exit [break $call] $timer, $gates)
    };
}

/// A gate rejected an attempt, which ends the call (a rejection is never retried): the
/// rejection as the call's value, told to the retry loop (no failed attempt counted), and
/// whether the call's outcome is *rejected*: only when no attempt ran (earlier failures that
/// tripped the gate make the call a failure).
#[cold]
pub fn rejected<Out, G: GateFor<Out>>(
    gates: &G,
    attempts: &mut RetryLoop<'_>,
    rejection: G::Rejection,
) -> (Out, bool) {
    let rejected = attempts.failures() == 0;
    attempts.rejected();
    (gates.reject(rejection), rejected)
}

/// Releases an attempt's permits with its outcome: the call's outcome, or how long to wait
/// before the next attempt.
#[inline(always)]
pub fn settle<Out, X, E, G>(
    retry: &Retry<'_, X, E>,
    gates: &G,
    attempts: &mut RetryLoop<'_>,
    permit: G::Permit,
    out: Out,
) -> Result<Out, Duration>
where
    Out: Fallible<Err = E>,
    X: Retrier,
    G: GateFor<Out>,
{
    gates.release(permit, &out);
    judged(retry, attempts, out)
}

/// An attempt's outcome (its permits released) judged by the retry loop: the call's outcome,
/// or how long to wait before the next attempt.
#[inline(always)]
pub(super) fn judged<Out, X, E>(
    retry: &Retry<'_, X, E>,
    attempts: &mut RetryLoop<'_>,
    out: Out,
) -> Result<Out, Duration>
where
    Out: Fallible<Err = E>,
    X: Retrier,
{
    match retry.judge().outcome(attempts, out) {
        Ok(out) => Ok(out),
        Err(failure) => match attempts.failed(failure) {
            Next::Retry(delay) => Err(delay),
            Next::Stop(error) => Ok(Out::from_result(Err(error))),
        },
    }
}
