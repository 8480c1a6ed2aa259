//! The only door macro-generated code uses. Not public API: anything here may change in any
//! release.

pub use crate::doors::sites::OperationSite;
pub use crate::perf::TimedCall;

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

/// Calls `f` once. Taking the body as an `FnOnce` lets a `&mut self` reborrow escape it.
#[inline(always)]
pub fn call_once<R>(f: impl FnOnce() -> R) -> R {
    f()
}
// `#[derive(Validate)]` support.
pub use crate::doors::sites::register_rule_set;
pub use crate::doors::sites::{RetrySite, named_or_default};
pub use crate::errors::Severity;
pub use crate::retry::{Attempt, Next, RetryLoop};
pub use crate::retry::{Jitter, RetryPolicy};
pub use crate::validate::support::number_value;
pub use crate::validate::support::{
    AsNumber, AsStr, HasLength, ItemKey, Items, LazyPattern, custom, format, length, must_match,
    one_of_num, one_of_str, pattern, pattern_kind, range, required,
};
pub use crate::validate::{
    Checks, DerivedSite, FieldPath, FieldRules, NestedRules, Rule, RuleKind, RuleSet, Validate,
    ValidationResult, ValueType,
};
pub use ::core::option::Option::{None, Some};
pub use ::std::string::String;
pub use ::std::vec;
pub use serde_json::Value;

/// Wraps an error so that method resolution can find the best message function for its type:
/// `Display`, else `Debug`, else the type name (`(&&&Describe(&e)).describer()`).
pub struct Describe<'a, E>(pub &'a E);

/// Chosen when the error implements `Display`.
pub trait DescribeDisplay<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E: core::fmt::Display> DescribeDisplay<E> for &&Describe<'_, E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        |e| e.to_string()
    }
}

/// Chosen when the error implements only `Debug`.
pub trait DescribeDebug<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E: core::fmt::Debug> DescribeDebug<E> for &Describe<'_, E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        |e| format!("{e:?}")
    }
}

/// The fallback: the type name.
pub trait DescribeAny<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E> DescribeAny<E> for Describe<'_, E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        |_| core::any::type_name::<E>().to_owned()
    }
}

/// A by-value parameter of a `#[retry]` function, copied for each attempt. `Param` is a
/// marker type named after the parameter, so the error message can name it.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` runs the body once per attempt, so by-value parameter `{Param}` (of type `{Self}`) must be `Clone`",
    label = "`{Param}` is moved into every attempt, but `{Self}` is not `Clone`",
    note = "take `{Param}` by reference (`&{Self}`), or make `{Self}` `Clone` (wrap it in `Arc` if cloning is costly)"
)]
pub trait RetryArg<Param>: Sized {
    /// The copy one attempt consumes.
    fn for_attempt(&self) -> Self;
}

impl<T: Clone, Param> RetryArg<Param> for T {
    #[inline]
    fn for_attempt(&self) -> Self {
        self.clone()
    }
}

/// Copies parameter `value` for one attempt; `Param` names the parameter in errors.
#[inline]
pub fn retry_arg<Param, T: RetryArg<Param>>(value: &T) -> T {
    value.for_attempt()
}

/// The return type of a `#[retry]` function.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` needs a function returning `Result<T, E>`, found `{Self}`",
    label = "not a `Result`"
)]
pub trait RetryResult {
    /// `T`.
    type Ok;
    /// `E`.
    type Err;
    /// Identity on `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// Identity on `Result`.
    fn from_result(result: Result<Self::Ok, Self::Err>) -> Self;
}

impl<T, E> RetryResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline]
    fn into_result(self) -> Self {
        self
    }
    #[inline]
    fn from_result(result: Self) -> Self {
        result
    }
}
// ---- circuit_breaker ----

pub use crate::breaker::{BreakerConfig, CircuitOpen, Permit};
pub use crate::doors::sites::BreakerSite;

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

/// A rejection inside a `#[retry]` loop: the function's error, marked permanent so that it is
/// never retried.
#[inline]
pub fn breaker_rejected_attempt<R>(open: CircuitOpen) -> Attempt<R::Error>
where
    R: BreakerReturn,
    R::Error: FromCircuitOpen,
{
    Attempt::permanent(R::Error::from_circuit_open(open))
}

/// Records the function's return value on the permit.
#[inline]
pub fn record_breaker<R: BreakerReturn>(permit: Permit<'_>, ret: &R) {
    ret.record(permit);
}
