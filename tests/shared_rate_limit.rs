//! Fleet-wide rate limits on a real Redis (`cargo test --features redis --test
//! shared_rate_limit`): every test starts its own `redis-server` on a free port of 127.0.0.1
//! and stops it. Without the binary the tests say so loudly and pass, except under CI (`CI`
//! set), which installs it and fails without it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use coord::config::{ConfigErrorKind, load_str};
use coord::{OnFailure, RateLimitConfig, RateLimited, RateLimiter, SharedConfig, rate_limit};

/// A `redis-server` of this test, killed on drop.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    /// A new server, or `None` (after a loud message) when the binary is missing locally.
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let redis = Self::on(port);
        if redis.is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not on PATH; CI installs Debian's redis-server"
            );
            eprintln!(
                "\n*** SKIPPED: redis-server is not on PATH (apt-get install redis-server); \
                 shared rate limits were NOT tested ***\n"
            );
        }
        redis
    }

    /// A server on `port` (again, after a kill), ready for commands.
    fn on(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--enable-debug-command", "local"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let redis = Self { port, child };
        let started = Instant::now();
        while redis.try_command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on port {port} did not start"
            );
            thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one command and returns the first line of the reply.
    fn try_command(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).ok()?;
        Some(line.trim_end().to_owned())
    }

    fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|| panic!("redis-server did not answer {args:?}"))
    }

    /// Kills the server at once (no shutdown handshake), as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn shared_limiter(name: &str, config: RateLimitConfig, shared: SharedConfig) -> RateLimiter {
    RateLimiter::new(name, config.shared_with(shared)).expect("a valid configuration")
}

fn shared_numbers(limiter: &RateLimiter) -> coord::SharedSnapshot {
    limiter.snapshot().shared.expect("a shared limiter")
}

