//! An attempt's permits: taken innermost last (breaker, rate limiter, bulkhead), released
//! with the attempt's outcome recorded on the breaker's.

use std::future::Future;

use super::{BulkheadSlot, Guard, RateSlot, TimeoutSlot};
use crate::breaker::Permit;
use crate::bulkhead::BulkheadPermit;
use crate::timeout::timeout;

/// The permits one admitted attempt holds.
#[derive(Debug)]
pub struct Held<'a> {
    breaker: Option<Permit<'a>>,
    bulkhead: Option<BulkheadPermit<'a>>,
}

/// Declares an admission function: [`admit_blocking`] and [`admit_waiting`] differ only in
/// how they wait for the rate limiter and the bulkhead (`acquire` on this thread, or
/// `acquire_async` and `.await`).
macro_rules! admit_fn {
    ($(#[$doc:meta])* $name:ident, [$($async:tt)?] $acquire:ident $(.$await:tt)?) => {
        $(#[$doc])*
        #[inline(always)]
        pub(super) $($async)? fn $name<'a, Out, B, L, H>(
            breaker: &'a B,
            limit: &'a L,
            bulkhead: &'a H,
        ) -> Result<Held<'a>, Out>
        where
            B: Guard<Out>,
            L: RateSlot<Out>,
            H: BulkheadSlot<Out>,
        {
            let permit = breaker.admit()?;
            if let Some((limiter, reject)) = limit.limiter()
                && let Err(limited) = limiter.$acquire(limiter.max_wait())$(.$await)?
            {
                breaker.ignore(permit);
                return Err(reject(limited));
            }
            let slot = match bulkhead.bulkhead() {
                None => None,
                Some((bulkhead, reject)) => {
                    match bulkhead.$acquire(bulkhead.max_wait())$(.$await)? {
                        Ok(slot) => Some(slot),
                        Err(full) => {
                            breaker.ignore(permit);
                            return Err(reject(full));
                        }
                    }
                }
            };
            Ok(Held {
                breaker: permit,
                bulkhead: slot,
            })
        }
    };
}

admit_fn! {
    /// Takes the attempt's permits, innermost last, waiting on this thread; a rejection is the
    /// operation's return value (an outer permit is released without counting the attempt).
    admit_blocking, [] acquire
}

admit_fn! {
    /// [`admit_blocking`] waiting without blocking a thread.
    admit_waiting, [async] acquire_async.await
}

/// Releases an attempt's permits, recording its outcome on the breaker's.
#[inline(always)]
pub(super) fn release<Out, B: Guard<Out>>(breaker: &B, held: Held<'_>, out: &Out) {
    let Held {
        breaker: permit,
        bulkhead,
    } = held;
    match bulkhead {
        Some(slot) => drop(slot),
        // Always `None` without a bulkhead (see `Tracker::finish` of `Off`).
        None => std::mem::forget(bulkhead),
    }
    breaker.record(permit, out);
}

/// One async attempt inside its permits, under the per-attempt time limit.
#[inline(always)]
pub(super) async fn attempt_once<Out, Fut, B, L, H, A>(
    breaker: &B,
    limit: &L,
    bulkhead: &H,
    attempt: &A,
    body: Fut,
) -> Out
where
    Fut: Future<Output = Out>,
    B: Guard<Out>,
    L: RateSlot<Out>,
    H: BulkheadSlot<Out>,
    A: TimeoutSlot<Out>,
{
    let held = match admit_waiting(breaker, limit, bulkhead).await {
        Ok(held) => held,
        Err(rejected) => return rejected,
    };
    let out = match attempt.limit() {
        None => body.await,
        Some((limit, expiry)) => match timeout(limit, body).await {
            Ok(out) => out,
            Err(timed_out) => expiry.expired(timed_out),
        },
    };
    release(breaker, held, &out);
    out
}
