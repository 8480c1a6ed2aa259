//! Two adapters that let a tower service drive the attributes' layer types on the same stack:
//! [`Maybe`], a layer the builder may or may not have configured (decided at run time, where an
//! attribute decides at compile time with `Off`), and [`Reserved`], a gate whose first admission
//! was reserved by `poll_ready` (tower's backpressure) and whose later admissions (retries) go
//! through the gate as usual; and [`RetryAfter`], which holds a retried attempt back until the
//! time a failed response's `Retry-After` named.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::layer::{Gate, GateFor, Limit, LimitFor, Timer, TimerFor};

/// A layer that is there or not.
#[derive(Clone, Copy, Debug)]
pub(super) struct Maybe<L>(pub(super) Option<L>);

impl<L: Timer> Timer for Maybe<L> {
    type Started = Option<L::Started>;
    #[inline(always)]
    fn start(&self) -> Self::Started {
        self.0.as_ref().map(L::start)
    }

    #[inline]
    fn chaos_name(&self) -> Option<&str> {
        self.0.as_ref()?.chaos_name()
    }
}

impl<Out, L: TimerFor<Out>> TimerFor<Out> for Maybe<L> {
    #[inline(always)]
    fn finish(&self, started: Self::Started, out: &Out) {
        if let (Some(layer), Some(started)) = (&self.0, started) {
            layer.finish(started, out);
        }
    }

    #[inline]
    fn chaos_error(&self, name: &str) -> Option<Out> {
        self.0.as_ref()?.chaos_error(name)
    }
}

impl<L: Limit> Limit for Maybe<L> {
    type Expired = L::Expired;
    // The trait's signature (`impl Future`), kept as written there.
    #[allow(clippy::manual_async_fn)]
    #[inline(always)]
    fn within<F: Future>(
        self,
        future: Pin<&mut F>,
    ) -> impl Future<Output = Result<F::Output, L::Expired>> {
        async move {
            match self.0 {
                Some(limit) => limit.within(future).await,
                None => Ok(future.await),
            }
        }
    }
}

impl<Out, L: LimitFor<Out>> LimitFor<Out> for Maybe<L> {
    #[inline(always)]
    fn expired(&self, expired: L::Expired) -> Out {
        match &self.0 {
            Some(limit) => limit.expired(expired),
            None => unreachable_expiry(expired),
        }
    }
}

/// An absent layer's rejection or expiry: `Maybe(None)` admits everything and never expires, so
/// the stack never asks for one.
#[cold]
fn unreachable_expiry<X, Out>(_: X) -> Out {
    unreachable!("an absent layer neither rejects nor expires")
}

impl<G: Gate> Gate for Maybe<G> {
    type Permit = Option<G::Permit>;
    type Rejection = G::Rejection;
    type Admit = MaybeAdmit<G::Admit>;

    #[inline(always)]
    fn admit(&self) -> Result<Self::Permit, G::Rejection> {
        match &self.0 {
            Some(gate) => gate.admit().map(Some),
            None => Ok(None),
        }
    }

    #[inline(always)]
    fn admit_async(&self) -> Self::Admit {
        MaybeAdmit(self.0.as_ref().map(G::admit_async))
    }

    #[inline(always)]
    fn ignore(&self, permit: Self::Permit) {
        if let (Some(gate), Some(permit)) = (&self.0, permit) {
            gate.ignore(permit);
        }
    }

    fn may_admit(&self) -> bool {
        self.0.as_ref().is_none_or(G::may_admit)
    }

    fn chaos_reject(&self) -> Option<G::Rejection> {
        self.0.as_ref()?.chaos_reject()
    }
}

impl<Out, G: GateFor<Out>> GateFor<Out> for Maybe<G> {
    #[cold]
    fn reject(&self, rejection: G::Rejection) -> Out {
        match &self.0 {
            Some(gate) => gate.reject(rejection),
            None => unreachable_expiry(rejection),
        }
    }

