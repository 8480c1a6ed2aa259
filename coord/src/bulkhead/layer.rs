//! The bulkhead as a layer of the stack: a [`Gate`] whose permit is a slot, waiting up to the
//! bulkhead's `max_wait`; its rejection ([`BulkheadFull`]) becomes the function's error.

use super::{Bulkhead, BulkheadAcquire, BulkheadFull, BulkheadPermit};
use crate::layer::{Gate, GateFor, LayerReturn, from_rejection};

impl<'a> Gate for &'a Bulkhead {
    type Permit = BulkheadPermit<'a>;
    type Rejection = BulkheadFull;
    type Admit = BulkheadAcquire<'a>;

    #[inline(always)]
    fn admit(&self) -> Result<BulkheadPermit<'a>, BulkheadFull> {
        self.acquire(self.max_wait())
    }

    #[inline(always)]
    fn admit_async(&self) -> BulkheadAcquire<'a> {
        let bulkhead: &'a Bulkhead = self;
        bulkhead.acquire_async(bulkhead.max_wait())
    }

    #[inline(always)]
    fn ignore(&self, permit: BulkheadPermit<'a>) {
        drop(permit);
    }
}

impl<Out> GateFor<Out> for &Bulkhead
where
    Out: LayerReturn,
    Out::Err: FromBulkheadFull,
{
    #[cold]
    fn reject(&self, full: BulkheadFull) -> Out {
        Out::from_error(Out::Err::from_bulkhead_full(full))
    }

    #[inline(always)]
    fn release(&self, permit: BulkheadPermit<'_>, _: &Out) {
        drop(permit);
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
