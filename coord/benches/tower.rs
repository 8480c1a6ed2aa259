//! The per-request cost of `coord::tower::CoordLayer` with timeout + retry + circuit breaker +
//! bulkhead, beside tower's own `Timeout` + `Retry` + `ConcurrencyLimit` with
//! tower-resilience's circuit breaker, in the same run, around the same ready inner service
//! (an HTTP 200 at once), called as tower callers do (`ready`, then `call`). The bare inner
//! service is measured too, for reference.
//!
//! Then, over real loopback HTTP at a fixed request rate, the latency percentiles of one axum
//! route with `CoordLayer::server` (timing, bulkhead, time-out) and of the same route without
//! it, requests to the two alternating so both see the same machine.
//!
//! `cargo bench -p coord --features tower,axum --bench tower -- --warm-up-time 1 --measurement-time 3`
//! (`-- loopback` for the latency run alone).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::hint::black_box;
use std::time::{Duration, Instant};

use coord::tower::CoordLayer;
use coord::{BreakerConfig, BulkheadConfig, RetryPolicy};
use criterion::{Criterion, criterion_group};
use http::{Request, Response, StatusCode};
use tower::retry::Policy;
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_resilience_circuitbreaker::CircuitBreakerLayer;

/// The inner service: a ready service answering 200 at once.
fn inner() -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = Ready<Result<Response<()>, Infallible>>,
> + Clone {
    service_fn(|_: Request<()>| ready(Ok(Response::new(()))))
}

/// tower's retry policy equivalent to coord's: up to two retries of errors and 5xx.
#[derive(Clone)]
struct Attempts(usize);

impl<E> Policy<Request<()>, Response<()>, E> for Attempts {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        _: &mut Request<()>,
        result: &mut Result<Response<()>, E>,
    ) -> Option<Self::Future> {
        let failed = match result {
            Ok(response) => {
                response.status().is_server_error()
                    || response.status() == StatusCode::TOO_MANY_REQUESTS
            }
            Err(_) => true,
        };
        if failed && self.0 > 0 {
            self.0 -= 1;
            Some(ready(()))
        } else {
            None
        }
    }

    fn clone_request(&mut self, request: &Request<()>) -> Option<Request<()>> {
        Some(request.clone())
    }
}

/// `iters` requests through `service`, on `runtime`: the time they took.
fn drive<S>(runtime: &tokio::runtime::Runtime, service: &mut S, iters: u64) -> Duration
where
    S: Service<Request<()>, Response = Response<()>>,
    S::Error: std::fmt::Debug,
{
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let ready = service.ready().await.unwrap();
            let response = ready.call(black_box(Request::new(()))).await.unwrap();
            black_box(response);
        }
        start.elapsed()
    })
}

fn stacks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut coord = CoordLayer::new("bench.tower")
        .retry(RetryPolicy::exponential(2, Duration::from_millis(1), 2.0).no_budget())
        .circuit_breaker(BreakerConfig::default())
        .bulkhead(BulkheadConfig::default().max_concurrent(1024))
        .timeout(Duration::from_secs(1))
        .layer(inner());
    let breaker = CircuitBreakerLayer::builder()
        .failure_rate_threshold(0.5)
        .sliding_window_size(100)
        .build()
        .unwrap();
    let mut tower = runtime.block_on(async {
        ServiceBuilder::new()
            .layer(breaker)
            .retry(Attempts(2))
            .concurrency_limit(1024)
            .timeout(Duration::from_secs(1))
            .service(inner())
    });
    let mut bare = inner();

    let mut group = c.benchmark_group("tower/timeout+retry+breaker+bulkhead");
    group.bench_function("coord_layer", |b| {
        b.iter_custom(|iters| drive(&runtime, &mut coord, iters))
    });
    group.bench_function("tower+tower_resilience", |b| {
        b.iter_custom(|iters| drive(&runtime, &mut tower, iters))
    });
    group.bench_function("inner_alone", |b| {
        b.iter_custom(|iters| drive(&runtime, &mut bare, iters))
    });
    group.finish();
}

