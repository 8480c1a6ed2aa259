//! One wrapper per function: track_performance → retry → circuit_breaker → body, whatever the
//! source order; rejections are never retried; the ErrorHandler composes the same way.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coord::{
    BreakerConfig, BreakerState, ErrorHandler, RetryPolicy, circuit_breaker, fallback, retry,
    track_performance,
};

mod support;

use support::DbError;

static BODY_A: AtomicU32 = AtomicU32::new(0);
static BODY_B: AtomicU32 = AtomicU32::new(0);

#[track_performance("compose.a")]
#[retry(max_retries = 5, base_delay = "1ms", jitter = "none")]
#[circuit_breaker(
    name = "compose.a",
    minimum_calls = 2,
    window = 2,
    failure_rate = 0.5,
    open_for = "60s"
)]
fn order_a() -> Result<(), DbError> {
    BODY_A.fetch_add(1, Ordering::SeqCst);
    Err(DbError::Down)
}

#[circuit_breaker(
    name = "compose.b",
    minimum_calls = 2,
    window = 2,
    failure_rate = 0.5,
    open_for = "60s"
)]
#[retry(max_retries = 5, base_delay = "1ms", jitter = "none")]
#[track_performance("compose.b")]
fn order_b() -> Result<(), DbError> {
    BODY_B.fetch_add(1, Ordering::SeqCst);
    Err(DbError::Down)
}

fn check(name: &str, body: &AtomicU32, call: fn() -> Result<(), DbError>) {
    // Attempts 1 and 2 fail and trip the breaker (window 2, rate 0.5); attempt 3 is rejected
    // and the rejection ends the retry loop at once.
    let err = call().unwrap_err();
    assert!(matches!(err, DbError::Open(_)), "{name}: {err:?}");
    assert_eq!(
        body.load(Ordering::SeqCst),
        2,
        "{name}: the body ran once per admitted attempt"
    );
    assert_eq!(coord::breaker(name).state(), BreakerState::Open);
    // One caller call, one measurement, whatever the attempts.
    let stats = coord::operation(name).unwrap();
    assert_eq!((stats.calls, stats.failures), (1, 1), "{name}");
    // Further calls are rejected before the body and not retried.
    assert!(matches!(call(), Err(DbError::Open(_))));
    assert_eq!(body.load(Ordering::SeqCst), 2, "{name}");
    let errors = coord::error_report();
    let row = errors.find(name).unwrap();
    // Back-offs after attempts 1 and 2; the rejected third attempt ends the loop with no more.
    assert_eq!(row.retries, 2, "{name}");
    assert!(
        errors
            .circuit_breaker_status
            .iter()
            .any(|b| b.name == name && b.state == BreakerState::Open)
    );
}

#[test]
fn source_order_does_not_matter() {
    check("compose.a", &BODY_A, order_a);
    check("compose.b", &BODY_B, order_b);
}

#[circuit_breaker(
    name = "compose.async",
    minimum_calls = 2,
    window = 2,
    open_for = "60s"
)]
#[retry(max_retries = 4, base_delay = "1ms", jitter = "none")]
async fn async_order(calls: &AtomicU32) -> Result<(), DbError> {
    calls.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    Err(DbError::Down)
}

#[tokio::test]
async fn async_rejections_are_not_retried() {
    let calls = AtomicU32::new(0);
    assert!(matches!(async_order(&calls).await, Err(DbError::Open(_))));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

fn five_quick_retries() -> RetryPolicy {
    RetryPolicy::exponential(5, Duration::from_millis(1), 1.0)
}

/// Two failed calls open it, for longer than a test runs.
fn opens_after_two_failures() -> BreakerConfig {
    BreakerConfig::default()
        .minimum_calls(2)
        .window(2)
        .open_for(Duration::from_secs(60))
}

#[test]
fn error_handler_with_a_breaker() {
    let handler = ErrorHandler::new("compose.handler")
        .retry(five_quick_retries())
        .breaker(opens_after_two_failures());
    let mut attempts = 0;
    let result: Result<(), DbError> = handler.execute(|| {
        attempts += 1;
        Err(DbError::Down)
    });
    assert!(matches!(result, Err(DbError::Open(_))));
    assert_eq!(attempts, 2);
    let status = handler.error_report().circuit_breaker_status;
    assert!(
        status
            .iter()
            .any(|b| b.name == "compose.handler" && b.state == BreakerState::Open)
    );
    handler.reset_circuit_breaker();
    assert_eq!(handler.circuit_breaker().state(), BreakerState::Closed);
    let ok: Result<u8, DbError> = handler.execute(|| Ok(1));
    assert_eq!(ok.unwrap(), 1);
}

#[tokio::test]
async fn async_error_handler_with_a_breaker() {
    let handler = ErrorHandler::new("compose.handler.async")
        .retry(five_quick_retries())
        .try_breaker(opens_after_two_failures())
        .unwrap();
    let attempts = AtomicU32::new(0);
    let created = AtomicU32::new(0);
    let result: Result<(), DbError> = handler
        .execute_async(|| {
            // Runs when the attempt's future is made: never for a rejected attempt.
            created.fetch_add(1, Ordering::SeqCst);
            async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(DbError::Down)
            }
        })
        .await;
    assert!(matches!(result, Err(DbError::Open(_))));
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(created.load(Ordering::SeqCst), 2);
}

