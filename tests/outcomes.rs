//! Outcomes without a server (issue #22, points 1, 2 and 9): the `outcome = path` key of
//! `#[track_performance]`, the message a failure leaves behind (`last_error`), and
//! `ErrorHandler` meeting a gate's rejection.

use std::time::Duration;

use coord::{BulkheadFull, CircuitOpen, ErrorHandler, Outcome, RetryPolicy, track_performance};

mod support;
use support::DbError;

// ---- outcome = path ----

/// A lookup's answer: `None` (not found) is the caller's business, `Some(0)` means the store
/// answered with a broken record.
fn lookup_outcome(found: &Option<u32>) -> Outcome {
    match found {
        Some(0) => Outcome::Failure,
        _ => Outcome::Success,
    }
}

#[track_performance(name = "outcomes.lookup", outcome = lookup_outcome)]
fn lookup(id: u32) -> Option<u32> {
    match id {
        0 => None,
        1 => Some(0),
        n => Some(n),
    }
}

#[test]
fn a_classifier_decides_the_outcome_of_any_type() {
    assert_eq!(lookup(0), None);
    assert_eq!(lookup(1), Some(0));
    assert_eq!(lookup(5), Some(5));
    let stats = coord::operation("outcomes.lookup").unwrap();
    assert_eq!(
        (stats.calls, stats.successes, stats.failures),
        (3, 2, 1),
        "{stats:?}"
    );
    // An `Option` has no error to describe: the last error stays empty.
    assert_eq!(stats.last_error, None);
}

/// `Err(NotFound)` is a success for this operation: a classifier overrides the `Result` rule.
#[derive(Debug, PartialEq)]
enum Store {
    NotFound,
    Down,
}

fn store_outcome(result: &Result<u32, Store>) -> Outcome {
    match result {
        Err(Store::Down) => Outcome::Failure,
        _ => Outcome::Success,
    }
}

#[track_performance(name = "outcomes.store", outcome = store_outcome)]
async fn read_store(id: u32) -> Result<u32, Store> {
    match id {
        0 => Err(Store::NotFound),
        1 => Err(Store::Down),
        n => Ok(n),
    }
}

#[test]
fn a_classifier_overrides_the_result_rule_and_failures_keep_their_debug() {
    futures_lite_block_on(async {
        assert_eq!(read_store(0).await, Err(Store::NotFound));
        assert_eq!(read_store(1).await, Err(Store::Down));
        assert_eq!(read_store(2).await, Ok(2));
    });
    let stats = coord::operation("outcomes.store").unwrap();
    assert_eq!((stats.successes, stats.failures), (2, 1), "{stats:?}");
    // No `Display`: the `Debug` of the error that failed.
    assert_eq!(stats.last_error.as_deref(), Some("Down"));
}

// ---- last_error from the attribute path (point 9) ----

#[track_performance("outcomes.probe")]
fn probe(fail: bool) -> Result<(), String> {
    if fail {
        Err("probe failure message".into())
    } else {
        Ok(())
    }
}

#[test]
fn a_tracked_failure_keeps_its_message() {
    probe(false).unwrap();
    assert_eq!(coord::operation("outcomes.probe").unwrap().last_error, None);
    probe(true).unwrap_err();
    let stats = coord::operation("outcomes.probe").unwrap();
    assert_eq!(stats.last_error.as_deref(), Some("probe failure message"));
    // A later success leaves the latest failure's message in place.
    probe(false).unwrap();
    let op = support::json_operation(&coord::report().to_json().unwrap(), "outcomes.probe");
    assert_eq!(op["last_error"], "probe failure message");
}

#[track_performance("outcomes.long")]
fn long_failure() -> Result<(), String> {
    Err("é".repeat(1_000))
}

#[test]
fn a_tracked_message_is_bounded() {
    long_failure().unwrap_err();
    let last = coord::operation("outcomes.long")
        .unwrap()
        .last_error
        .unwrap();
    assert!(
        last.len() <= coord::errors::MAX_MESSAGE_LEN,
        "{}",
        last.len()
    );
    assert!(last.len() > coord::errors::MAX_MESSAGE_LEN - 2);
    assert!(last.chars().all(|c| c == 'é'));
}

/// An error with neither `Display` nor `Debug`: its type name is kept.
struct Opaque;

#[track_performance("outcomes.opaque")]
fn opaque() -> Result<(), Opaque> {
    Err(Opaque)
}

