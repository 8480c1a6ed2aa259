//! The only door macro-generated code uses. Not public API: anything here may change in any
//! release.

pub use crate::perf::{OperationSite, TimedCall};

/// Wraps a return value so that method resolution can tell `Result::Err` from anything else
/// (autoref specialisation): `(&Probe(&value)).is_failure()`.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Chosen when the probed value is a `Result`.
pub trait ResultOutcome {
    /// `true` for `Err`.
    fn is_failure(&self) -> bool;
}

impl<T, E> ResultOutcome for Probe<'_, Result<T, E>> {
    #[inline]
    fn is_failure(&self) -> bool {
        self.0.is_err()
    }
}

/// The fallback for every other type: never a failure.
pub trait AnyOutcome {
    /// Always `false`.
    #[inline]
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T: ?Sized> AnyOutcome for &Probe<'_, T> {}

// ---- circuit_breaker ----

pub use crate::breaker::{BreakerConfig, BreakerSite, CircuitOpen, Permit};

/// Turns a rejection into the function's error type; the bound carries the message users see
/// when their error type cannot hold a rejection.
#[diagnostic::on_unimplemented(
    message = "#[circuit_breaker] functions must return `Result<T, E>` where `E: From<coord::CircuitOpen>`; `{Self}` does not implement `From<coord::CircuitOpen>`",
    label = "`{Self}` cannot hold the `coord::CircuitOpen` a rejected call returns",
    note = "add `impl From<coord::CircuitOpen> for {Self}` (for example a `CircuitOpen` variant of your error enum)"
)]
pub trait FromCircuitOpen {
    /// `Self::from(open)`.
    fn from_circuit_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromCircuitOpen for E {
    #[inline]
    fn from_circuit_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

/// What a `#[circuit_breaker]` function returns: a `Result`. Whether its error can hold a
/// rejection is a separate bound ([`FromCircuitOpen`]), so that each mistake gets its own
/// message.
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

/// The rejection as the function's return value.
#[inline]
pub fn breaker_rejected<R>(open: CircuitOpen) -> R
where
    R: BreakerReturn,
    R::Error: FromCircuitOpen,
{
    R::from_error(R::Error::from_circuit_open(open))
}

/// Records the function's return value on the permit.
#[inline]
pub fn record_breaker<R: BreakerReturn>(permit: Permit<'_>, ret: &R) {
    ret.record(permit);
}
