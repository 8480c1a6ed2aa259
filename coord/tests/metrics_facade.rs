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
