//! The error registry's cap on operation names (its own binary: the cap is process-wide).

use std::time::Duration;

use coord::{ErrorHandler, RetryPolicy};

#[test]
fn names_past_the_cap_share_the_overflow_row_and_are_counted() {
    assert_eq!(coord::errors::max_rows(), coord::errors::DEFAULT_MAX_ROWS);
    coord::errors::set_max_rows(4);
    let policy = RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget();
    for i in 0..10 {
        let handler = ErrorHandler::new(format!("errcap.{i}")).retry(policy.clone());
        let _ = handler.execute(|| Err::<(), _>("failed"));
    }
    let report = coord::error_report();
    let named = report
        .by_operation
        .iter()
        .filter(|r| r.operation.starts_with("errcap."))
        .count();
    assert_eq!(named, 4);
    let overflow = report.find("coord.overflow").expect("the overflow row");
    assert_eq!(overflow.errors, 6);
    assert_eq!(report.total_errors, 10);
    assert_eq!(coord::errors::dropped_names(), 6);

    // A handler past the cap reports the overflow row it records into.
    let late = ErrorHandler::new("errcap.late").retry(policy);
    let _ = late.execute(|| Err::<(), _>("late"));
    let own = late.error_report();
    assert_eq!(own.by_operation.len(), 1);
    assert_eq!(own.by_operation[0].operation, "coord.overflow");

    coord::reset();
    assert_eq!(coord::error_report().total_errors, 0);
    assert_eq!(coord::errors::dropped_names(), 0);
    assert_eq!(coord::errors::max_rows(), 4);
}
