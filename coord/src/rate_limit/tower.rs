//! The rate limiter's door into the tower middleware (`coord::tower`): the builder method
//! [`CoordLayer::rate_limit`], and the limiter as a gate the layer reserves in `poll_ready` (a
//! turn, waited for on the limiter's timer, or asked of Redis off the executor's thread).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::layer::{FromRateLimited, RateGate};
use super::{RateLimitConfig, RateLimited, RateLimiter, SharedAdmit};
use crate::clock::timer::{self, Sleep};
use crate::layer::LayerReturn;
use crate::tower::{ConfigError, CoordLayer, Reservable, ReservableFor};

/// The rate limiter's builder method, beside the rate limiter (see the tower module's
/// backpressure section for how `poll_ready` reserves its turn).
impl<R, M> CoordLayer<R, M> {
    /// Bounds the rate of attempts with the rate limiter named after the layer; `poll_ready`
    /// waits for a turn up to its `max_wait`.
    pub fn rate_limit(self, config: RateLimitConfig) -> Self {
        self.reserve::<RateLimiter>(config)
    }
}

/// A turn being waited for in `poll_ready`.
pub(crate) enum TurnWait {
    /// A shared limiter's answer from Redis, asked off this thread (never blocking the
    /// executor in `poll_ready`; boxed, so local limiters' services stay small).
    Shared(Box<SharedAdmit>),
    /// A local limiter's next turn, on its timer.
    Sleep(Sleep),
}

impl Reservable for RateLimiter {
    type Config = RateLimitConfig;
    /// A turn is spent when it is taken: nothing to release.
    type Held = ();
    type Rejection = RateLimited;
    type Wait = TurnWait;
    const METHOD: &'static str = "rate_limit";

    fn validate(config: &RateLimitConfig) -> Result<(), ConfigError> {
        config.validate().map_err(ConfigError::RateLimit)
    }

    fn for_layer(name: &str, config: RateLimitConfig) -> Arc<Self> {
        super::registry::for_layer(name, config)
    }

    /// A turn now, or a wait for it (Redis's answer for a shared limiter).
    #[inline]
    fn poll_reserve(
        self: &Arc<Self>,
        wait: &mut Option<TurnWait>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), RateLimited>> {
        let turn = match wait {
            Some(turn) => turn,
            None => match self.shared_admit() {
                Some(admit) => wait.insert(TurnWait::Shared(Box::new(admit))),
                None => match self.reserve_turn() {
                    Ok(until) if until.is_zero() => return Poll::Ready(Ok(())),
                    Ok(until) => wait.insert(TurnWait::Sleep(timer::sleep(until))),
                    Err(limited) => return Poll::Ready(Err(limited)),
                },
            },
        };
        let reserved = match turn {
            TurnWait::Shared(admit) => ready!(Pin::new(&mut **admit).poll(cx)),
            TurnWait::Sleep(sleep) => {
                ready!(Pin::new(sleep).poll(cx));
                Ok(())
            }
        };
        *wait = None;
        Poll::Ready(reserved)
    }
}

impl<'a, Out> ReservableFor<'a, Out> for RateLimiter
where
    Out: LayerReturn,
    Out::Err: FromRateLimited,
{
    type Gate = RateGate<'a, Out>;

    #[inline]
    fn gate(&'a self) -> RateGate<'a, Out> {
        RateGate::new(self)
    }
}