/// Calls until `done` holds, within a generous bound.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(10));
    }
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
        total += field("admitted");
        fallbacks += field("fallbacks");
    }
    let expected = 200 * FLEET_WINDOW_MS / 1_000;
    let error = (total as f64 - expected as f64).abs() / expected as f64;
    eprintln!("fleet: {total} admitted in 10 s (expected {expected}), {fallbacks} decided locally");
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
    until("a round trip to time out", || {
        let call = Instant::now();
        assert!(limiter.check().is_ok(), "fail-open admits locally");
        let waited = call.elapsed();
        assert!(
            waited < timeout + Duration::from_millis(50),
            "the caller waited {waited:?}"
        );
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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
    let row = report
        .rate_limits
        .iter()
        .find(|r| r.name == "shared.attr_async")
        .unwrap();
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

// ---- coord.yaml ----

fn refusal(yaml: &str) -> (Option<(usize, usize)>, String) {
    let error = load_str(yaml).unwrap_err();
    assert!(
        matches!(error.kind, ConfigErrorKind::Invalid { .. }),
        "{error}"
    );
    (error.location, error.to_string())
}

#[test]
fn the_file_configures_shared_limiters() {
    let loaded = load_str(
        "rate_limits:\n  shared.file.url: { rate: 100, shared: \"redis://127.0.0.1:1/\" }\n  \
         shared.file.map:\n    shared: { url: \"redis://127.0.0.1:1/3\", instances: 5, on_failure: closed, timeout: 20ms, batch: 4 }\n  \
         shared.file.off: { shared: false }\n",
    )
    .unwrap();
    assert_eq!(loaded.rate_limits.len(), 3);
    let config = coord::rate_limiter("shared.file.map").config();
    assert_eq!(
        config.shared,
        Some(
            SharedConfig::default()
                .url("redis://127.0.0.1:1/3")
                .instances(5)
                .on_failure(OnFailure::Closed)
                .timeout(Duration::from_millis(20))
                .batch(4)
        )
    );
    assert!(coord::rate_limiter("shared.file.url").is_shared());
    assert!(!coord::rate_limiter("shared.file.off").is_shared());
}

#[test]
fn a_malformed_url_is_refused_where_it_is_written() {
    let (location, message) =
        refusal("rate_limits:\n  shared.bad.url:\n    shared: \"http://cache:6379\"\n");
    assert_eq!(location, Some((3, 13)), "{message}");
    assert!(message.contains("not a Redis URL"), "{message}");
    let (location, message) =
        refusal("rate_limits:\n  shared.bad.url2:\n    shared: { url: \"redis://cache:port/\" }\n");
    assert_eq!(location.map(|l| l.0), Some(3), "{message}");
}

#[test]
fn an_unknown_shared_key_is_refused_where_it_is_written() {
    let (location, message) = refusal(
        "rate_limits:\n  shared.bad.key:\n    shared: { url: \"redis://h/\", instance: 4 }\n",
    );
    assert_eq!(location.map(|l| l.0), Some(3), "{message}");
    assert!(message.contains("instance"), "{message}");
    let (_, message) =
        refusal("rate_limits:\n  shared.bad.mode:\n    shared: { on_failure: sometimes }\n");
    assert!(message.contains("expected open or closed"), "{message}");
}

#[test]
fn zero_rate_instances_batch_and_timeout_are_refused() {
    for (yaml, what) in [
        ("rate: 0, shared: true", "0 is outside 1"),
        ("shared: { instances: 0 }", "0 is outside 1"),
        ("shared: { batch: 0 }", "0 is outside 1"),
        (
            "shared: { timeout: 0ms }",
            "`shared.timeout`: must be longer than zero",
        ),
    ] {
        let (_, message) = refusal(&format!("rate_limits:\n  shared.bad.zero: {{ {yaml} }}\n"));
        assert!(message.contains(what), "{yaml}: {message}");
        assert!(
            message.contains("shared.bad.zero") || message.contains(":2:"),
            "{message}"
        );
    }
    assert!(coord::rate_limit::find("shared.bad.zero").is_none());
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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

// ---- review fixes: throughput, counting, hosts, reconfigure ----

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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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
    let call = Instant::now();
    assert!(limiter.check().is_ok());
    assert!(call.elapsed() < timeout + Duration::from_millis(50));
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

#[test]
fn a_reconfigured_shared_limiter_keeps_its_numbers() {
    // Nothing listens on port 1: every call falls back at once.
    let limiter = coord::rate_limiter_with(
        "shared.reconfigured",
        RateLimitConfig::default().rate(1000).burst(10).shared_with(
            SharedConfig::default()
                .url("redis://127.0.0.1:1/")
                .instances(2),
        ),
    )
    .unwrap();
    assert!(limiter.check().is_ok());
    let before = shared_numbers(&limiter);
    assert_eq!(
        (before.redis_errors, before.fallbacks),
        (1, 1),
        "{before:?}"
    );
    limiter
        .configure(
            RateLimitConfig::default().rate(500).burst(10).shared_with(
                SharedConfig::default()
                    .url("redis://127.0.0.1:1/")
                    .instances(2),
            ),
        )
        .unwrap();
    let after = shared_numbers(&limiter);
    assert_eq!((after.redis_errors, after.fallbacks), (1, 1), "{after:?}");
    let prometheus = coord::report().to_prometheus();
    assert!(
        prometheus.contains(
            "coord_rate_limiter_fallback_calls_total{rate_limiter=\"shared.reconfigured\"} 1"
        ),
        "{prometheus}"
    );
    assert!(prometheus.contains(
        "coord_rate_limiter_fallback_rejected_total{rate_limiter=\"shared.reconfigured\"} 0"
    ));
}

#[test]
fn a_shared_limiter_spaces_calls_at_least_a_microsecond_apart() {
    let config = RateLimitConfig::default()
        .rate(1_000)
        .per(Duration::from_micros(100))
        .shared(true);
    let error = config.validate().unwrap_err();
    assert_eq!(error.key(), "per", "{error}");
    assert!(error.to_string().contains("1µs"), "{error}");
    assert!(
        config.clone().shared(false).validate().is_ok(),
        "local: 100 ns is fine"
    );
    assert!(config.per(Duration::from_millis(1)).validate().is_ok());
}

#[rate_limit(name = "shared.attr_fleet", rate = 100, shared = true, instances = 4)]
fn fleet_of_four_call() -> Result<(), RateLimited> {
    Ok(())
}

#[test]
fn the_attribute_sets_the_fleet_size() {
    let _ = fleet_of_four_call();
    let config = coord::rate_limiter("shared.attr_fleet").config();
    assert_eq!(config.shared.map(|shared| shared.instances), Some(4));
}

#[test]
fn a_host_name_that_does_not_resolve_never_holds_a_caller_past_the_timeout() {
    let timeout = Duration::from_millis(50);
    let limiter = shared_limiter(
        "shared.unresolved",
        RateLimitConfig::default().rate(1000).burst(10),
        SharedConfig::default()
            .url("redis://coord-test.invalid:6379/")
            .instances(2)
            .timeout(timeout),
    );
    // Resolving is a helper thread's: however long `getaddrinfo` takes, the caller does not
    // wait for it past the timeout (a liveness bound: timeout + 50 ms).
    for _ in 0..5 {
        let call = Instant::now();
        assert!(limiter.check().is_ok(), "fail-open admits locally");
        let waited = call.elapsed();
        assert!(
            waited < timeout + Duration::from_millis(50),
            "the caller waited {waited:?}"
        );
    }
    let numbers = shared_numbers(&limiter);
    assert_eq!(numbers.state, "fallback");
    assert_eq!(
        (numbers.redis_calls, numbers.fallbacks),
        (0, 5),
        "{numbers:?}"
    );
}

/// Counts the warnings whose message contains a text.
struct WarningCounter {
    text: &'static str,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarningCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            if message.0.contains(self.text) {
                self.count
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

#[test]
fn failing_open_with_one_instance_is_warned_once() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let warned = |name: &str, instances: u64| {
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(WarningCounter {
            text: "every instance admits the whole rate",
            count: std::sync::Arc::clone(&count),
        });
        tracing::subscriber::with_default(subscriber, || {
            // Nothing listens on port 1: every call falls back (open) at once.
            let limiter = shared_limiter(
                name,
                RateLimitConfig::default().rate(1000).burst(10),
                SharedConfig::default()
                    .url("redis://127.0.0.1:1/5")
                    .instances(instances),
            );
            for _ in 0..5 {
                let _ = limiter.check();
            }
            assert_eq!(shared_numbers(&limiter).fallbacks, 5);
        });
        count.load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(warned("shared.open_alone", 1), 1);
    assert_eq!(warned("shared.open_fleet", 3), 0);
}
