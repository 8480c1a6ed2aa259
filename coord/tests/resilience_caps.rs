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

#[test]
fn rate_limiter_registry_cap_and_reset() {
    use coord::{RateLimitConfig, rate_limit};
    let limiter = coord::rate_limiter_with(
        "rl.keeps",
        RateLimitConfig::default()
            .rate(1)
            .per(Duration::from_secs(60))
            .burst(1),
    )
    .unwrap();
    limiter.check().unwrap();
    assert!(limiter.check().is_err());
    rate_limit::reset_all();
    // State and counters cleared, configuration kept.
    let snapshot = coord::rate_limiter("rl.keeps").snapshot();
    assert_eq!(
        (snapshot.rejected, snapshot.available, snapshot.rate),
        (0, 1, 1)
    );
    limiter.check().unwrap();

    rate_limit::set_max_rate_limiters(2);
    let _b = coord::rate_limiter("rl.b");
    let c = coord::rate_limiter("rl.c");
    assert_eq!(c.name(), rate_limit::OVERFLOW_NAME);
    assert_eq!(rate_limit::dropped_names(), 1);
    // Configuring a name past the cap leaves the shared overflow limiter alone.
    let d = coord::rate_limiter_with("rl.d", RateLimitConfig::default().rate(1)).unwrap();
    assert!(Arc::ptr_eq(&c, &d));
    assert_eq!(d.config().rate, RateLimitConfig::default().rate);
    assert_eq!(rate_limit::snapshots().len(), 3);
}
