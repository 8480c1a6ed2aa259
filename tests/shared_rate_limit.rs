//! Fleet-wide rate limits on a real Redis (`cargo test --features redis --test
//! shared_rate_limit`): every test starts its own `redis-server` on a free port of 127.0.0.1
//! and stops it (`support/redis_server.rs`). Without the binary the tests say so loudly and
//! pass, except under CI (`CI` set), which installs it and fails without it. What needs no
//! server (the file's `shared:` section, validation, nothing listening) is in
//! `shared_rate_limit/no_server.rs`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use coord::{OnFailure, RateLimitConfig, RateLimited, RateLimiter, SharedConfig, rate_limit};

#[macro_use]
#[path = "support/rows.rs"]
mod rows;

#[path = "support/runtime.rs"]
mod runtime;
use runtime::current_thread;

#[path = "support/redis_server.rs"]
mod redis_server;
use redis_server::{Redis, until};

#[path = "shared_rate_limit/no_server.rs"]
mod no_server;

fn shared_limiter(name: &str, config: RateLimitConfig, shared: SharedConfig) -> RateLimiter {
    RateLimiter::new(name, config.shared_with(shared)).expect("a valid configuration")
}

fn shared_numbers(limiter: &RateLimiter) -> coord::SharedSnapshot {
    limiter.snapshot().shared.expect("a shared limiter")
}

/// One call, admitted and answered within `timeout` + 50 ms: a liveness bound on how long a
/// caller waits for Redis, not a timing assert.
fn admitted_within(limiter: &RateLimiter, timeout: Duration) {
    let call = Instant::now();
    assert!(limiter.check().is_ok(), "the call was refused");
    let waited = call.elapsed();
    assert!(
        waited < timeout + Duration::from_millis(50),
        "the caller waited {waited:?}"
    );
}

// ---- four processes × four threads share one quota ----

const FLEET_CHILD: &str = "COORD_TEST_FLEET_WINDOW_START_MS";
const FLEET_WINDOW_MS: u64 = 10_000;

#[rate_limit(
    name = "shared.fleet",
    rate = 200,
    per = "1s",
    burst = 10,
    shared = true
)]
fn fleet_call() -> Result<(), RateLimited> {
    Ok(())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One process of the fleet (a no-op unless started by the fleet test): four threads call
/// until the window is over and count the calls admitted inside it.
#[test]
fn fleet_child() {
    let Some(start) = std::env::var(FLEET_CHILD)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let end = start + FLEET_WINDOW_MS;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let mut admitted = 0u64;
                loop {
                    let result = fleet_call();
                    let now = unix_ms();
                    if now >= end + 200 {
                        return admitted;
                    }
                    match result {
                        Ok(()) => admitted += u64::from((start..end).contains(&now)),
                        Err(limited) => {
                            thread::sleep(limited.retry_after().min(Duration::from_millis(20)))
                        }
                    }
                }
            })
        })
        .collect();
    let admitted: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let limiter = coord::rate_limiter("shared.fleet");
    let shared = shared_numbers(&limiter);
    println!(
        "FLEET admitted={admitted} redis_calls={} fallbacks={} errors={}",
        shared.redis_calls, shared.fallbacks, shared.redis_errors
    );
}

