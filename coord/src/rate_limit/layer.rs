//! The rate limiter as a layer of the stack: a [`Gate`] that admits an attempt at its turn,
//! waiting up to the limiter's `max_wait`; its rejection ([`RateLimited`]) becomes the
//! function's error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{RateLimitConfig, RateLimited, RateLimiter, Refusal, SharedAdmit};
use crate::clock::saturating_nanos;
use crate::clock::timer;
use crate::layer::{Gate, GateFor, LayerReturn, SiteLayer, from_rejection};

/// A rate limiter admitting every attempt of an operation returning `Out`. Made by
/// [`new`](Self::new), whose bounds say what `Out` needs; the conversion is kept as a function
/// pointer, so the stack asks nothing more of `Out` (one error message per mistake).
pub struct RateGate<'a, Out> {
    limiter: &'a RateLimiter,
    reject: fn(RateLimited) -> Out,
}

impl<'a, Out> RateGate<'a, Out> {
    /// `limiter` as a gate of an operation returning `Out`.
    #[inline(always)]
    pub fn new(limiter: &'a RateLimiter) -> Self
    where
        Out: LayerReturn,
        Out::Err: FromRateLimited,
    {
        Self {
            limiter,
            reject: |limited| Out::from_error(Out::Err::from_rate_limited(limited)),
        }
    }
}

crate::layer::copy_whatever_out!(RateGate);

impl<Out> fmt::Debug for RateGate<'_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RateGate").field(&self.limiter.name).finish()
    }
}

impl<Out> Gate for RateGate<'_, Out> {
    type Permit = ();
    type Rejection = RateLimited;
    type Admit = RateAdmit;

    #[inline(always)]
    fn admit(&self) -> Result<(), RateLimited> {
        self.limiter.acquire(self.limiter.max_wait())
    }

    #[inline(always)]
    fn admit_async(&self) -> RateAdmit {
        let limiter = self.limiter;
        if limiter.is_shared.load(std::sync::atomic::Ordering::Relaxed) {
            return admit_shared(limiter);
        }
        admit_local(limiter)
    }

    #[inline(always)]
    fn ignore(&self, (): ()) {}

    /// A hedge is extra load: it starts only when a turn is free now, so that it never waits
    /// for one nor is counted as a call the limiter shed.
    fn may_admit(&self) -> bool {
        self.limiter.turn_free_now()
    }
}

impl<Out> GateFor<Out> for RateGate<'_, Out> {
    #[cold]
    fn reject(&self, limited: RateLimited) -> Out {
        crate::semconv::rejected("rate_limit", limited.name(), false);
        (self.reject)(limited)
    }

    #[inline(always)]
    fn release(&self, (): (), _: &Out) {}
}

/// A local limiter's admission: the turn is reserved now; the future only waits for it.
#[inline(always)]
fn admit_local(limiter: &RateLimiter) -> RateAdmit {
    match limiter.reserve(saturating_nanos(limiter.max_wait())) {
        Ok(0) => RateAdmit::Ready(Some(Ok(()))),
        Ok(wait) => RateAdmit::Waiting(timer::sleep(limiter.record_wait(wait))),
        Err(retry_after) => {
            RateAdmit::Ready(Some(Err(limiter.reject(Refusal::quota(retry_after)))))
        }
    }
}

/// A shared limiter's admission: a round trip to Redis off the caller's thread (or the local
/// path, if a reconfigure just made it local).
#[cold]
fn admit_shared(limiter: &RateLimiter) -> RateAdmit {
    match limiter.shared_part() {
        Some(shared) => RateAdmit::Shared(Box::new(SharedAdmit::new(
            shared,
            saturating_nanos(limiter.max_wait()),
        ))),
        None => admit_local(limiter),
    }
}

/// The admission future of a rate limiter: decided at once, or a wait for the reserved turn.
pub enum RateAdmit {
    /// Admitted or rejected (`None` once taken).
    Ready(Option<Result<(), RateLimited>>),
    /// Waiting for the reserved turn.
    Waiting(timer::Sleep),
    /// A shared limiter's answer from Redis (boxed: local limiters' futures stay small).
    Shared(Box<SharedAdmit>),
}

impl fmt::Debug for RateAdmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateAdmit::Ready(_) => f.write_str("RateAdmit::Ready"),
            RateAdmit::Waiting(_) => f.write_str("RateAdmit::Waiting"),
            RateAdmit::Shared(_) => f.write_str("RateAdmit::Shared"),
        }
    }
}

impl Future for RateAdmit {
    type Output = Result<(), RateLimited>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            // Polled again after completion: admitted (the turn was taken).
            RateAdmit::Ready(ready) => Poll::Ready(ready.take().unwrap_or(Ok(()))),
            RateAdmit::Waiting(sleep) => Pin::new(sleep).poll(cx).map(Ok),
            RateAdmit::Shared(admit) => Pin::new(&mut **admit).poll(cx),
        }
    }
}

from_rejection! {
    /// Turns a rate limiter's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[rate_limit] functions must return `Result<T, E>` where `E: From<coord::RateLimited>`; `{Self}` does not implement `From<coord::RateLimited>`",
        label = "`{Self}` cannot hold the `coord::RateLimited` a rejected call returns",
        note = "add `impl From<coord::RateLimited> for {Self}` (for example a `Throttled` variant of your error enum)"
    )]
    FromRateLimited::from_rate_limited(limited: RateLimited)
}

/// A `#[rate_limit]` call site's rate limiter: the one registered under its name, or one made with
/// the call site's configuration.
impl SiteLayer for RateLimiter {
    type Config = fn() -> RateLimitConfig;

    fn resolve(name: &'static str, config: &Self::Config) -> Arc<Self> {
        super::registry::for_layer(name, config())
    }
}
