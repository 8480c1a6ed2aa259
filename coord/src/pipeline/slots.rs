//! The slot traits, each with its `Off` impl and the impl for the layer's handle: timing
//! (`Tracker`), breaker (`Guard`), retry (`Retry`, `Retrier`), rate limit, bulkhead and time
//! limit (whose impl for [`TimeLimit`](super::TimeLimit) is in `pipeline.rs`, where a
//! `tests/ui` snapshot points).

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::admit::{Held, release};
use super::{
    BreakerReturn, Fallible, FromBulkheadFull, FromCircuitOpen, FromRateLimited, LayerReturn, Off,
    TimeoutCounter,
};
use crate::breaker::{CircuitBreaker, Permit};
use crate::bulkhead::{Bulkhead, BulkheadFull};
use crate::perf::TimedCall;
use crate::rate_limit::{RateLimited, RateLimiter};
use crate::retry::{Attempt, RetryLoop};
use crate::timeout::TimedOut;

/// The timing slot: an operation site and the outcome test.
#[derive(Debug)]
pub struct Track<'a, S, F> {
    pub(super) site: &'a S,
    pub(super) failed: F,
}

/// Where a timing slot records: a macro call site (resolved in the operation registry by the
/// doors on first use).
pub trait TimedSite {
    /// Starts timing one call.
    fn start(&self) -> TimedCall<'_>;
}

/// A timing slot: [`Off`] or [`Track`]. The slot's state is a concrete type (no associated
/// type): a projection held across an await would make rustc prove the slot's bounds for every
/// lifetime when it checks the future for `Send`, which fails for types such as
/// `Box<dyn Error>`.
pub trait Tracker<Out> {
    /// Starts timing a call.
    fn start(&self) -> Option<TimedCall<'_>>;
    /// Records the call's outcome.
    fn finish(&self, call: Option<TimedCall<'_>>, out: &Out);
}

impl<Out> Tracker<Out> for Off {
    #[inline(always)]
    fn start(&self) -> Option<TimedCall<'_>> {
        None
    }
    #[inline(always)]
    fn finish(&self, call: Option<TimedCall<'_>>, _: &Out) {
        // Always `None` here: forgetting it spares the success path a call to drop glue
        // that LLVM does not inline.
        std::mem::forget(call);
    }
}

impl<Out, S: TimedSite, F: Fn(&Out) -> bool> Tracker<Out> for Track<'_, S, F> {
    #[inline(always)]
    fn start(&self) -> Option<TimedCall<'_>> {
        Some(self.site.start())
    }
    #[inline(always)]
    fn finish(&self, call: Option<TimedCall<'_>>, out: &Out) {
        match call {
            Some(call) => call.finish((self.failed)(out)),
            // Never taken; forgetting spares the drop glue (see `Off`).
            None => std::mem::forget(call),
        }
    }
}

/// A breaker slot: [`Off`] or a `&CircuitBreaker` (concrete permit type: see [`Tracker`]).
pub trait Guard<Out> {
    /// A permit (`None` without a breaker), or the rejection as the operation's return value.
    fn admit(&self) -> Result<Option<Permit<'_>>, Out>;
    /// Records the attempt's outcome on its permit.
    fn record(&self, permit: Option<Permit<'_>>, out: &Out);
    /// Releases the permit without counting the attempt (an inner layer rejected it).
    fn ignore(&self, permit: Option<Permit<'_>>);
}

impl<Out> Guard<Out> for Off {
    #[inline(always)]
    fn admit(&self) -> Result<Option<Permit<'_>>, Out> {
        Ok(None)
    }
    #[inline(always)]
    fn record(&self, permit: Option<Permit<'_>>, _: &Out) {
        // Always `None` here (see `Tracker::finish` of `Off`).
        std::mem::forget(permit);
    }
    #[inline(always)]
    fn ignore(&self, permit: Option<Permit<'_>>) {
        std::mem::forget(permit);
    }
}

impl<Out> Guard<Out> for &CircuitBreaker
where
    Out: BreakerReturn,
    Out::Error: FromCircuitOpen,
{
    #[inline(always)]
    fn admit(&self) -> Result<Option<Permit<'_>>, Out> {
        match self.try_acquire() {
            Ok(permit) => Ok(Some(permit)),
            Err(open) => Err(Out::from_error(Out::Error::from_circuit_open(open))),
        }
    }
    #[inline(always)]
    fn record(&self, permit: Option<Permit<'_>>, out: &Out) {
        match permit {
            Some(permit) => out.record(permit),
            // Never taken; forgetting spares the drop glue (see `Off`).
            None => std::mem::forget(permit),
        }
    }
    #[cold]
    fn ignore(&self, permit: Option<Permit<'_>>) {
        if let Some(permit) = permit {
            permit.ignore();
        }
    }
}

/// The retry slot.
pub struct Retry<'w, T, E> {
    pub(super) retrier: T,
    /// Called only after a failure.
    pub(super) when: &'w (dyn Fn(&E) -> bool + Sync),
    pub(super) describe: fn(&E) -> String,
}

