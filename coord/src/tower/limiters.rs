//! The layer's own limiters, the gates `poll_ready` reserves: resolved once per layer (named
//! after it, since `poll_ready` runs before the request is known), reserved by `poll_ready`
//! (tower's backpressure: the outer one, then the inner one), and the stack's gates for every
//! attempt, the first one admitted by its reservation.
//!
//! Which limiters they are, and in which order, is the mechanism list's
//! ([`ReservedOuter`], [`ReservedInner`]): this file drives any two [`Reservable`]s, each
//! implemented in its mechanism's folder (`tower.rs`, beside its builder method).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use super::error::ConfigError;
use super::gate::{Finish, Maybe, Reservation, Reserved};
use crate::layer::{GateFor, Gates};
use crate::mechanisms::{ReservedInner, ReservedOuter};

/// A limiter a [`CoordLayer`](super::CoordLayer) reserves in `poll_ready`, before the call:
/// the layer's own, named after it, configured by one builder method (in the mechanism's
/// `tower.rs`, which implements this trait).
pub(crate) trait Reservable: Sized {
    /// What the builder method is given.
    type Config: Clone + fmt::Debug;
    /// What a reservation holds until the call's first attempt ends (released with its
    /// outcome, or dropped).
    type Held: Finish;
    /// Why a reservation was refused: the gate's rejection, which the call answers.
    type Rejection;
    /// A reservation being waited for.
    type Wait;
    /// The builder method's name, for the layer's `Debug`.
    const METHOD: &'static str;

    /// `config` checked, for [`CoordLayer::validate`](super::CoordLayer::validate).
    fn validate(config: &Self::Config) -> Result<(), ConfigError>;

    /// The layer's limiter called `name`, as at an attribute's call site: an existing one (a
    /// configuration file's, or another user's) keeps its configuration.
    fn for_layer(name: &str, config: Self::Config) -> Arc<Self>;

    /// Reserves for the next call: what it holds, or the rejection. `Pending` keeps the wait in
    /// `wait` and wakes `cx` when it may be over (never by spinning); `wait` is emptied once
    /// the reservation is decided.
    fn poll_reserve(
        self: &Arc<Self>,
        wait: &mut Option<Self::Wait>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Held, Self::Rejection>>;
}

/// A [`Reservable`] as the gate of every attempt of an operation returning `Out`.
pub(crate) trait ReservableFor<'a, Out>: Reservable {
    /// The gate (the mechanism's layer type).
    type Gate: GateFor<Out, Rejection = Self::Rejection>;
    /// The gate of this limiter.
    fn gate(&'a self) -> Self::Gate;
}

/// The configurations a layer's builder gave its reserved limiters.
#[derive(Clone, Default)]
pub(crate) struct ReservedConfigs {
    outer: Option<<ReservedOuter as Reservable>::Config>,
    inner: Option<<ReservedInner as Reservable>::Config>,
}

/// Where a reserved limiter's configuration is kept: what its builder method sets.
pub(crate) trait Configured: Reservable {
    /// Its place in `configs`.
    fn config(configs: &mut ReservedConfigs) -> &mut Option<Self::Config>;
}

impl Configured for ReservedOuter {
    fn config(configs: &mut ReservedConfigs) -> &mut Option<Self::Config> {
        &mut configs.outer
    }
}

impl Configured for ReservedInner {
    fn config(configs: &mut ReservedConfigs) -> &mut Option<Self::Config> {
        &mut configs.inner
    }
}

impl ReservedConfigs {
    /// Their fields of the layer's `Debug`, inner first (the bulkhead, then the rate limit: the
    /// order `Debug` has always shown).
    pub(super) fn debug_fields(&self, f: &mut fmt::DebugStruct<'_, '_>) {
        f.field(ReservedInner::METHOD, &self.inner);
        f.field(ReservedOuter::METHOD, &self.outer);
    }

    /// Checks them, inner first, so that of two bad configurations the same one is reported as
    /// before.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(config) = &self.inner {
            ReservedInner::validate(config)?;
        }
        if let Some(config) = &self.outer {
            ReservedOuter::validate(config)?;
        }
        Ok(())
    }
}

/// The limiters a layer has, of those its builder can configure.
pub(super) struct Limiters {
    outer: Option<Arc<ReservedOuter>>,
    inner: Option<Arc<ReservedInner>>,
}

