//! Open circuit breakers lower the health score. Its own binary: the count is process-wide.

#[test]
fn open_breakers_lower_the_health_score() {
    let monitor = coord::monitor();
    let before = monitor.system_health();
    assert_eq!(before.breakdown.open_breakers.value, 0.0);
    coord::breaker("health.db").force_open();
    let after = monitor.system_health();
    assert_eq!(after.breakdown.open_breakers.value, 1.0);
    assert!(after.breakdown.open_breakers.penalty > 0.0);
    coord::breaker("health.db").reset();
    assert_eq!(monitor.system_health().breakdown.open_breakers.value, 0.0);
}
