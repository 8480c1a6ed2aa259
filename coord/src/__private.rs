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

/// The rejection as the function's error type.
#[inline]
pub fn from_circuit_open<E: FromCircuitOpen>(open: CircuitOpen) -> E {
    E::from_circuit_open(open)
}

/// Records a `Result` on the permit (classifier applied to `Err`).
#[inline]
pub fn record_breaker<T, E: 'static>(permit: Permit<'_>, result: &Result<T, E>) {
    permit.record(result);
}
