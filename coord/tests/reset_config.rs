//! `coord::reset()` clears measurements and state and keeps configuration (DESIGN principle 6):
//! named retry policies, breaker configurations from a file and their precedence over call-site
//! keys, rule sets, monitor settings and registry caps. One test: reset is process-wide.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use coord::{BreakerConfig, CircuitOpen, RetryPolicy, circuit_breaker, retry};

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// First called after the reset: must still get the registered policy (2 retries).
#[retry(policy = "rc.api")]
fn flaky() -> Result<(), String> {
    ATTEMPTS.fetch_add(1, SeqCst);
    Err("down".to_owned())
}

#[derive(Debug)]
enum DbError {
    Down,
    Open,
}

impl From<CircuitOpen> for DbError {
    fn from(_: CircuitOpen) -> Self {
        DbError::Open
    }
}

/// The call site asks for other settings; the configuration file's entry wins, even when the
/// site is first used after a reset.
#[circuit_breaker(name = "rc.db", failure_rate = 1.0, minimum_calls = 20)]
fn db() -> Result<(), DbError> {
    Err(DbError::Down)
}

#[test]
fn reset_keeps_configuration_and_clears_measurements() {
    // Configuration of every kind.
    coord::register_policy("rc.api", RetryPolicy::constant(2, Duration::ZERO));
    let file_config = coord::config::load_str(
        "circuit_breakers:\n  rc.db:\n    failure_rate: 0.5\n    minimum_calls: 2\n",
    )
    .unwrap();
    assert_eq!(file_config.circuit_breakers, ["rc.db"]);
    let from_file = coord::breaker("rc.db").config();
    // Someone reconfigures the breaker by hand before the reset.
    coord::breaker_with("rc.db", BreakerConfig::default().minimum_calls(5)).unwrap();
    coord::rules()
        .load_yaml("rc_rules:\n  required_fields: [name]\n")
        .unwrap();
    let monitor_config = coord::MonitorConfig::default().max_data_points(7);
    coord::monitor().configure(monitor_config.clone()).unwrap();
    coord::limits::set_max_budgets(4_321);
    // Some measurements.
    coord::monitor().record_operation("rc.op").success();
    assert_eq!(coord::operation("rc.op").unwrap().calls, 1);

    coord::reset();

    // Measurements are gone; handles and names stay.
    assert_eq!(coord::operation("rc.op").unwrap().calls, 0);
    // Configuration stays.
    assert_eq!(
        coord::retry_policy("rc.api")
            .unwrap()
            .settings()
            .max_retries,
        2
    );
    assert!(flaky().is_err());
    assert_eq!(
        ATTEMPTS.load(SeqCst),
        3,
        "1 call + 2 retries from the policy"
    );
    assert!(matches!(db(), Err(DbError::Down)));
    assert_eq!(
        coord::breaker("rc.db").config(),
        from_file,
        "the file's configuration wins over the call site's keys after a reset"
    );
    assert!(matches!(db(), Err(DbError::Down)));
    assert!(
        matches!(db(), Err(DbError::Open)),
        "opens after the file's 2 calls"
    );
    assert!(coord::rules().get("rc_rules").is_some());
    assert_eq!(coord::monitor().config(), monitor_config);
    assert_eq!(coord::limits::max_budgets(), 4_321);
    coord::limits::set_max_budgets(coord::limits::DEFAULT_MAX_BUDGETS);
}
