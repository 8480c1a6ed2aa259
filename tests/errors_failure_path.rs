//! The failure path of the error registry: odd errors never panic and are kept bounded, every
//! failure path fills `last_error` in one place, `ErrorHandler::error_report()` covers its own
//! operation, (tests/errors_concurrent.rs checks concurrent recording).

use std::fmt;
use std::time::Duration;

use coord::errors::MAX_MESSAGE_LEN;
use coord::{ErrorHandler, RetryPolicy, Severity};

const UNAVAILABLE: &str = "<message unavailable>";

/// An error whose message is whatever it holds.
#[derive(Debug)]
struct Text(String);

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error whose `Display` panics.
#[derive(Debug)]
struct Panics;

impl fmt::Display for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("this Display panics")
    }
}

/// An error whose `Display` writes a little and then fails.
#[derive(Debug)]
struct Fails;

impl fmt::Display for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("half a message")?;
        Err(fmt::Error)
    }
}

fn once() -> RetryPolicy {
    RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget()
}

/// Fails once through a handler named `name` with `error` and returns what the report kept.
fn recorded_message<E: fmt::Display + 'static>(name: &str, error: impl Fn() -> E) -> String {
    let handler = ErrorHandler::new(name).retry(once());
    let result: Result<(), E> = handler.execute(|| Err(error()));
    assert!(result.is_err());
    let report = handler.error_report();
    let row = report.find(name).expect("a row for the handler");
    assert_eq!(row.errors, 1);
    let last = row.last_error.clone().expect("a last error");
    // Other tests' records may push it out of the bounded list, never someone else's in.
    assert!(report.recent.len() <= 1);
    assert!(report.recent.iter().all(|r| r.message == last));
    last
}

fn assert_bounded_prefix(kept: &str, full: &str) {
    assert!(kept.len() <= MAX_MESSAGE_LEN, "{} bytes kept", kept.len());
    assert!(full.starts_with(kept));
}

#[test]
fn empty_messages_are_kept_empty() {
    assert_eq!(recorded_message("errfp.empty", || Text(String::new())), "");
}

#[test]
fn multi_megabyte_messages_are_truncated_on_a_char_boundary() {
    let huge = "é".repeat(3 << 20); // 6 MiB of two-byte characters
    let kept = recorded_message("errfp.huge", || Text(huge.clone()));
    assert_bounded_prefix(&kept, &huge);
    assert!(kept.len() >= MAX_MESSAGE_LEN - 1);
}

#[test]
fn odd_content_is_kept_as_is_within_the_limit() {
    let odd = String::from_utf8_lossy(&[0xff, 0xfe, b'\0', b'\n', 0x1b, b'[', b'2', b'J', 0xc3])
        .into_owned();
    assert_eq!(recorded_message("errfp.odd", || Text(odd.clone())), odd);
    let wide = "\u{1F600}".repeat(100); // four bytes each: 256 is a boundary, 257 is not
    let kept = recorded_message("errfp.wide", || Text(wide.clone()));
    assert_bounded_prefix(&kept, &wide);
    assert_eq!(kept.len(), MAX_MESSAGE_LEN);
}

#[test]
fn a_panicking_display_is_recorded_as_unavailable() {
    assert_eq!(recorded_message("errfp.panics", || Panics), UNAVAILABLE);
    // The registry still works afterwards (no poisoned lock).
    assert_eq!(
        recorded_message("errfp.after_panic", || Text("ok".into())),
        "ok"
    );
}

#[test]
fn a_failing_display_keeps_what_it_wrote() {
    assert_eq!(recorded_message("errfp.fails", || Fails), "half a message");
}

#[coord::retry(max_retries = 0)]
fn macro_panicking_display() -> Result<(), Panics> {
    Err(Panics)
}

#[coord::track_performance("errfp.macro_tracked")]
#[coord::retry(max_retries = 1, base_delay = "1ms")]
fn macro_tracked(message: &str) -> Result<(), Text> {
    Err(Text(message.to_owned()))
}

#[test]
fn odd_errors_through_the_macros_and_the_policy_do_not_panic() {
    assert!(macro_panicking_display().is_err());
    let row = coord::error_report()
        .by_operation
        .into_iter()
        .find(|r| r.operation.ends_with("macro_panicking_display"))
        .expect("the macro's row");
    assert_eq!(row.last_error.as_deref(), Some(UNAVAILABLE));

    let policy = once().named("errfp.policy");
    let huge = "x".repeat(5 << 20);
    assert!(policy.call(|| Err::<(), _>(Text(huge.clone()))).is_err());
    assert!(policy.call(|| Err::<(), _>(Panics)).is_err());
    let row = coord::errors::operation_errors("errfp.policy").expect("the policy's row");
    assert_eq!(row.errors, 2);
    assert_eq!(row.last_error.as_deref(), Some(UNAVAILABLE));
}

