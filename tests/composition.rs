//! One wrapper per function: track_performance → retry → circuit_breaker → body, whatever the
//! source order; rejections are never retried; the ErrorHandler composes the same way.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coord::{
    BreakerConfig, BreakerState, CircuitOpen, ErrorHandler, RetryPolicy, circuit_breaker, retry,
    track_performance,
};

#[derive(Debug)]
enum DbError {
    Down,
    Open(CircuitOpen),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Down => f.write_str("database down"),
            DbError::Open(open) => write!(f, "{open}"),
        }
    }
}

impl From<CircuitOpen> for DbError {
    fn from(open: CircuitOpen) -> Self {
        DbError::Open(open)
    }
}

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
    let row = errors.operation(name).unwrap();
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

#[test]
fn error_handler_with_a_breaker() {
    let handler = ErrorHandler::new("compose.handler")
        .retry(RetryPolicy::exponential(5, Duration::from_millis(1), 1.0))
        .breaker(
            BreakerConfig::default()
                .minimum_calls(2)
                .window(2)
                .open_for(Duration::from_secs(60)),
        )
        .unwrap();
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
        .retry(RetryPolicy::exponential(5, Duration::from_millis(1), 1.0))
        .breaker(
            BreakerConfig::default()
                .minimum_calls(2)
                .window(2)
                .open_for(Duration::from_secs(60)),
        )
        .unwrap();
    let attempts = AtomicU32::new(0);
    let result: Result<(), DbError> = handler
        .execute_async(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(DbError::Down)
        })
        .await;
    assert!(matches!(result, Err(DbError::Open(_))));
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[test]
fn open_breakers_lower_the_health_score() {
    let breaker = coord::breaker("compose.health");
    let before = coord::monitor()
        .system_health()
        .breakdown
        .open_breakers
        .value;
    breaker.force_open();
    let after = coord::monitor()
        .system_health()
        .breakdown
        .open_breakers
        .value;
    assert!(after >= before + 1.0 || after >= 1.0, "{before} -> {after}");
    breaker.reset();
}
