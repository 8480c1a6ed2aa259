//! `coord::set_enabled(false)` stops recording (operations, error rows, validation counts) and
//! leaves the resilience layers working. One test: the switch is process-wide, and this file is
//! its own process.

use coord::Validate;

mod support;
use support::DbError;

#[coord::track_performance(name = "switch.tracked")]
fn tracked(fail: bool) -> Result<u32, DbError> {
    if fail { Err(DbError::Down) } else { Ok(1) }
}

#[coord::track_performance(name = "switch.async")]
async fn tracked_async() -> u32 {
    2
}

#[coord::retry(max_retries = 2, base_delay = "1ms", jitter = "none")]
#[coord::track_performance(name = "switch.retried")]
fn retried() -> Result<u32, DbError> {
    Err(DbError::Down)
}

#[coord::circuit_breaker(name = "switch.breaker", consecutive_failures = 2, open_for = "1m")]
fn guarded() -> Result<u32, DbError> {
    Err(DbError::Down)
}

#[derive(Validate)]
struct Input {
    #[validate(range(min = 1, max = 10))]
    n: u32,
}

fn calls(name: &str) -> u64 {
    coord::operation(name).map_or(0, |stats| stats.calls)
}

fn error_rows(name: &str) -> u64 {
    coord::error_report().find(name).map_or(0, |row| row.errors)
}

fn validations() -> u64 {
    coord::report().validation.total
}

#[test]
fn recording_off_records_nothing_and_the_layers_still_work() {
    assert!(coord::enabled());
    // Recorded while on.
    assert_eq!(tracked(false), Ok(1));
    assert_eq!(retried(), Err(DbError::Down));
    let _ = Input { n: 0 }.validate();
    let (tracked_before, retried_before, rows_before, validations_before) = (
        calls("switch.tracked"),
        calls("switch.retried"),
        error_rows("switch.retried"),
        validations(),
    );
    assert_eq!((tracked_before, retried_before), (1, 1));
    assert_eq!(rows_before, 3, "three failed attempts, one row each");
    assert_eq!(validations_before, 1);

    coord::set_enabled(false);
    assert!(!coord::enabled());
    assert_eq!(tracked(false), Ok(1));
    assert_eq!(tracked(true), Err(DbError::Down));
    assert_eq!(futures_lite_block_on(tracked_async()), 2);
    // The retry loop still retries while nothing is recorded.
    let started = std::time::Instant::now();
    assert_eq!(retried(), Err(DbError::Down));
    assert!(started.elapsed() >= std::time::Duration::from_millis(2));
    let _ = Input { n: 0 }.validate();
    // The breaker still counts and opens: it protects, it does not observe.
    assert_eq!(guarded(), Err(DbError::Down));
    assert_eq!(guarded(), Err(DbError::Down));
    assert!(matches!(guarded(), Err(DbError::Open(_))));
    assert_eq!(
        coord::breaker("switch.breaker").state(),
        coord::BreakerState::Open
    );
    assert_eq!(calls("switch.tracked"), tracked_before);
    assert_eq!(calls("switch.async"), 0);
    assert_eq!(calls("switch.retried"), retried_before);
    assert_eq!(error_rows("switch.retried"), rows_before);
    assert_eq!(validations(), validations_before);

    // And on again.
    coord::set_enabled(true);
    assert_eq!(tracked(true), Err(DbError::Down));
    assert_eq!(calls("switch.tracked"), tracked_before + 1);
    let stats = coord::operation("switch.tracked").unwrap();
    assert_eq!(stats.failures, 1);
    assert_eq!(stats.last_error.as_deref(), Some("database down"));
}

/// A minimal executor for a future that never waits.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}
