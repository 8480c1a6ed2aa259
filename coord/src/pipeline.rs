//! The composition of coord's layers, written once, outermost first: `track_performance` →
//! `fallback` → `timeout(total)` → `retry` → `circuit_breaker` → `rate_limit` → `bulkhead` →
//! `timeout(attempt)` → the operation (the reasons are in the crate docs).
//!
//! A [`Pipeline`] holds the operation and one slot per layer; a slot is either [`Off`] or the
//! layer's handle, so an absent layer costs nothing and asks nothing of the operation's type.
//! [`run`](Pipeline::run) drives a synchronous operation, [`run_async`](Pipeline::run_async)
//! an async one (an `AsyncFnMut`, whose attempts may borrow the caller's parameters,
//! `&mut self` included). The generated code of the coord attributes and
//! [`ErrorHandler`](crate::ErrorHandler) both build a pipeline and run it.
//!
//! A circuit breaker, a rate limiter and a bulkhead sit *inside* the retry loop: every attempt
//! takes its own permits, and a rejection ([`CircuitOpen`](crate::CircuitOpen),
//! [`RateLimited`], [`BulkheadFull`]) is a permanent error, never retried. A rejection below
//! the breaker releases its permit uncounted. Time limits need an async operation (a thread
//! cannot be interrupted): a synchronous pipeline has no time-limit slots to run with.
//!
//! Adding a layer is an addition: a slot type parameter, a trait with an `Off` impl, and one
//! step in each driver below.
//!
//! The async driver is an `async fn` generic over the operation, so its future is `Send`
//! exactly when the operation's futures (and the values it returns) are: no error value is
//! held across the back-off sleep, a time limit or a wait for a slot. Slot traits return
//! concrete types (no associated types held across an await; see [`Tracker`]).

// One type parameter per layer is the point of the pipeline: every absent layer is `Off`,
// resolved at compile time. Naming the combinations would hide that.
#![allow(clippy::type_complexity)]

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::breaker::{CircuitBreaker, CircuitOpen, Permit};
use crate::bulkhead::{Bulkhead, BulkheadFull, BulkheadPermit};
use crate::capped::{Capped, Lookup};
use crate::perf::TimedCall;
use crate::rate_limit::{RateLimited, RateLimiter};
use crate::retry::{Attempt, Next, RetryLoop};
use crate::timeout::{TimedOut, timeout};

/// An absent layer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Off;

/// The operation with its layers. `Out` is what the operation returns. The slots, outermost
/// first: `P` track_performance, `F` fallback, `T` timeout (total), `R` retry, `B`
/// circuit_breaker, `L` rate_limit, `H` bulkhead, `A` timeout (per attempt).
#[must_use = "a pipeline does nothing until it is run"]
pub struct Pipeline<
    Out,
    Body,
    P = Off,
    R = Off,
    B = Off,
    F = Off,
    T = Off,
    L = Off,
    H = Off,
    A = Off,
> {
    body: Body,
    perf: P,
    retry: R,
    breaker: B,
    fallback: F,
    total: T,
    limit: L,
    bulkhead: H,
    attempt: A,
    out: PhantomData<fn() -> Out>,
}

/// Moves a pipeline into one whose slot `$field` (an [`Off`] one) is `$value`.
macro_rules! with_slot {
    ($pipeline:expr, $field:ident = $value:expr) => {{
        let value = $value;
        let parts = $pipeline.into_parts();
        with_slot!(@set parts, $field, value)
    }};
    (@set $p:ident, perf, $v:ident) => { Pipeline::from_parts(($p.0, $v, $p.2, $p.3, $p.4, $p.5, $p.6, $p.7, $p.8)) };
    (@set $p:ident, retry, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $v, $p.3, $p.4, $p.5, $p.6, $p.7, $p.8)) };
    (@set $p:ident, breaker, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $v, $p.4, $p.5, $p.6, $p.7, $p.8)) };
    (@set $p:ident, fallback, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $p.3, $v, $p.5, $p.6, $p.7, $p.8)) };
    (@set $p:ident, total, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $p.3, $p.4, $v, $p.6, $p.7, $p.8)) };
    (@set $p:ident, limit, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $p.3, $p.4, $p.5, $v, $p.7, $p.8)) };
    (@set $p:ident, bulkhead, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $p.3, $p.4, $p.5, $p.6, $v, $p.8)) };
    (@set $p:ident, attempt, $v:ident) => { Pipeline::from_parts(($p.0, $p.1, $p.2, $p.3, $p.4, $p.5, $p.6, $p.7, $v)) };
}

type Parts<Body, P, R, B, F, T, L, H, A> = (Body, P, R, B, F, T, L, H, A);

