//! The bulkhead's door into the tower middleware (`coord::tower`): the builder method
//! [`CoordLayer::bulkhead`], and the bulkhead as a limiter the layer reserves in `poll_ready`
//! (a slot, waited for in the bulkhead's own queue).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::layer::{BulkheadGate, FromBulkheadFull};
use super::{Bulkhead, BulkheadConfig, BulkheadFull, OwnedBulkheadPermit};
use crate::layer::LayerReturn;
use crate::tower::{ConfigError, CoordLayer, Finish, Reservable, ReservableFor};

/// The bulkhead's builder method, beside the bulkhead (see the tower module's backpressure
/// section for how `poll_ready` reserves its slot).
impl<R, M> CoordLayer<R, M> {
    /// Bounds the requests in the inner service at once with the bulkhead named after the
    /// layer; `poll_ready` waits for a slot up to its `max_wait`.
    pub fn bulkhead(self, config: BulkheadConfig) -> Self {
        self.reserve::<Bulkhead>(config)
    }
}

/// A bulkhead slot being waited for in `poll_ready`.
pub(crate) type SlotWait =
    Pin<Box<dyn Future<Output = Result<OwnedBulkheadPermit, BulkheadFull>> + Send + Sync>>;

impl Reservable for Bulkhead {
    type Config = BulkheadConfig;
    type Held = OwnedBulkheadPermit;
    type Rejection = BulkheadFull;
    type Wait = SlotWait;
    const METHOD: &'static str = "bulkhead";

    fn validate(config: &BulkheadConfig) -> Result<(), ConfigError> {
        config.validate().map_err(ConfigError::Bulkhead)
    }

    fn for_layer(name: &str, config: BulkheadConfig) -> Arc<Self> {
        super::registry::for_layer(name, config)
    }

    /// A free slot now, or a wait in the bulkhead's queue up to its `max_wait`.
    #[inline]
    fn poll_reserve(
        self: &Arc<Self>,
        wait: &mut Option<SlotWait>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<OwnedBulkheadPermit, BulkheadFull>> {
        let slot = match wait {
            Some(slot) => slot,
            None => match self.take_owned() {
                Some(permit) => return Poll::Ready(Ok(permit)),
                // Slow path only: one allocation for a request that waits anyway.
                None => wait.insert(Box::pin(
                    Arc::clone(self).acquire_owned_async(self.max_wait()),
                )),
            },
        };
        let reserved = ready!(slot.as_mut().poll(cx));
        *wait = None;
        Poll::Ready(reserved)
    }
}

impl<'a, Out> ReservableFor<'a, Out> for Bulkhead
where
    Out: LayerReturn,
    Out::Err: FromBulkheadFull,
{
    type Gate = BulkheadGate<'a, Out>;

    #[inline]
    fn gate(&'a self) -> BulkheadGate<'a, Out> {
        BulkheadGate::new(self)
    }
}

impl Finish for OwnedBulkheadPermit {
    #[inline]
    fn finish(self, failed: bool) {
        OwnedBulkheadPermit::finish(self, failed);
    }
}
