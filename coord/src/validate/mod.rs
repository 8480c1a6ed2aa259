//! Validation: one rule language for `#[derive(Validate)]` and YAML rule sets, scored and
//! reported.
//!
//! A [`RuleSet`] holds [`FieldRules`]; each field holds [`Rule`]s drawn from one vocabulary:
//! `type` (`string`, `integer`, `number`, `boolean`, `array`, `object`, `email`, `url`, `uuid`,
//! `datetime`), `required`, `min`/`max` (one `range` rule), `min_length`/`max_length`/`equal`
//! (one `length` rule: chars for strings, items for collections), `pattern`, `one_of`, `each`,
//! `nested`, `must_match` and (derive only) `custom`. Every failure carries a stable rule code,
//! params and a message that each rule may override.
//!
//! The score of one validation is `passed ÷ applicable × 100`. A rule applies when its value is
//! present: an absent (or `null`) optional field makes its rules not applicable, and a rule
//! aimed at another kind of value (`min_length` on a number, `min` on a string) does not apply
//! either — the field's `type` rule reports the mismatch.
//!
//! ```
//! use coord::Validate;
//!
//! #[derive(Validate, serde::Serialize)]
//! struct Signup {
//!     #[validate(length(min = 2, max = 50))]
//!     name: String,
//!     #[validate(email)]
//!     email: String,
//!     #[validate(range(min = 18, max = 120))]
//!     age: u32,
//! }
//!
//! let r = Signup { name: "A".into(), email: "a@example.com".into(), age: 30 }.validate();
//! assert!(!r.is_valid);
//! assert_eq!((r.errors[0].path.as_str(), r.errors[0].rule.as_ref()), ("name", "length"));
//! assert!((r.score - 200.0 / 3.0).abs() < 1e-9);
//! ```
//!
//! # The derive
//!
//! `#[derive(Validate)]` takes `#[validate(...)]` rules on fields: `email`, `url`, `uuid`,
//! `datetime`, `length(min, max, equal)`, `range(min, max)`, `pattern = "regex"`,
//! `one_of("a", "b")` (or numbers), `required` (`Option` fields), `nested`, `each(...)`,
//! `custom = path` (`fn(&T) -> Result<(), RuleError>`), `must_match = "other_field"`, each
//! with an optional `message = "..."` (`email(message = "...")`, `length(min = 2, message =
//! "...")`); and `#[validate(schema = path)]` (`fn(&Self) -> Result<(), RuleError>`) on the
//! type. Literal mistakes (unknown rules, `min > max`, a bad regex, a rule that does not fit
//! the field's type) are compile errors.
//!
//! Paths use serde's names (`rename`, `rename_all`); tuple fields are `[0]`, `[1]`; a newtype's
//! field has its parent's path; an enum checks the active variant's fields, with paths relative
//! to the value (no variant prefix). Valid input allocates nothing; invalid input allocates its
//! error list and little else (short paths and default messages are stored inline in an
//! [`ErrorText`], numeric params inline in [`Params`]). The first `validate()` of a
//! derived type registers its rule set, and its nested types', in [`rules()`](crate::rules()) under the type
//! name (a loaded rule set of the same name is kept); that rule set checks serialized values
//! the same way, except `custom` and `schema` functions, which only run in the derive.
//!
//! # Deliberate differences from the suites our users trust
//!
//! coord's tests run the JSON-Schema-Test-Suite cases (converted to this vocabulary), the
//! `validator` crate's email and URL tables, the WHATWG URL tests and the JSON Schema `uuid` and
//! `date-time` cases. Where coord's verdict differs, it is on purpose:
//!
//! 1. **Typed rules are strict about type.** A JSON Schema keyword ignores values of another
//!    type (`minLength` accepts `1`); a coord field rule carries a `type`, so such a value fails
//!    the `type` check. Without a `type` rule coord behaves like JSON Schema: the rule does not
//!    apply.
//! 2. **`null` is absent.** A `null` field is treated like a missing one (as `Option::None`
//!    serializes): only `required` applies to it. JSON Schema treats `null` as a value that
//!    fails type checks.
//! 3. **Email follows the HTML5 rule** (like `validator`, with RFC 5321 lengths): quoted local
//!    parts and `[IPv6:...]` literals are refused; leading, trailing and doubled dots in the
//!    local part are accepted; bracketed literals must be the whole domain (`validator` also
//!    accepts text before the `[`). JSON Schema's `email` is RFC 5321 `Mailbox`.
//! 4. **URL follows WHATWG** (what browsers and `url::Url::parse` accept): any scheme, spaces
//!    and non-ASCII in paths are fine, surrounding whitespace is stripped, and
//!    `http://999.999.999.999/` is refused. JSON Schema's `uri` is RFC 3986.
//! 5. **date-time and uuid** match JSON Schema: lowercase `t`/`z`, any fraction length, leap
//!    second only at 23:59:60 UTC; UUID version and variant nibbles are not checked.
//! 6. Numbers: `1.0` is an integer and equals `1` in `one_of`, as in JSON Schema. Range bounds
//!    and values compare as `f64`, so integers beyond 2^53 round.
//! 7. Lengths count Unicode scalar values (`"💩"` has length 1), as JSON Schema does. Lengths
//!    written as `2.0` are accepted as whole numbers. One `length` rule serves strings and
//!    collections, so an untyped `min_length`/`max_length` counts a string's characters where
//!    JSON Schema's `minItems`/`maxItems` would ignore the string.
//! 8. `type: null` and unions of types have no coord form; coord has no exclusive bounds.

mod engine;
pub(crate) mod file;
pub mod formats;
mod load_error;
mod locate;
mod registry;
mod report;
mod result;
mod rule;
mod rule_set_ref;
mod schema;
pub(crate) mod section;
#[doc(hidden)]
pub mod support;
mod yaml;

