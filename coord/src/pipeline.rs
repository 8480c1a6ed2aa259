//! The composition of coord's layers, written once: `track_performance` (outermost) → `retry` →
//! `circuit_breaker` → the operation.
//!
//! A [`Pipeline`] holds the operation and one slot per layer; a slot is either [`Off`] or the
//! layer's handle, so an absent layer costs nothing and asks nothing of the operation's type.
//! [`run`](Pipeline::run) drives a synchronous operation, [`run_async`](Pipeline::run_async)
//! an async one (an `AsyncFnMut`, whose attempts may borrow the caller's parameters,
//! `&mut self` included). The generated code of the coord attributes and
//! [`ErrorHandler`](crate::ErrorHandler) both build a pipeline and run it.
//!
//! A circuit breaker sits *inside* the retry loop: every attempt takes its own permit, and a
//! rejection ([`CircuitOpen`](crate::CircuitOpen)) is a permanent error, never retried.
//!
//! Adding a layer is an addition: a slot type parameter, a trait with an `Off` impl, and one
//! step in each driver below.
//!
//! The async driver is an `async fn` generic over the operation, so its future is `Send`
//! exactly when the operation's futures (and the values it returns) are: no error value is
//! held across the back-off sleep.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::breaker::{CircuitBreaker, CircuitOpen, Permit};
use crate::perf::TimedCall;
use crate::retry::{Attempt, Next, RetryLoop};

/// An absent layer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Off;

/// The operation with its layers, outermost first. `Out` is what the operation returns.
#[must_use = "a pipeline does nothing until it is run"]
pub struct Pipeline<Out, Body, P = Off, R = Off, B = Off> {
    body: Body,
    perf: P,
    retry: R,
    breaker: B,
    out: PhantomData<fn() -> Out>,
}

impl<Out, Body, P: fmt::Debug, R: fmt::Debug, B: fmt::Debug> fmt::Debug
    for Pipeline<Out, Body, P, R, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("perf", &self.perf)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
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

impl<Out, Body, R, B> Pipeline<Out, Body, Off, R, B> {
    /// Times every call on `site`; `failed` tells a failed outcome from a successful one.
    #[inline(always)]
    pub fn track<S, F>(self, site: &S, failed: F) -> Pipeline<Out, Body, Track<'_, S, F>, R, B>
    where
        S: TimedSite,
        F: Fn(&Out) -> bool,
    {
        Pipeline {
            out: PhantomData,
            body: self.body,
            perf: Track { site, failed },
            retry: self.retry,
            breaker: self.breaker,
        }
    }
}

impl<Out, Body, P, B> Pipeline<Out, Body, P, Off, B> {
    /// Retries failed attempts as `retrier` allows. `when(&error)` returning `false` makes an
    /// error permanent; `describe` picks the function that gives the message failures are
    /// recorded with (it receives a [`Describe`] marker of the error type).
    #[inline(always)]
    pub fn retry<'w, T: Retrier, D, E>(
        self,
        retrier: T,
        when: &'w (dyn Fn(&E) -> bool + Sync),
        describe: D,
    ) -> Pipeline<Out, Body, P, Retry<'w, T, E>, B>
    where
        Out: Fallible<Err = E>,
        D: FnOnce(Describe<E>) -> fn(&E) -> String,
    {
        let describe = describe(Describe(PhantomData));
        Pipeline {
            out: PhantomData,
            body: self.body,
            perf: self.perf,
            retry: Retry {
                retrier,
                when,
                describe,
            },
            breaker: self.breaker,
        }
    }
}

impl<Out, Body, P, R> Pipeline<Out, Body, P, R, Off> {
    /// Guards every attempt with `breaker`.
    #[inline(always)]
    pub fn breaker(self, breaker: &CircuitBreaker) -> Pipeline<Out, Body, P, R, &CircuitBreaker>
    where
        Out: BreakerReturn,
        Out::Error: FromCircuitOpen,
    {
        Pipeline {
            out: PhantomData,
            body: self.body,
            perf: self.perf,
            retry: self.retry,
            breaker,
        }
    }
}

/// Without retry: the operation runs once, so it may be an `FnOnce` (a `&mut self` borrow may
/// escape it) or a future.
impl<Out, Body, P, B> Pipeline<Out, Body, P, Off, B> {
    /// Runs a synchronous operation once.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnOnce() -> Out,
        P: Tracker<Out>,
        B: Guard<Out>,
    {
        // The timed region holds the body and nothing else of ours.
        match self.breaker.admit() {
            Ok(permit) => {
                let call = self.perf.start();
                let out = (self.body)();
                self.perf.finish(call, &out);
                self.breaker.record(permit, &out);
                out
            }
            Err(rejected) => {
                let call = self.perf.start();
                self.perf.finish(call, &rejected);
                rejected
            }
        }
    }

    /// Awaits the operation (a future) once.
    #[inline(always)]
    pub async fn run_future(self) -> Out
    where
        Body: Future<Output = Out>,
        P: Tracker<Out>,
        B: Guard<Out>,
    {
        // Bound before the await: a `Result<Permit, Out>` held across it would make the
        // future `!Send` whenever `Out` is (a `Box<dyn Error>` error, say).
        let permit = match self.breaker.admit() {
            Ok(permit) => permit,
            Err(rejected) => {
                let call = self.perf.start();
                self.perf.finish(call, &rejected);
                return rejected;
            }
        };
        // As in `run`: the timed region holds the body.
        let call = self.perf.start();
        let out = self.body.await;
        self.perf.finish(call, &out);
        self.breaker.record(permit, &out);
        out
    }
}