    #[inline(always)]
    fn release(&self, permit: Self::Permit, out: &Out) {
        if let (Some(gate), Some(permit)) = (&self.0, permit) {
            gate.release(permit, out);
        }
    }
}

/// The admission of a [`Maybe`] gate: the gate's, or admitted at once.
#[derive(Debug)]
pub(super) struct MaybeAdmit<A>(Option<A>);

impl<P, R, A: Future<Output = Result<P, R>> + Unpin> Future for MaybeAdmit<A> {
    type Output = Result<Option<P>, R>;
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Some(admit) => Pin::new(admit).poll(cx).map(|r| r.map(Some)),
            None => Poll::Ready(Ok(None)),
        }
    }
}

/// What `poll_ready` reserved for a request's first attempt: `H` held (a bulkhead slot, a
/// rate-limit turn), or the rejection it met. Taken by the first admission.
pub(super) type Reservation<H, R> = Mutex<Option<Result<H, R>>>;

/// A gate whose first admission is the one `poll_ready` reserved.
pub(super) struct Reserved<'a, G: Gate, H> {
    gate: G,
    first: &'a Reservation<H, G::Rejection>,
}

impl<'a, G: Gate, H> Reserved<'a, G, H> {
    /// `gate`, its first admission taken from `first`.
    pub(super) fn new(gate: G, first: &'a Reservation<H, G::Rejection>) -> Self {
        Self { gate, first }
    }

    #[inline]
    fn take(&self) -> Option<Result<H, G::Rejection>> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl<G: Gate, H> Clone for Reserved<'_, G, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<G: Gate, H> Copy for Reserved<'_, G, H> {}

/// What `poll_ready` reserved, released with the attempt's outcome: a bulkhead slot (an
/// adaptive limit's sample), a rate-limit turn (nothing to record).
pub(crate) trait Finish {
    /// Releases it; `failed` says whether the attempt failed.
    fn finish(self, failed: bool);
}

impl Finish for () {
    #[inline]
    fn finish(self, _: bool) {}
}

/// A permit of a [`Reserved`] gate: the reservation, or the gate's own.
pub(super) enum Held<H, P> {
    /// What `poll_ready` reserved (released when dropped).
    Reserved(H),
    /// Admitted by the gate.
    Admitted(P),
}

impl<G: Gate, H> Gate for Reserved<'_, G, H> {
    type Permit = Held<H, G::Permit>;
    type Rejection = G::Rejection;
    type Admit = ReservedAdmit<H, G>;

    fn admit(&self) -> Result<Self::Permit, G::Rejection> {
        match self.take() {
            Some(reserved) => reserved.map(Held::Reserved),
            None => self.gate.admit().map(Held::Admitted),
        }
    }

    #[inline]
    fn admit_async(&self) -> Self::Admit {
        match self.take() {
            Some(reserved) => ReservedAdmit::Now(Some(reserved.map(Held::Reserved))),
            None => ReservedAdmit::Gate(self.gate.admit_async()),
        }
    }

    #[inline]
    fn ignore(&self, permit: Self::Permit) {
        match permit {
            Held::Reserved(held) => drop(held),
            Held::Admitted(permit) => self.gate.ignore(permit),
        }
    }

    fn may_admit(&self) -> bool {
        self.gate.may_admit()
    }

    fn chaos_reject(&self) -> Option<G::Rejection> {
        self.gate.chaos_reject()
    }
}

impl<Out, G: GateFor<Out>, H: Finish> GateFor<Out> for Reserved<'_, G, H> {
    #[cold]
    fn reject(&self, rejection: G::Rejection) -> Out {
        self.gate.reject(rejection)
    }

    #[inline]
    fn release(&self, permit: Self::Permit, out: &Out) {
        match permit {
            Held::Reserved(held) => held.finish(self.gate.failed(out)),
            Held::Admitted(permit) => self.gate.release(permit, out),
        }
    }
}

/// A [`Reserved`] gate's admission, decided.
type Admitted<H, G> = Result<Held<H, <G as Gate>::Permit>, <G as Gate>::Rejection>;

