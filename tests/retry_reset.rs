//! `coord::reset()` clears the error registry and refills budgets, and keeps named policies
//! (configuration, DESIGN principle 6) (own binary: reset is process-wide).

use std::time::Duration;

use coord::{BudgetConfig, FakeClock, RetryPolicy, retry};

#[retry(max_retries = 1, base_delay = "1ms")]
fn always_fails() -> Result<(), String> {
    Err("down".to_owned())
}

#[test]
fn reset_returns_retry_and_error_registries_to_zero() {
    coord::register_policy(
        "r.policy",
        RetryPolicy::constant(1, Duration::ZERO).budget(BudgetConfig::default().capacity(10)),
    );
    let policy = coord::retry_policy("r.policy").unwrap();
    let _: Result<(), &str> = policy.call(|| Err("x"));
    // An unnamed policy's own budget (outside the registry) is refilled too.
    let unnamed = RetryPolicy::constant(1, Duration::ZERO)
        .budget(BudgetConfig::default().capacity(5))
        .clock(FakeClock::new());
    let attempts = |policy: &RetryPolicy| {
        let mut n = 0;
        let _: Result<(), &str> = policy.call(|| {
            n += 1;
            Err("x")
        });
        n
    };
    assert_eq!(attempts(&unnamed), 2);
    assert_eq!(attempts(&unnamed), 1, "the own budget is spent");
    assert!(always_fails().is_err());
    assert_eq!(coord::retry::budget("r.policy").unwrap().tokens, 5);
    assert!(coord::error_report().total_errors >= 4);

    coord::reset();

    let report = coord::error_report();
    assert_eq!(report.total_errors, 0);
    assert_eq!(report.retry, coord::errors::RetryStats::default());
    assert!(report.recent.is_empty() && report.by_operation.is_empty());
    assert!(coord::retry_policy("r.policy").is_some());
    assert_eq!(coord::retry::budget("r.policy").unwrap().tokens, 10);
    // The call site's cached policy keeps working and counts from zero.
    assert!(always_fails().is_err());
    assert_eq!(coord::error_report().total_errors, 2);
    assert_eq!(attempts(&unnamed), 2, "the own budget is full again");
}