#[test]
fn four_processes_of_four_threads_admit_the_shared_rate() {
    let Some(redis) = Redis::start() else { return };
    let dir = std::env::temp_dir().join(format!("coord-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("coord.yaml");
    // The URL comes from COORD_REDIS_URL; the file adds the fleet's size and a timeout that a
    // loaded 2-core machine meets. A burst above 1 lets a turn a caller reached late be taken
    // later (with burst 1 every late arrival is a turn lost); the window opens long after the
    // first burst is spent.
    std::fs::write(
        &config,
        "rate_limits:\n  shared.fleet:\n    rate: 200\n    per: 1s\n    burst: 10\n    \
         shared: { instances: 4, timeout: 250ms }\n",
    )
    .unwrap();
    let start = unix_ms() + 1_500;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args(["fleet_child", "--exact", "--nocapture", "--test-threads=1"])
                .env(FLEET_CHILD, start.to_string())
                .env("COORD_REDIS_URL", redis.url())
                .env("COORD_CONFIG", &config)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    let mut fallbacks = 0;
    let mut redis_calls = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a fleet process failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // libtest prints "test fleet_child ... " before the child's own line.
        let line = stdout
            .lines()
            .find_map(|line| line.split_once("FLEET ").map(|(_, numbers)| numbers))
            .unwrap_or_else(|| panic!("no FLEET line in {stdout}"));
        let field = |key: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        assert!(field("redis_calls") > 0, "{line}: Redis never decided");
        redis_calls += field("redis_calls");
        total += field("admitted");
        fallbacks += field("fallbacks");
    }
    let expected = 200 * FLEET_WINDOW_MS / 1_000;
    let error = (total as f64 - expected as f64).abs() / expected as f64;
    eprintln!(
        "fleet: {total} admitted in 10 s (expected {expected}), {redis_calls} decided by Redis, \
         {fallbacks} locally"
    );
    // Each process's local share (rate ÷ instances) would admit the same total: the quota is
    // shown shared only if Redis decided (nearly) every call.
    assert!(
        fallbacks * 20 <= redis_calls,
        "{fallbacks} calls decided locally against {redis_calls} by Redis"
    );
    assert!(
        error <= 0.03,
        "{total} calls admitted in 10 s by the fleet, expected {expected} ± 3 %"
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---- failure: killed, paused, forgotten script ----

#[test]
fn a_killed_redis_leaves_callers_on_the_local_share_and_recovery_resumes_sharing() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let timeout = Duration::from_millis(50);
    let limiter = shared_limiter(
        "shared.killed",
        RateLimitConfig::default().rate(1000).burst(1),
        SharedConfig::default()
            .url(redis.url())
            .instances(4)
            .timeout(timeout),
    );
    assert!(limiter.check().is_ok());
    assert_eq!(shared_numbers(&limiter).state, "redis");

    redis.kill();
    // Every call is decided within the timeout (a generous liveness bound here), locally, at
    // this instance's share: 1000/s over 4 instances is one call per 4 ms.
    let started = Instant::now();
    let mut admitted = 0;
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_millis(400) {
        let call = Instant::now();
        admitted += u32::from(limiter.check().is_ok());
        slowest = slowest.max(call.elapsed());
        thread::sleep(Duration::from_millis(1));
    }
    // No caller connects to a dead Redis past the timeout (a liveness bound: timeout + 50 ms).
    assert!(
        slowest < timeout + Duration::from_millis(50),
        "a call waited {slowest:?}"
    );
    let numbers = shared_numbers(&limiter);
    assert_eq!(numbers.state, "fallback");
    assert!(
        numbers.redis_errors >= 1 && numbers.fallbacks > 0,
        "{numbers:?}"
    );
    assert!(
        (10..=150).contains(&admitted),
        "{admitted} calls admitted in 400 ms on the local share of 250/s"
    );

    let redis = Redis::on(redis.port).expect("redis-server restarts");
    let before = numbers.redis_calls;
    until("sharing to resume", || {
        let _ = limiter.check();
        let numbers = shared_numbers(&limiter);
        numbers.state == "redis" && numbers.redis_calls > before
    });
    drop(redis);
}

#[test]
fn a_sleeping_or_paused_redis_trips_the_timeout_not_the_caller() {
    let Some(redis) = Redis::start() else { return };
    let timeout = Duration::from_millis(100);
    let limiter = shared_limiter(
        "shared.paused",
        RateLimitConfig::default().rate(1000).burst(100),
        SharedConfig::default().url(redis.url()).timeout(timeout),
    );
    assert!(limiter.check().is_ok());

    // DEBUG SLEEP blocks the whole server for a second.
    let url_port = redis.port;
    let sleeper = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", url_port)).unwrap();
        stream.write_all(b"DEBUG SLEEP 1\r\n").unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
    });
    thread::sleep(Duration::from_millis(50));
    // Calls until one runs into the sleeping server (the first, unless the DEBUG SLEEP was
    // slow to arrive); none is held past the timeout (a liveness bound: timeout + 50 ms).
    // Fail-open admits locally.
    until("a round trip to time out", || {
        admitted_within(&limiter, timeout);
        shared_numbers(&limiter).redis_timeouts >= 1
    });
    assert!(shared_numbers(&limiter).fallbacks >= 1);
    sleeper.join().unwrap();
    until("Redis to answer again", || {
        let _ = limiter.check();
        shared_numbers(&limiter).state == "redis"
    });

    // CLIENT PAUSE holds every client's commands; an async caller is not held either.
    let timeouts = shared_numbers(&limiter).redis_timeouts;
    assert_eq!(redis.command(&["CLIENT", "PAUSE", "1000", "ALL"]), "+OK");
    let runtime = current_thread();
    let call = Instant::now();
    let result = runtime.block_on(limiter.acquire_async(Duration::ZERO));
    let waited = call.elapsed();
    assert!(result.is_ok(), "fail-open admits locally");
    assert!(
        waited < timeout + Duration::from_millis(50),
        "the caller waited {waited:?}"
    );
    assert_eq!(shared_numbers(&limiter).redis_timeouts, timeouts + 1);
}

