//! A fleet-wide rate limiter's admission over loopback Redis beside a bare `EVALSHA` round trip
//! of the same script with the same arguments (the floor any Redis-backed limiter pays), and
//! with batching (k = 10 permits per round trip). Starts its own `redis-server` on a free port
//! (skipped, loudly, when the binary is missing).
//!
//! `cargo bench -p coord --features redis --bench shared_rate_limit -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coord::rate_limit::shared::SCRIPT;
use coord::{RateLimitConfig, RateLimiter, SharedConfig};
use criterion::{Criterion, criterion_group, criterion_main};

/// A `redis-server` of this run, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Option<(Server, String)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((server, format!("redis://127.0.0.1:{port}/")))
}

/// A rate no loop reaches (a round trip takes tens of µs; a shared limiter spaces calls at
/// least 1 µs apart): every admission is granted, so each run measures the same path.
/// Calls a second and burst of every limiter here; the bare `EVALSHA` gets the same numbers.
const RATE: u64 = 1_000_000;
const BURST: u64 = 1_000_000;

fn config() -> RateLimitConfig {
    RateLimitConfig::default()
        .rate(RATE)
        .per(Duration::from_secs(1))
        .burst(BURST)
}

fn shared(c: &mut Criterion) {
    let Some((_server, url)) = start_server() else {
        eprintln!(
            "\n*** SKIPPED: redis-server is not on PATH; shared_rate_limit not measured ***\n"
        );
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    let script = redis::Script::new(SCRIPT);
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(SCRIPT)
        .query(&mut con)
        .unwrap();
    let one = RateLimiter::new(
        "bench.shared",
        config().shared_with(SharedConfig::default().url(url.as_str())),
    )
    .unwrap();
    let batched = RateLimiter::new(
        "bench.shared_batched",
        config().shared_with(SharedConfig::default().url(url.as_str()).batch(10)),
    )
    .unwrap();

    // The limiter's own arguments (µs): the interval between calls, and the burst beyond one.
    let interval_us = 1e6 / RATE as f64;
    let tolerance_us = interval_us * (BURST - 1) as f64;
    let mut bare = move || -> (i64, i64) {
        redis::cmd("EVALSHA")
            .arg(script.get_hash())
            .arg(1)
            .arg("coord:rate_limit:{bench.bare}")
            .arg(interval_us)
            .arg(tolerance_us)
            .arg(0.0f64)
            .arg(1u64)
            .query(&mut con)
            .unwrap()
    };
    assert_eq!(
        bare().0,
        1,
        "the bare call takes the admitting path, like the limiter's"
    );
    let mut group = c.benchmark_group("shared_rate_limit/loopback");
    group.bench_function("bare_evalsha", |b| b.iter(|| black_box(bare())));
    group.bench_function("coord_check", |b| {
        b.iter(|| black_box(one.check()).unwrap())
    });
    group.bench_function("coord_check_batch_10", |b| {
        b.iter(|| black_box(batched.check()).unwrap())
    });
    group.finish();
    for limiter in [&one, &batched] {
        let numbers = limiter.snapshot().shared.unwrap();
        assert_eq!(numbers.fallbacks, 0, "Redis answered every call");
    }
}

criterion_group!(benches, shared);
criterion_main!(benches);
