//! `#[timeout]`, `#[bulkhead]`, `#[rate_limit]` and `#[fallback]` through the public API, alone
//! and composed with `#[track_performance]`, `#[retry]` and `#[circuit_breaker]`.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use coord::{
    BulkheadFull, CircuitOpen, RateLimited, TimedOut, bulkhead, circuit_breaker, fallback,
    rate_limit, retry, timeout, track_performance,
};

#[derive(Debug, Clone, PartialEq)]
enum Error {
    Down,
    TooSlow(Duration),
    Busy,
    Throttled,
    Open,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl From<TimedOut> for Error {
    fn from(t: TimedOut) -> Self {
        Error::TooSlow(t.limit())
    }
}
impl From<BulkheadFull> for Error {
    fn from(_: BulkheadFull) -> Self {
        Error::Busy
    }
}
impl From<RateLimited> for Error {
    fn from(_: RateLimited) -> Self {
        Error::Throttled
    }
}
impl From<CircuitOpen> for Error {
    fn from(_: CircuitOpen) -> Self {
        Error::Open
    }
}

async fn sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

// ---- timeout ----

#[timeout("20ms")]
async fn slow_once(ms: u64) -> Result<u64, Error> {
    sleep(ms).await;
    Ok(ms)
}

#[tokio::test]
async fn attempt_timeout_drops_the_slow_future() {
    assert_eq!(slow_once(1).await, Ok(1));
    assert_eq!(
        slow_once(500).await,
        Err(Error::TooSlow(Duration::from_millis(20)))
    );
}

static RETRIED_TRIES: AtomicU32 = AtomicU32::new(0);

#[retry(max_retries = 3, base_delay = "1ms")]
#[timeout("20ms")]
async fn timed_out_then_fast() -> Result<u32, Error> {
    let n = RETRIED_TRIES.fetch_add(1, SeqCst);
    if n < 2 {
        sleep(500).await;
    }
    Ok(n)
}

#[tokio::test]
async fn an_attempt_timeout_is_retried() {
    assert_eq!(timed_out_then_fast().await, Ok(2));
}

static TOTAL_TRIES: AtomicU32 = AtomicU32::new(0);

#[timeout(total = "60ms")]
#[retry(max_retries = 100, base_delay = "5ms", multiplier = 1.0)]
async fn always_down() -> Result<u32, Error> {
    TOTAL_TRIES.fetch_add(1, SeqCst);
    Err(Error::Down)
}

#[tokio::test]
async fn a_total_timeout_ends_the_retries() {
    let started = std::time::Instant::now();
    assert_eq!(
        always_down().await,
        Err(Error::TooSlow(Duration::from_millis(60)))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let tries = TOTAL_TRIES.load(SeqCst);
    assert!((2..100).contains(&tries), "{tries} attempts");
}

// ---- bulkhead ----

#[bulkhead(name = "layers.bulkhead_sync", max_concurrent = 1)]
fn guarded(inner: Option<fn() -> Result<(), Error>>) -> Result<(), Error> {
    match inner {
        Some(f) => f(),
        None => Ok(()),
    }
}

fn nested() -> Result<(), Error> {
    guarded(None)
}

#[test]
fn bulkhead_rejects_past_its_slots_sync() {
    assert_eq!(guarded(None), Ok(()));
    assert_eq!(guarded(Some(nested)), Err(Error::Busy));
    let snapshot = coord::bulkhead("layers.bulkhead_sync").snapshot();
    assert_eq!((snapshot.in_flight, snapshot.rejected), (0, 1));
}

#[bulkhead(name = "layers.bulkhead_async", max_concurrent = 2)]
async fn held(ms: u64) -> Result<(), Error> {
    sleep(ms).await;
    Ok(())
}

#[tokio::test]
async fn bulkhead_releases_slots_on_cancellation() {
    let a = tokio::spawn(held(10_000));
    let b = tokio::spawn(held(10_000));
    sleep(20).await;
    assert_eq!(held(0).await, Err(Error::Busy));
    a.abort();
    b.abort();
    let _ = a.await;
    let _ = b.await;
    assert_eq!(coord::bulkhead("layers.bulkhead_async").in_flight(), 0);
    assert_eq!(held(0).await, Ok(()));
}

// ---- rate limit ----

#[rate_limit(name = "layers.rate", rate = 1, per = "1m", burst = 2)]
fn limited() -> Result<(), Error> {
    Ok(())
}

#[test]
fn rate_limit_rejects_past_its_burst() {
    assert_eq!(limited(), Ok(()));
    assert_eq!(limited(), Ok(()));
    assert_eq!(limited(), Err(Error::Throttled));
}

// ---- fallback ----

fn recover(error: Error) -> Result<u32, Error> {
    match error {
        Error::Down => Ok(0),
        other => Err(other),
    }
}

async fn recover_async(error: Error) -> Result<u32, Error> {
    sleep(1).await;
    recover(error).map(|v| v + 1)
}

#[fallback(recover)]
fn with_fallback(up: bool) -> Result<u32, Error> {
    if up { Ok(7) } else { Err(Error::Down) }
}

#[fallback(recover)]
async fn with_sync_fallback_async(up: bool) -> Result<u32, Error> {
    sleep(1).await;
    if up { Ok(7) } else { Err(Error::Down) }
}

#[fallback(recover_async)]
async fn with_async_fallback(up: bool) -> Result<u32, Error> {
    if up { Ok(7) } else { Err(Error::Down) }
}

#[test]
fn fallback_recovers_the_final_error() {
    assert_eq!(with_fallback(true), Ok(7));
    assert_eq!(with_fallback(false), Ok(0));
}

#[tokio::test]
async fn fallback_sync_or_async_on_async_fns() {
    assert_eq!(with_sync_fallback_async(true).await, Ok(7));
    assert_eq!(with_sync_fallback_async(false).await, Ok(0));
    assert_eq!(with_async_fallback(false).await, Ok(1));
}

// ---- all together ----

#[track_performance("layers.all")]
#[fallback(recover)]
#[timeout(total = "2s")]
#[retry(max_retries = 2, base_delay = "1ms")]
#[circuit_breaker(name = "layers.all")]
#[rate_limit(name = "layers.all", rate = 1000, burst = 100)]
#[bulkhead(name = "layers.all", max_concurrent = 4)]
#[timeout("50ms")]
async fn everything(up: bool) -> Result<u32, Error> {
    if up { Ok(1) } else { Err(Error::Down) }
}

#[tokio::test]
async fn all_layers_compose() {
    assert_eq!(everything(true).await, Ok(1));
    assert_eq!(everything(false).await, Ok(0));
    let stats = coord::operation("layers.all").unwrap();
    assert_eq!((stats.calls, stats.failures), (2, 0));
}

// ---- the order, one test per adjacent pair:
// track_performance → fallback → timeout(total) → retry → circuit_breaker → rate_limit →
// bulkhead → timeout(attempt) → body ----

fn recover_all(_: Error) -> Result<u32, Error> {
    Ok(99)
}

#[track_performance("layers.order.perf_fallback")]
#[fallback(recover_all)]
fn perf_outside_fallback() -> Result<u32, Error> {
    Err(Error::Down)
}

#[test]
fn order_track_performance_sees_the_recovered_outcome() {
    assert_eq!(perf_outside_fallback(), Ok(99));
    let stats = coord::operation("layers.order.perf_fallback").unwrap();
    assert_eq!((stats.calls, stats.successes, stats.failures), (1, 1, 0));
}

fn recover_timeout(error: Error) -> Result<u32, Error> {
    match error {
        Error::TooSlow(_) => Ok(1),
        other => Err(other),
    }
}

#[fallback(recover_timeout)]
#[timeout(total = "20ms")]
async fn fallback_outside_total() -> Result<u32, Error> {
    sleep(10_000).await;
    Ok(0)
}

#[tokio::test]
async fn order_fallback_recovers_from_a_total_timeout() {
    assert_eq!(fallback_outside_total().await, Ok(1));
}

static BREAKER_TRIES: AtomicU32 = AtomicU32::new(0);

#[retry(max_retries = 5, base_delay = "1ms")]
#[circuit_breaker(
    name = "layers.order.retry_breaker",
    consecutive_failures = 2,
    open_for = "1m"
)]
fn retry_outside_breaker() -> Result<u32, Error> {
    BREAKER_TRIES.fetch_add(1, SeqCst);
    Err(Error::Down)
}

