//! Hedged requests against a downstream with a slow tail: one call in twenty takes 250 ms, the
//! rest 5 ms. `#[hedge(after = "p90")]` learns the 90th percentile from the first calls, then
//! starts a second attempt of any call slower than it; the first answer wins and the slow
//! attempt is dropped. The same 300 calls are run bare, then hedged, and the tails compared.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use coord::{hedge, track_performance};

#[derive(Debug, thiserror::Error)]
#[error("downstream failed")]
struct DownstreamError;

static CALLS: AtomicU64 = AtomicU64::new(0);

/// The downstream: one attempt in twenty, at random, is slow.
async fn downstream(key: &str) -> Result<String, DownstreamError> {
    CALLS.fetch_add(1, SeqCst);
    let slow = fastrand::u32(..20) == 0;
    let latency = if slow { 250 } else { 5 };
    tokio::time::sleep(Duration::from_millis(latency)).await;
    Ok(format!("value of {key}"))
}

/// Idempotent, so safe to send twice.
#[track_performance(name = "example.lookup")]
#[hedge(after = "p90", max_extra = 1)]
async fn lookup(key: String) -> Result<String, DownstreamError> {
    downstream(&key).await
}

fn tail(mut latencies: Vec<Duration>) -> (Duration, Duration) {
    latencies.sort();
    let at = |q: f64| latencies[((q * latencies.len() as f64).ceil() as usize).max(1) - 1];
    (at(0.5), at(0.99))
}

#[tokio::main]
async fn main() -> Result<(), DownstreamError> {
    let mut bare = Vec::new();
    for i in 0..300 {
        let start = Instant::now();
        downstream(&format!("key-{i}")).await?;
        bare.push(start.elapsed());
    }
    let mut hedged = Vec::new();
    for i in 0..300 {
        let start = Instant::now();
        lookup(format!("key-{i}")).await?;
        hedged.push(start.elapsed());
    }
    // The first 32 calls only teach the hedge its delay.
    let hedged = hedged.split_off(32);
    let (bare_p50, bare_p99) = tail(bare);
    let (hedged_p50, hedged_p99) = tail(hedged);
    println!("bare:   p50 {bare_p50:>9.1?}  p99 {bare_p99:>9.1?}");
    println!("hedged: p50 {hedged_p50:>9.1?}  p99 {hedged_p99:>9.1?}");
    let hedge = coord::hedge("example.lookup").snapshot();
    println!(
        "{} calls, {} hedges started, {} won, delay {:?}; {} downstream calls in all",
        hedge.calls,
        hedge.hedges_started,
        hedge.hedges_won,
        hedge.delay,
        CALLS.load(SeqCst)
    );
    println!("{}", coord::report());
    Ok(())
}
