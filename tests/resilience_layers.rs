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
