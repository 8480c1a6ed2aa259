//! An axum service with coord as tower middleware: `CoordLayer::server` on each group of
//! routes (`Router::route_layer`) times every request under its route's name (never the raw
//! URI), bounds the concurrent searches with a bulkhead, rate-limits the exports, and answers a
//! rejection with 503 or 429 and `Retry-After`. The results are in the same report and
//! `/metrics` as attribute-wrapped functions.
//!
//! `cargo run --example tower_server --features tower` starts the service on a free port of
//! 127.0.0.1, drives it with a hyper client, checks every answer, and exits non-zero if a
//! check fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use coord::tower::CoordLayer;
use coord::{BulkheadConfig, RateLimitConfig};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Notify;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// The service's routes: three groups, each with its own layer.
fn app(searching: Arc<Notify>, release: Arc<Notify>) -> Router {
    let users = Router::new()
        .route(
            "/users/{id}",
            get(|Path(id): Path<u64>| async move {
                if id == 0 {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                }
            }),
        )
        .route(
            "/users/{id}/avatar",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route_layer(CoordLayer::server("shop").track_performance());
    let search = Router::new()
        .route(
            "/search",
            get(move || async move {
                searching.notify_one();
                release.notified().await;
                StatusCode::OK
            }),
        )
        .route_layer(
            CoordLayer::server("shop.search")
                .track_performance()
                .bulkhead(
                    BulkheadConfig::default()
                        .max_concurrent(1)
                        .max_wait(Duration::ZERO),
                ),
        );
    let export = Router::new()
        .route("/export", get(|| async { StatusCode::OK }))
        .route_layer(
            CoordLayer::server("shop.export")
                .track_performance()
                .rate_limit(
                    RateLimitConfig::default()
                        .rate(2)
                        .per(Duration::from_secs(60))
                        .burst(2)
                        .max_wait(Duration::ZERO),
                ),
        );
    users
        .merge(search)
        .merge(export)
        .merge(coord::http::router())
}

async fn get_status(
    client: &HttpClient,
    addr: SocketAddr,
    path: &str,
) -> Result<(u16, String, String), String> {
    let request = http::Request::get(format!("http://{addr}{path}"))
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        retry_after,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

fn expect(what: &str, got: u16, want: u16) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: status {got}, want {want}"))
    }
}

/// The self-test: a fixed set of requests, each answer checked.
async fn exercise(
    addr: SocketAddr,
    searching: &Notify,
    release: &Notify,
) -> Result<String, String> {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    for id in 1..=10 {
        let (status, _, _) = get_status(&client, addr, &format!("/users/{id}")).await?;
        expect("GET /users/{id}", status, 200)?;
    }
    let (status, _, _) = get_status(&client, addr, "/users/0").await?;
    expect("GET /users/0", status, 404)?;
    for _ in 0..3 {
        let (status, _, _) = get_status(&client, addr, "/users/7/avatar").await?;
        expect("GET /users/7/avatar", status, 500)?;
    }

    // One search holds the bulkhead's only slot; the next is turned away at once.
    let held = tokio::spawn({
        let client = client.clone();
        async move { get_status(&client, addr, "/search").await }
    });
    searching.notified().await;
    let (status, retry_after, _) = get_status(&client, addr, "/search").await?;
    expect("GET /search while full", status, 503)?;
    if retry_after.is_empty() {
        return Err("503 without Retry-After".into());
    }
    release.notify_one();
    let (status, _, _) = held.await.map_err(|e| e.to_string())??;
    expect("GET /search", status, 200)?;

    // Two exports a minute: the third is 429 with the time to the next turn.
    for _ in 0..2 {
        let (status, _, _) = get_status(&client, addr, "/export").await?;
        expect("GET /export", status, 200)?;
    }
    let (status, retry_after, _) = get_status(&client, addr, "/export").await?;
    expect("GET /export over the rate", status, 429)?;
    let seconds: u64 = retry_after
        .parse()
        .map_err(|_| format!("429 Retry-After: {retry_after:?}"))?;
    if !(1..=60).contains(&seconds) {
        return Err(format!("429 Retry-After {seconds}s"));
    }

    // The same report and /metrics as the attributes: one series per route.
    let users = coord::operation("shop GET /users/{id}").ok_or("no route operation")?;
    if (users.calls, users.successes) != (11, 11) {
        return Err(format!(
            "GET /users/{{id}}: {} calls, {} successes (4xx is a success)",
            users.calls, users.successes
        ));
    }
    let avatars = coord::operation("shop GET /users/{id}/avatar").ok_or("no avatar operation")?;
    if avatars.failures != 3 {
        return Err(format!("avatar failures: {}", avatars.failures));
    }
    let (status, _, metrics) = get_status(&client, addr, "/metrics").await?;
    expect("GET /metrics", status, 200)?;
    for needle in [
        "coord_operation_calls_total{operation=\"shop GET /users/{id}\",outcome=\"success\"} 11",
        "coord_operation_calls_total{operation=\"shop GET /users/{id}/avatar\",outcome=\"failure\"} 3",
        "coord_bulkhead_rejected_calls_total{bulkhead=\"shop.search\"} 1",
        "coord_rate_limiter_rejected_calls_total{rate_limiter=\"shop.export\"} 1",
    ] {
        if !metrics.contains(needle) {
            let ours: Vec<_> = metrics.lines().filter(|l| l.contains("shop")).collect();
            return Err(format!("/metrics lacks {needle}; has {ours:#?}"));
        }
    }
    if metrics.contains("/users/7") {
        return Err("a raw path became a metric label".into());
    }
    Ok(format!(
        "GET /users/{{id}}: {} calls, p99 {:.2} ms; 1 search turned away (503), 1 export rate limited (429)",
        users.calls,
        users.p99.as_secs_f64() * 1e3
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let searching = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("shop on http://{addr}/ (coord dashboard at /)");
    let app = app(Arc::clone(&searching), Arc::clone(&release));
    tokio::spawn(async move { axum::serve(listener, app).await });
    match exercise(addr, &searching, &release).await {
        Ok(summary) => {
            println!("self-test passed: {summary}");
            Ok(())
        }
        Err(failure) => {
            eprintln!("self-test FAILED: {failure}");
            std::process::exit(1);
        }
    }
}
