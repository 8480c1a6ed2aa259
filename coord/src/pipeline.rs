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
//! step in each driver.
//!
//! The async retry loop is the `drive_async!` macro (`pipeline/drive.rs`), expanded in place
//! by generated code and by [`run_async`](Pipeline::run_async), so its future is `Send`
//! exactly when the operation's futures (and the values it returns) are: no error value is
//! held across the back-off sleep, a time limit or a wait for a slot. Slot traits return
//! concrete types (no associated types held across an await; see [`Tracker`]).
//!
//! Layout: this file holds the [`Pipeline`] type and its layers ([`Driver`]), its builder, the
//! entry points `run` (once), `run_future` and `run_async`, and the return types the layers
//! accept ([`Fallible`], [`BreakerReturn`], [`LayerReturn`]): what a user's compile error
//! points at, since the `tests/ui` snapshots name this file (so do the items under "Pinned" at
//! the end). The machinery is in `admit` (an attempt's permits), `sync` (the synchronous retry
//! loop, with its `run`), `drive` (the async retry loop: `drive_async!` and the `Driver`'s
//! steps), `slots` (the slot traits with their `Off` and real impls), `rejections` (the
//! `From…` traits for rejections), `counters` (time-out counts) and `fallback` (recovery and
//! its slot's pick).

// One type parameter per layer is the point of the pipeline: every absent layer is `Off`,
// resolved at compile time. Naming the combinations would hide that.
#![allow(clippy::type_complexity)]

mod admit;
mod counters;
mod drive;
mod fallback;
mod rejections;
mod slots;
mod sync;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::breaker::{CircuitBreaker, Permit};
use crate::bulkhead::Bulkhead;
use crate::rate_limit::RateLimiter;
use crate::timeout::timeout;

pub use admit::Held;
use admit::{admit_blocking, attempt_once, release};
pub use counters::TimeoutCounter;
pub(crate) use counters::{dropped_timeout_names, reset_timeouts, timeout_count, timeout_counts};
pub use drive::Admit;
pub use fallback::{
    Fallback, FallbackAsync, FallbackFn, NoRecovery, PickAsync, PickSync, Recover, RecoverAsync,
};
pub use rejections::{FromBulkheadFull, FromCircuitOpen, FromRateLimited, FromTimedOut};
pub use slots::{
    BulkheadSlot, Describe, Expiry, Guard, RateSlot, Retrier, Retry, TimedSite, TimeoutSlot, Track,
    Tracker,
};

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
    layers: Driver<Out, P, R, B, F, T, L, H, A>,
}

/// The layers of a pipeline, without the operation; an async retried call is driven through
/// them step by step by [`drive_async!`](crate::__drive_async).
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
        let Self { body, layers } = self;
        (
            body,
            layers.perf,
            layers.retry,
            layers.breaker,
            layers.fallback,
            layers.total,
            layers.limit,
            layers.bulkhead,
            layers.attempt,
        )
    }

    #[inline(always)]
    fn from_parts(parts: Parts<Body, P, R, B, F, T, L, H, A>) -> Self {
        let (body, perf, retry, breaker, fallback, total, limit, bulkhead, attempt) = parts;
        let layers = Driver {
            perf,
            retry,
            breaker,
            fallback,
            total,
            limit,
            bulkhead,
            attempt,
            out: PhantomData,
        };
        Self { body, layers }
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
            .field("perf", &self.layers.perf)
            .field("total", &self.layers.total)
            .field("retry", &self.layers.retry)
            .field("breaker", &self.layers.breaker)
            .field("limit", &self.layers.limit)
            .field("bulkhead", &self.layers.bulkhead)
            .field("attempt", &self.layers.attempt)
            .finish_non_exhaustive()
    }
}

impl<Out, Body> Pipeline<Out, Body> {
    #[inline(always)]
    fn new(body: Body) -> Self {
        Self::from_parts((body, Off, Off, Off, Off, Off, Off, Off, Off))
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
        let Self { body, layers } = self;
        let call = layers.perf.start();
        let out = match admit_blocking(&layers.breaker, &layers.limit, &layers.bulkhead) {
            Ok(held) => {
                let out = body();
                release(&layers.breaker, held, &out);
                out
            }
            Err(rejected) => rejected,
        };
        let out = layers.fallback.recover(out);
        layers.perf.finish(call, &out);
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
        let Self { body, layers } = self;
        let call = layers.perf.start();
        let once = attempt_once(
            &layers.breaker,
            &layers.limit,
            &layers.bulkhead,
            &layers.attempt,
            body,
        );
        let out = match layers.total.limit() {
            None => once.await,
            Some((limit, expiry)) => match timeout(limit, once).await {
                Ok(out) => out,
                Err(timed_out) => expiry.expired(timed_out),
            },
        };
        // The await outside the `match`: its scrutinee (holding an `Out`) would live across it.
        let out = 'recovered: {
            let recovering = match layers.fallback.recover(out) {
                Ok(out) => break 'recovered out,
                Err(recovering) => recovering,
            };
            recovering.await
        };
        layers.perf.finish(call, &out);
        out
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
/// returns: a `Result`. A [`Fallible`] with its own message.
#[diagnostic::on_unimplemented(
    message = "coord's `#[timeout]`, `#[bulkhead]`, `#[rate_limit]` and `#[fallback]` need a function returning `Result<T, E>`, found `{Self}`",
    label = "not a `Result`"
)]
pub trait LayerReturn: Fallible + Sized {
    /// `Err(error)`.
    #[inline(always)]
    fn from_error(error: Self::Err) -> Self {
        Self::from_result(Err(error))
    }
}

impl<T, E> LayerReturn for Result<T, E> {}

// Pinned: the `tests/ui` snapshots show the source of the next three items in this file
// (`TimeLimit` goes with its impl).

/// A time limit (per attempt or for the whole call) and the counter its time-outs go to.
#[derive(Clone, Copy, Debug)]
pub struct TimeLimit<'a> {
    limit: Duration,
    count: Option<&'a TimeoutCounter>,
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

/// Picks the fallback slot of an async function by what its fallback returns (generated
/// code: `Pick(path).pick()` with [`PickSync`] and [`PickAsync`] in scope).
pub struct Pick<G>(pub G);