impl<Out, Body, P, R, B, F, T, L, H, A> Pipeline<Out, Body, P, R, B, F, T, L, H, A> {
    #[inline(always)]
    fn into_parts(self) -> Parts<Body, P, R, B, F, T, L, H, A> {
        (
            self.body,
            self.perf,
            self.retry,
            self.breaker,
            self.fallback,
            self.total,
            self.limit,
            self.bulkhead,
            self.attempt,
        )
    }

    #[inline(always)]
    fn from_parts(parts: Parts<Body, P, R, B, F, T, L, H, A>) -> Self {
        let (body, perf, retry, breaker, fallback, total, limit, bulkhead, attempt) = parts;
        Self {
            body,
            perf,
            retry,
            breaker,
            fallback,
            total,
            limit,
            bulkhead,
            attempt,
            out: PhantomData,
        }
    }
}

impl<Out, Body, P, R, B, F, T, L, H, A> fmt::Debug for Pipeline<Out, Body, P, R, B, F, T, L, H, A>
where
    P: fmt::Debug,
    R: fmt::Debug,
    B: fmt::Debug,
    T: fmt::Debug,
    L: fmt::Debug,
    H: fmt::Debug,
    A: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("perf", &self.perf)
            .field("total", &self.total)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .field("limit", &self.limit)
            .field("bulkhead", &self.bulkhead)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl<Out, Body> Pipeline<Out, Body> {
    #[inline(always)]
    fn new(body: Body) -> Self {
        Self {
            body,
            perf: Off,
            retry: Off,
            breaker: Off,
            fallback: Off,
            total: Off,
            limit: Off,
            bulkhead: Off,
            attempt: Off,
            out: PhantomData,
        }
    }

    /// A pipeline around a synchronous operation that runs once (no retry layer).
    #[inline(always)]
    pub fn once(body: Body) -> Self
    where
        Body: FnOnce() -> Out,
    {
        Self::new(body)
    }

    /// A pipeline around a synchronous operation that may run once per attempt.
    #[inline(always)]
    pub fn attempts(body: Body) -> Self
    where
        Body: FnMut() -> Out,
    {
        Self::new(body)
    }

    /// A pipeline around a future, awaited once (no retry layer).
    #[inline(always)]
    pub fn future(body: Body) -> Self
    where
        Body: Future<Output = Out>,
    {
        Self::new(body)
    }

    /// A pipeline around an async operation that may run once per attempt.
    #[inline(always)]
    pub fn async_attempts(body: Body) -> Self
    where
        Body: AsyncFnMut() -> Out,
    {
        Self::new(body)
    }
}

impl<Out, Body, R, B, F, T, L, H, A> Pipeline<Out, Body, Off, R, B, F, T, L, H, A> {
    /// Times every call on `site`; `failed` tells a failed outcome from a successful one.
    #[inline(always)]
    pub fn track<S, G>(
        self,
        site: &S,
        failed: G,
    ) -> Pipeline<Out, Body, Track<'_, S, G>, R, B, F, T, L, H, A>
    where
        S: TimedSite,
        G: Fn(&Out) -> bool,
    {
        with_slot!(self, perf = Track { site, failed })
    }
}

impl<Out, Body, P, B, F, T, L, H, A> Pipeline<Out, Body, P, Off, B, F, T, L, H, A> {
    /// Retries failed attempts as `retrier` allows. `when(&error)` returning `false` makes an
    /// error permanent; `describe` picks the function that gives the message failures are
    /// recorded with (it receives a [`Describe`] marker of the error type).
    #[inline(always)]
    pub fn retry<'w, X: Retrier, D, E>(
        self,
        retrier: X,
        when: &'w (dyn Fn(&E) -> bool + Sync),
        describe: D,
    ) -> Pipeline<Out, Body, P, Retry<'w, X, E>, B, F, T, L, H, A>
    where
        Out: Fallible<Err = E>,
        D: FnOnce(Describe<E>) -> fn(&E) -> String,
    {
        let describe = describe(Describe(PhantomData));
        with_slot!(
            self,
            retry = Retry {
                retrier,
                when,
                describe,
            }
        )
    }
}

impl<Out, Body, P, R, F, T, L, H, A> Pipeline<Out, Body, P, R, Off, F, T, L, H, A> {
    /// Guards every attempt with `breaker`.
    #[inline(always)]
    pub fn breaker(
        self,
        breaker: &CircuitBreaker,
    ) -> Pipeline<Out, Body, P, R, &CircuitBreaker, F, T, L, H, A>
    where
        Out: BreakerReturn,
        Out::Error: FromCircuitOpen,
    {
        with_slot!(self, breaker = breaker)
    }
}

impl<Out, Body, P, R, B, T, L, H, A> Pipeline<Out, Body, P, R, B, Off, T, L, H, A> {
    /// Hands the final error of a synchronous call, after every other layer gave up, to
    /// `recover` (`fn(E) -> Result<T, E>`).
    #[inline(always)]
    pub fn fallback<G>(self, recover: G) -> Pipeline<Out, Body, P, R, B, Fallback<G>, T, L, H, A>
    where
        Out: LayerReturn,
        G: FallbackFn<Out::Err, Out>,
    {
        with_slot!(self, fallback = Fallback(recover))
    }

