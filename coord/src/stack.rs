//! The composition of coord's layers, written once: a function's layers as a [`Stack`], one
//! place per role in the documented order, outermost first: timing (`P`) → recovery (`F`) →
//! the total time limit (`T`) → retries (`R`) → the gates (`G`, in the order the steps give
//! them) → the per-attempt time limit (`A`) → the operation (the order of the attributes and
//! its reasons are in the crate docs and `ARCHITECTURE.md`).
//!
//! A stack names no mechanism. Each layer is a type in its mechanism's folder implementing the
//! trait of its role (`layer.rs`: [`Timer`], [`Recover`]/[`RecoverAsync`], [`Limit`],
//! [`Gate`](crate::layer::Gate)); an absent layer is [`Off`], which has no state and no code,
//! so a function pays only for the layers it has, in time and in future size. Gates nest
//! ([`Gates`]): every attempt is admitted by each in turn, a rejection is a permanent error
//! (never retried), and a rejection by a gate further in releases the outer permits
//! uncounted. The per-attempt time limit is innermost: its time-out is a failure for the
//! breaker, retryable by default. The fallback sees only the call's final outcome.
//!
//! A step's bounds say what the layer needs of the operation's return type, so that a mistake
//! is reported at the attribute that needs it. [`run`](Stack::run) drives a synchronous
//! operation (no time limits: a thread cannot be interrupted), [`run_future`](Stack::run_future)
//! an async one without retries; an async retried operation (an `AsyncFnMut`, whose attempts may
//! borrow the caller's parameters, `&mut self` included) is driven by
//! [`drive_async!`](crate::__drive_async), expanded in place (see there why), or
//! [`run_async`](Stack::run_async). The generated code of the coord attributes and
//! [`ErrorHandler`](crate::ErrorHandler) both build a stack and run it.
//!
//! Adding a layer: a type in its mechanism's folder implementing its role's trait; a new role
//! is a place here and a step in each run.
//!
//! Layout: this file holds the [`Stack`], its steps and the runs without retries; `sync` the
//! synchronous retry loop, `drive` the async one.

mod drive;
mod hedged;
mod sync;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::{Pin, pin};

pub use drive::{rejected, settle};

use crate::layer::{Fallible, GateFor, Gates, LimitFor, Of, Off, Recover, RecoverAsync, TimerFor};
use crate::retry::layer::{Describe, Retrier, Retry};

/// An operation and its layers, one place per role: `P` times the call, `F` recovers from its
/// final error, `T` limits its total time, `R` retries it, `G` admits every attempt, `A` limits
/// every attempt's time. `Out` is what the operation returns.
#[must_use = "a stack does nothing until it is run"]
pub struct Stack<Out, Body, P = Off, F = Off, T = Off, R = Off, G = Off, A = Off> {
    body: Body,
    layers: Layers<P, F, T, R, G, A>,
    out: PhantomData<fn() -> Out>,
}

/// A stack's layers by place, without the operation (what the runs take apart).
#[derive(Debug)]
pub struct Layers<P, F, T, R, G, A> {
    /// Times the call.
    pub timer: P,
    /// Recovers from the call's final error.
    pub recover: F,
    /// Limits the whole call's time.
    pub total: T,
    /// Retries failed attempts.
    pub retry: R,
    /// Admits every attempt.
    pub gates: G,
    /// Limits every attempt's time.
    pub attempt: A,
}

impl<Out, Body, P, F, T, R, G, A> fmt::Debug for Stack<Out, Body, P, F, T, R, G, A>
where
    Layers<P, F, T, R, G, A>: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

impl<Out, Body> Stack<Out, Body> {
    #[inline(always)]
    fn new(body: Body) -> Self {
        Self::from_places(body, (Off, Off, Off, Off, Off, Off))
    }

    /// A stack around a synchronous operation that runs once (no retry layer).
    #[inline(always)]
    pub fn once(body: Body) -> Self
    where
        Body: FnOnce() -> Out,
    {
        Self::new(body)
    }

