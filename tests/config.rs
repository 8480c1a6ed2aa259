//! The configuration file: every section applied, every kind of bad input refused with its
//! place in the file, and nothing applied from a refused file.

use std::time::Duration;

use coord::config::{self, ConfigErrorKind};
use coord::{BreakerState, CircuitOpen, circuit_breaker};

fn error(yaml: &str) -> String {
    config::load_str(yaml).unwrap_err().to_string()
}

#[test]
fn every_section_is_applied() {
    let loaded = config::load_str(
        r#"
retry_policies:
  cfg.api:
    max_retries: 4
    base_delay: 250ms
    multiplier: 1.5
    max_delay: 2s
    jitter: equal
    deadline: 10s
    budget: { capacity: 50, retry_cost: 10 }
  cfg.nobudget:
    budget: off
circuit_breakers:
  cfg.db:
    failure_rate: 0.25
    minimum_calls: 4
    window: 8
    open_for: 5s
    half_open_calls: 2
  cfg.timed:
    window: 10s
rules:
  cfg_profile:
    required_fields: [name]
    field_validations:
      name: { type: string, min_length: 2 }
monitor:
  collection_interval: 2s
  max_data_points: 50
"#,
    )
    .unwrap();
    assert_eq!(loaded.retry_policies, ["cfg.api", "cfg.nobudget"]);
    assert_eq!(loaded.circuit_breakers, ["cfg.db", "cfg.timed"]);
    assert_eq!(loaded.rule_sets, ["cfg_profile"]);
    assert!(loaded.monitor);

    let settings = coord::retry_policy("cfg.api").unwrap().settings();
    assert_eq!(settings.max_retries, 4);
    assert_eq!(settings.base_delay, Duration::from_millis(250));
    assert_eq!(settings.max_delay, Duration::from_secs(2));
    let db = coord::breaker("cfg.db").config();
    assert_eq!(db.failure_rate, 0.25);
    assert_eq!(db.minimum_calls, 4);
    assert_eq!(db.half_open_calls, 2);
    assert!(coord::rules().get("cfg_profile").is_some());
    assert_eq!(coord::monitor().config().max_data_points, 50);
}

#[derive(Debug)]
struct Unavailable;

impl From<CircuitOpen> for Unavailable {
    fn from(_: CircuitOpen) -> Self {
        Unavailable
    }
}

// The attribute says 100 calls; the file says 2, and the file wins.
#[circuit_breaker(name = "cfg.pinned", minimum_calls = 100, window = 100)]
fn pinned() -> Result<(), Unavailable> {
    Err(Unavailable)
}

#[test]
fn a_file_configuration_wins_over_call_site_keys() {
    config::load_str("circuit_breakers:\n  cfg.pinned:\n    minimum_calls: 2\n    window: 2\n")
        .unwrap();
    let _ = pinned();
    let _ = pinned();
    assert_eq!(coord::breaker("cfg.pinned").state(), BreakerState::Open);
}

#[test]
fn empty_documents_configure_nothing() {
    assert_eq!(config::load_str("").unwrap(), config::Loaded::default());
    assert_eq!(
        config::load_str("# nothing\n").unwrap(),
        config::Loaded::default()
    );
}

#[test]
fn unknown_keys_suggest_the_closest() {
    assert_eq!(
        error("retry_policies:\n  api:\n    max_retry: 2\n"),
        "<string>:3:5: unknown key `max_retry` in retry_policies.api; did you mean `max_retries`?"
    );
    assert_eq!(
        error("circuit_breakers:\n  db:\n    failure_ratio: 0.5\n"),
        "<string>:3:5: unknown key `failure_ratio` in circuit_breakers.db; did you mean `failure_rate`?"
    );
    let top = error("retry_policy:\n  api: {}\n");
    assert!(
        top.starts_with("<string>:1:1: unknown key `retry_policy`"),
        "{top}"
    );
    assert!(top.ends_with("did you mean `retry_policies`?"), "{top}");
    let far = error("monitor:\n  zzz: 1\n");
    assert!(
        far.contains(
            "unknown key `zzz` in monitor; expected one of collection_interval, max_data_points"
        ),
        "{far}"
    );
}