#[test]
fn order_each_attempt_asks_the_breaker_and_an_open_breaker_is_not_retried() {
    assert_eq!(retry_outside_breaker(), Err(Error::Open));
    // Two failures opened the breaker; the third attempt was rejected and not retried.
    assert_eq!(BREAKER_TRIES.load(SeqCst), 2);
    let breaker = coord::breaker("layers.order.retry_breaker").snapshot();
    assert_eq!(breaker.rejected, 1);
}

#[circuit_breaker(
    name = "layers.order.breaker_rate",
    consecutive_failures = 1,
    open_for = "1m"
)]
#[rate_limit(name = "layers.order.breaker_rate", rate = 1, per = "1m", burst = 1)]
fn breaker_outside_rate_limit() -> Result<u32, Error> {
    Ok(1)
}

#[test]
fn order_a_rate_limited_attempt_is_no_breaker_failure() {
    assert_eq!(breaker_outside_rate_limit(), Ok(1));
    assert_eq!(breaker_outside_rate_limit(), Err(Error::Throttled));
    assert_eq!(breaker_outside_rate_limit(), Err(Error::Throttled));
    // One failure would have opened it: rejections below the breaker are not failures.
    assert_eq!(
        coord::breaker("layers.order.breaker_rate").state(),
        coord::BreakerState::Closed
    );
    assert_eq!(
        coord::rate_limiter("layers.order.breaker_rate")
            .snapshot()
            .rejected,
        2
    );
}