    /// A stack around a synchronous operation that may run once per attempt.
    #[inline(always)]
    pub fn attempts(body: Body) -> Self
    where
        Body: FnMut() -> Out,
    {
        Self::new(body)
    }

    /// A stack around a future (pinned where it was made, so that the layers hold a pointer
    /// to it), awaited once (no retry layer).
    #[inline(always)]
    pub fn future(body: Body) -> Self
    where
        Body: Future<Output = Out>,
    {
        Self::new(body)
    }

    /// A stack around an async operation that may run once per attempt.
    #[inline(always)]
    pub fn async_attempts(body: Body) -> Self
    where
        Body: AsyncFnMut() -> Out,
    {
        Self::new(body)
    }
}

impl<Out, Body, P, F, T, R, G, A> Stack<Out, Body, P, F, T, R, G, A> {
    /// The inverse of [`split`](Self::split).
    #[inline(always)]
    fn from_places(
        body: Body,
        (timer, recover, total, retry, gates, attempt): (P, F, T, R, G, A),
    ) -> Self {
        let layers = Layers {
            timer,
            recover,
            total,
            retry,
            gates,
            attempt,
        };
        Self {
            body,
            layers,
            out: PhantomData,
        }
    }

    /// Times the whole call with the timer `make` builds (it receives a marker of `Out`).
    #[inline(always)]
    pub fn time<L, M>(self, make: M) -> Stack<Out, Body, L, F, T, R, G, A>
    where
        L: TimerFor<Out>,
        M: FnOnce(Of<Out>) -> L,
    {
        let timer = make(Of::marker());
        let (body, (_, recover, total, retry, gates, attempt)) = self.split();
        Stack::from_places(body, (timer, recover, total, retry, gates, attempt))
    }

    /// Hands the final error of a synchronous call, after every other layer gave up, to
    /// `recover`.
    #[inline(always)]
    pub fn recover<L: Recover<Out>>(self, recover_: L) -> Stack<Out, Body, P, L, T, R, G, A> {
        self.with_recover(recover_)
    }

    /// [`recover`](Self::recover) for an async call: `recover` may return a future.
    #[inline(always)]
    pub fn recover_async<L, Fut>(self, recover_: L) -> Stack<Out, Body, P, L, T, R, G, A>
    where
        L: RecoverAsync<Out, Fut>,
    {
        self.with_recover(recover_)
    }

    /// The recovery place replaced; the public steps say what a recovery must do.
    #[inline(always)]
    fn with_recover<L>(self, recover: L) -> Stack<Out, Body, P, L, T, R, G, A> {
        let (body, (timer, _, total, retry, gates, attempt)) = self.split();
        Stack::from_places(body, (timer, recover, total, retry, gates, attempt))
    }

    /// Ends the whole call (retries and back-off sleeps included) when `limit` expires.
    #[inline(always)]
    pub fn total<L: LimitFor<Out>>(self, limit: L) -> Stack<Out, Body, P, F, L, R, G, A> {
        let (body, (timer, recover, _, retry, gates, attempt)) = self.split();
        Stack::from_places(body, (timer, recover, limit, retry, gates, attempt))
    }

    /// Admits every attempt through `gate`, inside the gates given before.
    #[inline(always)]
    pub fn gate<L: GateFor<Out>>(self, gate: L) -> Stack<Out, Body, P, F, T, R, Gates<G, L>, A> {
        let (body, (timer, recover, total, retry, gates, attempt)) = self.split();
        let gates = Gates(gates, gate);
        Stack::from_places(body, (timer, recover, total, retry, gates, attempt))
    }

    /// Ends every attempt when `limit` expires (a failure for the breaker, retryable by
    /// default).
    #[inline(always)]
    pub fn attempt<L: LimitFor<Out>>(self, limit: L) -> Stack<Out, Body, P, F, T, R, G, L> {
        let (body, (timer, recover, total, retry, gates, _)) = self.split();
        Stack::from_places(body, (timer, recover, total, retry, gates, limit))
    }