#[test]
fn fail_closed_rejects_while_redis_is_down() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let limiter = shared_limiter(
        "shared.closed",
        RateLimitConfig::default().rate(1000).burst(10),
        SharedConfig::default()
            .url(redis.url())
            .on_failure(OnFailure::Closed)
            .timeout(Duration::from_millis(50)),
    );
    assert!(limiter.check().is_ok());
    redis.kill();
    let limited = limiter.check().unwrap_err();
    assert!(limited.retry_after() >= Duration::from_millis(50));
    // An outage is told apart from the quota: by the error, and in the numbers.
    assert!(limited.is_fallback(), "{limited}");
    assert!(
        limited.to_string().contains("Redis gave no answer"),
        "{limited}"
    );
    assert!(
        limiter.check().unwrap_err().is_fallback(),
        "in back-off, still closed"
    );
    let snapshot = limiter.snapshot();
    assert_eq!(snapshot.rejected, 0, "the fleet's quota rejected nothing");
    let numbers = snapshot.shared.unwrap();
    assert_eq!((numbers.fallbacks, numbers.fallback_rejected), (2, 2));
}

#[test]
fn the_script_is_loaded_again_after_script_flush() {
    let Some(redis) = Redis::start() else { return };
    let limiter = shared_limiter(
        "shared.flushed",
        RateLimitConfig::default().rate(1000).burst(100),
        SharedConfig::default().url(redis.url()),
    );
    // The first call finds no script either (a fresh server): it loads it.
    assert!(limiter.check().is_ok());
    assert_eq!(shared_numbers(&limiter).script_loads, 1);
    assert!(limiter.check().is_ok());
    assert_eq!(shared_numbers(&limiter).script_loads, 1);
    assert_eq!(redis.command(&["SCRIPT", "FLUSH"]), "+OK");
    assert!(limiter.check().is_ok());
    let numbers = shared_numbers(&limiter);
    assert_eq!(
        (
            numbers.script_loads,
            numbers.redis_calls,
            numbers.redis_errors
        ),
        (2, 3, 0)
    );
}

// ---- batching, async attribute, report ----

#[rate_limit(
    name = "shared.attr_async",
    rate = 1000,
    per = "1s",
    burst = 5,
    shared = true
)]
async fn shared_async_call() -> Result<u32, RateLimited> {
    Ok(7)
}

#[test]
fn batching_takes_k_permits_per_round_trip_and_the_quota_holds() {
    let Some(redis) = Redis::start() else { return };
    let limiter = shared_limiter(
        "shared.batched",
        RateLimitConfig::default().rate(100).burst(30),
        SharedConfig::default().url(redis.url()).batch(10),
    );
    // The burst of 30 in 3 round trips (a 4th if a turn passed meanwhile)...
    assert!((0..30).all(|_| limiter.check().is_ok()));
    let numbers = shared_numbers(&limiter);
    assert!(numbers.redis_calls <= 4, "{numbers:?}");
    assert!(numbers.batched >= 26, "{numbers:?}");
    // ...and no more: a rejection is one round trip (a rejection is never batched).
    let limited = limiter.check().unwrap_err();
    assert!(limited.retry_after() <= Duration::from_millis(10));
}

#[test]
fn async_attribute_sites_share_through_redis_and_show_in_the_report() {
    let Some(redis) = Redis::start() else { return };
    // Configured before the first call (so the call site finds it): the URL of this test's
    // server, and a rate slow enough that no turn comes back during the eight calls.
    coord::rate_limiter_with(
        "shared.attr_async",
        RateLimitConfig::default()
            .rate(10)
            .burst(5)
            .shared_with(SharedConfig::default().url(redis.url())),
    )
    .unwrap();
    let runtime = current_thread();
    let results: Vec<_> = runtime.block_on(async {
        let mut results = Vec::new();
        for _ in 0..8 {
            results.push(shared_async_call().await);
        }
        results
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    let limiter = coord::rate_limiter("shared.attr_async");
    assert!(limiter.is_shared());
    assert_eq!(shared_numbers(&limiter).redis_calls, 8);

    let report = coord::report();
    let row = row!(report.rate_limits, "shared.attr_async");
    assert_eq!(row.shared.as_ref().unwrap().state, "redis");
    let prometheus = report.to_prometheus();
    assert!(prometheus.contains("coord_rate_limiter_shared{rate_limiter=\"shared.attr_async\"} 1"));
    assert!(
        prometheus
            .contains("coord_rate_limiter_redis_calls_total{rate_limiter=\"shared.attr_async\"} 8")
    );
    let json = report.to_json().unwrap();
    assert!(
        json.contains(&format!("\"backend\": \"{}\"", redis.url())),
        "{json}"
    );
    assert!(report.to_string().contains("redis "), "{report}");
}

// ---- tower ----

/// A service answering 200 at once.
#[cfg(feature = "tower")]
#[derive(Clone)]
struct Ok200;

#[cfg(feature = "tower")]
impl coord::tower::Service<http::Request<()>> for Ok200 {
    type Response = http::Response<()>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(())))
    }
}

