//! A small order service on axum and tokio's multi-thread runtime. Its handlers are tracked
//! with `#[track_performance]`, the payment call is retried with `#[retry]` and guarded by
//! `#[circuit_breaker]`, request bodies are checked with `#[derive(Validate)]`, and the coord
//! routes (`/metrics`, `/report.json`, `/health/ready`, `/health/live`, the dashboard at `/`)
//! are merged into the same router.
//!
//! `cargo run --example axum_service --features axum` starts the service on a free port of
//! 127.0.0.1, drives it with a small HTTP client (valid orders, invalid ones, a payment outage
//! that opens the breaker), checks every answer, and shuts down. `-- --serve` keeps serving
//! after the self-test, until Enter or ten minutes, so you can open the dashboard.

use std::io::{BufRead, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use coord::{CircuitOpen, Validate, circuit_breaker, retry, track_performance};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An order as clients send it; validated before anything else happens.
#[derive(Debug, Deserialize, Serialize, Validate)]
struct NewOrder {
    #[validate(length(min = 1, max = 20))]
    items: Vec<String>,
    #[validate(email)]
    email: String,
    #[validate(range(min = 1, max = 100_000))]
    total_cents: u32,
}

/// Why a payment failed. Concrete, `Send + Sync`, and cheap to clone.
#[derive(Debug, Clone, thiserror::Error)]
enum PaymentError {
    /// The gateway did not answer in time: worth retrying.
    #[error("payment gateway timed out")]
    Timeout,
    /// The card was declined: retrying will not help.
    #[error("card declined")]
    Declined,
    /// The breaker is open: the gateway is not even tried.
    #[error(transparent)]
    Unavailable(#[from] CircuitOpen),
}

fn transient(error: &PaymentError) -> bool {
    matches!(error, PaymentError::Timeout)
}

/// The simulated payment gateway: every fourth attempt times out, and orders of exactly
/// 99 999 cents hit an outage (always a timeout).
#[derive(Default)]
struct Gateway {
    attempts: AtomicU64,
    next_id: AtomicU64,
}

struct App {
    gateway: Gateway,
}

#[track_performance("payments.charge")]
#[retry(max_retries = 2, base_delay = "2ms", jitter = "full", when = transient)]
#[circuit_breaker(
    name = "payments.gateway",
    failure_rate = 0.5,
    minimum_calls = 10,
    window = 20,
    open_for = "5s"
)]
async fn charge(gateway: &Gateway, cents: u32) -> Result<u64, PaymentError> {
    let attempt = gateway.attempts.fetch_add(1, Relaxed);
    tokio::time::sleep(Duration::from_millis(1 + attempt % 3)).await;
    if cents == 99_999 || attempt % 4 == 3 {
        return Err(PaymentError::Timeout);
    }
    if cents % 1000 == 13 {
        return Err(PaymentError::Declined);
    }
    Ok(gateway.next_id.fetch_add(1, Relaxed) + 1)
}

// A handler returning a `Response` is classified by status: 5xx (the 502 of a failed payment,
// the 503 of an open breaker) fail, 4xx (a rejected body, a declined card) succeed.
#[track_performance("orders.create")]
async fn create_order(State(app): State<Arc<App>>, Json(order): Json<NewOrder>) -> Response {
    let verdict = order.validate();
    if !verdict.is_valid {
        let errors: Vec<_> = verdict
            .errors
            .iter()
            .map(|e| json!({ "field": e.path.to_string(), "rule": e.rule, "message": e.message }))
            .collect();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": errors })),
        )
            .into_response();
    }
    match charge(&app.gateway, order.total_cents).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "order": id }))).into_response(),
        Err(PaymentError::Unavailable(open)) => {
            let mut answer = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": open.to_string() })),
            )
                .into_response();
            let secs = open.retry_after().as_secs().max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                answer.headers_mut().insert(RETRY_AFTER, value);
            }
            answer
        }
        Err(PaymentError::Declined) => (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({ "error": "card declined" })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// `orders.get`'s outcome: an unknown order is the client's mistake, not a failure of the
/// service (a `Result` is otherwise a failure whenever it is `Err`).
fn by_status(answer: &Result<Json<serde_json::Value>, StatusCode>) -> coord::Outcome {
    match answer {
        Err(status) => coord::StatusRule::DEFAULT.classify(status.as_u16()),
        Ok(_) => coord::Outcome::Success,
    }
}

#[track_performance(name = "orders.get", outcome = by_status)]
async fn get_order(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    if id == 0 || id > app.gateway.next_id.load(Relaxed) {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(Json(json!({ "order": id, "status": "paid" })))
}

/// The service's routes with coord's routes merged in.
fn app() -> Router {
    let state = Arc::new(App {
        gateway: Gateway::default(),
    });
    // coord's router takes the app's state type, so it merges before `with_state`. It also
    // starts coord's monitor, so `/health/ready` judges this process's CPU and memory.
    Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(get_order))
        // A local demo: the dashboard shows error messages. A service reachable from elsewhere
        // keeps the default (messages redacted) and sets `.bearer_token(..)` and
        // `.allowed_hosts([..])`; see the README's "Exposing the endpoint".
        .merge(coord::http::router_with(
            coord::http::ServeConfig::default().redact_errors(false),
        ))
        .with_state(state)
}

/// One HTTP/1.1 exchange on a fresh connection: `(status, body)`.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String, String)> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, head.to_ascii_lowercase(), body.to_string()))
}

