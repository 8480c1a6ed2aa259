//! The rule model shared by `#[derive(Validate)]` and YAML rule files.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::Value;

use super::result::{ErrorText, FieldError};

named_enum! {
    /// The kind of value a field must hold, named as in rule files. Format types (`email`,
    /// `url`, `uuid`, `datetime`) are strings with a shape.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum ValueType {
        /// A string.
        String = "string",
        /// A whole number (`1.0` counts, as in JSON Schema).
        Integer = "integer",
        /// Any number.
        Number = "number",
        /// `true` or `false`.
        Boolean = "boolean",
        /// A sequence.
        Array = "array",
        /// A map with string keys.
        Object = "object",
        /// An email address (HTML5 rule).
        Email = "email",
        /// A URL (WHATWG).
        Url = "url",
        /// A hyphenated UUID.
        Uuid = "uuid",
        /// An RFC 3339 date-time.
        DateTime = "datetime",
    }
}

impl ValueType {
    /// Looks a type up by its rule-file name.
    pub fn from_name(name: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The rule code a mismatch reports: the format name for format types, else `type`.
    pub const fn code(self) -> &'static str {
        match self {
            ValueType::Email => "email",
            ValueType::Url => "url",
            ValueType::Uuid => "uuid",
            ValueType::DateTime => "datetime",
            _ => "type",
        }
    }

    fn must_be(self) -> &'static str {
        match self {
            ValueType::String => "must be a string",
            ValueType::Integer => "must be an integer",
            ValueType::Number => "must be a number",
            ValueType::Boolean => "must be a boolean",
            ValueType::Array => "must be an array",
            ValueType::Object => "must be an object",
            ValueType::Email => "must be a valid email address",
            ValueType::Url => "must be a valid URL",
            ValueType::Uuid => "must be a UUID",
            ValueType::DateTime => "must be an RFC 3339 date-time",
        }
    }
}

/// How strictly scalar types are read from a rule set's input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coercion {
    /// Types must match exactly (default).
    #[default]
    Strict,
    /// Strings holding a number or boolean (`"42"`, `"true"`) count as that type.
    Lax,
}

/// A compiled `pattern` (the `regex` crate: linear time, no catastrophic backtracking).
/// Unanchored, like JSON Schema: `a+` matches `"xxaayy"`.
#[derive(Clone, Debug)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// Compiles `source`.
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(source).map(Pattern)
    }

    /// The pattern's source text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether `s` contains a match.
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Where the rules of a `nested` value come from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NestedRules {
    /// A rule set in the registry (a YAML rule set's name or a derived type's name), looked up
    /// when validating.
    Named(String),
    /// A rule set written inline.
    Inline(Arc<RuleSet>),
}

/// What one rule checks.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RuleKind {
    /// The value has this type (code `type`, or the format name).
    Type(ValueType),
    /// The value is present and not null (code `required`).
    Required,
    /// A number within bounds, inclusive (code `range`).
    Range {
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
    },
    /// Length in chars (strings) or items (collections), inclusive (code `length`).
    Length {
        /// Shortest accepted length.
        min: Option<u64>,
        /// Longest accepted length.
        max: Option<u64>,
        /// Exact length.
        equal: Option<u64>,
    },
    /// A string containing a match of the pattern (code `pattern`).
    Pattern(Pattern),
    /// Equal to one of these values; numbers compare by value (code `one_of`).
    OneOf(Vec<Value>),
    /// These rules apply to every item of a sequence or every value of a map.
    Each(Vec<Rule>),
    /// The value satisfies another rule set (errors appear below this path).
    Nested(NestedRules),
    /// Equal to the sibling field named here (code `must_match`).
    MustMatch(String),
    /// A function of the derived type, named by its path (code `custom`). Runs only in the
    /// derive; a rule set on dynamic values skips it.
    Custom(String),
}

/// One rule: what it checks and an optional message that replaces the default one.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// What the rule checks.
    pub kind: RuleKind,
    /// Replaces the default failure message.
    pub message: Option<String>,
}