    /// Retries failed attempts as `retrier` allows. `when(&error)` returning `false` makes an
    /// error permanent; `describe` picks the function that gives the message failures are
    /// recorded with (it receives a [`Describe`] marker of the error type).
    #[inline(always)]
    pub fn retry<'w, X: Retrier, D, E>(
        self,
        retrier: X,
        when: &'w (dyn Fn(&E) -> bool + Sync),
        describe: D,
    ) -> Stack<Out, Body, P, F, T, Retry<'w, X, E>, G, A>
    where
        Out: Fallible<Err = E>,
        D: FnOnce(Describe<E>) -> fn(&E) -> String,
    {
        let retry = Retry::new(retrier, when, describe(Describe::marker()));
        let (body, (timer, recover, total, _, gates, attempt)) = self.split();
        Stack::from_places(body, (timer, recover, total, retry, gates, attempt))
    }

    /// The operation and its layers in place order (timer, recover, total, retry, gates,
    /// attempt): what the runs and [`drive_async!`](crate::__drive_async) take apart, and what
    /// a step rebuilds with one place replaced (its type changes, which struct update syntax
    /// cannot do).
    #[inline(always)]
    pub fn split(self) -> (Body, (P, F, T, R, G, A)) {
        let l = self.layers;
        (
            self.body,
            (l.timer, l.recover, l.total, l.retry, l.gates, l.attempt),
        )
    }
}

/// Without retry: the operation runs once, so it may be an `FnOnce` (a `&mut self` borrow may
/// escape it). A synchronous operation has no time limits.
impl<Out, Body, P, F, G> Stack<Out, Body, P, F, Off, Off, G, Off> {
    /// Runs a synchronous operation once.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnOnce() -> Out,
        P: TimerFor<Out>,
        F: Recover<Out>,
        G: GateFor<Out>,
    {
        let Self { body, layers, .. } = self;
        if let Some(out) = chaos_blocking(&layers.timer, &layers.gates) {
            return out;
        }
        if !layers.timer.records() {
            // Recording off (or no timer): the layers that protect, without the timer's code.
            return layers.recover.recover(once(body, &layers.gates).0);
        }
        timed_once(body, layers)
    }
}

/// Fault injection at the start of a synchronous call (`coord::chaos`), before its timing
/// starts: one relaxed load while nothing is armed; else the injected latency's wait on this
/// thread, then an injected error, else a rejection injected into one of `gates`, as the call's
/// value (counted apart, never timed).
#[inline(always)]
fn chaos_blocking<Out, P: TimerFor<Out>, G: GateFor<Out>>(timer: &P, gates: &G) -> Option<Out> {
    if !crate::chaos::armed() {
        return None;
    }
    if let Some(out) = crate::chaos::inject_blocking(timer) {
        return Some(out);
    }
    let rejection = gates.chaos_reject()?;
    Some(gates.reject(rejection))
}

/// A synchronous operation run once through its gates; whether a gate rejected it.
#[inline(always)]
fn once<Out, G: GateFor<Out>>(body: impl FnOnce() -> Out, gates: &G) -> (Out, bool) {
    match through(gates, body) {
        Ok(out) => (out, false),
        Err(rejection) => (gates.reject(rejection), true),
    }
}

/// One synchronous attempt through `gates`: its outcome (the permits released with it), or the
/// rejection.
#[inline(always)]
fn through<Out, G: GateFor<Out>>(
    gates: &G,
    body: impl FnOnce() -> Out,
) -> Result<Out, G::Rejection> {
    let permit = gates.admit()?;
    let out = body();
    gates.release(permit, &out);
    Ok(out)
}

