//! Every kind of bad YAML rule document through the public API: each is refused with a typed
//! error saying what is wrong and where (rule set, field, key, line), and hostile documents
//! (huge patterns, alias bombs, deep nesting) are refused quickly.

use coord::RuleLoadError;
use coord::validate::PatternLimit;

fn load(yaml: &str) -> Vec<String> {
    coord::rules()
        .load_yaml(yaml)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(yaml: &str) -> RuleLoadError {
    coord::rules().load_yaml(yaml).expect_err("must be refused")
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = load_err("yaml_bad:\n  field_validations:\n    a: {type: string\n");
    match &e {
        RuleLoadError::Syntax { line, column, .. } => {
            assert!(*line >= 3, "{e}");
            assert!(*column > 0, "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("line"), "{e}");
}

#[test]
fn unknown_key_names_set_field_key_and_suggestion() {
    let e = load_err("yaml_typo:\n  field_validations:\n    name: {type: string, min_lenght: 2}\n");
    assert_eq!(
        e,
        RuleLoadError::UnknownKey {
            rule_set: "yaml_typo".into(),
            field: Some("name".into()),
            key: "min_lenght".into(),
            suggestion: Some("min_length".into()),
        }
    );
    assert_eq!(
        e.to_string(),
        "rule set `yaml_typo`, field `name`: unknown key `min_lenght` (did you mean `min_length`?)"
    );
    let e = load_err("yaml_typo2:\n  required_field: [a]\n");
    assert!(
        e.to_string().contains("did you mean `required_fields`?"),
        "{e}"
    );
    let e = load_err("yaml_typo3:\n  field_validations:\n    a: {messages: {min_lenght: x}}\n");
    assert!(e.to_string().contains("messages.min_length"), "{e}");
}

#[test]
fn unknown_type_suggests_closest() {
    let e = load_err("yaml_type:\n  field_validations:\n    age: {type: integr}\n");
    assert!(
        matches!(&e, RuleLoadError::UnknownType { rule_set, field, name, suggestion }
            if rule_set == "yaml_type" && field == "age" && name == "integr"
                && suggestion.as_deref() == Some("integer")),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("known types: string, integer"),
        "{e}"
    );
}

#[test]
fn min_above_max_is_refused() {
    let e = load_err("yaml_minmax:\n  field_validations:\n    a: {min: 5, max: 1}\n");
    assert_eq!(
        e.to_string(),
        "rule set `yaml_minmax`, field `a`: `min` is greater than `max`"
    );
    let e =
        load_err("yaml_minmax2:\n  field_validations:\n    a: {min_length: 5, max_length: 1}\n");
    assert!(matches!(
        e,
        RuleLoadError::MinAboveMax {
            min_key: "min_length",
            ..
        }
    ));
}

#[test]
fn invalid_values_are_refused() {
    for (yaml, needle) in [
        (
            "yaml_iv:\n  field_validations:\n    a: {min_length: -1}\n",
            "non-negative whole number",
        ),
        (
            "yaml_iv:\n  field_validations:\n    a: {min_length: 1.5}\n",
            "non-negative whole number",
        ),
        (
            "yaml_iv:\n  field_validations:\n    a: {pattern: \"(\"}\n",
            "not a valid regex",
        ),
        (
            "yaml_iv:\n  field_validations:\n    a: {required: yes please}\n",
            "true or false",
        ),
        ("yaml_iv:\n  coercion: loose\n", "`strict` or `lax`"),
        ("yaml_iv:\n  required_fields: name\n", "list of field names"),
        (
            "yaml_iv:\n  field_validations:\n    a: {one_of: x}\n",
            "must be a list",
        ),
        (
            "yaml_iv:\n  field_validations:\n    a: {nested: 3}\n",
            "name a rule set",
        ),
        (
            "yaml_iv:\n  field_validations:\n    a: {default: !tag x}\n",
            "tagged",
        ),
        ("- just\n- a list\n", "mapping from rule-set name"),
    ] {
        let e = load_err(yaml);
        assert!(e.to_string().contains(needle), "{yaml}: {e}");
    }
    // Nothing of a refused document is loaded.
    assert!(coord::rules().get("yaml_iv").is_none());
}

#[test]
fn non_finite_bounds_say_what_is_wrong() {
    let e = load_err("yaml_nan:\n  field_validations:\n    a: {min: .nan}\n");
    assert!(
        matches!(&e, RuleLoadError::InvalidValue { rule_set, field, key, .. }
            if rule_set == "yaml_nan" && field.as_deref() == Some("a") && key == "min"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(text.contains("NaN"), "{text}");
    assert!(!text.contains("found a number"), "{text}");
    for (yaml, needle) in [
        (
            "yaml_inf:\n  field_validations:\n    a: {max: .inf}\n",
            "found infinity",
        ),
        (
            "yaml_inf:\n  field_validations:\n    a: {min: -.inf}\n",
            "found negative infinity",
        ),
        (
            "yaml_inf:\n  field_validations:\n    a: {min: [1]}\n",
            "must be a number, found a sequence",
        ),
    ] {
        let e = load_err(yaml);
        assert!(e.to_string().contains(needle), "{yaml}: {e}");
    }
}

#[test]
fn oversized_and_deep_documents_are_refused() {
    let big = format!(
        "yaml_big:\n  field_validations:\n    a: {{pattern: \"{}\"}}\n",
        "a".repeat(coord::validate::MAX_RULE_DOCUMENT_BYTES)
    );
    assert!(matches!(load_err(&big), RuleLoadError::TooLarge { .. }));
    let deep = format!("yaml_deep: {}{}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(load_err(&deep), RuleLoadError::TooDeep { .. }));
    let deep_each = format!(
        "yaml_deep2:\n  field_validations:\n    a: {}1{}\n",
        "{each: ".repeat(40),
        "}".repeat(40)
    );
    assert!(matches!(
        load_err(&deep_each),
        RuleLoadError::TooDeep { .. }
    ));
}

/// `count` fields of one rule set, each with `pattern: '<pattern>'`.
fn patterns_document(set: &str, pattern: &str, count: usize) -> String {
    let mut doc = format!("{set}:\n  field_validations:\n");
    for i in 0..count {
        doc.push_str(&format!("    f{i}: {{pattern: '{pattern}'}}\n"));
    }
    doc
}

#[test]
fn hostile_pattern_document_is_refused_quickly_with_its_place() {
    // The issue's document: 200 patterns `\w{200}` in 6.5 KB, 27.6 s and 2.3 GB on the old code.
    let doc = patterns_document("yaml_hostile", r"\w{200}", 200);
    assert!(doc.len() < 7_000, "{}", doc.len());
    let started = std::time::Instant::now();
    let e = load_err(&doc);
    // A generous liveness bound (the refusal itself takes milliseconds), not a benchmark.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        e,
        RuleLoadError::PatternTooLarge {
            rule_set: "yaml_hostile".into(),
            field: "f0".into(),
            location: Some((3, 19)),
            limit: PatternLimit::Pattern {
                limit: coord::validate::MAX_PATTERN_BYTES
            },
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "rule set `yaml_hostile`, field `f0` (line 3, column 19): `pattern` compiles to more \
             than {} bytes, the limit for one pattern of a rule document",
            coord::validate::MAX_PATTERN_BYTES
        )
    );
    assert!(coord::rules().get("yaml_hostile").is_none());
}

#[test]
fn pattern_budget_counts_the_whole_document() {
    // `\w{20}` is about 1.1 MB compiled: each fits alone, twenty do not fit together.
    let doc = patterns_document("yaml_budget", r"\w{20}", 20);
    let e = load_err(&doc);
    let RuleLoadError::PatternTooLarge {
        field,
        location: Some((line, column)),
        limit: PatternLimit::Document { limit },
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*limit, coord::validate::MAX_DOCUMENT_PATTERN_BYTES);
    let index: usize = field.trim_start_matches('f').parse().unwrap();
    assert!((5..20).contains(&index), "{e}");
    assert_eq!((*line, *column), (index + 3, field.len() + 17));
    // Each field line is `    fN: {pattern: '...'}`: the value starts at `len("fN") + 17`.
    // Patterns under `each` and inline `nested` rule sets count too, and are located.
    let nested = format!(
        "yaml_budget2:\n  field_validations:\n    a:\n      each: {{pattern: '\\w{{20}}'}}\n{}",
        (0..20)
            .map(|i| format!(
                "    n{i}:\n      nested:\n        field_validations:\n          x: {{pattern: '\\w{{20}}'}}\n"
            ))
            .collect::<String>()
    );
    let e = load_err(&nested);
    let RuleLoadError::PatternTooLarge {
        field,
        location: Some((line, 24)),
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    let index: usize = field
        .strip_prefix('n')
        .and_then(|f| f.strip_suffix(".x"))
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("{e}"));
    assert_eq!(*line, 4 + 4 * index + 4, "{e}");
    assert!(coord::rules().get("yaml_budget").is_none());
}

#[test]
fn pattern_count_is_bounded() {
    let max = coord::validate::MAX_DOCUMENT_PATTERNS;
    let ok = patterns_document("yaml_count_ok", "^a$", max);
    assert_eq!(load(&ok), ["yaml_count_ok"]);
    let over = patterns_document("yaml_count", "^a$", max + 1);
    let e = load_err(&over);
    assert_eq!(
        e,
        RuleLoadError::PatternTooLarge {
            rule_set: "yaml_count".into(),
            field: format!("f{max}"),
            // The line of the first pattern past the count, at its opening quote.
            location: Some((max + 3, format!("f{max}").len() + 17)),
            limit: PatternLimit::Count { limit: max },
        }
    );
    assert!(e.to_string().contains("at most 1000 patterns"), "{e}");
}

#[test]
fn alias_bomb_is_refused() {
    let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    doc.push_str("yaml_bomb: {field_validations: {v: {one_of: *a9}}}\n");
    let e = load_err(&doc);
    assert_eq!(e, RuleLoadError::AliasExpansion);
}
