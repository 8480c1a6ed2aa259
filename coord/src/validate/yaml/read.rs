//! Reading one YAML value of a rule document: what a key must hold, and the typed error naming
//! the rule set, field and key when it holds something else.

use serde_json::Value;
use serde_norway::Value as Yaml;

use super::RuleLoadError;
use crate::naming::closest;

pub(super) fn kind(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a sequence",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// Where in the document a rule set or field sits, for error messages.
pub(super) struct At<'a> {
    pub(super) set: &'a str,
    pub(super) field: Option<&'a str>,
}

impl At<'_> {
    pub(super) fn invalid(&self, key: &str, message: impl Into<String>) -> RuleLoadError {
        RuleLoadError::InvalidValue {
            rule_set: self.set.to_owned(),
            field: self.field.map(str::to_owned),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    pub(super) fn unknown(&self, key: &str, known: &[&str]) -> RuleLoadError {
        RuleLoadError::UnknownKey {
            rule_set: self.set.to_owned(),
            field: self.field.map(str::to_owned),
            key: key.to_owned(),
            suggestion: closest(key, known.iter().copied()),
        }
    }
}

pub(super) fn mapping<'a>(
    v: &'a Yaml,
    at: &At<'_>,
    key: &str,
) -> Result<&'a serde_norway::Mapping, RuleLoadError> {
    v.as_mapping()
        .ok_or_else(|| at.invalid(key, format!("must be a mapping, found {}", kind(v))))
}

pub(super) fn str_key<'a>(k: &'a Yaml, at: &At<'_>) -> Result<&'a str, RuleLoadError> {
    k.as_str()
        .ok_or_else(|| at.invalid("(key)", format!("keys must be strings, found {}", kind(k))))
}

/// `MinAboveMax` (naming `keys`) when both bounds are set and `lo > hi`.
pub(super) fn bounds_in_order<T: PartialOrd>(
    lo: Option<T>,
    hi: Option<T>,
    [min_key, max_key]: [&'static str; 2],
    set: &str,
    place: &str,
) -> Result<(), RuleLoadError> {
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo > hi => Err(RuleLoadError::MinAboveMax {
            rule_set: set.to_owned(),
            field: place.to_owned(),
            min_key,
            max_key,
        }),
        _ => Ok(()),
    }
}

pub(super) fn number(v: &Yaml, at: &At<'_>, key: &str) -> Result<f64, RuleLoadError> {
    match v.as_f64() {
        Some(f) if f.is_finite() => Ok(f),
        // YAML calls `.nan` and `.inf` numbers; as bounds they would silently refuse or accept
        // every value, so say which one was written and why it cannot serve.
        Some(f) if f.is_nan() => Err(at.invalid(
            key,
            "must be a finite number, found NaN (`.nan`): no value compares with NaN, so it cannot be a bound",
        )),
        Some(f) => Err(at.invalid(
            key,
            format!(
                "must be a finite number, found {}infinity (`.inf` or a literal too large for f64)",
                if f < 0.0 { "negative " } else { "" }
            ),
        )),
        None => Err(at.invalid(key, format!("must be a number, found {}", kind(v)))),
    }
}

pub(super) fn count(v: &Yaml, at: &At<'_>, key: &str) -> Result<u64, RuleLoadError> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    match v.as_f64() {
        // `2.0` is a whole count; JSON Schema suites write lengths that way.
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => Ok(f as u64),
        _ => Err(at.invalid(
            key,
            format!("must be a non-negative whole number, found {}", describe(v)),
        )),
    }
}

pub(super) fn describe(v: &Yaml) -> String {
    match v {
        Yaml::Number(n) => n.to_string(),
        other => kind(other).to_owned(),
    }
}

pub(super) fn to_json(v: &Yaml, at: &At<'_>, key: &str) -> Result<Value, RuleLoadError> {
    if matches!(v, Yaml::Tagged(_)) {
        return Err(at.invalid(key, "must not hold tagged YAML values"));
    }
    serde_json::to_value(v)
        .map_err(|e| at.invalid(key, format!("has a value JSON cannot hold: {e}")))
}
