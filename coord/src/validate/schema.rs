//! JSON Schema (draft 2020-12) export of a [`RuleSet`].

use serde_json::{Map, Value, json};

use super::rule::{NestedRules, Rule, RuleKind, RuleSet, ValueType, bound_value};

impl RuleSet {
    /// The rule set as a JSON Schema (draft 2020-12). Named nested rule sets become
    /// `$ref`s into `$defs`, resolved from the registry; `custom` rules and messages have no
    /// JSON Schema form and are left out.
    pub fn to_json_schema(&self) -> Value {
        let mut defs = Map::new();
        let mut schema = object_schema(self, &mut defs, 0);
        if let Value::Object(m) = &mut schema {
            let mut out = Map::new();
            out.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
            out.insert("title".into(), json!(self.name));
            out.append(m);
            if !defs.is_empty() {
                out.insert("$defs".into(), Value::Object(defs));
            }
            return Value::Object(out);
        }
        schema
    }
}

const MAX_SCHEMA_DEPTH: usize = 32;

fn object_schema(set: &RuleSet, defs: &mut Map<String, Value>, depth: usize) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for field in &set.fields {
        if field.is_required() {
            required.push(json!(field.name));
        }
        let mut s = rules_schema(&field.rules, defs, depth);
        if let (Some(d), Value::Object(m)) = (&field.default, &mut s) {
            m.insert("default".into(), d.clone());
        }
        props.insert(field.name.clone(), s);
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Value::Object(out)
}

fn rules_schema(rules: &[Rule], defs: &mut Map<String, Value>, depth: usize) -> Value {
    let mut m = Map::new();
    let ty = rules.iter().find_map(|r| match r.kind {
        RuleKind::Type(t) => Some(t),
        _ => None,
    });
    for rule in rules {
        match &rule.kind {
            RuleKind::Type(t) => {
                let (json_type, format) = match t {
                    ValueType::Email => ("string", Some("email")),
                    ValueType::Url => ("string", Some("uri")),
                    ValueType::Uuid => ("string", Some("uuid")),
                    ValueType::DateTime => ("string", Some("date-time")),
                    other => (other.as_str(), None),
                };
                m.insert("type".into(), json!(json_type));
                if let Some(f) = format {
                    m.insert("format".into(), json!(f));
                }
            }
            RuleKind::Required | RuleKind::Custom(_) => {}
            RuleKind::Range { min, max } => {
                if let Some(v) = min {
                    m.insert("minimum".into(), bound_value(*v));
                }
                if let Some(v) = max {
                    m.insert("maximum".into(), bound_value(*v));
                }
            }
            RuleKind::Length { min, max, equal } => {
                let (lo, hi) = match ty {
                    Some(ValueType::Array) => ("minItems", "maxItems"),
                    Some(ValueType::Object) => ("minProperties", "maxProperties"),
                    _ => ("minLength", "maxLength"),
                };
                if let Some(v) = equal.or(*min) {
                    m.insert(lo.into(), json!(v));
                }
                if let Some(v) = equal.or(*max) {
                    m.insert(hi.into(), json!(v));
                }
            }
            RuleKind::Pattern(p) => {
                m.insert("pattern".into(), json!(p.as_str()));
            }
            RuleKind::OneOf(vs) => {
                m.insert("enum".into(), Value::Array(vs.clone()));
            }
            RuleKind::Each(items) => {
                let item = rules_schema(items, defs, depth);
                if ty == Some(ValueType::Object) {
                    m.insert("additionalProperties".into(), item);
                } else {
                    m.insert("items".into(), item);
                }
            }
            RuleKind::Nested(NestedRules::Inline(set)) if depth < MAX_SCHEMA_DEPTH => {
                if let Value::Object(inner) = object_schema(set, defs, depth + 1) {
                    m.extend(inner);
                }
            }
            RuleKind::Nested(NestedRules::Named(name)) => {
                m.insert("$ref".into(), json!(format!("#/$defs/{name}")));
                if !defs.contains_key(name) && depth < MAX_SCHEMA_DEPTH {
                    defs.insert(name.clone(), Value::Bool(true));
                    if let Some(set) = super::rules().get(name) {
                        let s = object_schema(&set, defs, depth + 1);
                        defs.insert(name.clone(), s);
                    }
                }
            }
            RuleKind::Nested(NestedRules::Inline(_)) => {}
            RuleKind::MustMatch(_) => {}
        }
    }
    Value::Object(m)
}
