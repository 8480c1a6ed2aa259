//! Outcomes as an operator reads them (issue #22, points 1, 2 and 9), through a real axum
//! service on 127.0.0.1 driven by a real HTTP client: a handler answering 502 fails, one
//! answering 404 succeeds, an open breaker's rejections are counted apart (not errors, not in the
//! error rate or the recent failures), and `/metrics` says `outcome="rejected"`.
//!
//! One test function: the error registry, the recent failures and the health error rate are
//! process-wide, and this file checks them exactly.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use coord::{circuit_breaker, retry, track_performance};

mod support;
use support::DbError;
use support::http::request;

static INVENTORY_UP: AtomicBool = AtomicBool::new(true);

#[track_performance("outcomes_http.inventory")]
#[retry(max_retries = 0)]
#[circuit_breaker(
    name = "outcomes_http.inventory",
    failure_rate = 0.5,
    minimum_calls = 8,
    window = 8,
    open_for = "60s"
)]
async fn lookup_inventory() -> Result<u32, DbError> {
    if INVENTORY_UP.load(Ordering::SeqCst) {
        Ok(7)
    } else {
        Err(DbError::Down)
    }
}

/// Not tracked itself, so that the handler's own 5xx answers do not mix into the error rates
/// this test checks: the downstream operation is the subject.
async fn item() -> Response {
    match lookup_inventory().await {
        Ok(count) => (StatusCode::OK, count.to_string()).into_response(),
        Err(DbError::Open(open)) => {
            (StatusCode::SERVICE_UNAVAILABLE, open.to_string()).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

#[track_performance("outcomes_http.bad_gateway")]
async fn bad_gateway() -> Response {
    StatusCode::BAD_GATEWAY.into_response()
}

#[track_performance("outcomes_http.missing")]
async fn missing() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "no such item")
}

#[track_performance("outcomes_http.unavailable")]
async fn unavailable() -> impl IntoResponse {
    (StatusCode::SERVICE_UNAVAILABLE, "try later")
}

async fn serve() -> SocketAddr {
    let app = Router::new()
        .route("/item", get(item))
        .route("/bad", get(bad_gateway))
        .route("/missing", get(missing))
        .route("/unavailable", get(unavailable))
        // The monitor's windows would make the health error rate depend on sampling times.
        .merge(coord::http::router_with(
            coord::http::ServeConfig::default()
                .start_monitor(false)
                .redact_errors(false),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends `GET path` from a blocking thread (the client is a plain `TcpStream`).
async fn get_status(addr: SocketAddr, path: &'static str) -> u16 {
    tokio::task::spawn_blocking(move || request(addr, "GET", path).status)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_through_a_real_axum_service() {
    let addr = serve().await;

    // Point 1: a response is classified by status, whether declared `Response` or
    // `impl IntoResponse`.
    assert_eq!(get_status(addr, "/bad").await, 502);
    assert_eq!(get_status(addr, "/missing").await, 404);
    assert_eq!(get_status(addr, "/unavailable").await, 503);
    let bad = coord::operation("outcomes_http.bad_gateway").unwrap();
    assert_eq!((bad.calls, bad.failures, bad.error_rate), (1, 1, 1.0));
    assert_eq!(bad.last_error.as_deref(), Some("HTTP 502 Bad Gateway"));
    let missing = coord::operation("outcomes_http.missing").unwrap();
    assert_eq!((missing.successes, missing.failures), (1, 0));
    let unavailable = coord::operation("outcomes_http.unavailable").unwrap();
    assert_eq!(unavailable.failures, 1);

    // Point 2: four successes, then four real failures open the breaker (rate 0.5 over 8)...
    for _ in 0..4 {
        assert_eq!(get_status(addr, "/item").await, 200);
    }
    INVENTORY_UP.store(false, Ordering::SeqCst);
    for _ in 0..4 {
        assert_eq!(get_status(addr, "/item").await, 502);
    }
    // ... and every later call is shed: more rejections than the recent list holds.
    const SHED: u64 = 150;
    for _ in 0..SHED {
        assert_eq!(get_status(addr, "/item").await, 503);
    }

    let stats = coord::operation("outcomes_http.inventory").unwrap();
    assert_eq!(
        (stats.calls, stats.successes, stats.failures, stats.rejected),
        (8 + SHED, 4, 4, SHED),
        "{stats:?}"
    );
    assert_eq!(
        stats.error_rate, 0.5,
        "rejections are not in the error rate"
    );
    // Point 9 too: the real failure's message, not the rejection's.
    assert_eq!(stats.last_error.as_deref(), Some("database down"));

    let errors = coord::error_report();
    let row = errors.find("outcomes_http.inventory").unwrap();
    assert_eq!((row.errors, row.final_failures, row.rejected), (4, 4, SHED));
    assert_eq!(errors.total_errors, 4, "rejections are not errors");
    assert_eq!(errors.by_severity.medium, 4, "rejections have no severity");
    assert_eq!(errors.retry.rejected, SHED);
    let recent: Vec<_> = errors
        .recent
        .iter()
        .filter(|r| r.operation == "outcomes_http.inventory")
        .collect();
    assert_eq!(recent.len(), 4, "the failures that opened the breaker stay");
    assert!(
        recent.iter().all(|r| r.message == "database down"),
        "{recent:?}"
    );
    assert!(
        coord::breaker::find("outcomes_http.inventory")
            .unwrap()
            .snapshot()
            .rejected
            >= SHED,
        "the breaker's own rejection counter stays"
    );

    // The health error rate: failed ÷ completed over every operation, rejections excluded:
    // bad_gateway 1/1, missing 0/1, unavailable 1/1, inventory 4/8.
    let health = coord::monitor().system_health();
    let rate = health.breakdown.error_rate.value;
    assert!((rate - 6.0 / 11.0).abs() < 1e-9, "{rate}");

    // Prometheus: the rejections have their own outcome.
    let metrics = tokio::task::spawn_blocking(move || request(addr, "GET", "/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status, 200);
    let line = format!(
        "coord_operation_calls_total{{operation=\"outcomes_http.inventory\",outcome=\"rejected\"}} {SHED}"
    );
    assert!(metrics.body.contains(&line), "{}", metrics.body);
    assert!(
        metrics.body.contains(
            "coord_operation_calls_total{operation=\"outcomes_http.inventory\",outcome=\"failure\"} 4\n"
        ),
        "{}",
        metrics.body
    );
    // The histogram counts the timed calls only (its count is its +Inf bucket).
    assert!(
        metrics.body.contains(
            "coord_operation_duration_seconds_count{operation=\"outcomes_http.inventory\"} 8\n"
        ),
        "{}",
        metrics.body
    );

    // The JSON report carries the same figures.
    let report = tokio::task::spawn_blocking(move || request(addr, "GET", "/report.json"))
        .await
        .unwrap();
    let op = support::json_operation(&report.body, "outcomes_http.inventory");
    assert_eq!(op["rejected"], SHED);
    assert_eq!(op["failures"], 4);
    assert_eq!(op["last_error"], "database down");
}