    /// [`fallback`](Self::fallback) for an async call: `slot` is a [`Fallback`] (a synchronous
    /// `fn(E) -> Result<T, E>`) or a [`FallbackAsync`] (an `async fn(E) -> Result<T, E>`).
    #[inline(always)]
    pub fn fallback_async<G, Fut>(self, slot: G) -> Pipeline<Out, Body, P, R, B, G, T, L, H, A>
    where
        G: RecoverAsync<Out, Fut>,
    {
        with_slot!(self, fallback = slot)
    }
}

impl<Out, Body, P, R, B, F, L, H, A> Pipeline<Out, Body, P, R, B, F, Off, L, H, A> {
    /// Ends the whole call (retries and back-off sleeps included) after `limit`, with
    /// `E::from(TimedOut)`; `count` is incremented each time.
    #[inline(always)]
    pub fn total_timeout(
        self,
        limit: Duration,
        count: Option<&TimeoutCounter>,
    ) -> Pipeline<Out, Body, P, R, B, F, TimeLimit<'_>, L, H, A>
    where
        Out: LayerReturn,
        Out::Err: FromTimedOut,
    {
        with_slot!(self, total = TimeLimit { limit, count })
    }
}

impl<Out, Body, P, R, B, F, T, H, A> Pipeline<Out, Body, P, R, B, F, T, Off, H, A> {
    /// Admits every attempt through `limiter` (waiting up to its `max_wait`); a rejection is
    /// `E::from(RateLimited)`, never retried.
    #[inline(always)]
    pub fn rate_limit(
        self,
        limiter: &RateLimiter,
    ) -> Pipeline<Out, Body, P, R, B, F, T, &RateLimiter, H, A>
    where
        Out: LayerReturn,
        Out::Err: FromRateLimited,
    {
        with_slot!(self, limit = limiter)
    }
}

impl<Out, Body, P, R, B, F, T, L, A> Pipeline<Out, Body, P, R, B, F, T, L, Off, A> {
    /// Runs every attempt holding a slot of `bulkhead` (waiting up to its `max_wait`); a
    /// rejection is `E::from(BulkheadFull)`, never retried.
    #[inline(always)]
    pub fn bulkhead(
        self,
        bulkhead: &Bulkhead,
    ) -> Pipeline<Out, Body, P, R, B, F, T, L, &Bulkhead, A>
    where
        Out: LayerReturn,
        Out::Err: FromBulkheadFull,
    {
        with_slot!(self, bulkhead = bulkhead)
    }
}

impl<Out, Body, P, R, B, F, T, L, H> Pipeline<Out, Body, P, R, B, F, T, L, H, Off> {
    /// Gives every attempt at most `limit`: a slower attempt's future is dropped and the
    /// attempt fails with `E::from(TimedOut)` (a failure for the breaker, retryable by
    /// default); `count` is incremented each time.
    #[inline(always)]
    pub fn attempt_timeout(
        self,
        limit: Duration,
        count: Option<&TimeoutCounter>,
    ) -> Pipeline<Out, Body, P, R, B, F, T, L, H, TimeLimit<'_>>
    where
        Out: LayerReturn,
        Out::Err: FromTimedOut,
    {
        with_slot!(self, attempt = TimeLimit { limit, count })
    }
}

/// The permits one admitted attempt holds.
#[derive(Debug)]
pub struct Held<'a> {
    breaker: Option<Permit<'a>>,
    bulkhead: Option<BulkheadPermit<'a>>,
}

/// Takes the attempt's permits, innermost last, waiting on this thread; a rejection is the
/// operation's return value (an outer permit is released without counting the attempt).
#[inline(always)]
fn admit_blocking<'a, Out, B, L, H>(
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
        && let Err(limited) = limiter.acquire(limiter.max_wait())
    {
        breaker.ignore(permit);
        return Err(reject(limited));
    }
    let slot = match bulkhead.bulkhead() {
        None => None,
        Some((bulkhead, reject)) => match bulkhead.acquire(bulkhead.max_wait()) {
            Ok(slot) => Some(slot),
            Err(full) => {
                breaker.ignore(permit);
                return Err(reject(full));
            }
        },
    };
    Ok(Held {
        breaker: permit,
        bulkhead: slot,
    })
}

/// [`admit_blocking`] waiting without blocking a thread.
#[inline(always)]
async fn admit_waiting<'a, Out, B, L, H>(
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
        && let Err(limited) = limiter.acquire_async(limiter.max_wait()).await
    {
        breaker.ignore(permit);
        return Err(reject(limited));
    }
    let slot = match bulkhead.bulkhead() {
        None => None,
        Some((bulkhead, reject)) => match bulkhead.acquire_async(bulkhead.max_wait()).await {
            Ok(slot) => Some(slot),
            Err(full) => {
                breaker.ignore(permit);
                return Err(reject(full));
            }
        },
    };
    Ok(Held {
        breaker: permit,
        bulkhead: slot,
    })
}

