//! The `objectives:` section of `coord.yaml`: what it declares, its precedence over code, and a
//! located error for each kind of bad value.

use std::time::Duration;

use coord::Objective;
use coord::config::{ConfigErrorKind, load_str};

#[test]
fn the_file_declares_objectives_and_wins_over_code() {
    let loaded = load_str(
        "objectives:\n  objectives_config.checkout:\n    success_rate: 0.999\n    latency: { below: 500ms, target: 0.99 }\n    period: 28d\n",
    )
    .unwrap();
    assert_eq!(loaded.objectives, ["objectives_config.checkout"]);
    let declared = coord::objectives::find("objectives_config.checkout").unwrap();
    assert_eq!(declared.success_target(), Some(0.999));
    assert_eq!(declared.latency(), Some((Duration::from_millis(500), 0.99)));
    assert_eq!(declared.period_length(), Duration::from_secs(28 * 86_400));
    // The code's declaration of the same name leaves the file's (the operator's word).
    Objective::new("objectives_config.checkout")
        .success_rate(0.9)
        .declare()
        .unwrap();
    assert_eq!(
        coord::objectives::find("objectives_config.checkout").unwrap(),
        declared
    );
    // And a file loaded after the code replaces the code's.
    Objective::new("objectives_config.late")
        .success_rate(0.9)
        .declare()
        .unwrap();
    load_str("objectives:\n  objectives_config.late:\n    success_rate: 0.95\n").unwrap();
    assert_eq!(
        coord::objectives::find("objectives_config.late")
            .unwrap()
            .success_target(),
        Some(0.95)
    );
}

/// The error's line, column and message.
fn refused(yaml: &str) -> ((usize, usize), String) {
    let error = load_str(yaml).unwrap_err();
    let ConfigErrorKind::Invalid { message } = &error.kind else {
        panic!("not an invalid value: {error}")
    };
    (error.location.expect("located"), message.clone())
}

/// Asserts that `yaml` is refused at line `line` with a message that contains `says`.
fn refused_at(yaml: &str, line: usize, says: &str) {
    let (at, message) = refused(yaml);
    assert_eq!(at.0, line, "{yaml}: {message}");
    assert!(message.contains(says), "{yaml}: {message}");
}

#[test]
fn a_threshold_between_buckets_is_refused_at_its_place() {
    refused_at(
        "objectives:\n  objectives_config.a:\n    latency: { below: 300ms, target: 0.99 }\n",
        3,
        "200ms and 500ms",
    );
}

#[test]
fn a_target_out_of_range_is_refused_at_its_place() {
    refused_at(
        "objectives:\n  objectives_config.b:\n    success_rate: 1.0\n",
        3,
        "outside 0.0..1.0",
    );
    let (at, message) = refused(
        "objectives:\n  objectives_config.b:\n    latency:\n      below: 1s\n      target: 0\n",
    );
    // serde_norway places an error in a nested map at the map's first line.
    assert_eq!(at.0, 4, "{message}");
    assert!(
        message.starts_with("objectives.objectives_config.b.latency:"),
        "{message}"
    );
}

#[test]
fn a_period_out_of_range_or_unreadable_is_refused_at_its_place() {
    // serde_norway places an error in a map at the map's first line.
    refused_at(
        "objectives:\n  objectives_config.c:\n    success_rate: 0.99\n    period: 1d\n",
        3,
        "3 days",
    );
    refused_at(
        "objectives:\n  objectives_config.c:\n    success_rate: 0.99\n    period: soon\n",
        3,
        "objectives.objectives_config.c",
    );
}

#[test]
fn an_objective_without_a_target_is_refused_at_its_place() {
    let (at, message) = refused("objectives:\n  objectives_config.d:\n    period: 30d\n");
    assert!(at.0 >= 2, "{message}");
    assert!(message.contains("success_rate, latency"), "{message}");
}

#[test]
fn an_unknown_key_is_refused_with_a_suggestion() {
    refused_at(
        "objectives:\n  objectives_config.e:\n    success_rat: 0.99\n",
        3,
        "success_rate",
    );
}
