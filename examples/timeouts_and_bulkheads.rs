//! A pricing service protected by the runtime resilience layers: a rate limiter spaces calls to
//! 200 per second (bursts of 5, waiting up to 30 ms for a turn), a bulkhead keeps at most 3
//! calls in flight (others wait up to 10 ms), and every call is timed out after 40 ms.
//! Twenty requests arrive at once; one in three is slow. The report shows who got through.
//!
//! These are the runtime APIs the `#[bulkhead]`, `#[rate_limit]` and `#[timeout]` attributes
//! call; each works on its own, with or without tokio.
//!
//! `cargo run --example timeouts_and_bulkheads`

use std::fmt;
use std::time::Duration;

use coord::{BulkheadConfig, BulkheadFull, RateLimitConfig, RateLimited, TimedOut};

#[derive(Debug)]
enum PriceError {
    Busy(BulkheadFull),
    Throttled(RateLimited),
    TooSlow(TimedOut),
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceError::Busy(e) => write!(f, "{e}"),
            PriceError::Throttled(e) => write!(f, "{e}"),
            PriceError::TooSlow(e) => write!(f, "{e}"),
        }
    }
}

impl From<BulkheadFull> for PriceError {
    fn from(e: BulkheadFull) -> Self {
        PriceError::Busy(e)
    }
}

impl From<RateLimited> for PriceError {
    fn from(e: RateLimited) -> Self {
        PriceError::Throttled(e)
    }
}

impl From<TimedOut> for PriceError {
    fn from(e: TimedOut) -> Self {
        PriceError::TooSlow(e)
    }
}

/// The downstream call: 5 ms usually, 200 ms for every third item.
async fn fetch_price(item: u32) -> Result<u32, PriceError> {
    let delay = if item % 3 == 2 { 200 } else { 5 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(100 + item)
}

/// Rate limit, then bulkhead, then a per-call timeout around the body: the order the
/// attributes use.
async fn price(item: u32) -> Result<u32, PriceError> {
    let limiter = coord::rate_limiter("pricing");
    limiter
        .call_async(|| async {
            let bulkhead = coord::bulkhead("pricing");
            bulkhead
                .call_async(|| async {
                    coord::timeout(Duration::from_millis(40), fetch_price(item)).await?
                })
                .await
        })
        .await
}

#[tokio::main]
async fn main() {
    coord::bulkhead_with(
        "pricing",
        BulkheadConfig::default()
            .max_concurrent(3)
            .max_wait(Duration::from_millis(10)),
    )
    .expect("a valid bulkhead configuration");
    coord::rate_limiter_with(
        "pricing",
        RateLimitConfig::default()
            .rate(200)
            .per(Duration::from_secs(1))
            .burst(5)
            .max_wait(Duration::from_millis(30)),
    )
    .expect("a valid rate limit configuration");

    let requests: Vec<_> = (0..20).map(|item| tokio::spawn(price(item))).collect();
    for (item, request) in requests.into_iter().enumerate() {
        match request.await.expect("the task ran") {
            Ok(price) => println!("item {item:>2}: {price}"),
            Err(e) => println!("item {item:>2}: {e}"),
        }
    }

    println!();
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