/// Releases an attempt's permits, recording its outcome on the breaker's.
#[inline(always)]
fn release<Out, B: Guard<Out>>(breaker: &B, held: Held<'_>, out: &Out) {
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
async fn attempt_once<Out, Fut, B, L, H, A>(
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

/// Without retry: the operation runs once, so it may be an `FnOnce` (a `&mut self` borrow may
/// escape it) or a future. A synchronous operation cannot have a time limit.
impl<Out, Body, P, B, F, L, H> Pipeline<Out, Body, P, Off, B, F, Off, L, H, Off> {
    /// Runs a synchronous operation once.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnOnce() -> Out,
        P: Tracker<Out>,
        B: Guard<Out>,
        F: Recover<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
    {
        let call = self.perf.start();
        let out = match admit_blocking(&self.breaker, &self.limit, &self.bulkhead) {
            Ok(held) => {
                let out = (self.body)();
                release(&self.breaker, held, &out);
                out
            }
            Err(rejected) => rejected,
        };
        let out = self.fallback.recover(out);
        self.perf.finish(call, &out);
        out
    }
}

impl<Out, Body, P, B, F, T, L, H, A> Pipeline<Out, Body, P, Off, B, F, T, L, H, A> {
    /// Awaits the operation (a future) once.
    #[inline(always)]
    pub async fn run_future<Fut>(self) -> Out
    where
        Body: Future<Output = Out>,
        P: Tracker<Out>,
        B: Guard<Out>,
        F: RecoverAsync<Out, Fut>,
        Fut: Future<Output = Out>,
        T: TimeoutSlot<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
        A: TimeoutSlot<Out>,
    {
        let Self {
            body,
            perf,
            breaker,
            fallback,
            total,
            limit,
            bulkhead,
            attempt,
            ..
        } = self;
        let call = perf.start();
        let once = attempt_once(&breaker, &limit, &bulkhead, &attempt, body);
        let out = match total.limit() {
            None => once.await,
            Some((limit, expiry)) => match timeout(limit, once).await {
                Ok(out) => out,
                Err(timed_out) => expiry.expired(timed_out),
            },
        };
        // The await outside the `match`: its scrutinee (holding an `Out`) would live across it.
        let out = 'recovered: {
            let recovering = match fallback.recover(out) {
                Ok(out) => break 'recovered out,
                Err(recovering) => recovering,
            };
            recovering.await
        };
        perf.finish(call, &out);
        out
    }
}

impl<Out, Body, P, X, B, F, L, H, E> Pipeline<Out, Body, P, Retry<'_, X, E>, B, F, Off, L, H, Off> {
    /// Runs a synchronous operation until it succeeds or the policy gives up.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnMut() -> Out,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: Tracker<Out>,
        B: Guard<Out>,
        F: Recover<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
    {
        let Self {
            mut body,
            perf,
            retry,
            breaker,
            fallback,
            limit,
            bulkhead,
            ..
        } = self;
        let call = perf.start();
        let mut attempts = retry.retrier.start();
        // The first attempt inline; everything after a failure in a cold function, so the
        // success path sets up nothing for the retries.
        let failure = match admit_blocking(&breaker, &limit, &bulkhead) {
            Ok(held) => {
                let out = body();
                release(&breaker, held, &out);
                match out.into_result() {
                    Ok(value) => {
                        attempts.succeeded();
                        let out = fallback.recover(Out::from_result(Ok(value)));
                        perf.finish(call, &out);
                        return out;
                    }
                    Err(error) => retry.classify(error),
                }
            }
            Err(rejected) => match retry.rejected(rejected) {
                Ok(value) => {
                    let out = fallback.recover(Out::from_result(Ok(value)));
                    perf.finish(call, &out);
                    return out;
                }
                Err(failure) => failure,
            },
        };
        let layers = (&breaker, &limit, &bulkhead);
        let out = Self::retry_blocking(attempts, &retry, layers, &mut body, failure);
        let out = fallback.recover(out);
        perf.finish(call, &out);
        out
    }

    #[cold]
    #[inline(never)]
    fn retry_blocking(
        mut attempts: RetryLoop<'_>,
        retry: &Retry<'_, X, E>,
        (breaker, limit, bulkhead): (&B, &L, &H),
        body: &mut Body,
        mut failure: Attempt<E>,
    ) -> Out
    where
        Body: FnMut() -> Out,
        Out: Fallible<Err = E>,
        B: Guard<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
    {
        loop {
            match attempts.failed(failure) {
                Next::Retry(delay) => attempts.sleep(delay),
                Next::Stop(error) => return Out::from_result(Err(error)),
            }
            failure = match admit_blocking(breaker, limit, bulkhead) {
                Ok(held) => {
                    let out = body();
                    release(breaker, held, &out);
                    match out.into_result() {
                        Ok(value) => {
                            attempts.succeeded();
                            return Out::from_result(Ok(value));
                        }
                        Err(error) => retry.classify(error),
                    }
                }
                Err(rejected) => match retry.rejected(rejected) {
                    Ok(value) => return Out::from_result(Ok(value)),
                    Err(failure) => failure,
                },
            };
        }
    }
}

