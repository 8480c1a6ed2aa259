//! The rule model shared by `#[derive(Validate)]` and YAML rule files.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

pub mod failure;

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

/// A compiled `pattern` (the `regex` crate's engine: linear time, no catastrophic
/// backtracking). Unanchored, like JSON Schema: `a+` matches `"xxaayy"`.
#[derive(Clone)]
pub struct Pattern {
    // The engine behind `regex::Regex`, held directly because it reports its heap size, which
    // the budget of a rule document adds up.
    regex: regex_automata::meta::Regex,
    source: Arc<str>,
}

/// The `regex` crate's defaults, for patterns written in code.
const CODE_PATTERN_BYTES: usize = 10 << 20;
const CODE_PATTERN_DFA_BYTES: usize = 2 << 20;

impl Pattern {
    /// Compiles `source` with the `regex` crate's default limits (10 MiB compiled, 2 MiB of
    /// lazy DFA cache). Rule documents compile with smaller ones, see
    /// [`MAX_PATTERN_BYTES`](crate::validate::MAX_PATTERN_BYTES).
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        Pattern::with_limits(source, CODE_PATTERN_BYTES, CODE_PATTERN_DFA_BYTES)
    }

    /// Compiles `source` as `regex::Regex::new` does, with `size_limit` bytes for the compiled
    /// program and `dfa_size_limit` for each lazy DFA cache; fails as `regex::Regex::new` does
    /// (`CompiledTooBig` past `size_limit`).
    pub(crate) fn with_limits(
        source: &str,
        size_limit: usize,
        dfa_size_limit: usize,
    ) -> Result<Pattern, regex::Error> {
        use regex_automata::{MatchKind, meta, util::syntax};
        let config = meta::Config::new()
            .nfa_size_limit(Some(size_limit))
            .hybrid_cache_capacity(dfa_size_limit)
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(true);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(true))
            .build(source)
            .map_err(|e| match e.size_limit() {
                Some(limit) => regex::Error::CompiledTooBig(limit),
                None => regex::Error::Syntax(
                    e.syntax_error()
                        .map_or_else(|| e.to_string(), ToString::to_string),
                ),
            })?;
        Ok(Pattern {
            regex,
            source: Arc::from(source),
        })
    }

    /// Heap bytes held by the compiled pattern (its lazy DFA caches, bounded separately and
    /// filled while matching, not included).
    pub(crate) fn memory_usage(&self) -> usize {
        self.regex.memory_usage()
    }

    /// The pattern's source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `s` contains a match.
    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

impl fmt::Debug for Pattern {
    // The engine's own `Debug` prints its whole internal state; the source says it all.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.as_str()).finish()
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
            RuleKind::OneOf(vs) => write_list(f, "one_of [", vs, "]")?,
            RuleKind::Each(rules) => write_list(f, "each(", rules, ")")?,
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

/// `open`, the items separated by `, `, then `close`.
fn write_list<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    items: &[T],
    close: &str,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str(close)
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
