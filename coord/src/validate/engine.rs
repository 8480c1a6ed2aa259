//! Applying a [`RuleSet`] to a `serde_json::Value`.

use std::borrow::Cow;

use serde_json::Value;

use super::formats;
use super::result::{Checks, FieldPath, ValidationResult};
use super::rule::{Coercion, NestedRules, Rule, RuleKind, RuleSet, ValueType, failure};

/// How deep `nested` rule sets may recurse (a rule set that nests itself stops here).
const MAX_NESTING: usize = 64;

impl RuleSet {
    /// Validates `value` against this rule set. Pure: records nothing in the validation report
    /// (use [`crate::Validator::validate_with`] for that).
    pub fn validate_value(&self, value: &Value) -> ValidationResult {
        let mut checks = Checks::new();
        self.check_into(value, &FieldPath::Root, &mut checks);
        checks.finish()
    }

    /// Validates `value` below `path`, adding to `checks`.
    pub fn check_into(&self, value: &Value, path: &FieldPath<'_>, checks: &mut Checks) {
        check_set(self, value, path, checks, 0);
    }
}

fn check_set(
    set: &RuleSet,
    value: &Value,
    path: &FieldPath<'_>,
    checks: &mut Checks,
    depth: usize,
) {
    let Value::Object(obj) = value else {
        checks.fail_at(path, |e| {
            failure::fill_type_mismatch(e, ValueType::Object, json_type(value), None);
        });
        return;
    };
    for field in &set.fields {
        let fpath = path.field(&field.name);
        let v = match obj.get(field.name.as_str()) {
            None | Some(Value::Null) => field.default.as_ref(),
            Some(v) => Some(v),
        };
        let Some(v) = v else {
            for rule in &field.rules {
                if rule.kind == RuleKind::Required {
                    checks.fail_at(&fpath, |e| {
                        failure::fill_required(e, rule.message.as_deref())
                    });
                }
            }
            continue;
        };
        let cx = Cx {
            coercion: set.coercion,
            siblings: obj,
            depth,
        };
        apply_rules(&field.rules, v, &fpath, checks, &cx);
    }
}

struct Cx<'a> {
    coercion: Coercion,
    siblings: &'a serde_json::Map<String, Value>,
    depth: usize,
}

fn apply_rules(rules: &[Rule], v: &Value, path: &FieldPath<'_>, checks: &mut Checks, cx: &Cx<'_>) {
    for rule in rules {
        apply(rule, v, path, checks, cx);
    }
}

fn apply(rule: &Rule, v: &Value, path: &FieldPath<'_>, checks: &mut Checks, cx: &Cx<'_>) {
    let msg = rule.message.as_deref();
    match &rule.kind {
        RuleKind::Required => checks.pass(),
        RuleKind::Type(t) => {
            let ok = has_type(v, *t, cx.coercion);
            checks.check_at(ok, path, |e| {
                failure::fill_type_mismatch(e, *t, json_type(v), msg)
            });
        }
        RuleKind::Range { min, max } => {
            let Some(n) = number(v, cx.coercion) else {
                return; // not a number: the `type` rule reports it
            };
            let ok = min.is_none_or(|lo| n >= lo) && max.is_none_or(|hi| n <= hi);
            checks.check_at(ok, path, |e| failure::fill_range(e, *min, *max, n, msg));
        }
        RuleKind::Length { min, max, equal } => {
            let (len, unit) = match v {
                Value::String(s) => (s.chars().count() as u64, "characters"),
                Value::Array(a) => (a.len() as u64, "items"),
                Value::Object(o) => (o.len() as u64, "entries"),
                _ => return,
            };
            let ok = length_ok(len, *min, *max, *equal);
            checks.check_at(ok, path, |e| {
                failure::fill_length(e, *min, *max, *equal, len, unit, msg)
            });
        }
        RuleKind::Pattern(p) => {
            let Value::String(s) = v else { return };
            checks.check_at(p.is_match(s), path, |e| {
                failure::fill_pattern(e, p.as_str(), msg);
            });
        }
        RuleKind::OneOf(allowed) => {
            let coerced = coerce_for_compare(v, allowed, cx.coercion);
            let ok = allowed.iter().any(|a| json_eq(a, &coerced));
            checks.check_at(ok, path, |e| {
                failure::fill_one_of(e, allowed.clone(), v.clone(), msg)
            });
        }
        RuleKind::Each(items) => match v {
            Value::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    let p = path.index(i);
                    apply_item(items, item, &p, checks, cx);
                }
            }
            Value::Object(o) => {
                for (k, item) in o {
                    let p = path.key(k);
                    apply_item(items, item, &p, checks, cx);
                }
            }
            _ => {}
        },
        RuleKind::Nested(nested) => {
            if cx.depth >= MAX_NESTING {
                return;
            }
            match nested {
                NestedRules::Inline(set) => check_set(set, v, path, checks, cx.depth + 1),
                NestedRules::Named(name) => match super::rules().get(name) {
                    Some(set) => check_set(&set, v, path, checks, cx.depth + 1),
                    None => checks.fail_at(path, |e| failure::fill_unknown_nested(e, name, msg)),
                },
            }
        }
        RuleKind::MustMatch(other) => {
            let ok = cx
                .siblings
                .get(other.as_str())
                .is_some_and(|o| json_eq(o, v));
            checks.check_at(ok, path, |e| failure::fill_must_match(e, other, msg));
        }
        RuleKind::Custom(_) => {}
    }
}