impl<Out, Body, P, X, B, F, T, L, H, A, E>
    Pipeline<Out, Body, P, Retry<'_, X, E>, B, F, T, L, H, A>
{
    /// Runs an async operation until it succeeds or the policy gives up; back-off sleeps on
    /// the policy's sleeper (tokio's timer by default). The loop is [`drive_async!`](crate::__drive_async),
    /// which generated code expands in place.
    pub async fn run_async<Fut>(self) -> Out
    where
        Body: AsyncFnMut() -> Out,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: Tracker<Out>,
        B: Guard<Out>,
        F: RecoverAsync<Out, Fut>,
        Fut: Future<Output = Out>,
        T: TimeoutSlot<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
        A: TimeoutSlot<Out>,
    {
        crate::__drive_async!(self)
    }
}

impl<Out, Body, P, R, B, F, T, L, H, A> Pipeline<Out, Body, P, R, B, F, T, L, H, A> {
    /// The operation and the layers, for [`drive_async!`](crate::__drive_async).
    #[inline(always)]
    pub fn split(self) -> (Body, Driver<Out, P, R, B, F, T, L, H, A>) {
        let driver = Driver {
            perf: self.perf,
            retry: self.retry,
            breaker: self.breaker,
            fallback: self.fallback,
            total: self.total,
            limit: self.limit,
            bulkhead: self.bulkhead,
            attempt: self.attempt,
            out: PhantomData,
        };
        (self.body, driver)
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

/// The layers of an async retried call, driven step by step by [`drive_async!`](crate::__drive_async).
pub struct Driver<Out, P, R, B, F = Off, T = Off, L = Off, H = Off, A = Off> {
    perf: P,
    retry: R,
    breaker: B,
    fallback: F,
    total: T,
    limit: L,
    bulkhead: H,
    attempt: A,
    out: PhantomData<fn() -> Out>,
}

impl<Out, P: fmt::Debug, R: fmt::Debug, B: fmt::Debug, F, T, L, H, A> fmt::Debug
    for Driver<Out, P, R, B, F, T, L, H, A>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("perf", &self.perf)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
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
                Ok(value) => Admit::Done(Out::from_result(Ok(value))),
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
        release(&self.breaker, held, &out);
        match out.into_result() {
            Ok(value) => {
                attempts.succeeded();
                Ok(Out::from_result(Ok(value)))
            }
            Err(error) => match attempts.failed(self.retry.classify(error)) {
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

/// The timing slot: an operation site and the outcome test.
#[derive(Debug)]
pub struct Track<'a, S, F> {
    site: &'a S,
    failed: F,
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
    retrier: T,
    /// Called only after a failure.
    when: &'w (dyn Fn(&E) -> bool + Sync),
    describe: fn(&E) -> String,
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
    fn classify(&self, error: E) -> Attempt<E> {
        let attempt = if (self.when)(&error) {
            Attempt::retryable(error)
        } else {
            Attempt::permanent(error)
        };
        attempt.describe_with(self.describe)
    }

    /// A rejection inside the loop (breaker, rate limiter, bulkhead): permanent, never retried.
    #[cold]
    fn rejected<Out: Fallible<Err = E>>(&self, rejected: Out) -> Result<Out::Ok, Attempt<E>> {
        rejected
            .into_result()
            .map_err(|error| Attempt::permanent(error).describe_with(self.describe))
    }
}

/// Where a retry slot's loop comes from: a macro call site, or a policy with an operation name.
pub trait Retrier {
    /// Starts one call.
    fn start(&self) -> RetryLoop<'_>;
}

/// A marker of the error type `E`, handed to [`Pipeline::retry`]'s `describe` so that it can
/// pick a message function by the type's traits.
pub struct Describe<E>(PhantomData<fn(&E)>);

/// The return type of a retried or guarded operation: a `Result`.
#[diagnostic::on_unimplemented(
    message = "coord's `#[retry]` and `#[circuit_breaker]` need a function returning `Result<T, E>`, found `{Self}`",
    label = "not a `Result`"
)]
pub trait Fallible {
    /// `T`.
    type Ok;
    /// `E`.
    type Err;
    /// Identity on `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// Identity on `Result`.
    fn from_result(result: Result<Self::Ok, Self::Err>) -> Self;
}

impl<T, E> Fallible for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
    #[inline(always)]
    fn from_result(result: Self) -> Self {
        result
    }
}