#[cfg(feature = "tower")]
#[test]
fn a_tower_layer_waits_for_redis_in_poll_ready_without_blocking_it() {
    use coord::tower::{CoordLayer, Service};

    let Some(redis) = Redis::start() else { return };
    let layer = CoordLayer::new("shared.tower").rate_limit(
        RateLimitConfig::default().rate(10).burst(3).shared_with(
            SharedConfig::default()
                .url(redis.url())
                .timeout(Duration::from_secs(1)),
        ),
    );
    let mut service = tower_layer::Layer::layer(&layer, Ok200);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&service);
    let runtime = current_thread();
    runtime.block_on(async {
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .unwrap();
        assert!(service.call(http::Request::new(())).await.is_ok());
    });
    let limiter = coord::rate_limiter("shared.tower");
    assert_eq!(shared_numbers(&limiter).redis_calls, 1);

    // A paused Redis: the first poll returns at once (the blocking path would hold it for the
    // whole second of the timeout); the turn comes from the local fallback after the timeout.
    assert_eq!(redis.command(&["CLIENT", "PAUSE", "3000", "ALL"]), "+OK");
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let polled = Instant::now();
    let first = runtime.block_on(async { service.poll_ready(&mut cx) });
    let took = polled.elapsed();
    assert!(
        first.is_pending(),
        "poll_ready decided before Redis answered"
    );
    assert!(
        took < Duration::from_millis(500),
        "poll_ready blocked {took:?}"
    );
    let waited = Instant::now();
    runtime.block_on(async {
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .unwrap();
        assert!(service.call(http::Request::new(())).await.is_ok());
    });
    assert!(
        waited.elapsed() < Duration::from_secs(3),
        "{:?}",
        waited.elapsed()
    );
    let numbers = shared_numbers(&limiter);
    assert_eq!((numbers.redis_timeouts, numbers.fallbacks), (1, 1));
}

// ---- many callers, host names ----

#[test]
fn many_concurrent_async_admissions_never_book_a_healthy_redis_as_timed_out() {
    let Some(redis) = Redis::start() else { return };
    let limiter = std::sync::Arc::new(shared_limiter(
        "shared.concurrent",
        RateLimitConfig::default().rate(100_000).burst(1_000),
        SharedConfig::default()
            .url(redis.url())
            .timeout(Duration::from_millis(20)),
    ));
    assert!(limiter.check().is_ok(), "connected and the script loaded");
    let runtime = current_thread();
    let admitted = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let limiter = std::sync::Arc::clone(&limiter);
            calls.spawn(async move { limiter.acquire_async(Duration::ZERO).await.is_ok() });
        }
        let mut admitted = 0;
        while let Some(ok) = calls.join_next().await {
            admitted += u32::from(ok.unwrap());
        }
        admitted
    });
    let numbers = shared_numbers(&limiter);
    eprintln!("500 concurrent async admissions: {numbers:?}");
    assert_eq!(admitted, 500);
    // A process queueing its own round trips is not Redis timing out: those calls are
    // fallbacks, and no back-off starts.
    assert_eq!(
        (numbers.redis_timeouts, numbers.redis_errors),
        (0, 0),
        "{numbers:?}"
    );
    assert_eq!(numbers.redis_calls + numbers.fallbacks, 501, "{numbers:?}");
    assert!(numbers.redis_calls > 1, "{numbers:?}");
    assert_eq!(numbers.state, "redis");
}

#[test]
fn a_host_name_url_is_connected_by_a_helper_and_a_sync_caller_is_answered() {
    let Some(redis) = Redis::start() else { return };
    let timeout = Duration::from_millis(200);
    let limiter = shared_limiter(
        "shared.hostname",
        RateLimitConfig::default().rate(1000).burst(10),
        SharedConfig::default()
            .url(format!("redis://localhost:{}/", redis.port))
            .timeout(timeout),
    );
    // No idle connection: the round trip (connection included) is a helper's, the caller
    // waits for its answer within the timeout.
    admitted_within(&limiter, timeout);
    let numbers = shared_numbers(&limiter);
    assert_eq!(
        (numbers.redis_calls, numbers.fallbacks),
        (1, 0),
        "{numbers:?}"
    );
    // Then the pooled connection serves callers on their own thread.
    assert!(limiter.check().is_ok());
    assert_eq!(shared_numbers(&limiter).redis_calls, 2);
}
