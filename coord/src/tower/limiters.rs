//! The layer's own limiters, its rate limiter and its bulkhead: resolved once per layer (named
//! after it, since `poll_ready` runs before the request is known), reserved by `poll_ready`
//! (tower's backpressure: a rate-limit turn, then a bulkhead slot), and the stack's gates for
//! every attempt, the first one admitted by its reservation.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use super::gate::{Finish, Maybe, Reservation, Reserved};
use super::layer::Settings;
use crate::bulkhead::layer::{BulkheadGate, FromBulkheadFull};
use crate::bulkhead::{self, Bulkhead, BulkheadFull, OwnedBulkheadPermit};
use crate::layer::{Gates, LayerReturn};
use crate::rate_limit::layer::{FromRateLimited, RateGate};
use crate::rate_limit::{self, RateLimited, RateLimiter, SharedAdmit};

/// The limiters a layer has, of those its builder can configure.
pub(super) struct Limiters {
    rate: Option<Arc<RateLimiter>>,
    bulkhead: Option<Arc<Bulkhead>>,
}

impl Limiters {
    /// The layer's limiters, as at an attribute's call site: an existing one (a configuration
    /// file's, or another user's) keeps its configuration.
    pub(super) fn resolve(settings: &Settings) -> Self {
        let name = &*settings.name;
        let rate = (settings.rate_limit.clone())
            .map(|config| rate_limit::registry::for_layer(name, config));
        let bulkhead =
            (settings.bulkhead.clone()).map(|config| bulkhead::registry::for_layer(name, config));
        Self { rate, bulkhead }
    }

    /// The gates of one call's attempts, outermost first: the rate limit, then the bulkhead,
    /// each admitting the first attempt with what `poll_ready` reserved.
    #[inline]
    pub(super) fn gates<'a, Out>(&'a self, reserved: &'a Reservations) -> LimiterGates<'a, Out>
    where
        Out: LayerReturn,
        Out::Err: FromRateLimited + FromBulkheadFull,
    {
        Gates(
            Maybe(
                (self.rate.as_deref())
                    .map(|limiter| Reserved::new(RateGate::new(limiter), &reserved.turn)),
            ),
            Maybe(
                (self.bulkhead.as_deref())
                    .map(|bulkhead| Reserved::new(BulkheadGate::new(bulkhead), &reserved.slot)),
            ),
        )
    }
}

/// The gates [`Limiters::gates`] makes for an operation returning `Out`.
pub(super) type LimiterGates<'a, Out> = Gates<
    Maybe<Reserved<'a, RateGate<'a, Out>, ()>>,
    Maybe<Reserved<'a, BulkheadGate<'a, Out>, OwnedBulkheadPermit>>,
>;

/// A bulkhead slot being waited for in `poll_ready`.
type SlotWait =
    Pin<Box<dyn Future<Output = Result<OwnedBulkheadPermit, BulkheadFull>> + Send + Sync>>;

/// What `poll_ready` reserved for the next call (each clone of a service has its own).
#[derive(Default)]
pub(super) struct Readiness {
    turn: Option<Result<(), RateLimited>>,
    turn_wait: Option<crate::clock::timer::Sleep>,
    /// A shared limiter's answer from Redis, asked off this thread (never blocking the
    /// executor in `poll_ready`).
    turn_shared: Option<Box<SharedAdmit>>,
    slot: Option<Result<OwnedBulkheadPermit, BulkheadFull>>,
    slot_wait: Option<SlotWait>,
}

impl Readiness {
    /// Reserves a rate-limit turn, then a bulkhead slot (a call over the rate never holds a
    /// slot). `Pending` wakes on the limiter's timer or a slot's release; `Ready(true)` when a
    /// limiter rejected the next call (it needs nothing more).
    pub(super) fn poll_reserve(&mut self, limiters: &Limiters, cx: &mut Context<'_>) -> Poll<bool> {
        if let Some(limiter) = &limiters.rate
            && self.turn.is_none()
        {
            ready!(self.poll_turn(limiter, cx));
        }
        if let Some(bulkhead) = &limiters.bulkhead
            && self.slot.is_none()
            && !self.rejected()
        {
            ready!(self.poll_slot(bulkhead, cx));
        }
        Poll::Ready(self.rejected())
    }

    /// Reserves a rate-limit turn, waiting for it on the limiter's timer.
    fn poll_turn(&mut self, limiter: &RateLimiter, cx: &mut Context<'_>) -> Poll<()> {
        if self.turn_wait.is_none()
            && self.turn_shared.is_none()
            && let Some(admit) = limiter.shared_admit()
        {
            self.turn_shared = Some(Box::new(admit));
        }
        if let Some(admit) = &mut self.turn_shared {
            let turn = ready!(Pin::new(&mut **admit).poll(cx));
            self.turn_shared = None;
            self.turn = Some(turn);
            return Poll::Ready(());
        }
        if self.turn_wait.is_none() {
            match limiter.reserve_turn() {
                Ok(wait) if wait.is_zero() => self.turn = Some(Ok(())),
                Ok(wait) => self.turn_wait = Some(crate::clock::timer::sleep(wait)),
                Err(limited) => self.turn = Some(Err(limited)),
            }
        }
        if let Some(sleep) = &mut self.turn_wait {
            ready!(Pin::new(sleep).poll(cx));
            self.turn_wait = None;
            self.turn = Some(Ok(()));
        }
        Poll::Ready(())
    }

    /// Reserves a bulkhead slot, waiting (in the bulkhead's queue) up to its `max_wait`.
    fn poll_slot(&mut self, bulkhead: &Arc<Bulkhead>, cx: &mut Context<'_>) -> Poll<()> {
        if self.slot_wait.is_none() {
            match bulkhead.take_owned() {
                Some(permit) => self.slot = Some(Ok(permit)),
                // Slow path only: one allocation for a request that waits anyway.
                None => {
                    let wait = Arc::clone(bulkhead).acquire_owned_async(bulkhead.max_wait());
                    self.slot_wait = Some(Box::pin(wait));
                }
            }
        }
        if let Some(wait) = &mut self.slot_wait {
            let slot = ready!(wait.as_mut().poll(cx));
            self.slot_wait = None;
            self.slot = Some(slot);
        }
        Poll::Ready(())
    }

    /// `true` when a limiter rejected the next call already.
    fn rejected(&self) -> bool {
        matches!(self.turn, Some(Err(_))) || matches!(self.slot, Some(Err(_)))
    }

    /// What was reserved, for the call about to be made (the waits are over); the service
    /// starts over with nothing reserved.
    pub(super) fn take(&mut self) -> Reservations {
        let Self { turn, slot, .. } = std::mem::take(self);
        Reservations {
            turn: Mutex::new(turn),
            slot: Mutex::new(slot),
        }
    }
}

/// What `poll_ready` reserved for one call, taken by its first attempt: a rate-limit turn, a
/// bulkhead slot (released when the call ends, or dropped).
pub(super) struct Reservations {
    turn: Reservation<(), RateLimited>,
    slot: Reservation<OwnedBulkheadPermit, BulkheadFull>,
}

impl Finish for OwnedBulkheadPermit {
    #[inline]
    fn finish(self, failed: bool) {
        OwnedBulkheadPermit::finish(self, failed);
    }
}
