//! A fleet-wide quota: a payment provider allows 20 calls per second to the whole fleet, not
//! per instance. `#[rate_limit(shared = true)]` keeps the limiter's GCRA word in Redis, so
//! every instance draws on one quota; when Redis is down, each instance falls back to its
//! share (20 ÷ 2 expected instances = 10/s) instead of stopping or admitting 20 on its own.
//!
//! The example starts its own `redis-server` on a free port of 127.0.0.1 when the binary is on
//! PATH (Debian: `apt-get install redis-server`), runs three threads against the quota for a
//! second, kills Redis, runs another second on the local fallback, and prints the report.
//! Without `redis-server`, or without coord's `redis` feature, it says so and runs local-only.
//!
//! `cargo run --features redis --example shared_rate_limit`

use std::thread;
use std::time::{Duration, Instant};

use coord::{RateLimitConfig, RateLimited, SharedConfig, rate_limit};
use redis_server::Redis;

/// Starts and kills the example's `redis-server` (shared with the tests).
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

#[rate_limit(
    name = "payments.provider",
    rate = 20,
    per = "1s",
    burst = 5,
    shared = true
)]
fn charge(_cents: u64) -> Result<(), RateLimited> {
    Ok(())
}

/// Three threads charging as fast as the quota lets them for `run`; the calls admitted.
fn traffic(run: Duration) -> u32 {
    let until = Instant::now() + run;
    let threads: Vec<_> = (0..3)
        .map(|_| {
            thread::spawn(move || {
                let mut admitted = 0;
                while Instant::now() < until {
                    match charge(1_250) {
                        Ok(()) => admitted += 1,
                        Err(limited) => {
                            thread::sleep(limited.retry_after().min(Duration::from_millis(20)))
                        }
                    }
                }
                admitted
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
}

fn main() {
    // Without the feature a server would go unused.
    let redis = if cfg!(feature = "redis") {
        Redis::on_free_port()
    } else {
        None
    };
    let url = redis.as_ref().map(Redis::url);
    match (&url, cfg!(feature = "redis")) {
        (Some(url), _) => println!("sharing the quota through {url}"),
        (None, false) => println!(
            "LOCAL-ONLY: coord was built without its `redis` feature \
             (run with --features redis); every call is decided on this instance's share"
        ),
        (None, true) => {
            // CI installs redis-server: there, a run that never reached Redis is a failure.
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not on PATH or did not start"
            );
            println!(
                "LOCAL-ONLY: redis-server is not on PATH or did not start; every call is \
                 decided on this instance's share"
            )
        }
    }
    // In production the URL comes from `COORD_REDIS_URL` or coord.yaml
    // (`rate_limits: payments.provider: { shared: redis://... }`); here from code, before the
    // first call, so the attribute's call site finds the configured limiter.
    let mut shared = SharedConfig::default()
        .instances(2)
        .timeout(Duration::from_millis(50));
    if let Some(url) = &url {
        shared = shared.url(url.as_str());
    }
    let config = RateLimitConfig::default()
        .rate(20)
        .per(Duration::from_secs(1))
        .burst(5)
        .shared_with(shared);
    if let Err(error) = coord::rate_limiter_with("payments.provider", config) {
        eprintln!("{error}");
        return;
    }

    let sharing = url.is_some();
    let admitted = traffic(Duration::from_secs(1));
    if sharing {
        println!("1 s on the shared quota: {admitted} charges admitted (20/s, bursts of 5)");
    } else {
        println!("1 s local-only: {admitted} charges admitted (this instance's 10/s)");
    }

    if let Some(mut redis) = redis {
        redis.kill();
        println!("Redis killed: calls fall back to this instance's share (10/s)");
        let admitted = traffic(Duration::from_secs(1));
        println!("1 s on the local fallback: {admitted} charges admitted");
    }
    println!("\n{}", coord::report());
}
