//! Registry caps of the resilience layers (own test binary: it changes process-wide caps).

use coord::bulkhead;

#[test]
fn bulkhead_names_past_the_cap_share_the_overflow_entry() {
    bulkhead::set_max_bulkheads(2);
    let a = coord::bulkhead("cap.a");
    let b = coord::bulkhead("cap.b");
    let c = coord::bulkhead("cap.c");
    let d = coord::bulkhead("cap.d");
    assert_eq!((a.name(), b.name()), ("cap.a", "cap.b"));
    assert_eq!(c.name(), bulkhead::OVERFLOW_NAME);
    assert!(std::sync::Arc::ptr_eq(&c, &d));
    assert_eq!(bulkhead::dropped_names(), 2);
    let names: Vec<_> = bulkhead::snapshots().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["cap.a", "cap.b", bulkhead::OVERFLOW_NAME]);
    // Known names are still found.
    assert!(std::sync::Arc::ptr_eq(&a, &coord::bulkhead("cap.a")));
    bulkhead::reset_all();
    assert_eq!(bulkhead::dropped_names(), 0);
}