pub(crate) use registry::rules;
pub use registry::{RuleRegistry, message_rule_set};
pub use report::{
    DerivedSite, FailureCount, MAX_TRACKED_FAILURES, MAX_TRACKED_RULE_SETS, RuleSetReport,
    RuleSetStats, TOP_FAILURES, ValidationReport, Validator,
};
pub(crate) use report::{register_rule_set, validator};
pub use result::{
    Checks, ErrorText, FieldError, FieldPath, INLINE_TEXT_BYTES, Params, RuleError,
    ValidationResult,
};
pub use rule::{
    Coercion, FieldRules, NestedRules, Pattern, Rule, RuleKind, RuleSet, ValueType, failure,
};
pub use rule_set_ref::{AsRuleSet, RuleSetRef};
pub(crate) use yaml::parse_document;
pub use yaml::{
    MAX_DOCUMENT_PATTERN_BYTES, MAX_DOCUMENT_PATTERNS, MAX_PATTERN_BYTES, MAX_PATTERN_DFA_BYTES,
    MAX_RULE_DOCUMENT_BYTES, MAX_RULE_DOCUMENT_DEPTH, PatternLimit, RuleLoadError,
};

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::Arc;

/// A value that can check itself. Derive it with `#[derive(Validate)]`, or implement it by hand:
/// [`validate`](Validate::validate) is the one required method;
/// [`validate_into`](Validate::validate_into) has a default in terms of it (override it to add
/// checks below a path without building a whole result).
///
/// ```
/// struct Even(u32);
///
/// impl coord::Validate for Even {
///     fn validate(&self) -> coord::ValidationResult {
///         let mut checks = coord::validate::Checks::new();
///         checks.check(self.0 % 2 == 0, || coord::FieldError::new("", "even", "must be even"));
///         checks.finish()
///     }
/// }
///
/// assert!(coord::Validate::validate(&Even(2)).is_valid);
/// ```
///
/// An impl without `validate` does not compile (it used to, and recursed forever):
///
/// ```compile_fail,E0046
/// struct Nothing;
/// impl coord::Validate for Nothing {}
/// ```
pub trait Validate {
    /// Validates the whole value. Derived impls also register the type's rule set under the
    /// type name and record the outcome in [`Validator::validation_report`].
    fn validate(&self) -> ValidationResult;

    /// Adds this value's checks, with paths below `path`, to `checks` (used by `nested`). The
    /// default runs [`validate`](Validate::validate) and moves its errors below `path`.
    fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
        let result = self.validate();
        for _ in 0..result.passed {
            checks.pass();
        }
        let prefix = path.render();
        for mut error in result.errors {
            if !prefix.is_empty() {
                error.path = if error.path.is_empty() {
                    prefix.as_str().into()
                } else if error.path.starts_with('[') {
                    format!("{prefix}{}", error.path).into()
                } else {
                    format!("{prefix}.{}", error.path).into()
                };
            }
            checks.fail(error);
        }
    }

    /// Registers the rule sets of this type and its nested types in [`rules()`]. Derived impls
    /// do; containers forward to their items; anything else registers nothing.
    #[doc(hidden)]
    fn __coord_register()
    where
        Self: Sized,
    {
    }
}

/// `validate` of the containers below: their own checks from the root, as one result.
fn validate_from_root<T: Validate + ?Sized>(value: &T) -> ValidationResult {
    let mut checks = Checks::new();
    value.validate_into(&FieldPath::Root, &mut checks);
    checks.finish()
}

/// References and smart pointers validate what they point to.
macro_rules! validate_pointee {
    ($($t:ty),*) => {$(
        impl<T: Validate + ?Sized> Validate for $t {
            fn validate(&self) -> ValidationResult {
                (**self).validate()
            }

            fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
                (**self).validate_into(path, checks);
            }
        }
    )*};
}
validate_pointee!(&T, Box<T>, Arc<T>);

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> ValidationResult {
        validate_from_root(self)
    }

    fn __coord_register() {
        T::__coord_register();
    }

    fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
        if let Some(v) = self {
            v.validate_into(path, checks);
        }
    }
}

impl<T: Validate> Validate for [T] {
    fn validate(&self) -> ValidationResult {
        validate_from_root(self)
    }

    fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
        for (i, v) in self.iter().enumerate() {
            v.validate_into(&path.index(i), checks);
        }
    }
}

/// Owned sequences validate as their slice: each item below its index.
macro_rules! validate_as_slice {
    ($([$($g:tt)*] $t:ty),*) => {$(
        impl<T: Validate, $($g)*> Validate for $t {
            fn validate(&self) -> ValidationResult {
                validate_from_root(self)
            }

            fn __coord_register() {
                T::__coord_register();
            }

            fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
                self.as_slice().validate_into(path, checks);
            }
        }
    )*};
}
validate_as_slice!([const N: usize] [T; N], [] Vec<T>);

/// Maps validate each value below its key.
macro_rules! validate_map {
    ($([$($g:tt)*] $t:ty),*) => {$(
        impl<K: Display, V: Validate, $($g)*> Validate for $t {
            fn validate(&self) -> ValidationResult {
                validate_from_root(self)
            }

            fn __coord_register() {
                V::__coord_register();
            }

            fn validate_into(&self, path: &FieldPath<'_>, checks: &mut Checks) {
                for (k, v) in self {
                    v.validate_into(&path.key(k), checks);
                }
            }
        }
    )*};
}
validate_map!([S] HashMap<K, V, S>, [] BTreeMap<K, V>);

/// Returns the validation report to zero (rule sets stay loaded).
pub(crate) fn reset() {
    validator().reset();
}
