//! The layer contract: the small traits every resilience layer implements, one per role, and
//! the types that nest gates. It names no mechanism and imports nothing of coord (a leaf), so
//! each mechanism's folder implements it for its own layer type (`breaker/layer.rs`,
//! `timeout/layer.rs`, ...), and the composition (`stack.rs`) drives any stack of them.
//!
//! A layer plays one of four roles, by its place in the stack:
//!
//! - a [`Timer`] times the whole call (`start`, then [`TimerFor::finish`] with the outcome, or
//!   [`TimerFor::finish_rejected`] when a gate's rejection ended it);
//! - a [`Recover`]/[`RecoverAsync`] recovers from the call's final error;
//! - a [`Limit`] bounds the time of the whole call or of each attempt (`within` a future);
//! - a [`Gate`] admits one attempt or rejects it (a circuit breaker, a limiter of rate or of
//!   concurrency): `admit` (waiting on this thread) or `admit_async` gives a permit, released with
//!   the attempt's outcome ([`GateFor::release`]) or without counting it ([`Gate::ignore`],
//!   when a gate further in rejected the attempt). Gates nest as [`Gates<Outer, Inner>`].
//!
//! [`Off`] is the absent layer of every role (and the empty gate stack), and costs nothing: no
//! state, no code, no space in a future's state machine.
//!
//! Each role is split in two traits so that no type held across an await depends on the
//! operation's return type `Out`: what is held (a permit, a started timer, an admission or
//! time-limit future) is an associated type of a trait without `Out`. rustc checks an async
//! function's state for `Send` with every lifetime in it made distinct and universal
//! (rust-lang/rust#110338); an `Out`-dependent projection there would need its impl's bounds
//! for all of them, which fails for errors such as `Box<dyn Error>` (a closure's or a fallback
//! function's signature names one lifetime; a breaker's classifier needs `E: 'static`). What
//! needs `Out` (a rejection or a time-out as the operation's error, an outcome recorded) is
//! synchronous, in the `…For<Out>` half, and runs between awaits.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, Ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An absent layer of any role, and the empty gate stack: times nothing, recovers nothing,
/// has no limit, admits every attempt.
#[derive(Clone, Copy, Debug, Default)]
pub struct Off;

/// A layer that admits an attempt or rejects it. Implemented by a `Copy` handle (a
/// reference to the registry's entry), whose permits may borrow what it points to.
pub trait Gate: Copy {
    /// What an admitted attempt holds until it is released.
    type Permit;
    /// Why an attempt was not admitted.
    type Rejection;
    /// Admission without blocking a thread (`Unpin`, so that gates nest without pinning).
    type Admit: Future<Output = Result<Self::Permit, Self::Rejection>> + Unpin;
    /// Admits an attempt, waiting on this thread if the layer waits.
    fn admit(&self) -> Result<Self::Permit, Self::Rejection>;
    /// Admits an attempt, waiting without blocking a thread.
    fn admit_async(&self) -> Self::Admit;
    /// Releases a permit without counting the attempt (a gate further in rejected it).
    fn ignore(&self, permit: Self::Permit);
    /// Whether an extra attempt may start now, asked before a hedge starts: `false` (an open
    /// breaker, a full bulkhead) holds the hedge back instead of spending an attempt on a
    /// sure rejection or a wait.
    #[inline(always)]
    fn may_admit(&self) -> bool {
        true
    }
    /// A rejection made up by fault injection (`coord::chaos`) for this call, asked once per
    /// call, only while a fault is armed somewhere, before the call's timing starts: the
    /// stack returns it as the call's value without timing, retrying or admitting anything,
    /// so that it is counted by chaos only, never as a real rejection. `None` for a gate that
    /// takes no injected rejection (all but the circuit breaker).
    #[inline(always)]
    fn chaos_reject(&self) -> Option<Self::Rejection> {
        None
    }
}

/// A [`Gate`] around an operation returning `Out`: what needs `Out`, all of it synchronous.
pub trait GateFor<Out>: Gate {
    /// The rejection as the operation's return value.
    fn reject(&self, rejection: Self::Rejection) -> Out;
    /// Releases a permit, recording the attempt's outcome.
    fn release(&self, permit: Self::Permit, out: &Out);
    /// Whether `out` is a failure as this gate counts one (an adaptive bulkhead's sample), for
    /// a permit reserved outside the gate (the tower layer's `poll_ready`).
    #[inline]
    fn failed(&self, _out: &Out) -> bool {
        false
    }
}

