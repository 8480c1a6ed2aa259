//! A pricing service protected by the resilience attributes: a rate limiter spaces calls to
//! 200 per second (bursts of 5, waiting up to 30 ms for a turn), a bulkhead keeps at most 3
//! calls in flight (others wait up to 10 ms), every attempt is timed out after 40 ms and
//! retried once, the whole call is given 150 ms, and a fallback answers with a cached price
//! when everything else gave up. Twenty requests arrive at once; one in three is slow. The
//! report shows who got through, and what each layer did.
//!
//! The attributes nest in one fixed order, whatever order they are written in:
//! `track_performance` → `fallback` → `timeout(total)` → `retry` → `circuit_breaker` →
//! `rate_limit` → `bulkhead` → `timeout(attempt)` → body. The same layers are plain runtime
//! APIs too (`coord::rate_limiter`, `coord::bulkhead`, `coord::timeout`).
//!
//! `cargo run --example timeouts_and_bulkheads`

use std::time::Duration;

use coord::{
    BulkheadFull, RateLimited, TimedOut, bulkhead, fallback, rate_limit, retry, timeout,
    track_performance,
};

/// Each rejection a layer can return, by the `From` impl its attribute asks for.
#[derive(Debug, thiserror::Error)]
enum PriceError {
    #[error(transparent)]
    Busy(#[from] BulkheadFull),
    #[error(transparent)]
    Throttled(#[from] RateLimited),
    #[error(transparent)]
    TooSlow(#[from] TimedOut),
}

/// When every layer gave up: the cached price for slow items, the error otherwise (a
/// rejection is passed on, so the caller can shed load).
fn cached_price(error: PriceError) -> Result<u32, PriceError> {
    match error {
        PriceError::TooSlow(_) => Ok(99),
        other => Err(other),
    }
}

/// The downstream call: 5 ms usually, 200 ms for every third item.
#[track_performance("pricing.fetch")]
#[fallback(cached_price)]
#[timeout(total = "150ms")]
#[retry(max_retries = 1, base_delay = "5ms")]
#[rate_limit(name = "pricing", rate = 200, per = "1s", burst = 5, max_wait = "30ms")]
#[bulkhead(name = "pricing", max_concurrent = 3, max_wait = "10ms")]
#[timeout("40ms")]
async fn price(item: u32) -> Result<u32, PriceError> {
    let delay = if item % 3 == 2 { 200 } else { 5 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(100 + item)
}

#[tokio::main]
async fn main() {
    let requests: Vec<_> = (0..20).map(|item| tokio::spawn(price(item))).collect();
    for (item, request) in requests.into_iter().enumerate() {
        match request.await.expect("the task ran") {
            Ok(price) => println!("item {item:>2}: {price}"),
            Err(e) => println!("item {item:>2}: {e}"),
        }
    }

    println!();
    let report = coord::report();
    for t in &report.timeouts {
        println!("{}: {} attempts timed out", t.operation, t.timeouts);
    }
    for b in coord::bulkhead::snapshots() {
        println!(
            "bulkhead {}: {} accepted, {} rejected, {} waited ({:.1} ms in all)",
            b.name,
            b.accepted,
            b.rejected,
            b.waits,
            b.total_wait.as_secs_f64() * 1e3
        );
    }
    for r in coord::rate_limit::snapshots() {
        println!(
            "rate limiter {}: {} rejected, {} waited ({:.1} ms in all)",
            r.name,
            r.rejected,
            r.waits,
            r.total_wait.as_secs_f64() * 1e3
        );
    }
}
