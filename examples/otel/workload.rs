//! The reference workload of the OpenTelemetry example and tests: every mechanism used, with
//! counts known in advance ([`EXPECTED`]), so a receiver's view can be checked exactly.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coord::perf::Outcome;
use coord::{BulkheadFull, RateLimited, TimedOut, bulkhead, rate_limit, retry, timeout};

/// What the layers of the workload return.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The downstream call failed.
    Down,
    /// A layer refused the call.
    Refused(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Down => write!(f, "down"),
            Error::Refused(by) => write!(f, "refused by the {by}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TimedOut> for Error {
    fn from(_: TimedOut) -> Self {
        Error::Refused("timeout")
    }
}

impl From<BulkheadFull> for Error {
    fn from(_: BulkheadFull) -> Self {
        Error::Refused("bulkhead")
    }
}

impl From<RateLimited> for Error {
    fn from(_: RateLimited) -> Self {
        Error::Refused("rate limiter")
    }
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails its first two attempts.
#[retry(max_retries = 2, base_delay = "1ms")]
fn flaky() -> Result<(), Error> {
    if FLAKY_CALLS.fetch_add(1, Ordering::Relaxed) < 2 {
        Err(Error::Down)
    } else {
        Ok(())
    }
}

#[rate_limit(name = "otel.ref.quota", rate = 1, per = "1h", burst = 1)]
fn quota() -> Result<(), Error> {
    Ok(())
}

#[bulkhead(name = "otel.ref.pool", max_concurrent = 1)]
fn pooled(inner: Option<fn() -> Result<(), Error>>) -> Result<(), Error> {
    inner.map_or(Ok(()), |f| f())
}

fn nested() -> Result<(), Error> {
    pooled(None)
}

#[timeout("10ms")]
async fn slow() -> Result<(), Error> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

/// Runs the workload once (a second run in the same process doubles the counters).
pub async fn run() {
    let checkout = coord::monitor().operation_handle("otel.ref.checkout");
    for _ in 0..3 {
        checkout.record(Duration::from_micros(150), Outcome::Success);
    }
    for _ in 0..2 {
        checkout.record(Duration::from_millis(3), Outcome::Success);
    }
    checkout.record(Duration::from_millis(40), Outcome::Failure);

    assert_eq!(flaky(), Ok(()));
    assert_eq!(quota(), Ok(()));
    assert_eq!(quota(), Err(Error::Refused("rate limiter")));
    assert_eq!(quota(), Err(Error::Refused("rate limiter")));
    assert_eq!(pooled(Some(nested)), Err(Error::Refused("bulkhead")));
    assert_eq!(slow().await, Err(Error::Refused("timeout")));
    coord::breaker("otel.ref.payments").force_open();
    let _ = coord::validator().validate_message_structure(&serde_json::json!({
        "content": "hi", "user_id": "u1", "priority": "high"
    }));
    coord::monitor().record_system_health();
    // A hedged call, answered well within its delay (no extra attempt).
    let hedge = coord::hedge_with(
        "otel.ref.hedge",
        coord::HedgeConfig::after(Duration::from_secs(1)),
    )
    .expect("a valid hedge");
    let answer: Result<(), ()> = hedge.run(|| async { Ok(()) }).await;
    assert_eq!(answer, Ok(()));
    // A fleet-wide limiter with no Redis to reach (no URL, no `COORD_REDIS_URL`): its one
    // call is decided by the local share, a fallback; the next one is refused by it.
    let fleet = coord::rate_limiter_with(
        "otel.ref.fleet",
        coord::RateLimitConfig::default()
            .rate(1)
            .per(Duration::from_secs(3600))
            .burst(1)
            .shared(true),
    )
    .expect("a valid shared limiter");
    assert!(fleet.check().is_ok());
    assert!(fleet.check().is_err());
    // A rejection injected into a breaker of its own (then disarmed).
    coord::chaos::reject("otel.ref.chaos", 1.0).expect("a valid rule");
    assert!(coord::breaker("otel.ref.chaos").try_acquire().is_err());
    coord::chaos::disarm("otel.ref.chaos");
    // An objective over the checkout.
    coord::Objective::new("otel.ref.objective")
        .success_rate(0.99)
        .declare()
        .expect("a valid objective");
    coord::objectives::join("otel.ref.checkout", "otel.ref.objective");
}

/// The latency histogram of `otel.ref.checkout`: calls per bucket of coord's bounds (the
/// buckets not listed are empty), count and sum in seconds.
pub const CHECKOUT_BUCKETS: &[(f64, u64)] = &[(0.0002, 3), (0.005, 2), (0.05, 1)];
/// Calls of the checkout histogram.
pub const CHECKOUT_COUNT: u64 = 6;
/// Their sum in seconds.
pub const CHECKOUT_SUM: f64 = 3.0 * 0.000_15 + 2.0 * 0.003 + 0.04;

/// One expected series: OpenTelemetry metric name, attributes, value.
pub type Expected = (&'static str, &'static [(&'static str, &'static str)], f64);

/// Exact values after one [`run`].
pub const EXPECTED: &[Expected] = &[
    (
        "coord_operation_calls",
        &[("operation", "otel.ref.checkout"), ("outcome", "success")],
        5.0,
    ),
    (
        "coord_operation_calls",
        &[("operation", "otel.ref.checkout"), ("outcome", "failure")],
        1.0,
    ),
    (
        "coord_retry_attempts",
        &[("operation", "otel::workload::flaky")],
        2.0,
    ),
    (
        "coord_retry_calls",
        &[("outcome", "success_after_retry")],
        1.0,
    ),
    ("coord_errors", &[("severity", "medium")], 2.0),
    (
        "coord_rate_limiter_rejected_calls",
        &[("rate_limiter", "otel.ref.quota")],
        2.0,
    ),
    (
        "coord_bulkhead_rejected_calls",
        &[("bulkhead", "otel.ref.pool")],
        1.0,
    ),
    (
        "coord_operation_timeouts",
        &[("operation", "otel::workload::slow")],
        1.0,
    ),
    (
        "coord_circuit_breaker_state",
        &[("breaker", "otel.ref.payments"), ("state", "forced_open")],
        1.0,
    ),
    (
        "coord_validations",
        &[("rule_set", "message"), ("verdict", "valid")],
        1.0,
    ),
    (
        "coord_rate_limiter_fallback_calls",
        &[("rate_limiter", "otel.ref.fleet")],
        2.0,
    ),
    (
        "coord_rate_limiter_fallback_rejected",
        &[("rate_limiter", "otel.ref.fleet")],
        1.0,
    ),
    (
        "coord_chaos_injected",
        &[("name", "otel.ref.chaos"), ("kind", "reject")],
        1.0,
    ),
];
