//! With the `metrics` feature, every measurement reaches the installed `metrics` recorder.
//! Run with `cargo test -p coord --features metrics --test metrics_facade`.
#![cfg(feature = "metrics")]

use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[coord::track_performance("facade.fetch")]
fn fetch(ok: bool) -> Result<(), ()> {
    if ok { Ok(()) } else { Err(()) }
}

#[test]
fn operations_are_forwarded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        fetch(true).unwrap();
        fetch(true).unwrap();
        fetch(false).unwrap_err();
    });
    let mut successes = None;
    let mut failures = None;
    let mut durations = None;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<_> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        if !labels.contains(&("operation".into(), "facade.fetch".into())) {
            continue;
        }
        let outcome = labels
            .iter()
            .find(|(k, _)| k == "outcome")
            .map(|(_, v)| v.clone());
        match (key.name(), outcome.as_deref(), value) {
            ("coord_operation_calls_total", Some("success"), DebugValue::Counter(n)) => {
                successes = Some(n)
            }
            ("coord_operation_calls_total", Some("failure"), DebugValue::Counter(n)) => {
                failures = Some(n)
            }
            ("coord_operation_duration_seconds", None, DebugValue::Histogram(v)) => {
                durations = Some(v.len())
            }
            _ => {}
        }
    }
    assert_eq!(successes, Some(2));
    assert_eq!(failures, Some(1));
    assert_eq!(durations, Some(3));
}

#[test]
fn errors_breakers_and_validations_are_forwarded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let policy = coord::RetryPolicy::exponential(1, std::time::Duration::ZERO, 1.0)
            .named("facade.retry")
            .no_budget();
        let _ = policy.call(|| Err::<(), _>("down"));
        coord::breaker("facade.breaker").force_open();
        let _ = coord::validator().validate_message_structure(&serde_json::json!({"content": ""}));
    });
    let mut seen = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        seen.push((key.name().to_owned(), labels.join(","), value));
    }
    let has = |name: &str, labels: &str, want: DebugValue| {
        seen.iter()
            .any(|(n, l, v)| n == name && l == labels && *v == want)
    };
    assert!(
        has(
            "coord_errors_total",
            "severity=medium",
            DebugValue::Counter(2)
        ),
        "{seen:?}"
    );
    assert!(
        has(
            "coord_retry_attempts_total",
            "operation=facade.retry",
            DebugValue::Counter(1)
        ),
        "{seen:?}"
    );
    assert!(
        has(
            "coord_retry_calls_total",
            "outcome=exhausted",
            DebugValue::Counter(1)
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(n, l, _)| n == "coord_circuit_breaker_state"
                && l == "breaker=facade.breaker,state=forced_open"),
        "{seen:?}"
    );
    assert!(
        has(
            "coord_validations_total",
            "rule_set=message,verdict=invalid",
            DebugValue::Counter(1)
        ),
        "{seen:?}"
    );
}
