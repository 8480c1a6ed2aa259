//! The per-request cost of `coord::tower::CoordLayer` with timeout + retry + circuit breaker +
//! bulkhead, beside tower's own `Timeout` + `Retry` + `ConcurrencyLimit` with
//! tower-resilience's circuit breaker, in the same run, around the same ready inner service
//! (an HTTP 200 at once), called as tower callers do (`ready`, then `call`). The bare inner
//! service is measured too, for reference.
//!
//! `cargo bench -p coord --features tower --bench tower -- --warm-up-time 1 --measurement-time 3`

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::hint::black_box;
use std::time::{Duration, Instant};

use coord::tower::CoordLayer;
use coord::{BreakerConfig, BulkheadConfig, RetryPolicy};
use criterion::{Criterion, criterion_group, criterion_main};
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
criterion_main!(benches);