#[test]
fn wrong_types_and_ranges_name_line_and_column() {
    // (document, what its error must say; a leading `<string>:` pins the location too)
    let cases = [
        (
            "retry_policies:\n  api:\n    max_retries: many\n",
            &["<string>:3:", "retry_policies.api.max_retries"][..],
        ),
        (
            "retry_policies:\n  api:\n    max_retries: 5000\n",
            &["5000 is outside 0..=1000"],
        ),
        (
            "retry_policies:\n  api:\n    multiplier: 0.5\n",
            &["multiplier 0.5 must be a finite number >= 1.0"],
        ),
        (
            "retry_policies:\n  api:\n    jitter: wobbly\n",
            &["unknown jitter `wobbly`"],
        ),
        (
            "circuit_breakers:\n  db:\n    failure_rate: 1.5\n",
            &["<string>:3:", "rate 1.5 is outside 0.0..=1.0"],
        ),
        (
            "circuit_breakers:\n  db:\n    half_open_calls: 0\n",
            &["0 is outside 1..=255"],
        ),
        (
            "circuit_breakers:\n  db:\n    window: 0\n",
            &["at least 1 call"],
        ),
        (
            "circuit_breakers:\n  db:\n    window: [1]\n",
            &["window is a number of calls"],
        ),
        ("monitor:\n  collection_interval: 10\n", &["needs a unit"]),
        (
            "monitor:\n  collection_interval: 5 parsecs\n",
            &["unknown duration unit"],
        ),
        (
            "monitor:\n  collection_interval: -5s\n",
            &["must not be negative"],
        ),
        ("retry_policies: [1, 2]\n", &["<string>:1:"]),
    ];
    for (yaml, wanted) in cases {
        let e = error(yaml);
        for w in wanted {
            let found = if w.starts_with("<string>:") {
                e.starts_with(w)
            } else {
                e.contains(w)
            };
            assert!(found, "{yaml:?}: `{e}` lacks `{w}`");
        }
    }
}

#[test]
fn cross_field_checks_are_refused() {
    let e = error("circuit_breakers:\n  db:\n    minimum_calls: 50\n    window: 10\n");
    assert!(e.contains("circuit_breakers.db"), "{e}");
    let e = error("monitor:\n  collection_interval: 10ms\n");
    assert!(e.starts_with("<string>: monitor:"), "{e}");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let err = config::load_str("retry_policies:\n  api: [unclosed\n").unwrap_err();
    assert!(err.location.is_some());
    assert!(matches!(err.kind, ConfigErrorKind::Invalid { .. }));
}

#[test]
fn rule_errors_come_from_the_rule_language() {
    let err =
        config::load_str("rules:\n  p:\n    field_validations:\n      age: { type: integr }\n")
            .unwrap_err();
    assert!(matches!(err.kind, ConfigErrorKind::Rules(_)), "{err}");
    assert!(err.to_string().contains("integer"), "{err}");
}

#[test]
fn a_hostile_rules_section_is_bounded_like_a_rule_document() {
    let mut yaml = String::from("rules:\n  cfg.hostile:\n    field_validations:\n");
    for i in 0..200 {
        yaml.push_str(&format!("      f{i}: {{pattern: '\\w{{200}}'}}\n"));
    }
    let err = config::load_str(&yaml).unwrap_err();
    let ConfigErrorKind::Rules(rules) = &err.kind else {
        panic!("{err}")
    };
    assert!(
        matches!(**rules, coord::RuleLoadError::PatternTooLarge { ref rule_set, ref field, .. }
            if rule_set == "cfg.hostile" && field == "f0"),
        "{err}"
    );
    assert!(coord::rules().get("cfg.hostile").is_none());
}

#[test]
fn a_refused_file_applies_nothing() {
    let e = config::load_str(
        "retry_policies:\n  cfg.atomic:\n    max_retries: 1\ncircuit_breakers:\n  cfg.atomic_db:\n    failure_rate: 2.0\n",
    );
    assert!(e.is_err());
    assert!(coord::retry_policy("cfg.atomic").is_none());
    assert!(coord::breaker::find("cfg.atomic_db").is_none());
}

#[test]
fn alias_bombs_and_huge_files_are_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let e = config::load_str(&bomb).unwrap_err();
    assert!(matches!(e.kind, ConfigErrorKind::Invalid { .. }), "{e}");
    let huge = format!("# {}\n", "x".repeat(config::MAX_CONFIG_BYTES));
    assert!(matches!(
        config::load_str(&huge).unwrap_err().kind,
        ConfigErrorKind::TooLarge { .. }
    ));
}

#[test]
fn files_are_named_in_errors() {
    let dir = std::env::temp_dir().join(format!("coord-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("coord.yaml");
    std::fs::write(&path, "monitor:\n  max_data_point: 5\n").unwrap();
    let e = config::load_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2:3: unknown key `max_data_point`",
            path.display()
        )),
        "{e}"
    );
    let missing = config::load_file(dir.join("missing.yaml")).unwrap_err();
    assert!(matches!(missing.kind, ConfigErrorKind::Io(_)));
    std::fs::write(&path, "retry_policies:\n  cfg.file:\n    max_retries: 1\n").unwrap();
    assert_eq!(
        config::load_file(&path).unwrap().retry_policies,
        ["cfg.file"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
