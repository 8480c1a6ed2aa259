//! The circuit breaker as a layer of the stack: a [`Gate`] whose permit records the attempt's
//! outcome, and whose rejection ([`CircuitOpen`]) becomes the function's error.

use std::fmt;
use std::future::Ready;

use super::{CircuitBreaker, CircuitOpen, Permit};
use crate::layer::{Gate, GateFor, from_rejection};

/// A breaker guarding every attempt of an operation returning `Out`. Made by
/// [`new`](Self::new), whose bounds say what `Out` needs; the conversions are kept as
/// function pointers, so the stack asks nothing more of `Out` (one error message per mistake).
pub struct BreakerGate<'a, Out> {
    breaker: &'a CircuitBreaker,
    reject: fn(CircuitOpen) -> Out,
    record: fn(&Out, Permit<'_>),
}

impl<'a, Out> BreakerGate<'a, Out> {
    /// `breaker` as a gate of an operation returning `Out`.
    #[inline(always)]
    pub fn new(breaker: &'a CircuitBreaker) -> Self
    where
        Out: BreakerReturn,
        Out::Error: FromCircuitOpen,
    {
        Self {
            breaker,
            reject: |open| Out::from_error(Out::Error::from_circuit_open(open)),
            record: |out, permit| out.record(permit),
        }
    }
}

crate::layer::copy_whatever_out!(BreakerGate);

impl<Out> fmt::Debug for BreakerGate<'_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BreakerGate").field(&self.breaker).finish()
    }
}

impl<'a, Out> Gate for BreakerGate<'a, Out> {
    type Permit = Permit<'a>;
    type Rejection = CircuitOpen;
    type Admit = Ready<Result<Permit<'a>, CircuitOpen>>;

    #[inline(always)]
    // `admit`, not `try_acquire`: the stack asked `chaos_reject` once already for this call.
    fn admit(&self) -> Result<Permit<'a>, CircuitOpen> {
        self.breaker.admit()
    }

    #[inline(always)]
    fn admit_async(&self) -> Self::Admit {
        std::future::ready(self.breaker.admit())
    }

    #[cold]
    fn ignore(&self, permit: Permit<'a>) {
        permit.ignore();
    }

    /// Only a closed (or disabled) breaker takes hedges: an open or forced-open one would
    /// reject them, and a half-open one's few probe permits are for trial calls.
    fn may_admit(&self) -> bool {
        matches!(
            self.breaker.state(),
            super::BreakerState::Closed | super::BreakerState::Disabled
        )
    }

    fn chaos_reject(&self) -> Option<CircuitOpen> {
        self.breaker.injected_rejection()
    }
}

impl<Out> GateFor<Out> for BreakerGate<'_, Out> {
    #[cold]
    fn reject(&self, open: CircuitOpen) -> Out {
        crate::semconv::rejected("circuit_breaker", open.name(), open.is_injected());
        (self.reject)(open)
    }

    #[inline(always)]
    fn release(&self, permit: Permit<'_>, out: &Out) {
        (self.record)(out, permit);
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
