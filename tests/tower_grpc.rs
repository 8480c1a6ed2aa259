//! gRPC answers through `coord::tower::CoordLayer`, over a real server on 127.0.0.1: an error a
//! gRPC server returns before its first message travels as HTTP 200 with a `grpc-status`
//! header (tonic's trailers-only response). `UNAVAILABLE` must count as a failure (retried,
//! the breaker and the error rate see it) as a 503 would, and `NOT_FOUND` as a success, as a
//! 404 would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use coord::tower::CoordLayer;
use coord::{Jitter, RetryPolicy};
use http_body_util::Empty;
use hyper::body::Bytes;
use tower_layer::Layer as _;

#[path = "support/tower.rs"]
mod tower_support;

use tower_support::{client, send, serve, serve_timed};

/// A gRPC error as tonic answers it: 200, `content-type: application/grpc`, `grpc-status`.
fn grpc_answer(code: u8) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(u16::from(code)));
    response
}

/// `/shop.Cart/{method}`: `Get` is UNAVAILABLE for its first `failures` calls then OK;
/// `Find` is always NOT_FOUND.
fn cart(failures: usize, hits: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/shop.Cart/Get",
            post(move |State(hits): State<Arc<AtomicUsize>>| async move {
                let n = hits.fetch_add(1, SeqCst);
                grpc_answer(if n < failures { 14 } else { 0 })
            }),
        )
        .route("/shop.Cart/Find", post(|| async { grpc_answer(5) }))
        .with_state(hits)
}

fn grpc_post(addr: std::net::SocketAddr, method: &str) -> http::Request<Empty<Bytes>> {
    http::Request::post(format!("http://{addr}/shop.Cart/{method}"))
        .header("content-type", "application/grpc")
        .body(Empty::new())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_retries_unavailable_and_counts_not_found_as_a_success() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = serve(cart(2, Arc::clone(&hits))).await;
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), 2.0).jitter(Jitter::None);
    let mut service = CoordLayer::new("tower_grpc.client")
        .track_performance()
        .retry(policy)
        .layer(client());
    let answer = send(&mut service, grpc_post(addr, "Get")).await.unwrap();
    assert_eq!(answer.headers()["grpc-status"], "0");
    assert_eq!(hits.load(SeqCst), 3, "two UNAVAILABLE answers were retried");
    let answer = send(&mut service, grpc_post(addr, "Find")).await.unwrap();
    assert_eq!(answer.headers()["grpc-status"], "5");
    let stats = coord::operation("tower_grpc.client").unwrap();
    assert_eq!((stats.successes, stats.failures), (2, 0), "{stats:?}");
    let retries = coord::error_report();
    let row = retries.find("tower_grpc.client").unwrap();
    assert_eq!(
        row.errors, 2,
        "each UNAVAILABLE attempt is a failed attempt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_counts_unavailable_as_a_failure() {
    let hits = Arc::new(AtomicUsize::new(0));
    let (addr, client) = serve_timed(cart(usize::MAX, hits), "tower_grpc.server").await;
    for method in ["Get", "Get", "Find"] {
        let answer = client.request(grpc_post(addr, method)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    // Named per route, as axum matched it.
    let get = coord::operation("tower_grpc.server POST /shop.Cart/Get").unwrap();
    assert_eq!((get.failures, get.successes), (2, 0), "{get:?}");
    assert_eq!(get.last_error.as_deref(), Some("gRPC UNAVAILABLE"));
    let find = coord::operation("tower_grpc.server POST /shop.Cart/Find").unwrap();
    assert_eq!((find.failures, find.successes), (0, 1), "{find:?}");
}