impl Limiters {
    /// The layer `name`'s limiters, as at an attribute's call site: an existing one (a
    /// configuration file's, or another user's) keeps its configuration.
    pub(super) fn resolve(name: &str, configs: &ReservedConfigs) -> Self {
        let outer = (configs.outer.clone()).map(|config| ReservedOuter::for_layer(name, config));
        let inner = (configs.inner.clone()).map(|config| ReservedInner::for_layer(name, config));
        Self { outer, inner }
    }

    /// The gates of one call's attempts, outermost first, each admitting the first attempt
    /// with what `poll_ready` reserved.
    #[inline]
    pub(super) fn gates<'a, Out>(&'a self, reserved: &'a Reservations) -> LimiterGates<'a, Out>
    where
        ReservedOuter: ReservableFor<'a, Out>,
        ReservedInner: ReservableFor<'a, Out>,
    {
        Gates(
            Maybe(
                (self.outer.as_deref()).map(|outer| Reserved::new(outer.gate(), &reserved.outer)),
            ),
            Maybe(
                (self.inner.as_deref()).map(|inner| Reserved::new(inner.gate(), &reserved.inner)),
            ),
        )
    }
}

/// A reserved limiter's gate, admitting the first attempt with the reservation.
type ReservedGate<'a, L, Out> =
    Maybe<Reserved<'a, <L as ReservableFor<'a, Out>>::Gate, <L as Reservable>::Held>>;

/// The gates [`Limiters::gates`] makes for an operation returning `Out`.
pub(super) type LimiterGates<'a, Out> =
    Gates<ReservedGate<'a, ReservedOuter, Out>, ReservedGate<'a, ReservedInner, Out>>;

/// One limiter's part of what `poll_ready` reserved.
struct Slot<L: Reservable> {
    reserved: Option<Result<L::Held, L::Rejection>>,
    wait: Option<L::Wait>,
}

impl<L: Reservable> Default for Slot<L> {
    fn default() -> Self {
        Self {
            reserved: None,
            wait: None,
        }
    }
}

impl<L: Reservable> Slot<L> {
    /// Reserves from `limiter`, unless this slot holds a reservation already.
    #[inline]
    fn poll(&mut self, limiter: &Arc<L>, cx: &mut Context<'_>) -> Poll<()> {
        if self.reserved.is_none() {
            self.reserved = Some(ready!(limiter.poll_reserve(&mut self.wait, cx)));
        }
        Poll::Ready(())
    }

    fn rejected(&self) -> bool {
        matches!(self.reserved, Some(Err(_)))
    }
}

/// What `poll_ready` reserved for the next call (each clone of a service has its own).
#[derive(Default)]
pub(super) struct Readiness {
    outer: Slot<ReservedOuter>,
    inner: Slot<ReservedInner>,
}

impl Readiness {
    /// Reserves from the outer limiter, then from the inner one (a call the outer one rejects
    /// never holds the inner one's reservation). `Pending` wakes on a limiter's timer or
    /// release; `Ready(true)` when a limiter rejected the next call (it needs nothing more).
    pub(super) fn poll_reserve(&mut self, limiters: &Limiters, cx: &mut Context<'_>) -> Poll<bool> {
        if let Some(limiter) = &limiters.outer {
            ready!(self.outer.poll(limiter, cx));
        }
        if let Some(limiter) = &limiters.inner
            && !self.rejected()
        {
            ready!(self.inner.poll(limiter, cx));
        }
        Poll::Ready(self.rejected())
    }

    /// `true` when a limiter rejected the next call already.
    fn rejected(&self) -> bool {
        self.outer.rejected() || self.inner.rejected()
    }

    /// What was reserved, for the call about to be made (the waits are over); the service
    /// starts over with nothing reserved.
    pub(super) fn take(&mut self) -> Reservations {
        let Self { outer, inner } = std::mem::take(self);
        Reservations {
            outer: Mutex::new(outer.reserved),
            inner: Mutex::new(inner.reserved),
        }
    }
}

/// What `poll_ready` reserved for one call, taken by its first attempt (released when the call
/// ends, or dropped).
pub(super) struct Reservations {
    outer:
        Reservation<<ReservedOuter as Reservable>::Held, <ReservedOuter as Reservable>::Rejection>,
    inner:
        Reservation<<ReservedInner as Reservable>::Held, <ReservedInner as Reservable>::Rejection>,
}