/// Two gates: an attempt is admitted by `Outer`, then by `Inner`; an `Inner` rejection
/// releases `Outer`'s permit uncounted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gates<Outer, Inner>(pub Outer, pub Inner);

/// The rejection of one of two nested gates.
#[derive(Debug)]
pub enum Rejected<Outer, Inner> {
    /// The outer gate rejected the attempt.
    Outer(Outer),
    /// The inner gate rejected it (the outer permit is released already).
    Inner(Inner),
}

impl Gate for Off {
    type Permit = ();
    type Rejection = Infallible;
    type Admit = Ready<Result<(), Infallible>>;
    #[inline(always)]
    fn admit(&self) -> Result<(), Infallible> {
        Ok(())
    }
    #[inline(always)]
    fn admit_async(&self) -> Self::Admit {
        std::future::ready(Ok(()))
    }
    #[inline(always)]
    fn ignore(&self, (): ()) {}
}

impl<Out> GateFor<Out> for Off {
    #[inline(always)]
    fn reject(&self, rejection: Infallible) -> Out {
        match rejection {}
    }
    #[inline(always)]
    fn release(&self, (): (), _: &Out) {}
}

impl<O: Gate, I: Gate> Gate for Gates<O, I> {
    type Permit = (O::Permit, I::Permit);
    type Rejection = Rejected<O::Rejection, I::Rejection>;
    type Admit = GatesAdmit<O, I>;

    #[inline(always)]
    fn admit(&self) -> Result<Self::Permit, Self::Rejection> {
        let Gates(outer, inner) = self;
        let held = outer.admit().map_err(Rejected::Outer)?;
        match inner.admit() {
            Ok(permit) => Ok((held, permit)),
            Err(rejection) => {
                outer.ignore(held);
                Err(Rejected::Inner(rejection))
            }
        }
    }

    #[inline(always)]
    fn admit_async(&self) -> GatesAdmit<O, I> {
        GatesAdmit {
            gates: *self,
            state: State::Outer(self.0.admit_async()),
        }
    }

    #[inline(always)]
    fn ignore(&self, (outer, inner): Self::Permit) {
        self.1.ignore(inner);
        self.0.ignore(outer);
    }

    #[inline(always)]
    fn may_admit(&self) -> bool {
        self.0.may_admit() && self.1.may_admit()
    }

    fn chaos_reject(&self) -> Option<Self::Rejection> {
        match self.0.chaos_reject() {
            Some(rejection) => Some(Rejected::Outer(rejection)),
            None => self.1.chaos_reject().map(Rejected::Inner),
        }
    }
}

impl<Out, O: GateFor<Out>, I: GateFor<Out>> GateFor<Out> for Gates<O, I> {
    #[cold]
    fn reject(&self, rejection: Self::Rejection) -> Out {
        match rejection {
            Rejected::Outer(rejection) => self.0.reject(rejection),
            Rejected::Inner(rejection) => self.1.reject(rejection),
        }
    }

    #[inline(always)]
    fn release(&self, (outer, inner): Self::Permit, out: &Out) {
        self.1.release(inner, out);
        self.0.release(outer, out);
    }
}

/// The admission future of [`Gates`]: the outer gate's, then the inner gate's.
pub struct GatesAdmit<O: Gate, I: Gate> {
    gates: Gates<O, I>,
    state: State<O, I>,
}

enum State<O: Gate, I: Gate> {
    Outer(O::Admit),
    Inner(O::Permit, I::Admit),
    Done,
}

// Every field is `Unpin` or never pinned: the admission futures are `Unpin` by `Gate`'s bound.
impl<O: Gate, I: Gate> Unpin for GatesAdmit<O, I> {}

impl<O: Gate, I: Gate> fmt::Debug for GatesAdmit<O, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatesAdmit").finish_non_exhaustive()
    }
}

