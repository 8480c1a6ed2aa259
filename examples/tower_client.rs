//! A hyper client with coord as tower middleware: `CoordLayer` retries 5xx answers and
//! transport errors, keeps one circuit breaker per host, and bounds each attempt's time, on the
//! same registries and report as the attributes.
//!
//! `cargo run --example tower_client --features tower` starts two local servers on 127.0.0.1
//! (one flaky, answering 503 to two requests of every three; one down, always 503), calls both
//! through the layer, checks what happened, and exits non-zero if a check fails.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use coord::tower::{CoordLayer, Error, Service};
use coord::{BreakerConfig, BreakerState, RetryPolicy};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_layer::Layer;

/// A local server whose `/pay` answers 503 when `fails(n)` says so for its n-th request.
async fn server(fails: fn(usize) -> bool) -> std::io::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new().route(
        "/pay",
        get(move || async move {
            if fails(counted.fetch_add(1, SeqCst)) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, hits))
}

fn pay(addr: SocketAddr) -> http::Request<Empty<Bytes>> {
    let mut request = http::Request::new(Empty::new());
    *request.uri_mut() = format!("http://{addr}/pay").parse().unwrap_or_default();
    request
}

async fn exercise() -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let (flaky, flaky_hits) = server(|n| n % 3 != 2).await.map_err(io)?;
    let (down, down_hits) = server(|_| true).await.map_err(io)?;

    let layer = CoordLayer::new("example.payments")
        .track_performance()
        .retry(RetryPolicy::constant(2, Duration::from_millis(5)))
        .circuit_breaker(
            BreakerConfig::default()
                .consecutive_failures(3)
                // The flaky host fails two attempts in three: its rate alone must not open it.
                .failure_rate(0.9)
                .open_for(Duration::from_secs(60)),
        )
        .breaker_per_host()
        .timeout(Duration::from_secs(2));
    layer.validate().map_err(|e| e.to_string())?;
    let mut payments = layer.layer(Client::builder(TokioExecutor::new()).build_http());
    let mut send = async |addr| {
        poll_fn(|cx| payments.poll_ready(cx)).await?;
        payments.call(pay(addr)).await
    };

    // The flaky host: every call succeeds, on its third attempt.
    for i in 0..5 {
        let response = send(flaky)
            .await
            .map_err(|e| format!("flaky call {i}: {e}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!("flaky call {i}: status {}", response.status()));
        }
    }
    if flaky_hits.load(SeqCst) != 15 {
        return Err(format!(
            "flaky host: {} requests, want 15",
            flaky_hits.load(SeqCst)
        ));
    }

    // The host that is down: the first call's three attempts open its breaker; the next calls
    // are answered at once, without a request.
    let first = send(down)
        .await
        .map_err(|e| format!("first call to the down host: {e}"))?;
    if first.status() != StatusCode::SERVICE_UNAVAILABLE {
        return Err(format!(
            "down host: status {}, want its 503",
            first.status()
        ));
    }
    for i in 0..5 {
        match send(down).await {
            Err(Error::CircuitOpen(_)) => {}
            other => {
                return Err(format!(
                    "down host, call {i}: {other:?}, want an open breaker"
                ));
            }
        }
    }
    if down_hits.load(SeqCst) != 3 {
        return Err(format!(
            "down host: {} requests, want 3",
            down_hits.load(SeqCst)
        ));
    }

    // One breaker per host, in one keyed group: the flaky host's stays closed.
    let group = coord::breakers::find_keyed("example.payments").ok_or("no keyed group")?;
    let state = |addr: SocketAddr| group.get(&addr.to_string()).state();
    if (state(flaky), state(down)) != (BreakerState::Closed, BreakerState::Open) {
        return Err(format!(
            "breakers: flaky {:?}, down {:?}",
            state(flaky),
            state(down)
        ));
    }
    let stats = coord::operation("example.payments").ok_or("no operation stats")?;
    if (stats.calls, stats.successes) != (11, 5) {
        return Err(format!(
            "{} calls, {} successes",
            stats.calls, stats.successes
        ));
    }
    let errors = coord::error_report();
    let row = errors.find("example.payments").ok_or("no error row")?;
    if row.successes_after_retry != 5 {
        return Err(format!(
            "{} successes after retry, want 5",
            row.successes_after_retry
        ));
    }
    Ok(format!(
        "5 payments after retries, the down host's breaker opened after 3 requests and answered 5 calls itself; p99 {:.2} ms",
        stats.p99.as_secs_f64() * 1e3
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    match exercise().await {
        Ok(summary) => println!("self-test passed: {summary}"),
        Err(failure) => {
            eprintln!("self-test FAILED: {failure}");
            std::process::exit(1);
        }
    }
}
