//! Registry caps of the resilience layers (own test binary: it changes process-wide caps).

use coord::bulkhead;

use std::sync::Arc;
use std::time::Duration;

use coord::BulkheadConfig;

/// One test, so that the cap and `reset_all` cannot disturb another test of this binary.
#[test]
fn bulkhead_registry_cap_and_reset() {
    let bulkhead = coord::bulkhead_with(
        "reset.keeps",
        BulkheadConfig::default()
            .max_concurrent(4)
            .max_wait(Duration::from_millis(3)),
    )
    .unwrap();
    let _ = bulkhead.try_acquire().unwrap();
    coord::bulkhead::reset_all();
    let again = coord::bulkhead("reset.keeps");
    assert!(Arc::ptr_eq(&bulkhead, &again));
    let snapshot = again.snapshot();
    assert_eq!((snapshot.accepted, snapshot.max_concurrent), (0, 4));
    assert_eq!(snapshot.max_wait, Duration::from_millis(3));
    let json = serde_json::to_value(&snapshot).unwrap();
    assert_eq!(json["max_wait_ms"], 3.0);

    bulkhead::set_max_bulkheads(3);
    let a = coord::bulkhead("cap.a");
    let b = coord::bulkhead("cap.b");
    let c = coord::bulkhead("cap.c");
    let d = coord::bulkhead("cap.d");
    assert_eq!((a.name(), b.name()), ("cap.a", "cap.b"));
    assert_eq!(c.name(), bulkhead::OVERFLOW_NAME);
    assert!(Arc::ptr_eq(&c, &d));
    assert_eq!(bulkhead::dropped_names(), 2);
    let names: Vec<_> = bulkhead::snapshots().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["cap.a", "cap.b", "reset.keeps", bulkhead::OVERFLOW_NAME]
    );
    // Known names are still found.
    assert!(Arc::ptr_eq(&a, &coord::bulkhead("cap.a")));
    bulkhead::reset_all();
    assert_eq!(bulkhead::dropped_names(), 0);
}
