//! YAML rule sets through the public API: the guide's format, the full vocabulary, the
//! validator and its report, and property tests that no input panics (every kind of bad rule
//! document: `validate_yaml_refusals.rs`).

use coord::{RuleLoadError, RuleSet};
use proptest::prelude::*;
use serde_json::{Value, json};

mod support;

use support::{pairs, paths_and_rules};

fn load(yaml: &str) -> Vec<String> {
    coord::rules()
        .load_yaml(yaml)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn set(name: &str) -> std::sync::Arc<RuleSet> {
    coord::rules().get(name).expect("loaded")
}

fn codes(set: &RuleSet, v: Value) -> Vec<(String, String)> {
    support::codes(&set.validate_value(&v))
}

/// The guide's rule file, as `examples/custom_rules.rs` loads it.
const GUIDE: &str = include_str!("../examples/user_profile.yaml");

#[test]
fn guide_format_loads_as_written() {
    assert_eq!(load(GUIDE), ["user_profile"]);
    let s = set("user_profile");
    assert!(coord::rules().names().contains(&"user_profile".to_string()));
    let ok = s.validate_value(&json!({"name": "Ada", "email": "ada@example.com", "age": 36}));
    assert!(ok.is_valid);
    assert_eq!(ok.score, 100.0);
    let bad = s.validate_value(&json!({"name": "A", "age": 12.5}));
    assert_eq!(
        paths_and_rules(&bad),
        [
            ("email", "required"),
            ("age", "type"),
            ("age", "range"),
            ("name", "length")
        ]
    );
    // email: required fails, its type rule is not applicable; age: required ok, type fails,
    // range fails; name: required ok, type ok, length fails.
    assert_eq!((bad.passed, bad.applicable), (3, 7));
    let text = s.to_string();
    assert!(text.contains("rule set user_profile"), "{text}");
    assert!(
        text.contains("age: required, type integer, range min=18 max=120"),
        "{text}"
    );
}

#[test]
fn full_vocabulary() {
    load(
        r#"
yaml_vocab_address:
  field_validations:
    zip: {type: string, equal: 5}
yaml_vocab:
  field_validations:
    id: {type: uuid}
    at: {type: datetime}
    site: {type: url}
    flag: {type: boolean}
    ratio: {type: number, min: 0, max: 1}
    code: {type: string, pattern: "^[A-Z]{3}$", messages: {pattern: "three capitals"}}
    level: {one_of: [low, normal, high], default: normal}
    tags: {type: array, max_length: 2, each: {type: string, min_length: 2}}
    limits: {type: object, each: {type: integer, max: 10}}
    address: {nested: yaml_vocab_address}
    inline: {nested: {required_fields: [x], field_validations: {x: {type: integer}}}}
    password: {type: string}
    confirm: {must_match: password, message: "passwords differ"}
"#,
    );
    let s = set("yaml_vocab");
    let good = json!({
        "id": "2eb8aa08-aa98-11ea-b4aa-73b441d16380", "at": "2024-01-01T00:00:00+01:00",
        "site": "https://x.example", "flag": true, "ratio": 0.5, "code": "ABC",
        "tags": ["ab"], "limits": {"eu": 3}, "address": {"zip": "12345"},
        "inline": {"x": 1}, "password": "p", "confirm": "p"
    });
    let r = s.validate_value(&good);
    assert!(r.is_valid, "{r}");
    let bad = json!({
        "id": "x", "at": "yesterday", "site": "nope", "flag": "true", "ratio": 2,
        "code": "abc", "level": "urgent", "tags": ["a", "bb", "cc"], "limits": {"eu": 30},
        "address": {"zip": "1"}, "inline": {}, "password": "p", "confirm": "q"
    });
    let r = s.validate_value(&bad);
    assert_eq!(
        paths_and_rules(&r),
        [
            ("id", "uuid"),
            ("at", "datetime"),
            ("site", "url"),
            ("flag", "type"),
            ("ratio", "range"),
            ("code", "pattern"),
            ("level", "one_of"),
            ("tags", "length"),
            ("tags[0]", "length"),
            ("limits[\"eu\"]", "range"),
            ("address.zip", "length"),
            ("inline.x", "required"),
            ("confirm", "must_match"),
        ]
    );
    assert_eq!(r.errors[5].message, "three capitals");
    assert_eq!(r.errors[12].message, "passwords differ");
    let schema = s.to_json_schema();
    assert_eq!(schema["properties"]["code"]["pattern"], json!("^[A-Z]{3}$"));
    assert_eq!(schema["properties"]["tags"]["maxItems"], json!(2));
    assert_eq!(schema["properties"]["id"]["format"], json!("uuid"));
    assert_eq!(
        schema["properties"]["address"]["$ref"],
        json!("#/$defs/yaml_vocab_address")
    );
    assert_eq!(
        schema["$defs"]["yaml_vocab_address"]["properties"]["zip"]["minLength"],
        json!(5)
    );
    assert_eq!(schema["properties"]["level"]["default"], json!("normal"));
}

#[test]
fn coercion_lax_accepts_numeric_strings() {
    load(
        "yaml_lax:\n  coercion: lax\n  field_validations:\n    n: {type: integer, min: 1, max: 100}\n    b: {type: boolean}\n",
    );
    load("yaml_strict:\n  field_validations:\n    n: {type: integer}\n");
    assert!(
        set("yaml_lax")
            .validate_value(&json!({"n": "42", "b": "true"}))
            .is_valid
    );
    assert_eq!(
        codes(&set("yaml_lax"), json!({"n": "420"})),
        pairs(&[("n", "range")])
    );
    assert_eq!(
        codes(&set("yaml_lax"), json!({"n": "4.5"})),
        pairs(&[("n", "type")])
    );
    assert_eq!(
        codes(&set("yaml_strict"), json!({"n": "42"})),
        pairs(&[("n", "type")])
    );
}

#[test]
fn load_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("coord-validate-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "yaml_file_set:\n  field_validations:\n    a: {type: string}\n",
    )
    .unwrap();
    assert_eq!(coord::rules().load_file(&good).unwrap(), ["yaml_file_set"]);
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "yaml_file_bad:\n  field_validations:\n    a: {typ: string}\n",
    )
    .unwrap();
    let e = coord::rules().load_file(&bad).unwrap_err();
    assert!(e.to_string().starts_with(&bad.display().to_string()), "{e}");
    assert!(e.to_string().contains("did you mean `type`?"), "{e}");
    let missing = coord::rules()
        .load_file(dir.join("missing.yaml"))
        .unwrap_err();
    assert!(matches!(missing, RuleLoadError::Io { .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn message_structure_and_report() {
    let v = coord::validator();
    let ok = v.validate_message_structure(&json!({
        "content": "Hello, world!", "user_id": "user_123",
        "timestamp": "2024-01-01T12:00:00Z", "priority": "high"
    }));
    assert!(ok.is_valid);
    assert_eq!(ok.score, 100.0);
    // priority defaults to normal.
    let defaulted = v.validate_message_structure(
        &json!({"content": "x", "user_id": "u", "timestamp": "2024-01-01T12:00:00Z"}),
    );
    assert!(defaulted.is_valid, "{defaulted}");
    let bad = v.validate_message_structure(
        &json!({"content": "", "priority": "urgent", "timestamp": "noon"}),
    );
    assert_eq!(
        paths_and_rules(&bad),
        [
            ("content", "length"),
            ("user_id", "required"),
            ("timestamp", "datetime"),
            ("priority", "one_of")
        ]
    );
    let report = v.validation_report();
    let m = report.rule_set("message").expect("message in report");
    assert!(m.total >= 3 && m.invalid >= 1);
    assert!(
        v.failures("message")
            .iter()
            .any(|f| f.path == "user_id" && f.rule == "required")
    );
    assert!(report.to_string().contains("validation:"));
}

#[test]
fn validate_with_serializes_and_records() {
    load("yaml_with:\n  field_validations:\n    tags: {each: {type: string, min_length: 2}}\n");
    #[derive(serde::Serialize)]
    struct Post {
        tags: Vec<&'static str>,
    }
    let r = coord::validator().validate_with(
        &set("yaml_with"),
        &Post {
            tags: vec!["ok", "x", "y"],
        },
    );
    assert_eq!(r.errors.len(), 2);
    let report = coord::validator().validation_report();
    let entry = report.rule_set("yaml_with").unwrap();
    assert_eq!((entry.total, entry.invalid), (1, 1));
    // Item indices are folded so every item's failure aggregates under one key.
    let failures = coord::validator().failures("yaml_with");
    assert_eq!(failures.len(), 1);
    assert_eq!(
        (failures[0].path.as_str(), failures[0].count),
        ("tags[*]", 2)
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("email".to_string()),
                    Just("age".to_string()),
                    Just("tags".to_string()),
                    Just("address".to_string()),
                    ".{0,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const PROP_RULES: &str = r#"
yaml_prop_address:
  field_validations:
    zip: {type: string, equal: 5, pattern: "^[0-9]+$"}
    address: {nested: yaml_prop_address}
yaml_prop:
  coercion: lax
  required_fields: [name]
  field_validations:
    name: {type: string, min_length: 2, max_length: 50}
    email: {type: email}
    age: {type: integer, min: 18, max: 120, one_of: [18, 30, "40"]}
    tags: {type: array, max_length: 5, each: {type: url, min_length: 1}}
    address: {nested: yaml_prop_address, must_match: name}
    other: {type: datetime}
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_values_never_panic(v in arb_json()) {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| { coord::rules().load_yaml(PROP_RULES).unwrap(); });
        let set = coord::rules().get("yaml_prop").unwrap();
        let r = set.validate_value(&v);
        prop_assert!(r.passed <= r.applicable);
        prop_assert!((0.0..=100.0).contains(&r.score));
        prop_assert_eq!(r.is_valid, r.errors.is_empty());
        let via = coord::validator().validate_with(&set, &v);
        prop_assert_eq!(via.is_valid, r.is_valid);
    }

    #[test]
    fn arbitrary_yaml_never_panics(src in prop_oneof![
        ".{0,200}",
        "[a-z_:{}\\[\\], \n\"&*!-]{0,120}",
        "(yaml_p[a-z]{0,2}:\n  (required_fields: \\[[a-z, ]{0,10}\\]\n  )?field_validations:\n    [a-z]{1,3}: \\{[a-z_: 0-9,\\-]{0,40}\\}\n){1,2}",
    ]) {
        let _ = coord::rules().load_yaml(&src);
    }
}

#[derive(coord::Validate)]
struct StressDerived {
    #[validate(range(max = 10))]
    n: u32,
}

#[test]
fn concurrent_validations_are_all_counted() {
    use coord::Validate as _;
    load("yaml_stress:\n  field_validations:\n    n: {type: integer, max: 10}\n");
    let s = set("yaml_stress");
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2_000;
    let barrier = std::sync::Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (s, barrier) = (&s, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    let n = if i % 2 == 0 { 5 } else { 50 };
                    let r = coord::validator().validate_with(s, &json!({ "n": n }));
                    assert_eq!(r.is_valid, n == 5);
                    let d = StressDerived { n: n as u32 }.validate();
                    assert_eq!(d.is_valid, n == 5);
                    // Loading other rule sets meanwhile must not block or disturb validation.
                    if i % 500 == 0 {
                        load(&format!(
                            "yaml_stress_side_{t}:\n  field_validations:\n    a: {{type: string}}\n"
                        ));
                    }
                }
            });
        }
    });
    let total = (THREADS * PER_THREAD) as u64;
    let report = coord::validator().validation_report();
    // yaml_stress: type + range per validation; StressDerived: range only.
    for (name, checks) in [("yaml_stress", 2), ("StressDerived", 1)] {
        let entry = report.rule_set(name).unwrap();
        assert_eq!(
            (entry.total, entry.valid, entry.invalid),
            (total, total / 2, total / 2),
            "{name}"
        );
        let passed = total / 2 * checks + total / 2 * (checks - 1);
        assert_eq!(
            (entry.passed_checks, entry.applicable_checks),
            (passed, total * checks),
            "{name}"
        );
        let failures = coord::validator().failures(name);
        assert_eq!(failures.len(), 1, "{name}");
        assert_eq!(
            (failures[0].path.as_str(), failures[0].count),
            ("n", total / 2),
            "{name}"
        );
    }
    assert!(coord::rules().get("StressDerived").is_some());
}