impl Rule {
    /// A rule with the default message.
    pub fn new(kind: RuleKind) -> Rule {
        Rule {
            kind,
            message: None,
        }
    }

    /// Sets the failure message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Rule {
        self.message = Some(message.into());
        self
    }

    /// The stable code a failure of this rule reports.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            RuleKind::Type(t) => t.code(),
            RuleKind::Required => "required",
            RuleKind::Range { .. } => "range",
            RuleKind::Length { .. } => "length",
            RuleKind::Pattern(_) => "pattern",
            RuleKind::OneOf(_) => "one_of",
            RuleKind::Each(_) => "each",
            RuleKind::Nested(_) => "nested",
            RuleKind::MustMatch(_) => "must_match",
            RuleKind::Custom(_) => "custom",
        }
    }
}

/// Displays whole numbers without a fraction (`18`, not `18.0`).
struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

fn fmt_num(n: f64) -> Num {
    Num(n)
}

pub(super) fn bound_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RuleKind::Type(t) => write!(f, "type {t}")?,
            RuleKind::Required => f.write_str("required")?,
            RuleKind::Range { min, max } => {
                f.write_str("range")?;
                if let Some(m) = min {
                    write!(f, " min={}", fmt_num(*m))?;
                }
                if let Some(m) = max {
                    write!(f, " max={}", fmt_num(*m))?;
                }
            }
            RuleKind::Length { min, max, equal } => {
                f.write_str("length")?;
                for (k, v) in [("min", min), ("max", max), ("equal", equal)] {
                    if let Some(v) = v {
                        write!(f, " {k}={v}")?;
                    }
                }
            }
            RuleKind::Pattern(p) => write!(f, "pattern {:?}", p.as_str())?,
            RuleKind::OneOf(vs) => {
                f.write_str("one_of [")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")?;
            }
            RuleKind::Each(rules) => {
                f.write_str("each(")?;
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{r}")?;
                }
                f.write_str(")")?;
            }
            RuleKind::Nested(NestedRules::Named(n)) => write!(f, "nested {n}")?,
            RuleKind::Nested(NestedRules::Inline(set)) => {
                write!(f, "nested {{{} fields}}", set.fields.len())?
            }
            RuleKind::MustMatch(other) => write!(f, "must_match {other}")?,
            RuleKind::Custom(path) => write!(f, "custom {path}")?,
        }
        if let Some(m) = &self.message {
            write!(f, " (message: {m:?})")?;
        }
        Ok(())
    }
}

/// The rules of one field.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FieldRules {
    /// The field's name as it appears in the data (serde renames applied).
    pub name: String,
    /// The rules, `required` first.
    pub rules: Vec<Rule>,
    /// Value validated in place of an absent one.
    pub default: Option<Value>,
}

impl FieldRules {
    /// A field with no rules yet.
    pub fn new(name: impl Into<String>) -> FieldRules {
        FieldRules {
            name: name.into(),
            rules: Vec::new(),
            default: None,
        }
    }

    /// Adds a rule.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> FieldRules {
        self.rules.push(rule);
        self
    }

    /// Sets the value used when the field is absent.
    #[must_use]
    pub fn default_value(mut self, value: Value) -> FieldRules {
        self.default = Some(value);
        self
    }

    /// Whether the field carries a `required` rule.
    pub fn is_required(&self) -> bool {
        self.rules.iter().any(|r| r.kind == RuleKind::Required)
    }
}

/// A named set of field rules: what a YAML rule set or a derived type checks.
///
/// `Display` lists its rules, one field per line.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RuleSet {
    /// The rule set's name (a YAML key or a derived type's name).
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<FieldRules>,
    /// How scalar types are read.
    pub coercion: Coercion,
}