#[test]
fn invalid_breaker_configs_are_errors_or_logged() {
    let bad = BreakerConfig::default().failure_rate(1.5);
    let err = ErrorHandler::new("compose.bad")
        .try_breaker(bad.clone())
        .unwrap_err();
    assert!(err.to_string().contains("failure_rate"), "{err}");
    // The infallible builder keeps the breaker's defaults and still guards calls.
    let handler = ErrorHandler::new("compose.bad").breaker(bad);
    assert_eq!(
        handler.circuit_breaker().config().failure_rate,
        BreakerConfig::default().failure_rate
    );
    let ok: Result<u8, DbError> = handler.execute(|| Ok(1));
    assert_eq!(ok.unwrap(), 1);
}

#[allow(clippy::needless_return)]
#[retry(max_retries = 1, base_delay = "1ms")]
fn ends_in_return(flag: bool) -> Result<u8, String> {
    if flag {
        return Err("no".into());
    }
    return Ok(1);
}

#[test]
fn bodies_ending_in_return_compile_without_warnings() {
    // `clippy -D warnings` over the tests turns an unreachable-code warning into a failure.
    assert_eq!(ends_in_return(false), Ok(1));
    assert!(ends_in_return(true).is_err());
}

#[circuit_breaker(name = "compose.preconfigured", minimum_calls = 50, window = 50)]
fn preconfigured() -> Result<(), DbError> {
    Ok(())
}

#[test]
fn a_call_site_does_not_reconfigure_an_existing_breaker() {
    coord::breaker_with(
        "compose.preconfigured",
        BreakerConfig::default().minimum_calls(3).window(3),
    )
    .unwrap();
    preconfigured().unwrap();
    assert_eq!(
        coord::breaker("compose.preconfigured")
            .config()
            .minimum_calls,
        3
    );
}

static FRAGMENT_BODY: AtomicU32 = AtomicU32::new(0);

fn recover_fragment(_: support::LayerError) -> Result<u32, support::LayerError> {
    Ok(7)
}

/// Declares a guarded function from a user's own macro: every attribute value arrives through a
/// `macro_rules!` fragment (`literal`, `expr`, `path`), which wraps it in an invisible group.
macro_rules! guarded {
    ($fn:ident, $name:literal, $rate:literal, $retries:expr, $recover:path) => {
        #[track_performance($name)]
        #[fallback($recover)]
        #[retry(max_retries = $retries, base_delay = "0ms", jitter = "none")]
        #[coord::rate_limit(name = $name, rate = $rate, per = "1s")]
        fn $fn() -> Result<u32, support::LayerError> {
            FRAGMENT_BODY.fetch_add(1, Ordering::SeqCst);
            Err(support::LayerError::Down)
        }
    };
}

guarded!(
    through_fragments,
    "compose.fragments",
    1000,
    2,
    recover_fragment
);

#[test]
fn attribute_values_pass_through_macro_rules_fragments() {
    assert_eq!(through_fragments(), Ok(7));
    // One call and two retries, then the fallback: every value was read as written.
    assert_eq!(FRAGMENT_BODY.load(Ordering::SeqCst), 3);
    let stats = coord::operation("compose.fragments").expect("tracked under the literal's name");
    assert_eq!(stats.calls, 1);
    let limiter = coord::rate_limit::find("compose.fragments").expect("the fragment's name");
    assert_eq!(limiter.config().rate, 1000, "the fragment's rate");
}