#[rate_limit(name = "layers.order.rate_bulkhead", rate = 1, per = "1m", burst = 1)]
#[bulkhead(name = "layers.order.rate_bulkhead", max_concurrent = 1)]
fn rate_limit_outside_bulkhead() -> Result<u32, Error> {
    Ok(1)
}

#[test]
fn order_a_rate_limited_call_never_takes_a_bulkhead_slot() {
    assert_eq!(rate_limit_outside_bulkhead(), Ok(1));
    assert_eq!(rate_limit_outside_bulkhead(), Err(Error::Throttled));
    let bulkhead = coord::bulkhead("layers.order.rate_bulkhead").snapshot();
    assert_eq!((bulkhead.accepted, bulkhead.rejected), (1, 0));
}

#[bulkhead(
    name = "layers.order.bulkhead_timeout",
    max_concurrent = 1,
    max_wait = "1s"
)]
#[timeout("100ms")]
async fn bulkhead_outside_attempt_timeout(ms: u64) -> Result<u64, Error> {
    sleep(ms).await;
    Ok(ms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_the_attempt_timeout_does_not_count_the_wait_for_a_slot() {
    // The second call waits ~60ms for the slot, then runs 60ms: 120ms in all, over the
    // 100ms limit, yet within it, because the limit times the body only.
    let first = tokio::spawn(bulkhead_outside_attempt_timeout(60));
    sleep(5).await;
    let second = bulkhead_outside_attempt_timeout(60).await;
    assert_eq!(first.await.unwrap(), Ok(60));
    assert_eq!(second, Ok(60));
    // A timed-out attempt gives its slot back.
    assert_eq!(
        bulkhead_outside_attempt_timeout(10_000).await,
        Err(Error::TooSlow(Duration::from_millis(100)))
    );
    let bulkhead = coord::bulkhead("layers.order.bulkhead_timeout").snapshot();
    assert_eq!(bulkhead.in_flight, 0);
}

struct SetOnDrop(&'static std::sync::atomic::AtomicBool);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

static BODY_DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[circuit_breaker(
    name = "layers.order.timeout_body",
    consecutive_failures = 1,
    open_for = "1m"
)]
#[timeout("10ms")]
async fn attempt_timeout_drops_body() -> Result<u32, Error> {
    let _guard = SetOnDrop(&BODY_DROPPED);
    sleep(10_000).await;
    Ok(0)
}

#[tokio::test]
async fn order_a_timed_out_body_is_dropped_and_is_a_breaker_failure() {
    assert_eq!(
        attempt_timeout_drops_body().await,
        Err(Error::TooSlow(Duration::from_millis(10)))
    );
    assert!(BODY_DROPPED.load(SeqCst));
    assert_eq!(
        coord::breaker("layers.order.timeout_body").state(),
        coord::BreakerState::Open
    );
    let report = coord::report();
    let count = report
        .timeouts
        .iter()
        .find(|t| t.operation.ends_with("attempt_timeout_drops_body"))
        .map(|t| t.timeouts);
    assert_eq!(count, Some(1));
    assert!(
        report
            .to_prometheus()
            .contains("coord_operation_timeouts_total")
    );
    assert!(report.to_string().contains("Time-outs"));
}

static BULKHEAD_TRIES: AtomicU32 = AtomicU32::new(0);

#[retry(max_retries = 3, base_delay = "1ms")]
#[bulkhead(name = "layers.order.retry_bulkhead", max_concurrent = 1)]
#[rate_limit(name = "layers.order.retry_rate", rate = 1, per = "1m", burst = 2)]
fn retried_guarded() -> Result<u32, Error> {
    BULKHEAD_TRIES.fetch_add(1, SeqCst);
    Ok(1)
}

#[test]
fn rejections_are_never_retried() {
    // Like breakers, a bulkhead that exists keeps its configuration: create it as the
    // attribute would.
    let config = coord::BulkheadConfig::default().max_concurrent(1);
    let bulkhead = coord::bulkhead_with("layers.order.retry_bulkhead", config).unwrap();
    let held = bulkhead.try_acquire().unwrap();
    assert_eq!(retried_guarded(), Err(Error::Busy));
    assert_eq!(bulkhead.snapshot().rejected, 1);
    drop(held);
    // The rejected call took the first of two turns (the rate limiter sits outside the
    // bulkhead); this one takes the second.
    assert_eq!(retried_guarded(), Ok(1));
    assert_eq!(retried_guarded(), Err(Error::Throttled));
    let limiter = coord::rate_limiter("layers.order.retry_rate").snapshot();
    assert_eq!(limiter.rejected, 1);
    assert_eq!(BULKHEAD_TRIES.load(SeqCst), 1);
}

// ---- configuration file ----

#[bulkhead(name = "layers.config.bulkhead", max_concurrent = 5)]
fn configured_by_file() -> Result<(), Error> {
    Ok(())
}

#[test]
fn config_file_sections_configure_bulkheads_and_rate_limiters() {
    let loaded = coord::config::load_str(
        "bulkheads:\n  layers.config.bulkhead: { max_concurrent: 2, max_wait: 5ms }\nrate_limits:\n  layers.config.rate:\n    rate: 5\n    per: 1s\n    burst: 1\n",
    )
    .unwrap();
    assert_eq!(loaded.bulkheads, ["layers.config.bulkhead"]);
    assert_eq!(loaded.rate_limits, ["layers.config.rate"]);
    // The file's configuration wins over the attribute's.
    configured_by_file().unwrap();
    let snapshot = coord::bulkhead("layers.config.bulkhead").snapshot();
    assert_eq!(
        (snapshot.max_concurrent, snapshot.max_wait),
        (2, Duration::from_millis(5))
    );
    assert_eq!(coord::rate_limiter("layers.config.rate").config().burst, 1);

    let error = coord::config::load_str(
        "rate_limits:\n  layers.config.untouched: { rate: 1 }\nbulkheads:\n  layers.config.bad:\n    max_concurent: 2\n",
    )
    .unwrap_err();
    assert_eq!(error.location, Some((5, 5)));
    assert!(
        error.to_string().contains("did you mean `max_concurrent`?"),
        "{error}"
    );
    let error = coord::config::load_str("bulkheads:\n  x:\n    max_concurrent: 0\n").unwrap_err();
    assert_eq!(error.location.map(|l| l.0), Some(3));
    // All or nothing: the valid section of a refused file was not applied.
    assert!(coord::rate_limit::find("layers.config.untouched").is_none());
}

// ---- cancellation ----

#[retry(max_retries = 2, base_delay = "1ms")]
#[circuit_breaker(name = "layers.cancel")]
#[rate_limit(name = "layers.cancel", rate = 1000, burst = 100)]
#[bulkhead(name = "layers.cancel", max_concurrent = 1, max_wait = "1s")]
#[timeout("10s")]
async fn cancellable(ms: u64) -> Result<u64, Error> {
    sleep(ms).await;
    Ok(ms)
}

#[tokio::test]
async fn a_dropped_call_releases_its_slot_and_its_wait() {
    // One call holds the slot, a second waits for it; both are dropped.
    let holder = tokio::time::timeout(Duration::from_millis(20), cancellable(10_000));
    let waiter = tokio::time::timeout(Duration::from_millis(20), cancellable(10_000));
    let (held, waited) = tokio::join!(holder, waiter);
    assert!(held.is_err() && waited.is_err());
    let bulkhead = coord::bulkhead("layers.cancel").snapshot();
    assert_eq!((bulkhead.in_flight, bulkhead.waiting), (0, 0));
    assert_eq!(cancellable(1).await, Ok(1));
    // Cancellation is neither a success nor a failure for the breaker.
    let breaker = coord::breaker("layers.cancel").snapshot();
    assert_eq!(breaker.failure_rate, 0.0);
}

#[bulkhead(name = "layers.panic", max_concurrent = 1)]
fn panics() -> Result<(), Error> {
    if BODY_DROPPED.as_ptr() as usize != 0 {
        panic!("boom");
    }
    Ok(())
}

#[fallback(recover)]
fn panics_with_fallback() -> Result<u32, Error> {
    if BODY_DROPPED.as_ptr() as usize != 0 {
        panic!("not caught");
    }
    Ok(1)
}

#[test]
fn a_panic_releases_the_slot_and_is_not_caught_by_the_fallback() {
    assert!(std::panic::catch_unwind(panics).is_err());
    assert_eq!(coord::bulkhead("layers.panic").in_flight(), 0);
    assert!(std::panic::catch_unwind(panics_with_fallback).is_err());
}