#[test]
fn last_error_is_filled_by_every_failure_path_in_one_place() {
    // Macros: `#[track_performance]` + `#[retry]`.
    assert!(macro_tracked("macro failure").is_err());
    let stats = coord::operation("errfp.macro_tracked").expect("tracked");
    assert_eq!(stats.last_error.as_deref(), Some("macro failure"));
    let row = coord::errors::operation_errors("errfp.macro_tracked").expect("a row");
    assert_eq!(row.errors, 2);
    assert_eq!(row.last_error, stats.last_error);

    // The guard.
    let guard = coord::monitor().record_operation("errfp.guard");
    guard.failure(&Text("guard failure".into()));
    let stats = coord::operation("errfp.guard").expect("recorded");
    assert_eq!(stats.last_error.as_deref(), Some("guard failure"));
    let guard = coord::monitor().record_operation("errfp.guard");
    guard.failure(&Panics);
    assert_eq!(
        coord::operation("errfp.guard")
            .unwrap()
            .last_error
            .as_deref(),
        Some(UNAVAILABLE)
    );
    let guard = coord::monitor().record_operation("errfp.guard");
    guard.failure(&Text("y".repeat(1 << 20)));
    let kept = coord::operation("errfp.guard").unwrap().last_error.unwrap();
    assert_eq!(kept.len(), MAX_MESSAGE_LEN);

    // The handler, sharing its name with a guard: one value for both readers.
    let handler = ErrorHandler::new("errfp.shared").retry(once());
    let guard = coord::monitor().record_operation("errfp.shared");
    let _ = handler.execute(|| Err::<(), _>(Text("handler failure".into())));
    guard.success();
    let stats = coord::operation("errfp.shared").expect("recorded");
    assert_eq!(stats.last_error.as_deref(), Some("handler failure"));
    let guard = coord::monitor().record_operation("errfp.shared");
    guard.failure(&Text("guard wins".into()));
    let row = handler.error_report();
    assert_eq!(
        row.find("errfp.shared").unwrap().last_error.as_deref(),
        Some("guard wins")
    );
}

#[test]
fn a_handler_reports_its_own_operation_only() {
    let a = ErrorHandler::new("errfp.own.a")
        .retry(once())
        .severity(Severity::Critical);
    let b = ErrorHandler::new("errfp.own.b").retry(once());
    for _ in 0..3 {
        let _ = a.execute(|| Err::<(), _>("a failed"));
    }
    let _ = b.execute(|| Err::<(), _>("b failed"));

    let report = a.error_report();
    assert_eq!(report.total_errors, 3);
    assert_eq!(report.final_failures, 3);
    assert_eq!(report.by_severity.critical, 3);
    assert_eq!(report.by_severity.medium, 0);
    assert_eq!(report.retry.exhausted, 3);
    assert_eq!(report.by_operation.len(), 1);
    assert_eq!(report.by_operation[0].operation, "errfp.own.a");
    assert_eq!(report.recent.len(), 3);
    assert!(report.recent.iter().all(|r| r.operation == "errfp.own.a"));
    assert_eq!(report.health_status, coord::HealthStatus::Unhealthy);
    assert!(coord::error_report().recent.len() > 3);
    assert!(report.circuit_breaker_status.is_empty());

    let report = b.error_report();
    assert_eq!(report.total_errors, 1);
    assert_eq!(report.health_status, coord::HealthStatus::Healthy);

    // A new handler of the same name sees the same row; one of an unused name an empty report.
    assert_eq!(
        ErrorHandler::new("errfp.own.a").error_report().total_errors,
        3
    );
    let empty = ErrorHandler::new("errfp.own.unused").error_report();
    assert_eq!(empty.total_errors, 0);
    assert!(empty.by_operation.is_empty() && empty.recent.is_empty());

    // The global report has both.
    let global = coord::error_report();
    assert!(global.find("errfp.own.a").is_some());
    assert!(global.find("errfp.own.b").is_some());
    assert!(global.total_errors >= 4);
}

#[test]
fn a_handler_with_a_breaker_reports_that_breaker_only() {
    #[derive(Debug)]
    enum E {
        Down,
        Open,
    }
    impl fmt::Display for E {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                E::Down => "down",
                E::Open => "open",
            })
        }
    }
    impl From<coord::CircuitOpen> for E {
        fn from(_: coord::CircuitOpen) -> Self {
            E::Open
        }
    }
    let _other = coord::breaker("errfp.breaker.other");
    let handler = ErrorHandler::new("errfp.breaker")
        .retry(once())
        .breaker(coord::BreakerConfig::default());
    let _ = handler.execute(|| Err::<(), _>(E::Down));
    let report = handler.error_report();
    assert_eq!(report.circuit_breaker_status.len(), 1);
    assert_eq!(report.circuit_breaker_status[0].name, "errfp.breaker");
    assert_eq!(report.total_errors, 1);
}