impl<O: Gate, I: Gate> Future for GatesAdmit<O, I> {
    type Output = Result<(O::Permit, I::Permit), Rejected<O::Rejection, I::Rejection>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Gates(outer, inner) = this.gates;
        if let State::Outer(admit) = &mut this.state {
            match Pin::new(admit).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(rejection)) => {
                    this.state = State::Done;
                    return Poll::Ready(Err(Rejected::Outer(rejection)));
                }
                Poll::Ready(Ok(permit)) => {
                    this.state = State::Inner(permit, inner.admit_async());
                }
            }
        }
        let State::Inner(_, admit) = &mut this.state else {
            // Polled after completion: nothing left to admit.
            return Poll::Pending;
        };
        let result = match Pin::new(admit).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        let State::Inner(held, _) = std::mem::replace(&mut this.state, State::Done) else {
            return Poll::Pending;
        };
        Poll::Ready(match result {
            Ok(permit) => Ok((held, permit)),
            Err(rejection) => {
                outer.ignore(held);
                Err(Rejected::Inner(rejection))
            }
        })
    }
}

/// A marker of the operation's return type, for a layer whose constructor needs it to infer a
/// closure's signature (a stack step hands it over).
pub struct Of<Out>(PhantomData<fn() -> Out>);

impl<Out> Of<Out> {
    /// The marker.
    #[inline(always)]
    pub fn marker() -> Self {
        Self(PhantomData)
    }
}

impl<Out> Clone for Of<Out> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<Out> Copy for Of<Out> {}

impl<Out> fmt::Debug for Of<Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Of")
    }
}

/// A layer that times the whole call.
pub trait Timer {
    /// What a started call holds until it finishes.
    type Started;
    /// Starts timing a call.
    fn start(&self) -> Self::Started;
    /// The name fault injection (`coord::chaos`) knows the operation by; asked only while a
    /// fault is armed somewhere. `None` (the default): the call takes no fault.
    #[inline(always)]
    fn chaos_name(&self) -> Option<&str> {
        None
    }

    /// Whether a call started now would be recorded: `false` (no timer, or recording switched
    /// off) lets a synchronous run skip the timer's code and its stack frame altogether.
    #[inline(always)]
    fn records(&self) -> bool {
        true
    }
    /// [`start`](Self::start) right after [`records`](Self::records) said `true`: a timer
    /// that checks the switch in `start` may skip the second look.
    #[inline(always)]
    fn start_recording(&self) -> Self::Started {
        self.start()
    }
}

/// A [`Timer`] of an operation returning `Out`.
pub trait TimerFor<Out>: Timer {
    /// Records the call's outcome.
    fn finish(&self, started: Self::Started, out: &Out);

    /// Records the outcome of a call whose last attempt a gate rejected (an open breaker, a
    /// full bulkhead, a rate limit): `out` is the rejection as the operation's value (or what a
    /// fallback made of it). A timer that tells rejections apart overrides it; by default it is
    /// [`finish`](Self::finish).
    #[inline(always)]
    fn finish_rejected(&self, started: Self::Started, out: &Out) {
        self.finish(started, out);
    }

    /// The error fault injection (`coord::chaos`) returns instead of running this call of the
    /// operation `name`, when an armed rule says so; asked only while a fault is armed, before
    /// the call is timed (an injected call is counted apart, never timed). `None` (the
    /// default): the call runs.
    #[inline(always)]
    fn chaos_error(&self, _name: &str) -> Option<Out> {
        None
    }
}

impl Timer for Off {
    type Started = ();
    #[inline(always)]
    fn start(&self) {}
    #[inline(always)]
    fn records(&self) -> bool {
        false
    }
}

impl<Out> TimerFor<Out> for Off {
    #[inline(always)]
    fn finish(&self, (): (), _: &Out) {}
}

/// A layer that bounds the time of a future: the whole call, or each attempt.
pub trait Limit: Copy {
    /// Why a future was given up.
    type Expired;
    /// `future` under the limit: its output, or why it was given up (the future then dropped).
    /// The future comes pinned where it was made: a limit holds only the pointer.
    fn within<F: Future>(
        self,
        future: Pin<&mut F>,
    ) -> impl Future<Output = Result<F::Output, Self::Expired>>;
}

/// A [`Limit`] of an operation returning `Out`.
pub trait LimitFor<Out>: Limit {
    /// The expiry as the operation's return value (counted on the way).
    fn expired(&self, expired: Self::Expired) -> Out;
}

