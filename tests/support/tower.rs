//! What the tower tests share: a hyper client, an axum app served on 127.0.0.1 (bare or timed
//! per route), a GET request, and one request (or one GET) through a tower service. Included with `#[path]` by the tests
//! that need the `tower` feature.
#![allow(dead_code)]

use std::future::poll_fn;
use std::net::SocketAddr;

use axum::Router;
use coord::tower::{CoordLayer, Service};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Serves `app` on a free port of 127.0.0.1 until the test's runtime ends.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Serves `routes` behind a server `CoordLayer` named `name` that times each matched route
/// (a route layer: unmatched paths are not timed); returns its address and a client.
pub async fn serve_timed(routes: Router, name: &str) -> (SocketAddr, HttpClient) {
    let app = routes.route_layer(CoordLayer::server(name).track_performance());
    (serve(app).await, client())
}

pub fn get_request(addr: SocketAddr, path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(format!("http://{addr}{path}"))
        .body(Empty::new())
        .unwrap()
}

/// One request through `service`, as tower callers do: ready, then call.
pub async fn send<S, B>(service: &mut S, request: http::Request<B>) -> Result<S::Response, S::Error>
where
    S: Service<http::Request<B>>,
{
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

/// A GET of `path` on `addr` through `service`, which must answer.
pub async fn fetch<S>(service: &mut S, addr: SocketAddr, path: &str) -> S::Response
where
    S: Service<http::Request<Empty<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    send(service, get_request(addr, path))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}"))
}
