//! The bulkhead as a layer of the stack: a [`Gate`] whose permit is a slot, waiting up to the
//! bulkhead's `max_wait`; its rejection ([`BulkheadFull`]) becomes the function's error.

use std::fmt;
use std::sync::Arc;

use super::{Bulkhead, BulkheadAcquire, BulkheadConfig, BulkheadFull, BulkheadPermit};
use crate::layer::{Gate, GateFor, LayerReturn, SiteLayer, from_rejection};

/// A bulkhead admitting every attempt of an operation returning `Out`. Made by
/// [`new`](Self::new), whose bounds say what `Out` needs; the conversion is kept as a function
/// pointer, so the stack asks nothing more of `Out` (one error message per mistake).
pub struct BulkheadGate<'a, Out> {
    bulkhead: &'a Bulkhead,
    reject: fn(BulkheadFull) -> Out,
    /// Whether a call failed, for an adaptive limit.
    failed: fn(&Out) -> bool,
}

impl<'a, Out> BulkheadGate<'a, Out> {
    /// `bulkhead` as a gate of an operation returning `Out`.
    #[inline(always)]
    pub fn new(bulkhead: &'a Bulkhead) -> Self
    where
        Out: LayerReturn,
        Out::Err: FromBulkheadFull,
    {
        Self {
            bulkhead,
            reject: |full| Out::from_error(Out::Err::from_bulkhead_full(full)),
            failed: Out::is_failure,
        }
    }
}

crate::layer::copy_whatever_out!(BulkheadGate);

impl<Out> fmt::Debug for BulkheadGate<'_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BulkheadGate")
            .field(&self.bulkhead.name)
            .finish()
    }
}

impl<'a, Out> Gate for BulkheadGate<'a, Out> {
    type Permit = BulkheadPermit<'a>;
    type Rejection = BulkheadFull;
    type Admit = BulkheadAcquire<'a>;

    #[inline(always)]
    fn admit(&self) -> Result<BulkheadPermit<'a>, BulkheadFull> {
        self.bulkhead.acquire(self.bulkhead.max_wait())
    }

    #[inline(always)]
    fn admit_async(&self) -> BulkheadAcquire<'a> {
        self.bulkhead.acquire_async(self.bulkhead.max_wait())
    }

    #[inline(always)]
    fn ignore(&self, permit: BulkheadPermit<'a>) {
        drop(permit);
    }

    /// A hedge is extra load: it neither queues for a slot nor is rejected for want of one,
    /// it is held back while every slot is taken.
    fn may_admit(&self) -> bool {
        self.bulkhead.in_flight() < self.bulkhead.max_concurrent()
    }
}

impl<Out> GateFor<Out> for BulkheadGate<'_, Out> {
    #[cold]
    fn reject(&self, full: BulkheadFull) -> Out {
        crate::semconv::rejected("bulkhead", full.name(), false);
        (self.reject)(full)
    }

    #[inline(always)]
    fn release(&self, permit: BulkheadPermit<'_>, out: &Out) {
        permit.finish((self.failed)(out));
    }

    #[inline]
    fn failed(&self, out: &Out) -> bool {
        (self.failed)(out)
    }
}

from_rejection! {
    /// Turns a bulkhead's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[bulkhead] functions must return `Result<T, E>` where `E: From<coord::BulkheadFull>`; `{Self}` does not implement `From<coord::BulkheadFull>`",
        label = "`{Self}` cannot hold the `coord::BulkheadFull` a rejected call returns",
        note = "add `impl From<coord::BulkheadFull> for {Self}` (for example a `Busy` variant of your error enum)"
    )]
    FromBulkheadFull::from_bulkhead_full(full: BulkheadFull)
}

/// A `#[bulkhead]` call site's bulkhead: the one registered under its name, or one made with
/// the call site's configuration.
impl SiteLayer for Bulkhead {
    type Config = fn() -> BulkheadConfig;

    fn resolve(name: &'static str, config: &Self::Config) -> Arc<Self> {
        super::registry::for_layer(name, config())
    }
}
