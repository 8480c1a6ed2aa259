//! One home per public item: the documented paths work, the compatibility paths (modules that
//! share a name with a root function, renamed methods) still compile and answer the same.

use std::time::Duration;

use coord::{BreakerConfig, BulkheadConfig};

#[test]
fn the_documented_homes_answer() {
    let breaker = coord::breaker_with("paths.db", BreakerConfig::default()).unwrap();
    assert!(coord::breakers::find("paths.db").is_some());
    assert!(coord::breakers::all().iter().any(|b| b.name == "paths.db"));
    let keyed = coord::breakers::keyed("paths.keyed", BreakerConfig::default()).unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &keyed,
        &coord::breakers::find_keyed("paths.keyed").unwrap()
    ));
    drop(breaker);

    coord::bulkhead_with("paths.pool", BulkheadConfig::default().max_concurrent(2)).unwrap();
    assert_eq!(
        coord::bulkheads::find("paths.pool")
            .unwrap()
            .max_concurrent(),
        2
    );
    assert!(
        coord::bulkheads::snapshots()
            .iter()
            .any(|b| b.name == "paths.pool")
    );
    let largest = BulkheadConfig::default().max_concurrent(coord::bulkheads::MAX_CONCURRENT);
    assert!(largest.validate().is_ok());

    // Caps live in `limits`, every mechanism's.
    assert_eq!(
        coord::limits::max_breakers(),
        coord::breaker::max_breakers()
    );
    assert!(coord::limits::max_rows() >= 1);
    assert!(coord::limits::max_bulkheads() >= 1);

    let _: Option<coord::TimeoutCount> = None;
    drop(coord::timeout(Duration::from_secs(1), async {}));
}

#[test]
#[allow(deprecated)]
fn the_compatibility_paths_still_answer() {
    coord::breaker_with("paths.compat", BreakerConfig::default()).unwrap();
    assert!(coord::breaker::find("paths.compat").is_some());
    assert_eq!(
        coord::breaker::DEFAULT_MAX_BREAKERS,
        coord::limits::DEFAULT_MAX_BREAKERS
    );
    coord::bulkhead::bulkhead("paths.compat.pool");
    assert!(coord::bulkhead::find("paths.compat.pool").is_some());
    let _: Option<coord::report::Report> = None;
    let _: Option<coord::timeout::TimedOut> = None;

    #[coord::track_performance("paths.compat.op")]
    fn op() {}
    op();
    let handle = coord::monitor().operation("paths.compat.op");
    assert!(std::sync::Arc::ptr_eq(
        &handle,
        &coord::monitor().operation_handle("paths.compat.op")
    ));
    let report = coord::monitor().performance_report();
    assert_eq!(
        report.operation("paths.compat.op").map(|s| s.calls),
        report.find("paths.compat.op").map(|s| s.calls)
    );
    coord::ErrorHandler::new("paths.compat.failing")
        .retry(coord::RetryPolicy::exponential(
            0,
            Duration::from_millis(1),
            1.0,
        ))
        .execute(|| Err::<(), _>("down"))
        .unwrap_err();
    let errors = coord::error_report();
    let row = errors.find("paths.compat.failing").map(|r| r.errors);
    assert_eq!(row, Some(1));
    assert_eq!(
        errors.operation("paths.compat.failing").map(|r| r.errors),
        row
    );
}