impl Limit for Off {
    type Expired = Infallible;
    #[inline(always)]
    fn within<F: Future>(
        self,
        future: Pin<&mut F>,
    ) -> impl Future<Output = Result<F::Output, Infallible>> {
        Unlimited(future)
    }
}

impl<Out> LimitFor<Out> for Off {
    #[inline(always)]
    fn expired(&self, expired: Infallible) -> Out {
        match expired {}
    }
}

/// The future of an absent limit: the pinned future itself.
struct Unlimited<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for Unlimited<'_, F> {
    type Output = Result<F::Output, Infallible>;
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().0.as_mut().poll(cx).map(Ok)
    }
}

/// A layer that recovers from a synchronous call's final error.
pub trait Recover<Out> {
    /// The call's outcome, recovered when it is an error.
    fn recover(&self, out: Out) -> Out;
}

impl<Out> Recover<Out> for Off {
    #[inline(always)]
    fn recover(&self, out: Out) -> Out {
        out
    }
}

/// A layer that recovers from an async call's final error. `Fut`, the recovery's future, is
/// a parameter rather than an associated type, so that no projection is held across an await.
pub trait RecoverAsync<Out, Fut> {
    /// The call's outcome, or the future recovering from its error.
    fn recover(&self, out: Out) -> Result<Out, Fut>;
}

/// The recovery future of an absent fallback: never made (and of size zero).
pub enum NoRecovery<Out> {
    #[doc(hidden)]
    Never(Infallible, PhantomData<fn() -> Out>),
}

impl<Out> Future for NoRecovery<Out> {
    type Output = Out;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Out> {
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
    /// `is_err` on `Result`.
    fn is_failure(&self) -> bool;
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
    #[inline(always)]
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// What a function under a layer attribute whose layer needs a `Result` returns (a time limit,
/// a limiter, a fallback: their constructors carry this bound). A [`Fallible`] with its own
/// message, spanned at the attribute that needs it, so it names no attribute itself.
#[diagnostic::on_unimplemented(
    message = "this coord attribute needs a function returning `Result<T, E>`, found `{Self}`",
    label = "this attribute needs a `Result` return"
)]
pub trait LayerReturn: Fallible + Sized {
    /// `Err(error)`.
    #[inline(always)]
    fn from_error(error: Self::Err) -> Self {
        Self::from_result(Err(error))
    }
}

impl<T, E> LayerReturn for Result<T, E> {}

/// A layer that a call site's `static` resolves once in its registry (a gate layer's site, a
/// time-out counter): implemented in the layer's own folder, driven by the door that loads
/// `COORD_CONFIG` first (`LayerSite`, re-exported by `__private`).
pub trait SiteLayer: Sized {
    /// What the call site configures it with.
    type Config;
    /// The layer called `name`, configured by `config` if this call creates it. One that
    /// exists already (configured by a configuration file, by a `…_with` function or by another
    /// call site of the same name) keeps its configuration.
    fn resolve(name: &'static str, config: &Self::Config) -> Arc<Self>;
}

/// Declares the trait that turns a layer's rejection (or time-out) into the function's error
/// type, implemented for every `E: From<rejection>`. One trait per rejection, so that the bound
/// carries the message users see when their error type cannot hold that rejection.
macro_rules! from_rejection {
    ($(#[$attr:meta])* $name:ident::$method:ident($value:ident: $rejection:ty)) => {
        $(#[$attr])*
        pub trait $name {
            #[doc = concat!("`Self::from(", stringify!($value), ")`.")]
            fn $method($value: $rejection) -> Self;
        }

        impl<E: From<$rejection>> $name for E {
            #[inline]
            fn $method($value: $rejection) -> Self {
                E::from($value)
            }
        }
    };
}

pub(crate) use from_rejection;

/// `Clone` and `Copy` for a layer handle generic over the operation's return type `Out`, which
/// holds no `Out` (only function pointers of it), so it is `Copy` whatever `Out` is (a derive
/// would ask `Out: Copy`).
macro_rules! copy_whatever_out {
    ($layer:ident) => {
        impl<Out> Clone for $layer<'_, Out> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<Out> Copy for $layer<'_, Out> {}
    };
}

pub(crate) use copy_whatever_out;