/// The self-test: a fixed number of requests, each answer checked.
fn exercise(addr: SocketAddr) -> Result<String, String> {
    let post = |order: serde_json::Value| {
        send(addr, "POST", "/orders", Some(&order.to_string())).map_err(|e| e.to_string())
    };
    let expect = |what: &str, got: u16, want: &[u16]| {
        if want.contains(&got) {
            Ok(())
        } else {
            Err(format!("{what}: status {got}, want {want:?}"))
        }
    };
    let (mut created, mut declined) = (0, 0);
    for i in 0..30u32 {
        let total = (i + 1) * 1000 + if i % 10 == 9 { 13 } else { 500 };
        let (status, _, body) =
            post(json!({ "items": ["book"], "email": "ada@example.com", "total_cents": total }))?;
        expect(&format!("order {i}: {body}"), status, &[201, 402])?;
        if status == 201 {
            created += 1
        } else {
            declined += 1
        }
    }
    expect("declined orders", declined, &[3])?;

    let (status, _, body) =
        post(json!({ "items": [], "email": "not-an-email", "total_cents": 0 }))?;
    expect("invalid order", status, &[422])?;
    for field in ["items", "email", "total_cents"] {
        if !body.contains(&format!("\"field\":\"{field}\"")) {
            return Err(format!("invalid order: no error for {field}: {body}"));
        }
    }
    let (status, _, _) =
        send(addr, "POST", "/orders", Some("{not json")).map_err(|e| e.to_string())?;
    expect("malformed JSON", status, &[400, 422])?;
    let (status, _, _) = send(addr, "GET", "/orders/1", None).map_err(|e| e.to_string())?;
    expect("GET /orders/1", status, &[200])?;
    let (status, _, _) = send(addr, "GET", "/orders/999999", None).map_err(|e| e.to_string())?;
    expect("GET /orders/999999", status, &[404])?;

    // A payment outage: every attempt times out, retries are spent, the breaker opens.
    let mut unavailable = None;
    for i in 0..12 {
        let (status, head, _) =
            post(json!({ "items": ["lamp"], "email": "bob@example.com", "total_cents": 99_999 }))?;
        expect(&format!("outage order {i}"), status, &[502, 503])?;
        if status == 503 {
            unavailable = Some(head);
            break;
        }
    }
    let head = unavailable.ok_or("the breaker never opened during the outage")?;
    if !head.contains("retry-after:") {
        return Err(format!("503 without Retry-After: {head}"));
    }
    let (status, _, _) =
        post(json!({ "items": ["pen"], "email": "eve@example.com", "total_cents": 700 }))?;
    expect("order while the breaker is open", status, &[503])?;

    // coord's routes, merged into the same router.
    let (status, head, metrics) = send(addr, "GET", "/metrics", None).map_err(|e| e.to_string())?;
    expect("GET /metrics", status, &[200])?;
    if !head.contains("text/plain; version=0.0.4") {
        return Err(format!("/metrics content type: {head}"));
    }
    if !head.contains("x-content-type-options: nosniff") {
        return Err(format!("/metrics without its security headers: {head}"));
    }
    for needle in [
        "coord_circuit_breaker_state{breaker=\"payments.gateway\",state=\"open\"} 1",
        "coord_operation_duration_seconds_bucket{operation=\"orders.create\",le=\"+Inf\"}",
        "coord_validations_total{rule_set=\"NewOrder\",verdict=\"invalid\"} 1",
    ] {
        if !metrics.contains(needle) {
            return Err(format!("/metrics lacks {needle}"));
        }
    }
    let (status, _, report) = send(addr, "GET", "/report.json", None).map_err(|e| e.to_string())?;
    expect("GET /report.json", status, &[200])?;
    let report: serde_json::Value = serde_json::from_str(&report).map_err(|e| e.to_string())?;
    let charges = report["performance"]["operations"]
        .as_array()
        .and_then(|ops| ops.iter().find(|op| op["name"] == "payments.charge"))
        .ok_or("no payments.charge in the report")?;
    let (status, _, page) = send(addr, "GET", "/", None).map_err(|e| e.to_string())?;
    expect("GET /", status, &[200])?;
    if !page.contains("report.json") {
        return Err("the dashboard does not poll report.json".into());
    }
    // Readiness judges the service (a breaker open on one dependency degrades it, and only
    // the service's own failures make it unready); liveness only says the process answers.
    for probe in ["/health", "/health/ready"] {
        let (status, _, _) = send(addr, "GET", probe, None).map_err(|e| e.to_string())?;
        expect(&format!("GET {probe}"), status, &[200, 503])?;
    }
    let (status, _, _) = send(addr, "GET", "/health/live", None).map_err(|e| e.to_string())?;
    expect("GET /health/live", status, &[200])?;
    Ok(format!(
        "{created} orders created, {declined} declined, 1 rejected by validation, breaker opened; payments.charge: {} calls, p99 {:.2} ms",
        charges["calls"],
        charges["p99_ms"].as_f64().unwrap_or(0.0)
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keep_serving = std::env::args().any(|a| a == "--serve");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("order service on http://{addr}/ (coord dashboard at /)");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let outcome = tokio::task::spawn_blocking(move || exercise(addr)).await?;
    if keep_serving {
        println!("press Enter to stop");
        let _ = tokio::time::timeout(
            Duration::from_secs(600),
            tokio::task::spawn_blocking(|| std::io::stdin().lock().read_line(&mut String::new())),
        )
        .await;
    }
    let _ = stop.send(());
    server.await??;
    match outcome {
        Ok(summary) => {
            println!("self-test passed: {summary}");
            Ok(())
        }
        Err(failure) => Err(format!("self-test failed: {failure}").into()),
    }
}