/// Turns a rejection into the function's error type; the bound carries the message users see
/// when their error type cannot hold a rejection.
#[diagnostic::on_unimplemented(
    message = "#[circuit_breaker] functions must return `Result<T, E>` where `E: From<coord::CircuitOpen>`; `{Self}` does not implement `From<coord::CircuitOpen>`",
    label = "`{Self}` cannot hold the `coord::CircuitOpen` a rejected call returns",
    note = "add `impl From<coord::CircuitOpen> for {Self}` (for example a `CircuitOpen` variant of your error enum)"
)]
pub trait FromCircuitOpen {
    /// `Self::from(open)`.
    fn from_circuit_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromCircuitOpen for E {
    #[inline]
    fn from_circuit_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

/// What a guarded operation returns: a `Result`. Whether its error can hold a rejection is a
/// separate bound ([`FromCircuitOpen`]), so that each mistake gets its own message.
#[diagnostic::on_unimplemented(
    message = "#[circuit_breaker] functions must return `Result<T, E>` where `E: From<coord::CircuitOpen>`, not `{Self}`",
    label = "not a `Result`"
)]
pub trait BreakerReturn: Sized {
    /// The error type.
    type Error;
    /// `Err(error)`.
    fn from_error(error: Self::Error) -> Self;
    /// Records this return value on the permit (the classifier decides about `Err`).
    fn record(&self, permit: Permit<'_>);
}

impl<T, E: 'static> BreakerReturn for Result<T, E> {
    type Error = E;
    #[inline]
    fn from_error(error: E) -> Self {
        Err(error)
    }
    #[inline]
    fn record(&self, permit: Permit<'_>) {
        permit.record(self);
    }
}

/// What a function under `#[timeout]`, `#[bulkhead]`, `#[rate_limit]` or `#[fallback]`
/// returns: a `Result`.
#[diagnostic::on_unimplemented(
    message = "coord's `#[timeout]`, `#[bulkhead]`, `#[rate_limit]` and `#[fallback]` need a function returning `Result<T, E>`, found `{Self}`",
    label = "not a `Result`"
)]
pub trait LayerReturn: Sized {
    /// `T`.
    type Ok;
    /// `E`.
    type Err;
    /// Identity on `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// `Err(error)`.
    fn from_error(error: Self::Err) -> Self;
    /// `Ok(value)`.
    fn from_ok(value: Self::Ok) -> Self;
}

impl<T, E> LayerReturn for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
    #[inline(always)]
    fn from_error(error: E) -> Self {
        Err(error)
    }
    #[inline(always)]
    fn from_ok(value: T) -> Self {
        Ok(value)
    }
}

/// Turns a time-out into the function's error type.
#[diagnostic::on_unimplemented(
    message = "#[timeout] functions must return `Result<T, E>` where `E: From<coord::TimedOut>`; `{Self}` does not implement `From<coord::TimedOut>`",
    label = "`{Self}` cannot hold the `coord::TimedOut` a timed-out call returns",
    note = "add `impl From<coord::TimedOut> for {Self}` (for example a `TimedOut` variant of your error enum)"
)]
pub trait FromTimedOut {
    /// `Self::from(timed_out)`.
    fn from_timed_out(timed_out: TimedOut) -> Self;
}

impl<E: From<TimedOut>> FromTimedOut for E {
    #[inline]
    fn from_timed_out(timed_out: TimedOut) -> Self {
        E::from(timed_out)
    }
}

/// Turns a bulkhead's rejection into the function's error type.
#[diagnostic::on_unimplemented(
    message = "#[bulkhead] functions must return `Result<T, E>` where `E: From<coord::BulkheadFull>`; `{Self}` does not implement `From<coord::BulkheadFull>`",
    label = "`{Self}` cannot hold the `coord::BulkheadFull` a rejected call returns",
    note = "add `impl From<coord::BulkheadFull> for {Self}` (for example a `Busy` variant of your error enum)"
)]
pub trait FromBulkheadFull {
    /// `Self::from(full)`.
    fn from_bulkhead_full(full: BulkheadFull) -> Self;
}

impl<E: From<BulkheadFull>> FromBulkheadFull for E {
    #[inline]
    fn from_bulkhead_full(full: BulkheadFull) -> Self {
        E::from(full)
    }
}

/// Turns a rate limiter's rejection into the function's error type.
#[diagnostic::on_unimplemented(
    message = "#[rate_limit] functions must return `Result<T, E>` where `E: From<coord::RateLimited>`; `{Self}` does not implement `From<coord::RateLimited>`",
    label = "`{Self}` cannot hold the `coord::RateLimited` a rejected call returns",
    note = "add `impl From<coord::RateLimited> for {Self}` (for example a `Throttled` variant of your error enum)"
)]
pub trait FromRateLimited {
    /// `Self::from(limited)`.
    fn from_rate_limited(limited: RateLimited) -> Self;
}