/// An item of `each`: null items are absent, so only `required` applies to them.
fn apply_item(
    rules: &[Rule],
    item: &Value,
    path: &FieldPath<'_>,
    checks: &mut Checks,
    cx: &Cx<'_>,
) {
    if item.is_null() {
        for rule in rules {
            if rule.kind == RuleKind::Required {
                checks.fail_at(path, |e| failure::fill_required(e, rule.message.as_deref()));
            }
        }
        return;
    }
    apply_rules(rules, item, path, checks, cx);
}

/// Inclusive length bounds shared with derived code.
#[inline]
pub(crate) fn length_ok(len: u64, min: Option<u64>, max: Option<u64>, equal: Option<u64>) -> bool {
    min.is_none_or(|m| len >= m) && max.is_none_or(|m| len <= m) && equal.is_none_or(|e| len == e)
}

fn has_type(v: &Value, t: ValueType, coercion: Coercion) -> bool {
    let lax = coercion == Coercion::Lax;
    match (t, v) {
        (ValueType::String, Value::String(_)) => true,
        (ValueType::Integer, Value::Number(n)) => is_integral(n),
        (ValueType::Integer, Value::String(s)) if lax => s
            .trim()
            .parse::<f64>()
            .is_ok_and(|f| f.is_finite() && f.fract() == 0.0),
        (ValueType::Number, Value::Number(_)) => true,
        (ValueType::Number, Value::String(s)) if lax => {
            s.trim().parse::<f64>().is_ok_and(f64::is_finite)
        }
        (ValueType::Boolean, Value::Bool(_)) => true,
        (ValueType::Boolean, Value::String(s)) if lax => s == "true" || s == "false",
        (ValueType::Array, Value::Array(_)) => true,
        (ValueType::Object, Value::Object(_)) => true,
        (ValueType::Email, Value::String(s)) => formats::is_email(s),
        (ValueType::Url, Value::String(s)) => formats::is_url(s),
        (ValueType::Uuid, Value::String(s)) => formats::is_uuid(s),
        (ValueType::DateTime, Value::String(s)) => formats::is_datetime(s),
        _ => false,
    }
}

fn is_integral(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn number(v: &Value, coercion: Coercion) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if coercion == Coercion::Lax => {
            s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

/// Under lax coercion a string compares with numeric or boolean members by its parsed value.
fn coerce_for_compare<'a>(v: &'a Value, allowed: &[Value], coercion: Coercion) -> Cow<'a, Value> {
    if coercion == Coercion::Lax
        && let Value::String(s) = v
    {
        if allowed.iter().any(Value::is_number)
            && let Some(n) = s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        {
            return Cow::Owned(Value::Number(n));
        }
        if allowed.iter().any(Value::is_boolean) && (s == "true" || s == "false") {
            return Cow::Owned(Value::Bool(s == "true"));
        }
    }
    Cow::Borrowed(v)
}

/// JSON equality with numbers compared by value (`1 == 1.0`), as in JSON Schema.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// The JSON type name of a value, for error params.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integral(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
