//! Failure builders shared by the dynamic engine and derived code, so both report the same
//! codes, params and messages. Each `fill_*` writes a failure into an error already in place
//! (see `Checks::fail_at`); each builder returns one. Short paths and messages stay inline (see
//! [`ErrorText`]) and numeric params need no allocation.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use super::{ValueType, bound_value};
use crate::validate::result::{ErrorText, FieldError};

/// The public builders: each returns the error its `fill_*` writes, at `path`.
macro_rules! builders {
    ($($(#[$doc:meta])* $name:ident => $fill:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        #[cold]
        pub fn $name(path: impl Into<ErrorText>, $($arg: $ty,)* message: Option<&str>) -> FieldError {
            build(path, |e| $fill(e, $($arg,)* message))
        }
    )*};
}

builders! {
    /// `required` failed.
    required => fill_required();
    /// A type (or format) check failed.
    type_mismatch => fill_type_mismatch(expected: ValueType, actual: &str);
    /// `range` failed.
    range => fill_range(min: Option<f64>, max: Option<f64>, actual: f64);
    /// `length` failed; `unit` is `characters` or `items`.
    length => fill_length(
        min: Option<u64>,
        max: Option<u64>,
        equal: Option<u64>,
        actual: u64,
        unit: &str
    );
    /// `pattern` failed.
    pattern => fill_pattern(pattern: &str);
    /// `one_of` failed.
    one_of => fill_one_of(allowed: Vec<Value>, actual: Value);
    /// `must_match` failed.
    must_match => fill_must_match(other: &str);
    /// A `nested` rule names a rule set that is not loaded.
    unknown_nested => fill_unknown_nested(name: &str);
}

/// A builder's error: `fill` on a blank error at `path`.
fn build(path: impl Into<ErrorText>, fill: impl FnOnce(&mut FieldError)) -> FieldError {
    let mut e = FieldError::blank();
    e.path = path.into();
    fill(&mut e);
    e
}

/// Sets the code and the rule's own message, or the default one written by `write`.
#[inline]
fn set(
    e: &mut FieldError,
    code: &'static str,
    message: Option<&str>,
    write: impl FnOnce(&mut ErrorText),
) {
    e.rule = Cow::Borrowed(code);
    e.message = ErrorText::inline();
    match message {
        Some(m) => e.message.push(m),
        None => write(&mut e.message),
    }
}

fn set_static(
    e: &mut FieldError,
    code: &'static str,
    message: Option<&str>,
    default: &'static str,
) {
    e.rule = Cow::Borrowed(code);
    e.message = message.map_or(ErrorText::from_static(default), ErrorText::copied);
}

fn param(e: &mut FieldError, key: &'static str, value: Value) {
    e.params.push_new(Cow::Borrowed(key), value);
}

/// Writes whole numbers without a fraction (`18`, not `18.0`).
fn push_num(b: &mut ErrorText, n: f64) {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        if n < 0.0 {
            b.push("-");
        }
        b.push_u64(n.abs() as u64);
    } else {
        let _ = write!(b, "{n}");
    }
}

pub(crate) fn fill_required(e: &mut FieldError, message: Option<&str>) {
    set_static(e, "required", message, "is required");
}

pub(crate) fn fill_type_mismatch(
    e: &mut FieldError,
    expected: ValueType,
    actual: &str,
    message: Option<&str>,
) {
    set_static(e, expected.code(), message, expected.must_be());
    if expected.code() == "type" {
        // Formats need no params: the code says what was expected of the string.
        param(e, "expected", expected.as_str().into());
        param(e, "actual", actual.into());
    }
}

pub(crate) fn fill_range(
    e: &mut FieldError,
    min: Option<f64>,
    max: Option<f64>,
    actual: f64,
    message: Option<&str>,
) {
    set(e, "range", message, |b| match (min, max) {
        (Some(lo), Some(hi)) => {
            b.push("must be between ");
            push_num(b, lo);
            b.push(" and ");
            push_num(b, hi);
        }
        (Some(lo), None) => {
            b.push("must be at least ");
            push_num(b, lo);
        }
        (None, Some(hi)) => {
            b.push("must be at most ");
            push_num(b, hi);
        }
        (None, None) => b.push("must be a number"),
    });
    param(e, "actual", bound_value(actual));
    if let Some(v) = min {
        param(e, "min", bound_value(v));
    }
    if let Some(v) = max {
        param(e, "max", bound_value(v));
    }
}

pub(crate) fn fill_length(
    e: &mut FieldError,
    min: Option<u64>,
    max: Option<u64>,
    equal: Option<u64>,
    actual: u64,
    unit: &str,
    message: Option<&str>,
) {
    // "1 character", "2 characters": `unit` is plural.
    let unit_for = |n: u64| {
        if n == 1 {
            unit.strip_suffix('s').unwrap_or(unit)
        } else {
            unit
        }
    };
    set(e, "length", message, |b| {
        let (lead, n) = match (equal, min, max) {
            (Some(n), _, _) => ("must have exactly ", n),
            (None, Some(lo), Some(hi)) => {
                b.push("must have ");
                b.push_u64(lo);
                b.push(" to ");
                ("", hi)
            }
            (None, Some(lo), None) => ("must have at least ", lo),
            (None, None, Some(hi)) => ("must have at most ", hi),
            (None, None, None) => {
                b.push("has ");
                b.push_u64(actual);
                b.push(" ");
                b.push(unit);
                return;
            }
        };
        b.push(lead);
        b.push_u64(n);
        b.push(" ");
        // "2 to 1 characters" keeps the plural, like "2 to 50 characters".
        b.push(if lead.is_empty() { unit } else { unit_for(n) });
        b.push(", got ");
        b.push_u64(actual);
    });
    param(e, "actual", actual.into());
    for (k, v) in [("min", min), ("max", max), ("equal", equal)] {
        if let Some(v) = v {
            param(e, k, v.into());
        }
    }
}

pub(crate) fn fill_pattern(e: &mut FieldError, pattern: &str, message: Option<&str>) {
    set(e, "pattern", message, |b| {
        let _ = write!(b, "must match the pattern {pattern:?}");
    });
    param(e, "pattern", pattern.into());
}

pub(crate) fn fill_one_of(
    e: &mut FieldError,
    allowed: Vec<Value>,
    actual: Value,
    message: Option<&str>,
) {
    set(e, "one_of", message, |b| {
        b.push("must be one of: ");
        for (i, v) in allowed.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            match v {
                Value::String(s) => b.push(s),
                other => {
                    let _ = write!(b, "{other}");
                }
            }
        }
    });
    param(e, "one_of", Value::Array(allowed));
    param(e, "actual", actual);
}

pub(crate) fn fill_must_match(e: &mut FieldError, other: &str, message: Option<&str>) {
    set(e, "must_match", message, |b| {
        b.push("must match ");
        b.push(other);
    });
    param(e, "other", other.into());
}

pub(crate) fn fill_unknown_nested(e: &mut FieldError, name: &str, message: Option<&str>) {
    set(e, "nested", message, |b| {
        let _ = write!(b, "unknown rule set {name:?}");
    });
    param(e, "rule_set", name.into());
}
