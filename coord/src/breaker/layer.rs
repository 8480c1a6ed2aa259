//! The circuit breaker as a layer of the stack: a [`Gate`] whose permit records the attempt's
//! outcome, and whose rejection ([`CircuitOpen`]) becomes the function's error.

use std::future::Ready;

use super::{CircuitBreaker, CircuitOpen, Permit};
use crate::layer::{Gate, GateFor, from_rejection};

impl<'a> Gate for &'a CircuitBreaker {
    type Permit = Permit<'a>;
    type Rejection = CircuitOpen;
    type Admit = Ready<Result<Permit<'a>, CircuitOpen>>;

    #[inline(always)]
    fn admit(&self) -> Result<Permit<'a>, CircuitOpen> {
        (*self).try_acquire()
    }

    #[inline(always)]
    fn admit_async(&self) -> Self::Admit {
        std::future::ready((*self).try_acquire())
    }

    #[cold]
    fn ignore(&self, permit: Permit<'a>) {
        permit.ignore();
    }
}

impl<Out> GateFor<Out> for &CircuitBreaker
where
    Out: BreakerReturn,
    Out::Error: FromCircuitOpen,
{
    #[cold]
    fn reject(&self, open: CircuitOpen) -> Out {
        Out::from_error(Out::Error::from_circuit_open(open))
    }

    #[inline(always)]
    fn release(&self, permit: Permit<'_>, out: &Out) {
        out.record(permit);
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

from_rejection! {
    /// Turns a breaker's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[circuit_breaker] functions must return `Result<T, E>` where `E: From<coord::CircuitOpen>`; `{Self}` does not implement `From<coord::CircuitOpen>`",
        label = "`{Self}` cannot hold the `coord::CircuitOpen` a rejected call returns",
        note = "add `impl From<coord::CircuitOpen> for {Self}` (for example a `CircuitOpen` variant of your error enum)"
    )]
    FromCircuitOpen::from_circuit_open(open: CircuitOpen)
}
