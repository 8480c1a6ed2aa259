//! How `coord::tower::CoordLayer` names a server's operations, through a real axum server on
//! 127.0.0.1: per route (path parameters stay one series), gRPC methods under a wildcard route
//! (made-up names bounded), a handler's own 429 a success.

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use http_body_util::Empty;
use hyper::body::Bytes;

#[path = "support/tower.rs"]
mod tower_support;

use tower_support::{get_request, serve_timed};

/// A request as a gRPC client sends it: `POST` with `content-type: application/grpc`.
fn grpc_request(addr: SocketAddr, path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::post(format!("http://{addr}{path}"))
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .body(Empty::new())
        .unwrap()
}

/// One route whose handler answers every `POST` with `status`.
fn answering_post(path: &str, status: StatusCode) -> Router {
    Router::new().route(path, post(move || async move { status }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_calls_are_named_by_method_and_made_up_names_stay_bounded() {
    // As tonic routes: one route per service, the method in the rest of the path.
    let routes = answering_post("/shop.Cart/{*method}", StatusCode::OK);
    let (addr, client) = serve_timed(routes, "tower_t.grpc").await;
    for path in ["/shop.Cart/Add", "/shop.Cart/Add", "/shop.Cart/Remove"] {
        let answer = client.request(grpc_request(addr, path)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let calls = |name: &str| coord::operation(name).map(|stats| stats.calls);
    assert_eq!(calls("tower_t.grpc POST /shop.Cart/Add"), Some(2));
    assert_eq!(calls("tower_t.grpc POST /shop.Cart/Remove"), Some(1));
    // Not gRPC, or not a method name: the matched route, as for any axum route.
    let plain = http::Request::post(format!("http://{addr}/shop.Cart/Add"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    client.request(plain).await.unwrap();
    client
        .request(grpc_request(addr, "/shop.Cart/Add%20me"))
        .await
        .unwrap();
    assert_eq!(calls("tower_t.grpc POST /shop.Cart/{*method}"), Some(2));

    // Made-up method names from a client: 1,024 routes per layer, then the layer's name.
    for n in 0..1030 {
        let path = format!("/shop.Cart/Made{n}");
        client.request(grpc_request(addr, &path)).await.unwrap();
    }
    let named = coord::report()
        .performance
        .operations
        .iter()
        .filter(|op| op.name.starts_with("tower_t.grpc "))
        .count();
    // Add, Remove, the matched route, and 1,021 made-up methods fill the 1,024 routes.
    assert_eq!(named, 1024);
    assert_eq!(calls("tower_t.grpc"), Some(9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordinary_route_keeps_its_name_and_a_handlers_429_is_a_success() {
    let routes = answering_post("/items/{id}", StatusCode::TOO_MANY_REQUESTS);
    let (addr, client) = serve_timed(routes, "tower_t.plain").await;
    // A client claiming gRPC on an ordinary route: still the matched route, not the raw path.
    for id in 1..=3 {
        let answer = client
            .request(grpc_request(addr, &format!("/items/{id}")))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let stats = coord::operation("tower_t.plain POST /items/{id}").unwrap();
    // The handler chose to answer 429: a success on the server side, as for the attributes.
    assert_eq!((stats.calls, stats.successes, stats.failures), (3, 3, 0));
    assert!(coord::operation("tower_t.plain POST /items/1").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_route_names_with_path_parameters_stay_one_series() {
    let routes = Router::new().route("/users/{id}", get(|| async { StatusCode::OK }));
    let (addr, client) = serve_timed(routes, "tower_t.routes").await;
    for id in 1..=5 {
        let path = format!("/users/{id}");
        let answer = client.request(get_request(addr, &path)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let stats = coord::operation("tower_t.routes GET /users/{id}").unwrap();
    assert_eq!(stats.calls, 5);
    let names: Vec<_> = coord::report()
        .performance
        .operations
        .iter()
        .map(|op| op.name.clone())
        .filter(|name| name.starts_with("tower_t.routes"))
        .collect();
    assert_eq!(names, ["tower_t.routes GET /users/{id}"]);
}