/// The admission of a [`Reserved`] gate.
pub(super) enum ReservedAdmit<H, G: Gate> {
    /// The reservation (`None` once taken).
    Now(Option<Admitted<H, G>>),
    /// The gate's own admission.
    Gate(G::Admit),
}

// Nothing in it is pinned: the gate's admission future is `Unpin` by `Gate`'s bound.
impl<H, G: Gate> Unpin for ReservedAdmit<H, G> {}

impl<H, G: Gate> Future for ReservedAdmit<H, G> {
    type Output = Result<Held<H, G::Permit>, G::Rejection>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            ReservedAdmit::Now(now) => match now.take() {
                Some(ready) => Poll::Ready(ready),
                // Polled after completion.
                None => Poll::Pending,
            },
            ReservedAdmit::Gate(admit) => Pin::new(admit).poll(cx).map(|r| r.map(Held::Admitted)),
        }
    }
}

/// When the next attempt may start, as a failed response's `Retry-After` said (capped by the
/// caller): set by an attempt, taken by the next admission.
#[derive(Default)]
pub(super) struct NotBefore {
    /// Whether `at` holds an instant: one load on every admission, the lock only after a
    /// `Retry-After`.
    armed: AtomicBool,
    at: Mutex<Option<Instant>>,
}

impl NotBefore {
    /// The next attempt starts no earlier than `at`.
    pub(super) fn set(&self, at: Instant) {
        *self.at.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
        self.armed.store(true, Release);
    }

    fn take(&self) -> Option<Instant> {
        if !self.armed.swap(false, Acquire) {
            return None;
        }
        self.at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The outermost gate of a retried call: an attempt after a `Retry-After` waits until the time
/// it named (what the back-off already slept counts), on the retry policy's clock.
#[derive(Clone, Copy)]
pub(super) struct RetryAfter<'a> {
    pub(super) not_before: &'a NotBefore,
    pub(super) clock: &'a Clock,
}

impl RetryAfter<'_> {
    fn remaining(&self) -> Option<Duration> {
        let at = self.not_before.take()?;
        let wait = at.saturating_duration_since(self.clock.now());
        (!wait.is_zero()).then_some(wait)
    }
}

impl Gate for RetryAfter<'_> {
    type Permit = ();
    type Rejection = Infallible;
    type Admit = RetryAfterWait;

    fn admit(&self) -> Result<(), Infallible> {
        if let Some(wait) = self.remaining() {
            self.clock.sleep(wait);
        }
        Ok(())
    }

    #[inline]
    fn admit_async(&self) -> RetryAfterWait {
        RetryAfterWait(
            self.remaining()
                .map(|wait| Box::pin(self.clock.sleep_async(wait)) as _),
        )
    }

    fn ignore(&self, (): ()) {}

    /// A hedge does not start while a `Retry-After` holds the next attempt back: it would
    /// wait inside the race, and take the hold the next retry must honour.
    #[inline]
    fn may_admit(&self) -> bool {
        !self.not_before.armed.load(Acquire)
    }
}

impl<Out> GateFor<Out> for RetryAfter<'_> {
    fn reject(&self, never: Infallible) -> Out {
        match never {}
    }

    #[inline]
    fn release(&self, (): (), _: &Out) {}
}

/// The admission of [`RetryAfter`]: at once, or after a wait (boxed: only after a
/// `Retry-After`).
pub(super) struct RetryAfterWait(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Future for RetryAfterWait {
    type Output = Result<(), Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            None => Poll::Ready(Ok(())),
            Some(wait) => wait.as_mut().poll(cx).map(Ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_after_hold_holds_hedges_back_until_an_attempt_takes_it() {
        let not_before = NotBefore::default();
        let clock = Clock::system();
        let gate = RetryAfter {
            not_before: &not_before,
            clock: &clock,
        };
        assert!(gate.may_admit());
        not_before.set(clock.now());
        assert!(!gate.may_admit(), "a hedge would wait inside the race");
        gate.admit().unwrap();
        assert!(gate.may_admit(), "the attempt took the hold");
    }
}