impl RuleSet {
    /// An empty rule set.
    pub fn new(name: impl Into<String>) -> RuleSet {
        RuleSet {
            name: name.into(),
            fields: Vec::new(),
            coercion: Coercion::Strict,
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, field: FieldRules) -> RuleSet {
        self.fields.push(field);
        self
    }

    /// Sets the coercion mode.
    #[must_use]
    pub fn coercion(mut self, coercion: Coercion) -> RuleSet {
        self.coercion = coercion;
        self
    }

    /// The rules of `field`.
    pub fn field_rules(&self, field: &str) -> Option<&FieldRules> {
        self.fields.iter().find(|f| f.name == field)
    }
}

impl fmt::Display for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let coercion = match self.coercion {
            Coercion::Strict => "strict",
            Coercion::Lax => "lax",
        };
        write!(f, "rule set {} (coercion: {coercion})", self.name)?;
        for field in &self.fields {
            write!(f, "\n  {}:", field.name)?;
            for (i, r) in field.rules.iter().enumerate() {
                write!(f, "{}{r}", if i == 0 { " " } else { ", " })?;
            }
            if let Some(d) = &field.default {
                write!(f, " (default {d})")?;
            }
        }
        Ok(())
    }
}

/// Failure builders shared by the dynamic engine and derived code, so both report the same
/// codes, params and messages. Each `fill_*` writes a failure into an error already in place
/// (see `Checks::fail_at`); each builder returns one. Short paths and messages stay inline (see
/// [`ErrorText`]) and numeric params need no allocation.
pub mod failure {
    use super::*;

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

    /// `required` failed.
    #[cold]
    pub fn required(path: impl Into<ErrorText>, message: Option<&str>) -> FieldError {
        build(path, |e| fill_required(e, message))
    }

    pub(crate) fn fill_required(e: &mut FieldError, message: Option<&str>) {
        set_static(e, "required", message, "is required");
    }

    /// A type (or format) check failed.
    #[cold]
    pub fn type_mismatch(
        path: impl Into<ErrorText>,
        expected: ValueType,
        actual: &str,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| fill_type_mismatch(e, expected, actual, message))
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

    /// `range` failed.
    #[cold]
    pub fn range(
        path: impl Into<ErrorText>,
        min: Option<f64>,
        max: Option<f64>,
        actual: f64,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| fill_range(e, min, max, actual, message))
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

    /// `length` failed; `unit` is `characters` or `items`.
    #[cold]
    pub fn length(
        path: impl Into<ErrorText>,
        min: Option<u64>,
        max: Option<u64>,
        equal: Option<u64>,
        actual: u64,
        unit: &str,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| {
            fill_length(e, min, max, equal, actual, unit, message)
        })
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

    /// `pattern` failed.
    #[cold]
    pub fn pattern(path: impl Into<ErrorText>, pattern: &str, message: Option<&str>) -> FieldError {
        build(path, |e| fill_pattern(e, pattern, message))
    }

    pub(crate) fn fill_pattern(e: &mut FieldError, pattern: &str, message: Option<&str>) {
        set(e, "pattern", message, |b| {
            let _ = write!(b, "must match the pattern {pattern:?}");
        });
        param(e, "pattern", pattern.into());
    }

    /// `one_of` failed.
    #[cold]
    pub fn one_of(
        path: impl Into<ErrorText>,
        allowed: Vec<Value>,
        actual: Value,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| fill_one_of(e, allowed, actual, message))
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

    /// `must_match` failed.
    #[cold]
    pub fn must_match(
        path: impl Into<ErrorText>,
        other: &str,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| fill_must_match(e, other, message))
    }

    pub(crate) fn fill_must_match(e: &mut FieldError, other: &str, message: Option<&str>) {
        set(e, "must_match", message, |b| {
            b.push("must match ");
            b.push(other);
        });
        param(e, "other", other.into());
    }

    /// A `nested` rule names a rule set that is not loaded.
    #[cold]
    pub fn unknown_nested(
        path: impl Into<ErrorText>,
        name: &str,
        message: Option<&str>,
    ) -> FieldError {
        build(path, |e| fill_unknown_nested(e, name, message))
    }

    pub(crate) fn fill_unknown_nested(e: &mut FieldError, name: &str, message: Option<&str>) {
        set(e, "nested", message, |b| {
            let _ = write!(b, "unknown rule set {name:?}");
        });
        param(e, "rule_set", name.into());
    }
}