impl<T: fmt::Debug, E> fmt::Debug for Retry<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("retrier", &self.retrier)
            .finish_non_exhaustive()
    }
}

impl<T, E> Retry<'_, T, E> {
    #[inline]
    pub(super) fn classify(&self, error: E) -> Attempt<E> {
        let attempt = if (self.when)(&error) {
            Attempt::retryable(error)
        } else {
            Attempt::permanent(error)
        };
        attempt.describe_with(self.describe)
    }

    /// A rejection inside the loop (breaker, rate limiter, bulkhead): permanent, never retried.
    #[cold]
    pub(super) fn rejected<Out: Fallible<Err = E>>(
        &self,
        rejected: Out,
    ) -> Result<Out, Attempt<E>> {
        match rejected.into_result() {
            Ok(value) => Ok(Out::from_result(Ok(value))),
            Err(error) => Err(Attempt::permanent(error).describe_with(self.describe)),
        }
    }

    /// Releases an attempt's permits and takes its outcome: the call's outcome on success,
    /// else the failure for the policy.
    #[inline(always)]
    pub(super) fn settle<Out: Fallible<Err = E>, B: Guard<Out>>(
        &self,
        attempts: &mut RetryLoop<'_>,
        breaker: &B,
        held: Held<'_>,
        out: Out,
    ) -> Result<Out, Attempt<E>> {
        release(breaker, held, &out);
        match out.into_result() {
            Ok(value) => {
                attempts.succeeded();
                Ok(Out::from_result(Ok(value)))
            }
            Err(error) => Err(self.classify(error)),
        }
    }
}

/// Where a retry slot's loop comes from: a macro call site, or a policy with an operation name.
pub trait Retrier {
    /// Starts one call.
    fn start(&self) -> RetryLoop<'_>;
}

/// A marker of the error type `E`, handed to [`Pipeline::retry`](super::Pipeline::retry)'s
/// `describe` so that it can pick a message function by the type's traits.
pub struct Describe<E>(pub(super) PhantomData<fn(&E)>);

/// Declares the slot trait of a layer that admits an attempt or rejects it (a rate limiter, a
/// bulkhead), with its impls for [`Off`] and for the layer's handle; the handle's impl needs
/// the operation's error to hold the rejection.
macro_rules! gate_slot {
    ($(#[$doc:meta])* $slot:ident::$method:ident($gate:ty, $rejection:ty), $from:ident::$convert:ident) => {
        $(#[$doc])*
        pub trait $slot<Out> {
            /// The layer's handle and how its rejection becomes the operation's return value.
            fn $method(&self) -> Option<(&$gate, fn($rejection) -> Out)>;
        }

        impl<Out> $slot<Out> for Off {
            #[inline(always)]
            fn $method(&self) -> Option<(&$gate, fn($rejection) -> Out)> {
                None
            }
        }

        impl<Out> $slot<Out> for &$gate
        where
            Out: LayerReturn,
            Out::Err: $from,
        {
            #[inline(always)]
            fn $method(&self) -> Option<(&$gate, fn($rejection) -> Out)> {
                Some((self, |rejection| {
                    Out::from_error(Out::Err::$convert(rejection))
                }))
            }
        }
    };
}

gate_slot! {
    /// A rate-limit slot: [`Off`] or a `&RateLimiter`.
    RateSlot::limiter(RateLimiter, RateLimited), FromRateLimited::from_rate_limited
}

gate_slot! {
    /// A bulkhead slot: [`Off`] or a `&Bulkhead`.
    BulkheadSlot::bulkhead(Bulkhead, BulkheadFull), FromBulkheadFull::from_bulkhead_full
}

/// How a time-out becomes the operation's return value; counts it on the way.
pub struct Expiry<'a, Out> {
    pub(super) count: Option<&'a TimeoutCounter>,
    pub(super) convert: fn(TimedOut) -> Out,
}

impl<Out> fmt::Debug for Expiry<'_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expiry")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<Out> Expiry<'_, Out> {
    /// Counts the time-out and returns it as the operation's error.
    #[cold]
    pub fn expired(self, timed_out: TimedOut) -> Out {
        if let Some(count) = self.count {
            count.count.fetch_add(1, Relaxed);
            tracing::warn!(
                target: "coord::timeout",
                operation = &*count.name,
                limit_ms = timed_out.limit().as_secs_f64() * 1e3,
                "attempt timed out"
            );
        }
        (self.convert)(timed_out)
    }
}

/// A time-limit slot: [`Off`] or a [`TimeLimit`](super::TimeLimit).
pub trait TimeoutSlot<Out> {
    /// The limit and how a time-out becomes the operation's return value.
    fn limit(&self) -> Option<(Duration, Expiry<'_, Out>)>;
}

impl<Out> TimeoutSlot<Out> for Off {
    #[inline(always)]
    fn limit(&self) -> Option<(Duration, Expiry<'_, Out>)> {
        None
    }
}
