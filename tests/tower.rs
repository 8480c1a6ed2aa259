//! `coord::tower::CoordLayer` on a real axum server on 127.0.0.1 and a real hyper client: the
//! same stack, registries and report as the attributes, with tower's backpressure. Every test
//! uses names of its own (the registries are process-wide).

use std::convert::Infallible;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use coord::tower::{CloneRequest, ConfigError, CoordLayer, CoordService, Error, Retrying, Service};
use coord::{BreakerConfig, BulkheadConfig, RateLimitConfig, RetryPolicy};
use http_body_util::BodyExt;

#[path = "support/tower.rs"]
mod tower_support;

#[path = "tower/hedge.rs"]
mod hedge;

use tower_support::{HttpClient, client, fetch, get_request, send, serve};

/// A route answering 503 to its first `failures` requests, then 200; counts every request.
fn flaky(failures: usize, hits: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/flaky",
            get(move |State(hits): State<Arc<AtomicUsize>>| async move {
                if hits.fetch_add(1, SeqCst) < failures {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }),
        )
        .with_state(hits)
}

/// A client through a `CoordLayer` named `name` that times each request and retries up to
/// `retries` times (1 ms apart), in front of a served [`flaky`] route failing `failures` times;
/// with the server's address and the route's request count.
async fn retrying_client_of_flaky(
    name: &str,
    retries: u32,
    failures: usize,
) -> (
    CoordService<HttpClient, Retrying<CloneRequest>>,
    SocketAddr,
    Arc<AtomicUsize>,
) {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = serve(flaky(failures, Arc::clone(&hits))).await;
    let layer = CoordLayer::new(name)
        .track_performance()
        .retry(RetryPolicy::constant(retries, Duration::from_millis(1)));
    (tower_layer::Layer::layer(&layer, client()), addr, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_503_then_succeeds() {
    let (mut service, addr, hits) = retrying_client_of_flaky("tower_t.retry", 3, 2).await;
    let response = fetch(&mut service, addr, "/flaky").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(hits.load(SeqCst), 3, "two 503s retried, then the 200");
    let stats = coord::operation("tower_t.retry").unwrap();
    assert_eq!((stats.calls, stats.successes), (1, 1));
    let errors = coord::error_report();
    let row = errors.find("tower_t.retry").unwrap();
    assert_eq!(row.successes_after_retry, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_status_is_returned_after_the_last_attempt_and_4xx_is_a_success() {
    let (mut service, addr, hits) =
        retrying_client_of_flaky("tower_t.exhausted", 1, usize::MAX).await;
    let response = fetch(&mut service, addr, "/flaky").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hits.load(SeqCst), 2);
    let response = fetch(&mut service, addr, "/missing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(hits.load(SeqCst), 2, "a 404 is not retried");
    let stats = coord::operation("tower_t.exhausted").unwrap();
    assert_eq!((stats.calls, stats.failures, stats.successes), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_then_answers_without_reaching_the_server() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = serve(flaky(usize::MAX, Arc::clone(&hits))).await;
    let layer = CoordLayer::new("tower_t.breaker")
        .circuit_breaker(
            BreakerConfig::default()
                .consecutive_failures(3)
                .open_for(Duration::from_secs(60)),
        )
        .breaker_per_host();
    let mut service = tower_layer::Layer::layer(&layer, client());
    for _ in 0..3 {
        let response = fetch(&mut service, addr, "/flaky").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    for _ in 0..5 {
        match send(&mut service, get_request(addr, "/flaky")).await {
            Err(Error::CircuitOpen(open)) => {
                assert!(open.retry_after() > Duration::ZERO);
            }
            other => panic!("expected an open breaker, got {other:?}"),
        }
    }
    assert_eq!(
        hits.load(SeqCst),
        3,
        "an open breaker keeps requests from the server"
    );
    // The breaker is the host's, in the keyed group named after the layer.
    let group = coord::breakers::find_keyed("tower_t.breaker").unwrap();
    assert_eq!(group.len(), 1);
    assert_eq!(
        group.get(&addr.to_string()).state(),
        coord::BreakerState::Open
    );
}

/// Tracks how many handlers run at once, and the most ever seen.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    most: AtomicUsize,
    done: AtomicUsize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulkhead_of_n_under_4n_concurrent_requests_never_has_more_than_n_inside() {
    const N: usize = 3;
    let seen = Arc::new(Concurrency::default());
    let app = Router::new()
        .route(
            "/work",
            get(|State(seen): State<Arc<Concurrency>>| async move {
                let now = seen.now.fetch_add(1, SeqCst) + 1;
                seen.most.fetch_max(now, SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                seen.now.fetch_sub(1, SeqCst);
                seen.done.fetch_add(1, SeqCst);
                StatusCode::OK
            }),
        )
        .route_layer(
            CoordLayer::server("tower_t.bulkhead").bulkhead(
                BulkheadConfig::default()
                    .max_concurrent(N)
                    .max_wait(Duration::from_secs(30)),
            ),
        )
        .with_state(Arc::clone(&seen));
    let addr = serve(app).await;
    let client = client();
    let requests: Vec<_> = (0..4 * N)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.request(get_request(addr, "/work")).await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    assert_eq!(seen.done.load(SeqCst), 4 * N);
    assert!(
        seen.most.load(SeqCst) <= N,
        "most inside at once: {}",
        seen.most.load(SeqCst)
    );
    assert_eq!(coord::bulkhead("tower_t.bulkhead").in_flight(), 0);
}

/// One request a minute, the next refused at once (no wait for a turn).
fn one_a_minute() -> RateLimitConfig {
    RateLimitConfig::default()
        .rate(1)
        .per(Duration::from_secs(60))
        .burst(1)
        .max_wait(Duration::ZERO)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bulkhead_and_a_rate_limit_answer_503_and_429_with_retry_after() {
    let release = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(tokio::sync::Notify::new());
    let (r, e) = (Arc::clone(&release), Arc::clone(&entered));
    let full = Router::new()
        .route(
            "/hold",
            get(move || async move {
                e.notify_one();
                r.notified().await;
                StatusCode::OK
            }),
        )
        .route_layer(
            CoordLayer::server("tower_t.full")
                .track_performance()
                .bulkhead(
                    BulkheadConfig::default()
                        .max_concurrent(1)
                        .max_wait(Duration::ZERO),
                ),
        );
    let rated = Router::new()
        .route("/rated", get(|| async { StatusCode::OK }))
        .route_layer(
            CoordLayer::server("tower_t.rated")
                .track_performance()
                .rate_limit(one_a_minute()),
        );
    let app = full.merge(rated);
    let addr = serve(app).await;
    let client = client();
    let held = tokio::spawn({
        let client = client.clone();
        async move { client.request(get_request(addr, "/hold")).await }
    });
    entered.notified().await;
    let full = client.request(get_request(addr, "/hold")).await.unwrap();
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(full.headers()["retry-after"], "1");
    release.notify_one();
    assert_eq!(held.await.unwrap().unwrap().status(), StatusCode::OK);

    let first = client.request(get_request(addr, "/rated")).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let limited = client.request(get_request(addr, "/rated")).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "Retry-After: {seconds}");
    assert_eq!(coord::rate_limiter("tower_t.rated").snapshot().rejected, 1);
    // Shed calls are rejections in the operation's stats, not failures.
    let rated = coord::operation("tower_t.rated GET /rated").unwrap();
    assert_eq!((rated.successes, rated.failures, rated.rejected), (1, 0, 1));
    assert_eq!(rated.error_rate, 0.0);
    let full = coord::operation("tower_t.full GET /hold").unwrap();
    assert_eq!((full.successes, full.failures, full.rejected), (1, 0, 1));
}

/// Counts drops of the handler's future that did not finish.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_attempt_timeout_drops_the_inner_future() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (d, f) = (Arc::clone(&dropped), Arc::clone(&finished));
    let app = Router::new()
        .route(
            "/slow",
            get(move || async move {
                let guard = DropGuard(d);
                tokio::time::sleep(Duration::from_secs(30)).await;
                f.fetch_add(1, SeqCst);
                std::mem::forget(guard);
                StatusCode::OK
            }),
        )
        .route_layer(CoordLayer::server("tower_t.timeout").timeout(Duration::from_millis(50)));
    let addr = serve(app).await;
    let answer = client().request(get_request(addr, "/slow")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(dropped.load(SeqCst), 1, "the handler's future was dropped");
    assert_eq!(finished.load(SeqCst), 0);
    let timeouts = coord::report().timeouts;
    let counted = timeouts
        .iter()
        .find(|t| t.operation == "tower_t.timeout GET /slow")
        .map(|t| t.timeouts);
    assert_eq!(counted, Some(1));
}

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>(_: &T) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_send_spawnable_and_fit_router_layer() {
    // `Router::layer` (every route, the fallback too) needs an infallible, `Sync` service.
    let app = Router::new()
        .route("/ok", get(|| async { StatusCode::OK }))
        .layer(CoordLayer::server("tower_t.send").track_performance());
    let addr = serve(app).await;
    let layer = CoordLayer::new("tower_t.send_client")
        .retry(RetryPolicy::constant(1, Duration::from_millis(1)))
        .circuit_breaker(BreakerConfig::default())
        .bulkhead(BulkheadConfig::default())
        .timeout(Duration::from_secs(5));
    let mut service = tower_layer::Layer::layer(&layer, client());
    assert_send_sync_clone(&service);
    let spawned = tokio::spawn(async move {
        poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
        service.call(get_request(addr, "/ok")).await
    });
    assert_eq!(spawned.await.unwrap().unwrap().status(), StatusCode::OK);
    // The whole router's layer names operations by the matched route too.
    assert_eq!(coord::operation("tower_t.send GET /ok").unwrap().calls, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_and_unused_readiness_release_slots() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }),
    );
    let addr = serve(app).await;
    let layer = CoordLayer::new("tower_t.cancel").bulkhead(
        BulkheadConfig::default()
            .max_concurrent(1)
            .max_wait(Duration::from_secs(30)),
    );
    let mut service = tower_layer::Layer::layer(&layer, client());
    let bulkhead = coord::bulkhead("tower_t.cancel");
    assert_eq!(bulkhead.max_concurrent(), 1, "the layer configured it");
    // A request cancelled mid-flight gives its slot back.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        send(&mut service, get_request(addr, "/slow")),
    )
    .await;
    assert!(cancelled.is_err(), "the request was still running");
    assert_eq!(bulkhead.in_flight(), 0);
    // A slot reserved by `poll_ready` and never used is released with the service.
    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
    assert_eq!(bulkhead.in_flight(), 1);
    // Another clone must wait for it: its `poll_ready` is pending, not an error or a spin.
    let mut other = service.clone();
    let waiting = tokio::time::timeout(
        Duration::from_millis(50),
        poll_fn(|cx| other.poll_ready(cx)),
    )
    .await;
    assert!(waiting.is_err(), "the second clone waits for the slot");
    drop(service);
    assert_eq!(bulkhead.in_flight(), 0);
    // ...and gets it once the first clone is gone.
    tokio::time::timeout(Duration::from_secs(5), poll_fn(|cx| other.poll_ready(cx)))
        .await
        .expect("the freed slot wakes the waiting clone")
        .unwrap();
    assert_eq!(bulkhead.in_flight(), 1);
    drop(other);
    assert_eq!(bulkhead.in_flight(), 0);
}

/// The rate limiter reserves outside the bulkhead: a request over the rate is refused before it
/// takes a slot, so shed traffic never holds the bulkhead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_rate_holds_no_bulkhead_slot() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = serve(flaky(0, Arc::clone(&hits))).await;
    let layer = CoordLayer::new("tower_t.order")
        .bulkhead(
            BulkheadConfig::default()
                .max_concurrent(1)
                .max_wait(Duration::ZERO),
        )
        .rate_limit(one_a_minute());
    let bulkhead = coord::bulkhead("tower_t.order");
    let mut first = tower_layer::Layer::layer(&layer, client());
    poll_fn(|cx| first.poll_ready(cx)).await.unwrap();
    assert_eq!(bulkhead.in_flight(), 1, "the turn and the slot");
    drop(first);
    assert_eq!(bulkhead.in_flight(), 0);
    let mut second = tower_layer::Layer::layer(&layer, client());
    poll_fn(|cx| second.poll_ready(cx)).await.unwrap();
    assert_eq!(
        bulkhead.in_flight(),
        0,
        "refused by the rate: no slot taken"
    );
    let refused = second.call(get_request(addr, "/flaky")).await;
    assert!(matches!(refused, Err(Error::RateLimited(_))), "{refused:?}");
    assert_eq!(hits.load(SeqCst), 0, "nothing reached the server");
    assert_eq!(coord::rate_limiter("tower_t.order").snapshot().rejected, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_counts_equal_the_requests_sent() {
    let app = Router::new()
        .route("/items/{id}", get(|| async { StatusCode::OK }))
        .route(
            "/broken",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route_layer(CoordLayer::server("tower_t.metrics").track_performance())
        .merge(coord::http::router());
    let addr = serve(app).await;
    let client = client();
    for id in 0..7 {
        let path = format!("/items/{id}");
        client.request(get_request(addr, &path)).await.unwrap();
    }
    for _ in 0..4 {
        let answer = client.request(get_request(addr, "/broken")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let metrics = client.request(get_request(addr, "/metrics")).await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let body = metrics.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let count = |operation: &str, outcome: &str| -> Option<u64> {
        let prefix = format!(
            "coord_operation_calls_total{{operation=\"{operation}\",outcome=\"{outcome}\"}} "
        );
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|n| n.trim().parse().ok())
    };
    assert_eq!(
        count("tower_t.metrics GET /items/{id}", "success"),
        Some(7),
        "{text}"
    );
    assert_eq!(
        count("tower_t.metrics GET /broken", "failure"),
        Some(4),
        "{text}"
    );
    assert!(!text.contains("/items/3"), "raw paths never become names");
}

#[test]
fn invalid_configurations_are_typed_errors() {
    let zero = CoordLayer::new("tower_t.config").timeout(Duration::ZERO);
    assert_eq!(zero.validate(), Err(ConfigError::ZeroTimeout("timeout")));
    let zero = CoordLayer::new("tower_t.config").total_timeout(Duration::ZERO);
    assert_eq!(
        zero.validate(),
        Err(ConfigError::ZeroTimeout("total_timeout"))
    );
    let bulkhead =
        CoordLayer::new("tower_t.config").bulkhead(BulkheadConfig::default().max_concurrent(0));
    assert!(
        matches!(bulkhead.validate(), Err(ConfigError::Bulkhead(e)) if e.key() == "max_concurrent")
    );
    let rate = CoordLayer::new("tower_t.config").rate_limit(RateLimitConfig::default().rate(0));
    assert!(matches!(rate.validate(), Err(ConfigError::RateLimit(_))));
    let breaker = CoordLayer::new("tower_t.config")
        .circuit_breaker(BreakerConfig::default().failure_rate(2.0));
    let error = breaker.validate().unwrap_err();
    assert!(matches!(error, ConfigError::Breaker(_)));
    assert!(
        error
            .to_string()
            .starts_with("CoordLayer::circuit_breaker: "),
        "{error}"
    );
    assert!(CoordLayer::new("tower_t.config").validate().is_ok());
}

// An `Infallible`-erroring service is what axum needs; the client layer keeps its errors.
#[allow(dead_code)]
fn server_service_is_infallible(
    s: <CoordLayer<coord::tower::NoRetry, coord::tower::Responses> as tower_layer::Layer<
        axum::routing::Route,
    >>::Service,
) -> impl Service<http::Request<axum::body::Body>, Error = Infallible> {
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_holds_the_next_attempt_back_up_to_the_longest_back_off() {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/busy/{seconds}",
            get(
                |State(hits): State<Arc<AtomicUsize>>,
                 axum::extract::Path(seconds): axum::extract::Path<u64>| async move {
                    if hits.fetch_add(1, SeqCst) % 2 == 0 {
                        let mut busy = axum::response::IntoResponse::into_response(
                            StatusCode::SERVICE_UNAVAILABLE,
                        );
                        busy.headers_mut()
                            .insert("retry-after", seconds.to_string().parse().unwrap());
                        busy
                    } else {
                        axum::response::IntoResponse::into_response(StatusCode::OK)
                    }
                },
            ),
        )
        .with_state(Arc::clone(&hits));
    let addr = serve(app).await;
    let clock = coord::FakeClock::new();
    let layer = CoordLayer::new("tower_t.retry_after").retry(
        RetryPolicy::constant(1, Duration::from_millis(10))
            .max_delay(Duration::from_secs(30))
            .clock(clock.clone()),
    );
    let mut service = tower_layer::Layer::layer(&layer, client());
    // Retry-After: 7 → the back-off (10 ms) and then the rest of the 7 s, on the policy's clock.
    let response = fetch(&mut service, addr, "/busy/7").await;
    assert_eq!(response.status(), StatusCode::OK);
    let sleeps = clock.sleeps();
    assert_eq!(
        sleeps.iter().sum::<Duration>(),
        Duration::from_secs(7),
        "{sleeps:?}"
    );
    // Retry-After: 3600 is capped at the policy's longest back-off.
    let before = clock.sleeps().len();
    let response = fetch(&mut service, addr, "/busy/3600").await;
    assert_eq!(response.status(), StatusCode::OK);
    let sleeps = &clock.sleeps()[before..];
    assert_eq!(
        sleeps.iter().sum::<Duration>(),
        Duration::from_secs(30),
        "{sleeps:?}"
    );
    assert_eq!(hits.load(SeqCst), 4);
}
