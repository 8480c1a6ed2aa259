//! `CoordLayer::span`: a `tracing` span per request with OpenTelemetry's HTTP span conventions,
//! server and client side, read back through a real `tracing-subscriber` layer; requests go
//! through the services in process.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use coord::tower::{CoordLayer, Service};
use coord::{RateLimitConfig, RetryPolicy};
use http::{Request, Response, StatusCode};
use tower_layer::Layer as _;

#[path = "support/spans.rs"]
mod recorder;

use recorder::{SpanRecord, block_on, recording};

#[path = "support/tower.rs"]
mod tower_support;

use tower_support::send;

/// Each path's status, one GET after the other through `app`.
async fn statuses(app: &mut Router, paths: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for path in paths {
        let request = Request::get(*path).body(Body::empty()).unwrap();
        statuses.push(send(app, request).await.unwrap().status().as_u16());
    }
    statuses
}

fn field<'a>(span: &'a SpanRecord, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

#[test]
fn a_server_request_span_follows_the_http_conventions() {
    let (statuses, recorded) = recording(|| {
        block_on(async {
            let mut app = Router::new()
                .route("/users/{id}", get(|| async { "a user" }))
                .route("/broken", get(|| async { StatusCode::BAD_GATEWAY }))
                .route_layer(CoordLayer::server("tower_spans.api").span());
            statuses(&mut app, &["/users/7", "/broken"]).await
        })
    });
    assert_eq!(statuses, [200, 502]);
    let spans = recorded.all_named("http.server.request");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let ok = &spans[0];
    assert_eq!(ok.level, "INFO");
    assert_eq!(field(ok, "otel.name"), Some("GET /users/{id}"));
    assert_eq!(field(ok, "otel.kind"), Some("server"));
    assert_eq!(field(ok, "http.request.method"), Some("GET"));
    assert_eq!(field(ok, "http.route"), Some("/users/{id}"));
    assert_eq!(field(ok, "url.scheme"), Some("http"));
    assert_eq!(field(ok, "http.response.status_code"), Some("200"));
    assert_eq!(
        field(ok, "coord.operation"),
        Some("tower_spans.api GET /users/{id}")
    );
    assert_eq!(field(ok, "otel.status_code"), None);

    let failed = &spans[1];
    assert_eq!(field(failed, "http.response.status_code"), Some("502"));
    assert_eq!(field(failed, "otel.status_code"), Some("ERROR"));
    assert_eq!(field(failed, "error.type"), Some("502"));
    assert_eq!(field(failed, "coord.outcome"), Some("failure"));
}

#[test]
fn a_server_rejection_is_marked_and_is_an_event_of_the_span() {
    let (statuses, recorded) = recording(|| {
        block_on(async {
            let limit = RateLimitConfig::default()
                .rate(1)
                .per(Duration::from_secs(3600))
                .burst(1)
                .max_wait(Duration::ZERO);
            let mut app = Router::new()
                .route("/quota", get(|| async { "ok" }))
                .route_layer(
                    CoordLayer::server("tower_spans.limited")
                        .rate_limit(limit)
                        .span(),
                );
            statuses(&mut app, &["/quota", "/quota"]).await
        })
    });
    assert_eq!(statuses, [200, 429]);
    let spans = recorded.all_named("http.server.request");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let rejected = &spans[1];
    assert_eq!(field(rejected, "coord.outcome"), Some("rejected"));
    assert_eq!(field(rejected, "http.response.status_code"), Some("429"));
    // A server's 4xx is no error of the server's (OpenTelemetry's HTTP conventions).
    assert_eq!(field(rejected, "otel.status_code"), None);
    assert_eq!(field(rejected, "error.type"), None);
    assert_eq!(
        rejected.rejections(),
        [("rate_limit", "tower_spans.limited")]
    );
}

/// A downstream answering 503 to its first `failures` requests, then 200.
#[derive(Clone)]
struct Flaky {
    failures: usize,
    calls: Arc<AtomicUsize>,
}

impl Service<Request<String>> for Flaky {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<String>) -> Self::Future {
        let mut response = Response::new(String::new());
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        ready(Ok(response))
    }
}

#[test]
fn a_client_request_span_carries_its_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (status, recorded) = recording(|| {
        block_on(async {
            let mut client = CoordLayer::new("tower_spans.client")
                .retry(RetryPolicy::constant(3, Duration::from_millis(1)))
                .span()
                .layer(Flaky {
                    failures: 2,
                    calls: Arc::clone(&calls),
                });
            let request = Request::get("http://stock.test:8080/items")
                .body(String::new())
                .unwrap();
            send(&mut client, request).await.unwrap().status().as_u16()
        })
    });
    assert_eq!(status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let span = recorded.named("http.client.request");
    assert_eq!(field(&span, "otel.kind"), Some("client"));
    assert_eq!(field(&span, "otel.name"), Some("GET"));
    assert_eq!(field(&span, "server.address"), Some("stock.test"));
    assert_eq!(field(&span, "server.port"), Some("8080"));
    assert_eq!(field(&span, "http.response.status_code"), Some("200"));
    assert_eq!(field(&span, "otel.status_code"), None);
    let attempts: Vec<&str> = span
        .events
        .iter()
        .filter(|(m, _)| m == "retry")
        .map(|(_, f)| f["coord.retry.attempt"].as_str())
        .collect();
    assert_eq!(attempts, ["1", "2"]);
}

#[test]
fn without_span_a_layer_makes_none() {
    let (status, recorded) = recording(|| {
        block_on(async {
            let mut client = CoordLayer::new("tower_spans.quiet")
                .track_performance()
                .layer(Flaky {
                    failures: 0,
                    calls: Arc::default(),
                });
            let request = Request::get("http://quiet.test/")
                .body(String::new())
                .unwrap();
            send(&mut client, request).await.unwrap().status().as_u16()
        })
    });
    assert_eq!(status, 200);
    assert!(recorded.spans().is_empty(), "{:?}", recorded.spans());
}

#[coord::track_performance(name = "tower_spans.handler", span)]
async fn handler() -> impl axum::response::IntoResponse {
    StatusCode::BAD_GATEWAY
}

#[test]
fn a_spanned_handler_failing_with_a_status_names_it_as_its_error_type() {
    let (status, recorded) = recording(|| {
        block_on(async {
            use axum::response::IntoResponse as _;
            handler().await.into_response().status().as_u16()
        })
    });
    assert_eq!(status, 502);
    let span = recorded.named("tower_spans.handler");
    assert_eq!(field(&span, "otel.status_code"), Some("ERROR"));
    assert_eq!(field(&span, "error.type"), Some("502"));
    assert_eq!(field(&span, "coord.outcome"), Some("failure"));
}