impl<E: From<RateLimited>> FromRateLimited for E {
    #[inline]
    fn from_rate_limited(limited: RateLimited) -> Self {
        E::from(limited)
    }
}

/// A rate-limit slot: [`Off`] or a `&RateLimiter`.
pub trait RateSlot<Out> {
    /// The limiter and how its rejection becomes the operation's return value.
    fn limiter(&self) -> Option<(&RateLimiter, fn(RateLimited) -> Out)>;
}

impl<Out> RateSlot<Out> for Off {
    #[inline(always)]
    fn limiter(&self) -> Option<(&RateLimiter, fn(RateLimited) -> Out)> {
        None
    }
}

impl<Out> RateSlot<Out> for &RateLimiter
where
    Out: LayerReturn,
    Out::Err: FromRateLimited,
{
    #[inline(always)]
    fn limiter(&self) -> Option<(&RateLimiter, fn(RateLimited) -> Out)> {
        Some((self, |limited| {
            Out::from_error(Out::Err::from_rate_limited(limited))
        }))
    }
}

/// A bulkhead slot: [`Off`] or a `&Bulkhead`.
pub trait BulkheadSlot<Out> {
    /// The bulkhead and how its rejection becomes the operation's return value.
    fn bulkhead(&self) -> Option<(&Bulkhead, fn(BulkheadFull) -> Out)>;
}

impl<Out> BulkheadSlot<Out> for Off {
    #[inline(always)]
    fn bulkhead(&self) -> Option<(&Bulkhead, fn(BulkheadFull) -> Out)> {
        None
    }
}

impl<Out> BulkheadSlot<Out> for &Bulkhead
where
    Out: LayerReturn,
    Out::Err: FromBulkheadFull,
{
    #[inline(always)]
    fn bulkhead(&self) -> Option<(&Bulkhead, fn(BulkheadFull) -> Out)> {
        Some((self, |full| {
            Out::from_error(Out::Err::from_bulkhead_full(full))
        }))
    }
}

/// A time limit (per attempt or for the whole call) and the counter its time-outs go to.
#[derive(Clone, Copy, Debug)]
pub struct TimeLimit<'a> {
    limit: Duration,
    count: Option<&'a TimeoutCounter>,
}

/// How a time-out becomes the operation's return value; counts it on the way.
pub struct Expiry<'a, Out> {
    count: Option<&'a TimeoutCounter>,
    convert: fn(TimedOut) -> Out,
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

/// A time-limit slot: [`Off`] or a [`TimeLimit`].
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

impl<Out> TimeoutSlot<Out> for TimeLimit<'_>
where
    Out: LayerReturn,
    Out::Err: FromTimedOut,
{
    #[inline(always)]
    fn limit(&self) -> Option<(Duration, Expiry<'_, Out>)> {
        let convert = |timed_out| Out::from_error(Out::Err::from_timed_out(timed_out));
        Some((
            self.limit,
            Expiry {
                count: self.count,
                convert,
            },
        ))
    }
}

/// The time-outs of one operation, counted by the pipeline (shown in the report).
#[derive(Debug)]
pub struct TimeoutCounter {
    name: Arc<str>,
    count: AtomicU64,
}

static TIMEOUTS: std::sync::LazyLock<Capped<TimeoutCounter>> =
    std::sync::LazyLock::new(|| Capped::new("timeout counter", 1_000));

/// The time-out counter of operation `name` (capped like the other registries).
pub(crate) fn timeout_count(name: &str) -> Arc<TimeoutCounter> {
    let make = |name: Arc<str>| TimeoutCounter {
        name,
        count: AtomicU64::new(0),
    };
    match TIMEOUTS.get_or_make(name, make) {
        Lookup::Found(c) | Lookup::Created(c) | Lookup::Overflow(c) => c,
    }
}

/// Every operation's time-out count, sorted by name.
pub(crate) fn timeout_counts() -> Vec<(String, u64)> {
    let mut counts: Vec<_> = TIMEOUTS
        .all()
        .iter()
        .map(|c| (c.name.to_string(), c.count.load(Relaxed)))
        .collect();
    counts.sort();
    counts
}

/// Zeroes every time-out count, for [`crate::reset`].
pub(crate) fn reset_timeouts() {
    TIMEOUTS
        .all()
        .iter()
        .for_each(|c| c.count.store(0, Relaxed));
    TIMEOUTS.reset_dropped();
}

/// A fallback slot: a recovery function `G`.
#[derive(Clone, Copy)]
pub struct Fallback<G>(G);

impl<G> fmt::Debug for Fallback<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fallback")
    }
}