/// coord's layer with one layer at a time (and none), to see where the cost goes.
fn each_layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let layers = [
        ("none", CoordLayer::new("bench.tower.none")),
        (
            "timeout",
            CoordLayer::new("bench.tower.timeout").timeout(Duration::from_secs(1)),
        ),
        (
            "breaker",
            CoordLayer::new("bench.tower.breaker").circuit_breaker(BreakerConfig::default()),
        ),
        (
            "bulkhead",
            CoordLayer::new("bench.tower.bulkhead")
                .bulkhead(BulkheadConfig::default().max_concurrent(1024)),
        ),
    ];
    let mut group = c.benchmark_group("tower/coord_layer_alone");
    for (name, layer) in layers {
        let mut service = layer.layer(inner());
        group.bench_function(name, |b| {
            b.iter_custom(|iters| drive(&runtime, &mut service, iters))
        });
    }
    let mut retry = CoordLayer::new("bench.tower.retry")
        .retry(RetryPolicy::exponential(2, Duration::from_millis(1), 2.0).no_budget())
        .layer(inner());
    group.bench_function("retry", |b| {
        b.iter_custom(|iters| drive(&runtime, &mut retry, iters))
    });
    group.finish();
}

criterion_group!(benches, stacks, each_layer);

/// Requests per second of the loopback run, alternating between the two servers.
const LOOPBACK_RATE: u64 = 2_000;
const LOOPBACK_SECONDS: u64 = 5;

/// The loopback run: p50, p99 and p99.9 of the route with the layer and without, and the
/// ratio of the p99s.
fn loopback() {
    use axum::Router;
    use axum::routing::get;
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let route = || Router::new().route("/items/{id}", get(|| async { "item" }));
        let layered = route().route_layer(
            CoordLayer::server("bench.loopback")
                .track_performance()
                .bulkhead(BulkheadConfig::default().max_concurrent(256))
                .timeout(Duration::from_secs(5)),
        );
        let mut addrs = Vec::new();
        for app in [layered, route()] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let total = LOOPBACK_RATE * LOOPBACK_SECONDS;
        let mut interval = tokio::time::interval(Duration::from_nanos(1_000_000_000 / LOOPBACK_RATE));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            interval.tick().await;
            let which = (i % 2) as usize;
            let uri = format!("http://{}/items/{}", addrs[which], i % 100);
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let request = http::Request::get(uri).body(Empty::new()).unwrap();
                let start = Instant::now();
                let response = client.request(request).await.unwrap();
                response.into_body().collect().await.unwrap();
                (which, start.elapsed())
            }));
        }
        let mut latencies = [Vec::new(), Vec::new()];
        for task in tasks {
            let (which, took) = task.await.unwrap();
            latencies[which].push(took);
        }
        // The first second warms connections and caches up: not counted.
        let warm = (LOOPBACK_RATE / 2) as usize;
        let mut p99 = [Duration::ZERO; 2];
        for (which, name) in ["with CoordLayer", "without"].iter().enumerate() {
            let sample = &mut latencies[which][warm..];
            sample.sort_unstable();
            let at = |q: f64| sample[((sample.len() - 1) as f64 * q) as usize];
            p99[which] = at(0.99);
            println!(
                "tower/loopback/{name}: {} requests at {} req/s, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
                sample.len(),
                LOOPBACK_RATE / 2,
                at(0.5).as_secs_f64() * 1e6,
                at(0.99).as_secs_f64() * 1e6,
                at(0.999).as_secs_f64() * 1e6,
            );
        }
        println!(
            "tower/loopback: p99 ratio (with / without) {:.3}",
            p99[0].as_secs_f64() / p99[1].as_secs_f64()
        );
    });
}

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-') && arg.parse::<f64>().is_err());
    if filter
        .as_deref()
        .is_none_or(|f| "tower/loopback".contains(f))
    {
        loopback();
    }
    if filter.as_deref() != Some("loopback") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
