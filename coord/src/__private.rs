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

// `#[derive(Validate)]` support.
pub use crate::validate::register_rule_set;
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