/// [`Stack::run`] with its timer recording.
#[inline(always)]
fn timed_once<Out, P, F, G>(
    body: impl FnOnce() -> Out,
    layers: Layers<P, F, Off, Off, G, Off>,
) -> Out
where
    P: TimerFor<Out>,
    F: Recover<Out>,
    G: GateFor<Out>,
{
    let started = layers.timer.start_recording();
    let (out, rejected) = once(body, &layers.gates);
    let out = layers.recover.recover(out);
    finish(&layers.timer, started, &out, rejected);
    out
}

impl<Out, Body, P, F, T, G, A> Stack<Out, Pin<&mut Body>, P, F, T, Off, G, A> {
    /// Awaits the operation (a future, pinned where it was made) once, inside its layers.
    // Not an `async fn`: its parameters would be stored twice (captured, then moved into the
    // body's bindings), 40 bytes more for a time limit (`tests/future_size.rs`).
    #[allow(clippy::manual_async_fn)]
    #[inline(always)]
    pub fn run_future<Fut>(mut self) -> impl Future<Output = Out>
    where
        Body: Future<Output = Out>,
        P: TimerFor<Out>,
        F: RecoverAsync<Out, Fut>,
        Fut: Future<Output = Out>,
        T: LimitFor<Out>,
        G: GateFor<Out>,
        A: LimitFor<Out>,
    {
        // The layers are used where the future holds them, never moved out: each move into a
        // local would store them twice.
        async move {
            let layers = &self.layers;
            crate::__chaos_async!(layers.timer, layers.gates, return);
            let started = layers.timer.start();
            // With whether a gate rejected the attempt, for the timer.
            let once = pin!(async {
                let permit = match layers.gates.admit_async().await {
                    Ok(permit) => permit,
                    Err(rejection) => return (layers.gates.reject(rejection), true),
                };
                let out = match layers.attempt.within(self.body.as_mut()).await {
                    Ok(out) => out,
                    Err(expired) => layers.attempt.expired(expired),
                };
                layers.gates.release(permit, &out);
                (out, false)
            });
            let (out, rejected) = match layers.total.within(once).await {
                Ok(finished) => finished,
                Err(expired) => (layers.total.expired(expired), false),
            };
            // The await outside the `match`: its scrutinee (holding an `Out`) would live across
            // it.
            let out = 'recovered: {
                let recovering = match layers.recover.recover(out) {
                    Ok(out) => break 'recovered out,
                    Err(recovering) => recovering,
                };
                recovering.await
            };
            finish(&layers.timer, started, &out, rejected);
            out
        }
    }
}

/// Records the call's outcome on `timer`: a rejection when a gate rejected its last attempt.
#[inline(always)]
pub fn finish<Out, P: TimerFor<Out>>(timer: &P, started: P::Started, out: &Out, rejected: bool) {
    if rejected {
        timer.finish_rejected(started, out);
    } else {
        timer.finish(started, out);
    }
}

impl<Out, Body, P, F, T, X: Retrier, E, G, A> Stack<Out, Body, P, F, T, Retry<'_, X, E>, G, A> {
    /// Errors `is_rejection` recognises (a gate's rejection coming from inside the operation)
    /// end the call as a rejection, not as a failed attempt.
    #[inline(always)]
    pub fn rejections(mut self, is_rejection: fn(&E) -> bool) -> Self {
        let retry = self.layers.retry;
        self.layers.retry = retry.rejections(is_rejection);
        self
    }
}

impl<Out, Body, P, F, T, X, E, G, A> Stack<Out, Body, P, F, T, Retry<'_, X, E>, G, A> {
    /// Runs an async operation until it succeeds or the policy gives up; back-off sleeps on
    /// the policy's sleeper. The loop is [`drive_async!`](crate::__drive_async), which
    /// generated code expands in place.
    pub async fn run_async<Fut>(self) -> Out
    where
        Body: AsyncFnMut() -> Out,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: TimerFor<Out>,
        F: RecoverAsync<Out, Fut>,
        Fut: Future<Output = Out>,
        T: LimitFor<Out>,
        G: GateFor<Out>,
        A: LimitFor<Out>,
    {
        crate::__drive_async!(self)
    }
}
