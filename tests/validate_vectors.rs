//! External test vectors (tests/data/vectors, see its README.md) through coord's public API:
//! JSON-Schema-Test-Suite cases in coord's rule vocabulary, the `validator` crate's email and URL
//! tables, the WHATWG URL tests and the JSON Schema uuid/date-time formats.
//!
//! Expected verdicts follow the suites except for the deliberate differences documented in
//! `coord::validate` (numbered there):
//! 1. a typed rule fails a value of another JSON type ("non-applicable type" cases);
//! 2. `null` is an absent value, so only `required` applies to it;
//! 3. email follows the HTML5 rule (the `validator` crate's verdict where it and JSON Schema
//!    disagree);
//! 4. URL follows WHATWG (`url::Url::parse`, the `validator` crate's verdict);
//! 7. an untyped `min_length`/`max_length` counts a string's characters (JSON Schema's
//!    `minItems`/`maxItems` ignore strings).

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

fn load(file: &str) -> Value {
    let path = format!("{}/tests/data/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Loads `{field_validations: {v: rule}}` (JSON is YAML) under a fresh name.
fn field_rule_set(rule: &Value) -> std::sync::Arc<coord::RuleSet> {
    let name = format!("vector_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let doc = json!({ &name: { "field_validations": { "v": rule } } });
    coord::rules()
        .load_yaml(&doc.to_string())
        .unwrap_or_else(|e| panic!("{rule}: {e}"));
    coord::rules().get(&name).unwrap()
}

fn note(case: &Value) -> &str {
    case.get("note").and_then(Value::as_str).unwrap_or("")
}

/// coord's verdict for a field case, derived from the suite's verdict and differences 1, 2 and 7.
fn coord_expected(source: &str, rule: &Value, case: &Value, typed: bool) -> bool {
    let value = &case["value"];
    if let (false, true, Value::String(s)) = (typed, source.contains("Items.json"), value) {
        // Difference 7: an untyped `min_length`/`max_length` counts a string's characters.
        let n = s.chars().count() as f64;
        let lo = rule["min_length"].as_f64().unwrap_or(0.0);
        let hi = rule["max_length"].as_f64().unwrap_or(f64::INFINITY);
        return lo <= n && n <= hi;
    }
    let suite = case["valid"].as_bool().unwrap();
    if value.is_null() {
        return true; // difference 2
    }
    if typed && note(case).contains("non-applicable type") {
        return false; // difference 1
    }
    suite
}

fn run_groups(doc: &Value) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for group in doc["groups"].as_array().unwrap() {
        let source = group["source"].as_str().unwrap();
        let mut variants = vec![(true, &group["rule"])];
        if let Some(untyped) = group.get("rule_untyped") {
            variants.push((false, untyped));
        }
        for (typed, rule) in variants {
            let set = field_rule_set(rule);
            for case in group["cases"].as_array().unwrap() {
                count += 1;
                let r = set.validate_value(&json!({ "v": case["value"] }));
                let want = coord_expected(source, rule, case, typed);
                if r.is_valid != want {
                    failures.push(format!(
                        "{source} [{}] {} typed={typed}: coord {} want {want} ({:?})",
                        case["description"], case["value"], r.is_valid, r.errors
                    ));
                }
            }
        }
    }
    (count, failures)
}

#[test]
fn json_schema_field_rules() {
    let (count, failures) = run_groups(&load("json_schema_cases.json"));
    assert!(count >= 155, "{count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_schema_rule_sets() {
    let doc = load("json_schema_cases.json");
    let mut failures = Vec::new();
    let mut count = 0;
    for group in doc["ruleset_cases"].as_array().unwrap() {
        let name = format!("vector_set_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let yaml = json!({ &name: group["ruleset"] }).to_string();
        coord::rules().load_yaml(&yaml).unwrap();
        let set = coord::rules().get(&name).unwrap();
        for case in group["cases"].as_array().unwrap() {
            count += 1;
            let value = &case["value"];
            // Difference 1: a non-object input fails the rule set's object type.
            let want = value.is_object() && case["valid"].as_bool().unwrap();
            let r = set.validate_value(value);
            if r.is_valid != want {
                failures.push(format!(
                    "{} {value}: coord {} want {want}",
                    group["source"], r.is_valid
                ));
            }
        }
    }
    assert_eq!(count, 24);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_schema_formats_uuid_and_datetime() {
    let (count, failures) = run_groups(&load("json_schema_formats.json"));
    assert_eq!(count, 61);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().or_else(|| x["value"].as_str()).unwrap())
        .collect()
}

/// Runs one string through a `{type: <ty>}` rule set and through the bare format function.
fn format_verdict(set: &coord::RuleSet, s: &str) -> bool {
    set.validate_value(&json!({ "v": s })).is_valid
}

/// The `json_schema_suite` section of a format table: the agreed verdicts, and the validator
/// crate's verdict where JSON Schema disagrees.
fn check_json_schema_suite(suite: &Value, check: &mut impl FnMut(&str, bool, &str)) {
    for s in strings(&suite["agree"]["valid"]) {
        check(s, true, "json schema agree valid");
    }
    for s in strings(&suite["agree"]["invalid"]) {
        check(s, false, "json schema agree invalid");
    }
    for case in suite["disagree"].as_array().unwrap() {
        let s = case["value"].as_str().unwrap();
        check(
            s,
            case["validator_crate_valid"].as_bool().unwrap(),
            "disagree",
        );
    }
}

/// Checks the `validator` crate's table of `doc`: its `valid` strings must pass, its `invalid`
/// ones must fail.
fn check_validator_table(doc: &Value, check: &mut impl FnMut(&str, bool, &str)) {
    for s in strings(&doc["valid"]) {
        check(s, true, "validator valid");
    }
    for s in strings(&doc["invalid"]) {
        check(s, false, "validator invalid");
    }
}

#[test]
fn email_tables() {
    let doc = load("emails.json");
    let set = field_rule_set(&json!({"type": "email"}));
    let mut failures = Vec::new();
    let mut check = |s: &str, want: bool, why: &str| {
        if format_verdict(&set, s) != want {
            failures.push(format!("{why}: {s:?} want {want}"));
        }
    };
    check_validator_table(&doc, &mut check);
    let suite = &doc["json_schema_suite"];
    // Difference 3: where the suites disagree, coord follows the HTML5 rule (validator's verdict).
    check_json_schema_suite(suite, &mut check);
    for case in suite["non_string"].as_array().unwrap() {
        let r = set.validate_value(&json!({ "v": case["value"] }));
        if r.is_valid != case["value"].is_null() {
            failures.push(format!("non-string {}", case["value"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn url_tables() {
    let doc = load("urls.json");
    let set = field_rule_set(&json!({"type": "url"}));
    let mut failures = Vec::new();
    let mut count = 0;
    let mut check = |s: &str, want: bool, why: &str| {
        count += 1;
        if format_verdict(&set, s) != want {
            failures.push(format!("{why}: {s:?} want {want}"));
        }
        if coord::validate::formats::is_url(s) != url::Url::parse(s).is_ok() {
            failures.push(format!("{why}: {s:?} differs from url::Url::parse"));
        }
    };
    check_validator_table(&doc, &mut check);
    let w = &doc["whatwg_url_parser"];
    for key in [
        "valid_special_scheme",
        "valid_other_scheme",
        "valid_only_after_whitespace_stripping",
    ] {
        for s in strings(&w[key]) {
            check(s, true, key);
        }
    }
    for s in strings(&w["invalid"]) {
        check(s, false, "whatwg invalid");
    }
    let suite = &doc["json_schema_suite"];
    // Difference 4: where RFC 3986 and WHATWG disagree, coord follows WHATWG.
    check_json_schema_suite(suite, &mut check);
    assert_eq!(count, 7 + 541 + 24 + 16);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
