//! The HTTP part of the reference workload: an axum router behind `CoordLayer::server` and a
//! client behind `CoordLayer::new`, both with `.span()`, with counts known in advance
//! ([`EXPECTED`]) for OpenTelemetry's `http.server.request.duration` and
//! `http.client.request.duration`. Requests go through the services in process (no sockets), so
//! the counts are exact. Run it after `coord::otel::register` (or `init_from_env`): the
//! durations are recorded as requests end, into the meters registered then.

use std::convert::Infallible;
use std::future::{Ready, poll_fn, ready};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use coord::tower::{CoordLayer, Service};
use http::{Request, Response, StatusCode};
use tower_layer::Layer as _;

/// One request through `service`, as tower callers do: ready, then call.
async fn send<S, B>(service: &mut S, request: Request<B>) -> Result<S::Response, S::Error>
where
    S: Service<Request<B>>,
{
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

/// A downstream service of the client: `/down` answers 503, anything else 200.
#[derive(Clone)]
struct Inventory;

impl Service<Request<String>> for Inventory {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<String>) -> Self::Future {
        let mut response = Response::new(String::new());
        if request.uri().path() == "/down" {
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        ready(Ok(response))
    }
}

/// The server's layer name: its operations are `otel.ref.api GET /items/{id}`, ...
pub const SERVER: &str = "otel.ref.api";
/// The client's layer name.
pub const CLIENT: &str = "otel.ref.inventory";

/// Runs the HTTP workload once: 3 × `GET /items/{id}` (200) and 1 × `GET /fail` (500) on the
/// server; 2 × `GET http://inventory.test/ok` (200) and 1 × `GET http://inventory.test/down`
/// (503) through the client.
pub async fn run() {
    let mut app = Router::new()
        .route("/items/{id}", get(|| async { "an item" }))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route_layer(CoordLayer::server(SERVER).track_performance().span());
    for path in ["/items/1", "/items/2", "/items/3", "/fail"] {
        let request = Request::get(path).body(Body::empty()).expect("a request");
        let answer = send(&mut app, request).await.expect("axum is infallible");
        let want = if path == "/fail" { 500 } else { 200 };
        assert_eq!(answer.status().as_u16(), want, "{path}");
    }

    let mut client = CoordLayer::new(CLIENT)
        .track_performance()
        .span()
        .layer(Inventory);
    for path in ["/ok", "/ok", "/down"] {
        let request = Request::get(format!("http://inventory.test{path}"))
            .body(String::new())
            .expect("a request");
        let answer = send(&mut client, request).await.expect("no rejection");
        let want = if path == "/down" { 503 } else { 200 };
        assert_eq!(answer.status().as_u16(), want, "{path}");
    }
}

/// One expected histogram series: instrument, attributes (sorted by key), count.
pub type Expected = (&'static str, &'static [(&'static str, &'static str)], u64);

/// The series after one [`run`], as a meter registered before it exports them.
pub const EXPECTED: &[Expected] = &[
    (
        "http.server.request.duration",
        &[
            ("http.request.method", "GET"),
            ("http.response.status_code", "200"),
            ("http.route", "/items/{id}"),
            ("url.scheme", "http"),
        ],
        3,
    ),
    (
        "http.server.request.duration",
        &[
            ("error.type", "500"),
            ("http.request.method", "GET"),
            ("http.response.status_code", "500"),
            ("http.route", "/fail"),
            ("url.scheme", "http"),
        ],
        1,
    ),
    (
        "http.client.request.duration",
        &[
            ("http.request.method", "GET"),
            ("http.response.status_code", "200"),
            ("server.address", "inventory.test"),
            ("server.port", "80"),
        ],
        2,
    ),
    (
        "http.client.request.duration",
        &[
            ("error.type", "503"),
            ("http.request.method", "GET"),
            ("http.response.status_code", "503"),
            ("server.address", "inventory.test"),
            ("server.port", "80"),
        ],
        1,
    ),
];