#[test]
fn an_error_without_display_or_debug_is_named_by_its_type() {
    assert!(opaque().is_err());
    let last = coord::operation("outcomes.opaque")
        .unwrap()
        .last_error
        .unwrap();
    assert!(last.ends_with("Opaque"), "{last}");
}

// ---- ErrorHandler and rejections ----

fn handler(name: &str) -> ErrorHandler {
    ErrorHandler::new(name).retry(
        RetryPolicy::exponential(3, Duration::from_millis(1), 2.0)
            .jitter(coord::Jitter::None)
            .no_budget(),
    )
}

#[test]
fn an_error_handler_does_not_count_its_own_breakers_rejections() {
    let handler = handler("outcomes.handler.breaker").breaker(
        coord::BreakerConfig::default()
            .minimum_calls(2)
            .window(2)
            .failure_rate(0.5)
            .open_for(Duration::from_secs(60)),
    );
    // Two failed attempts open the breaker; the third attempt of the same call is rejected,
    // which ends the call (it stays a failure: its attempts failed).
    let first: Result<(), DbError> = handler.execute(|| Err(DbError::Down));
    assert!(matches!(first, Err(DbError::Open(_))), "{first:?}");
    for _ in 0..200 {
        let shed: Result<(), DbError> = handler.execute(|| Ok(()));
        assert!(matches!(shed, Err(DbError::Open(_))));
    }
    let report = handler.error_report();
    let row = report.find("outcomes.handler.breaker").unwrap();
    assert_eq!((row.errors, row.rejected), (2, 201), "{row:?}");
    assert_eq!(report.total_errors, 2);
    assert_eq!(report.by_severity.medium, 2);
    assert_eq!(
        report.recent.len(),
        2,
        "the real failures stay in the recent list"
    );
    assert!(report.recent.iter().all(|r| r.message == "database down"));
    assert_eq!(row.last_error.as_deref(), Some("database down"));
}

#[test]
fn an_error_handler_sees_rejections_coming_out_of_the_operation() {
    let breaker = coord::breaker("outcomes.handler.inner");
    breaker.force_open();
    let inner = handler("outcomes.handler.inner_calls");
    let mut runs = 0;
    let out: Result<(), CircuitOpen> = inner.execute(|| {
        runs += 1;
        breaker.call(|| Ok::<_, CircuitOpen>(()))
    });
    assert!(out.is_err());
    assert_eq!(runs, 1, "a rejection is not retried");

    // Boxed errors are searched along their source chain.
    #[derive(Debug, thiserror::Error)]
    #[error("could not reach the pool")]
    struct Pool(#[source] BulkheadFull);
    let boxed = handler("outcomes.handler.boxed");
    let pool = coord::bulkhead_with(
        "outcomes.handler.pool",
        coord::BulkheadConfig::default().max_concurrent(1),
    )
    .unwrap();
    let _held = pool.try_acquire().unwrap();
    let out: Result<(), Box<dyn std::error::Error + Send + Sync>> =
        boxed.execute(|| match pool.try_acquire() {
            Ok(_) => Ok(()),
            Err(rejection) => Err(Box::new(Pool(rejection)) as _),
        });
    assert!(out.is_err());

    let inner = coord::errors::operation_errors("outcomes.handler.inner_calls").unwrap();
    assert_eq!((inner.errors, inner.rejected), (0, 1), "{inner:?}");
    let boxed = coord::errors::operation_errors("outcomes.handler.boxed").unwrap();
    assert_eq!((boxed.errors, boxed.rejected), (0, 1), "{boxed:?}");

    // An ordinary error is still a failure, retried as the policy says.
    let plain = handler("outcomes.handler.plain");
    let out: Result<(), String> = plain.execute(|| Err("refused".to_owned()));
    assert!(out.is_err());
    let plain = coord::errors::operation_errors("outcomes.handler.plain").unwrap();
    assert_eq!((plain.errors, plain.rejected), (4, 0), "{plain:?}");
}

/// Drives a future on this thread (the crate's tests need no runtime for these).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_guard_records_a_rejection_apart() {
    let monitor = coord::monitor();
    monitor.record_operation("outcomes.guard").success();
    monitor.record_operation("outcomes.guard").rejected();
    let stats = coord::operation("outcomes.guard").unwrap();
    assert_eq!(
        (stats.calls, stats.successes, stats.failures, stats.rejected),
        (2, 1, 0, 1)
    );
    assert_eq!(stats.error_rate, 0.0);
}