impl<Out, Body, P, T, B, E> Pipeline<Out, Body, P, Retry<'_, T, E>, B> {
    /// Runs a synchronous operation until it succeeds or the policy gives up.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnMut() -> Out,
        T: Retrier,
        Out: Fallible<Err = E>,
        P: Tracker<Out>,
        B: Guard<Out>,
    {
        let Self {
            mut body,
            perf,
            retry,
            breaker,
            ..
        } = self;
        let call = perf.start();
        let mut attempts = retry.retrier.start();
        // The first attempt inline; everything after a failure in a cold function, so the
        // success path sets up nothing for the retries.
        let failure = match breaker.admit() {
            Ok(permit) => {
                let out = body();
                breaker.record(permit, &out);
                match out.into_result() {
                    Ok(value) => {
                        attempts.succeeded();
                        let out = Out::from_result(Ok(value));
                        perf.finish(call, &out);
                        return out;
                    }
                    Err(error) => retry.classify(error),
                }
            }
            Err(rejected) => match retry.rejected(rejected) {
                Ok(value) => {
                    let out = Out::from_result(Ok(value));
                    perf.finish(call, &out);
                    return out;
                }
                Err(failure) => failure,
            },
        };
        let out = Self::retry_blocking(attempts, &retry, &breaker, &mut body, failure);
        perf.finish(call, &out);
        out
    }

    #[cold]
    #[inline(never)]
    fn retry_blocking(
        mut attempts: RetryLoop<'_>,
        retry: &Retry<'_, T, E>,
        breaker: &B,
        body: &mut Body,
        mut failure: Attempt<E>,
    ) -> Out
    where
        Body: FnMut() -> Out,
        Out: Fallible<Err = E>,
        B: Guard<Out>,
    {
        loop {
            match attempts.failed(failure) {
                Next::Retry(delay) => attempts.sleep(delay),
                Next::Stop(error) => return Out::from_result(Err(error)),
            }
            failure = match breaker.admit() {
                Ok(permit) => {
                    let out = body();
                    breaker.record(permit, &out);
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

    /// Runs an async operation until it succeeds or the policy gives up; back-off sleeps on
    /// the policy's sleeper (tokio's timer by default). The loop is [`drive_async!`](crate::__drive_async),
    /// which generated code expands in place.
    pub async fn run_async(self) -> Out
    where
        Body: AsyncFnMut() -> Out,
        T: Retrier,
        Out: Fallible<Err = E>,
        P: Tracker<Out>,
        B: Guard<Out>,
    {
        crate::__drive_async!(self)
    }
}

impl<Out, Body, P, R, B> Pipeline<Out, Body, P, R, B> {
    /// The operation and the layers, for [`drive_async!`](crate::__drive_async).
    #[inline(always)]
    pub fn split(self) -> (Body, Driver<Out, P, R, B>) {
        let driver = Driver {
            perf: self.perf,
            retry: self.retry,
            breaker: self.breaker,
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
/// value holding an `Out` or an error lives across an await.
#[doc(hidden)]
#[macro_export]
macro_rules! __drive_async {
    ($pipeline:expr) => {{
        let (mut body, driver) = $pipeline.split();
        let call = driver.start();
        let mut attempts = driver.attempts();
        let out = loop {
            let delay = {
                let permit = match driver.admit(&mut attempts) {
                    $crate::__private::Admit::Go(permit) => permit,
                    $crate::__private::Admit::Done(out) => break out,
                    $crate::__private::Admit::Again => continue,
                };
                let out = body().await;
                match driver.settle(&mut attempts, permit, out) {
                    ::core::result::Result::Ok(out) => break out,
                    ::core::result::Result::Err(delay) => delay,
                }
            };
            attempts.sleep_async(delay).await;
        };
        driver.finish(call, out)
    }};
}

/// The layers of an async retried call, driven step by step by [`drive_async!`](crate::__drive_async).
pub struct Driver<Out, P, R, B> {
    perf: P,
    retry: R,
    breaker: B,
    out: PhantomData<fn() -> Out>,
}

impl<Out, P: fmt::Debug, R: fmt::Debug, B: fmt::Debug> fmt::Debug for Driver<Out, P, R, B> {
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
    /// Run it, holding this permit.
    Go(Option<Permit<'a>>),
    /// The call is over (a breaker's rejection), with this outcome.
    Done(Out),
    /// Try to admit again (a rejection the policy wants retried: cannot happen today, since a
    /// rejection is permanent).
    Again,
}

impl<Out, P, T, B, E> Driver<Out, P, Retry<'_, T, E>, B>
where
    Out: Fallible<Err = E>,
    P: Tracker<Out>,
    T: Retrier,
    B: Guard<Out>,
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

    /// Asks the breaker for a permit; a rejection ends the call.
    #[inline(always)]
    pub fn admit(&self, attempts: &mut RetryLoop<'_>) -> Admit<'_, Out> {
        match self.breaker.admit() {
            Ok(permit) => Admit::Go(permit),
            Err(rejected) => match self.retry.rejected(rejected) {
                Ok(value) => Admit::Done(Out::from_result(Ok(value))),
                Err(failure) => match attempts.failed(failure) {
                    Next::Stop(error) => Admit::Done(Out::from_result(Err(error))),
                    Next::Retry(_) => Admit::Again,
                },
            },
        }
    }

    /// Records an attempt's outcome: the call's outcome, or how long to wait before the next
    /// attempt.
    #[inline(always)]
    pub fn settle(
        &self,
        attempts: &mut RetryLoop<'_>,
        permit: Option<Permit<'_>>,
        out: Out,
    ) -> Result<Out, Duration> {
        self.breaker.record(permit, &out);
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

    /// A breaker's rejection inside the loop: permanent, never retried.
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
