//! An adaptive concurrency limit in front of a downstream that serves 8 calls at once and slows
//! down in proportion beyond that: `#[bulkhead(adaptive = "vegas")]` starts at 4 slots (of at
//! most 64) and grows while latency stays flat; once calls start waiting on each other
//! downstream it stops near 8, where 40 callers would otherwise have pushed it to 64. The limit is
//! printed as it moves.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use coord::{BulkheadFull, bulkhead};

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("downstream busy: {0}")]
    Busy(#[from] BulkheadFull),
}

static IN_DOWNSTREAM: AtomicUsize = AtomicUsize::new(0);

/// 10 ms of work, shared: 9 calls at once take 11.25 ms each, 16 take 20 ms.
#[bulkhead(name = "example.downstream", max_concurrent = 64, adaptive = "vegas")]
async fn fetch() -> Result<(), Error> {
    let sharing = IN_DOWNSTREAM.fetch_add(1, SeqCst) + 1;
    let slowdown = (sharing as f64 / 8.0).max(1.0);
    tokio::time::sleep(Duration::from_secs_f64(0.010 * slowdown)).await;
    IN_DOWNSTREAM.fetch_sub(1, SeqCst);
    Ok(())
}

#[tokio::main]
async fn main() {
    let until = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let callers: Vec<_> = (0..40)
        .map(|_| {
            tokio::spawn(async move {
                while tokio::time::Instant::now() < until {
                    if fetch().await.is_err() {
                        // Shed: back off a little, as a client would.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            })
        })
        .collect();
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    while tokio::time::Instant::now() < until {
        ticks.tick().await;
        if let Some(bulkhead) = coord::bulkheads::find("example.downstream") {
            let s = bulkhead.snapshot();
            println!(
                "limit {:>2} (in flight {:>2}, accepted {:>5}, rejected {:>5})",
                s.max_concurrent, s.in_flight, s.accepted, s.rejected
            );
        }
    }
    for caller in callers {
        caller.await.expect("a caller");
    }
    let s = coord::bulkhead("example.downstream").snapshot();
    println!("{}", coord::report());
    assert!(
        (4..=16).contains(&s.max_concurrent),
        "the limit should have settled near the downstream's 8: {s:?}"
    );
}