/// A synchronous fallback: `fn(E) -> Result<T, E>`.
#[diagnostic::on_unimplemented(
    message = "#[fallback] needs a function `fn(E) -> Result<T, E>` taking the error by value and returning the function's own `Result` type (here `{Out}`)",
    label = "not a `fn(E) -> {Out}`",
    note = "on an `async fn`, the fallback may also be an `async fn(E) -> {Out}`"
)]
pub trait FallbackFn<E, Out> {
    /// Calls the fallback.
    fn call(&self, error: E) -> Out;
}

impl<E, Out, G: Fn(E) -> Out> FallbackFn<E, Out> for G {
    #[inline]
    fn call(&self, error: E) -> Out {
        self(error)
    }
}

/// A fallback slot of a synchronous call: [`Off`] or a [`Fallback`].
pub trait Recover<Out> {
    /// The call's outcome, recovered by the fallback when it is an error.
    fn recover(&self, out: Out) -> Out;
}

impl<Out> Recover<Out> for Off {
    #[inline(always)]
    fn recover(&self, out: Out) -> Out {
        out
    }
}

impl<Out: LayerReturn, G: FallbackFn<Out::Err, Out>> Recover<Out> for Fallback<G> {
    #[inline]
    fn recover(&self, out: Out) -> Out {
        match out.into_result() {
            Ok(value) => ok_of::<Out>(value),
            Err(error) => self.0.call(error),
        }
    }
}

/// A fallback slot of an async call: [`Off`], a [`Fallback`] or a [`FallbackAsync`]. `Fut`,
/// the fallback's future, is a parameter rather than an associated type: a projection held
/// across an await would make rustc prove the impl for every lifetime when it checks the
/// future for `Send`, which fails for errors such as `Box<dyn Error>`.
pub trait RecoverAsync<Out, Fut> {
    /// The call's outcome, or the fallback's future when it is an error.
    fn recover(&self, out: Out) -> Result<Out, Fut>;
}

/// The future of an absent fallback: never made.
pub enum NoRecovery<Out> {
    #[doc(hidden)]
    Never(std::convert::Infallible, PhantomData<fn() -> Out>),
}

impl<Out> Future for NoRecovery<Out> {
    type Output = Out;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Out> {
        match *self {
            NoRecovery::Never(never, _) => match never {},
        }
    }
}

impl<Out> RecoverAsync<Out, NoRecovery<Out>> for Off {
    #[inline(always)]
    fn recover(&self, out: Out) -> Result<Out, NoRecovery<Out>> {
        Ok(out)
    }
}

// A synchronous fallback recovers at once: no error is held across an await.
impl<Out: LayerReturn, G: FallbackFn<Out::Err, Out>> RecoverAsync<Out, NoRecovery<Out>>
    for Fallback<G>
{
    #[inline]
    fn recover(&self, out: Out) -> Result<Out, NoRecovery<Out>> {
        Ok(Recover::recover(self, out))
    }
}

/// An async fallback slot: a recovery function `G` returning a future.
#[derive(Clone, Copy)]
pub struct FallbackAsync<G>(pub G);

impl<G> fmt::Debug for FallbackAsync<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FallbackAsync")
    }
}

impl<Out, G, Fut> RecoverAsync<Out, Fut> for FallbackAsync<G>
where
    Out: LayerReturn,
    G: Fn(Out::Err) -> Fut,
    Fut: Future<Output = Out>,
{
    #[inline]
    fn recover(&self, out: Out) -> Result<Out, Fut> {
        match out.into_result() {
            Ok(value) => Ok(ok_of::<Out>(value)),
            Err(error) => Err((self.0)(error)),
        }
    }
}

/// Picks the fallback slot of an async function by what its fallback returns (generated
/// code: `Pick(path).pick()` with [`PickSync`] and [`PickAsync`] in scope).
pub struct Pick<G>(pub G);

/// Chosen when the fallback returns a `Result`.
pub trait PickSync<Arg> {
    /// The slot.
    fn pick(self) -> Fallback<Self::Fn>;
    /// The fallback's type.
    type Fn;
}

impl<G, Arg, T, E> PickSync<Arg> for Pick<G>
where
    G: Fn(Arg) -> Result<T, E>,
{
    type Fn = G;
    #[inline(always)]
    fn pick(self) -> Fallback<G> {
        Fallback(self.0)
    }
}

/// Chosen when the fallback returns a future (an `async fn`).
pub trait PickAsync<Arg> {
    /// The fallback's type.
    type Fn;
    /// The slot.
    fn pick(self) -> FallbackAsync<Self::Fn>;
}

impl<G, Arg, Fut> PickAsync<Arg> for Pick<G>
where
    G: Fn(Arg) -> Fut,
    Fut: Future,
{
    type Fn = G;
    #[inline(always)]
    fn pick(self) -> FallbackAsync<G> {
        FallbackAsync(self.0)
    }
}

/// `Ok(value)` as `Out` (a `Result`).
#[inline(always)]
fn ok_of<Out: LayerReturn>(value: Out::Ok) -> Out {
    Out::from_ok(value)
}
