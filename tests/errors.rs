//! The error handler and the global error registry through the public API.

use std::time::Duration;

use coord::errors::AttemptOutcome;
use coord::{ErrorContext, ErrorHandler, FakeClock, HealthStatus, Jitter, RetryPolicy, Severity};

mod support;

use support::keep_all_records;

#[derive(Debug, PartialEq)]
struct ConnectionError(&'static str);

impl std::fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "API connection failed: {}", self.0)
    }
}

fn fast(retries: u32) -> RetryPolicy {
    RetryPolicy::exponential(retries, Duration::from_millis(10), 2.0)
        .jitter(Jitter::None)
        .clock(FakeClock::new())
}

/// A handler retrying `fast(retries)` at `severity`, with every record of this binary kept
/// (its test reads its own records back).
fn recorded(name: &str, retries: u32, severity: Severity) -> ErrorHandler {
    keep_all_records();
    ErrorHandler::new(name)
        .retry(fast(retries))
        .severity(severity)
}

/// Runs `operation` under `handler`, handing it each attempt's number (from 1); returns the
/// result and how many attempts ran.
fn numbered<T, E: std::fmt::Display + 'static>(
    handler: &ErrorHandler,
    mut operation: impl FnMut(u32) -> Result<T, E>,
) -> (Result<T, E>, u32) {
    let mut attempts = 0;
    let result = handler.execute(|| {
        attempts += 1;
        operation(attempts)
    });
    (result, attempts)
}

#[test]
fn handler_retries_then_succeeds_and_records_each_failed_attempt() {
    let handler = recorded("e.fetch_user", 3, Severity::Medium);
    let (user, _) = numbered(&handler, |attempt| {
        if attempt <= 2 {
            Err(ConnectionError("reset"))
        } else {
            Ok("John Doe")
        }
    });
    assert_eq!(user, Ok("John Doe"));
    let report = handler.error_report();
    let row = report.find("e.fetch_user").unwrap();
    assert_eq!(
        (
            row.errors,
            row.retries,
            row.final_failures,
            row.successes_after_retry
        ),
        (2, 2, 0, 1)
    );
    assert_eq!(
        row.last_error.as_deref(),
        Some("API connection failed: reset")
    );
    let mine: Vec<_> = report
        .recent
        .iter()
        .filter(|r| r.operation == "e.fetch_user")
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine.iter().map(|r| r.attempt).collect::<Vec<_>>(), [1, 2]);
    assert!(mine.iter().all(|r| r.outcome == AttemptOutcome::Retried));
    assert!(mine[0].error_type.ends_with("ConnectionError"));
}

#[test]
fn handler_exhausts_and_returns_the_last_error() {
    let handler = recorded("e.db_query", 2, Severity::High);
    let (result, attempts): (Result<(), _>, _) = numbered(&handler, |attempt| {
        Err(ConnectionError(if attempt == 3 { "last" } else { "early" }))
    });
    assert_eq!(result, Err(ConnectionError("last")));
    assert_eq!(attempts, 3, "the first attempt and two retries");
    let report = coord::error_report();
    let row = report.find("e.db_query").unwrap();
    assert_eq!((row.errors, row.final_failures), (3, 1));
    assert!(report.by_severity.of(Severity::High) >= 3);
    assert!(report.retry.exhausted >= 1);
    let last = report
        .recent
        .iter()
        .rfind(|r| r.operation == "e.db_query")
        .unwrap();
    assert_eq!((last.attempt, last.outcome), (3, AttemptOutcome::Exhausted));
    assert_eq!(last.severity, Severity::High);
}

#[test]
fn error_context_drives_a_handler() {
    let context = ErrorContext::new("e.custom_operation")
        .severity(Severity::High)
        .retry(fast(5));
    assert_eq!(context.operation_name, "e.custom_operation");
    let handler = ErrorHandler::from(context);
    let (value, _) = numbered(&handler, |attempt| {
        if attempt < 5 {
            Err("not yet")
        } else {
            Ok(attempt)
        }
    });
    assert_eq!(value, Ok(5));
    assert_eq!(handler.context().severity, Severity::High);
}

#[test]
fn permanent_errors_are_not_retried_by_the_handler() {
    let handler = ErrorHandler::new("e.permanent")
        .retry(fast(5).when(|e: &ConnectionError| e.0 != "forbidden"));
    let (r, calls): (Result<(), _>, _) = numbered(&handler, |_| Err(ConnectionError("forbidden")));
    assert!(r.is_err());
    assert_eq!(calls, 1);
    let row = coord::errors::operation_errors("e.permanent").unwrap();
    assert_eq!((row.errors, row.retries, row.final_failures), (1, 0, 1));
}

#[tokio::test]
async fn handler_execute_async() {
    let handler = ErrorHandler::new("e.async").retry(fast(2));
    let calls = std::sync::atomic::AtomicU32::new(0);
    let r = handler
        .execute_async(|| async {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == 0 { Err("flaky") } else { Ok(n) }
        })
        .await;
    assert_eq!(r, Ok(1));
}

#[test]
fn messages_are_truncated_to_256_bytes_on_a_char_boundary() {
    let long = "é".repeat(300); // 600 bytes
    let handler = ErrorHandler::new("e.long_message").retry(RetryPolicy::no_retry());
    let _: Result<(), _> = handler.execute(|| Err(long.clone()));
    let row = coord::errors::operation_errors("e.long_message").unwrap();
    let message = row.last_error.unwrap();
    assert_eq!(message.len(), 256);
    assert!(message.chars().all(|c| c == 'é'));
}

#[test]
fn critical_final_failures_make_health_critical() {
    keep_all_records();
    let handler = ErrorHandler::new("e.critical")
        .retry(RetryPolicy::no_retry())
        .severity(Severity::Critical);
    let _: Result<(), _> = handler.execute(|| Err("payment ledger unavailable"));
    let report = coord::error_report();
    assert_eq!(report.health_status, HealthStatus::Unhealthy);
    assert!(report.by_severity.critical >= 1);
    assert!(report.total_errors >= report.final_failures);
}

#[test]
fn the_registry_stays_consistent_under_concurrent_failures() {
    let threads = 8;
    let calls = 500;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let handler = ErrorHandler::new("e.concurrent").retry(
                    RetryPolicy::constant(2, Duration::ZERO)
                        .no_budget()
                        .clock(FakeClock::new()),
                );
                for i in 0..calls {
                    let mut n = 0;
                    let _ = handler.execute(|| {
                        n += 1;
                        // Even calls succeed on their second attempt, odd calls never do.
                        if i % 2 == 0 && n == 2 {
                            Ok(())
                        } else {
                            Err("boom")
                        }
                    });
                }
            });
        }
    });
    let row = coord::errors::operation_errors("e.concurrent").unwrap();
    let (evens, odds) = (threads * calls / 2, threads * calls / 2);
    assert_eq!(row.successes_after_retry, evens);
    assert_eq!(row.final_failures, odds);
    // Each even call fails once; each odd call fails three times, retrying twice.
    assert_eq!(row.errors, evens + 3 * odds);
    assert_eq!(row.retries, evens + 2 * odds);
}
