//! `coord::http`: the routes of `serve` and of the axum router, status codes, content types,
//! shutdown and bind errors, through real sockets on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use coord::track_performance;

mod support;
use support::http::{Answer, request};

#[track_performance("http_test.work")]
fn work(fail: bool) -> Result<(), String> {
    if fail { Err("boom".into()) } else { Ok(()) }
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path)
}

/// Checks every route of a server at `addr`.
fn check_routes(addr: SocketAddr) {
    work(false).unwrap();
    work(true).unwrap_err();

    let metrics = get(addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        metrics.body.contains(
            "coord_operation_duration_seconds_bucket{operation=\"http_test.work\",le=\"+Inf\"}"
        ),
        "{}",
        metrics.body
    );

    let report = get(addr, "/report.json");
    assert_eq!(report.status, 200);
    assert_eq!(report.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&report.body).unwrap();
    let ops = json["performance"]["operations"].as_array().unwrap();
    assert!(ops.iter().any(|op| op["name"] == "http_test.work"));

    let health = get(addr, "/health");
    assert!(matches!(health.status, 200 | 503), "{}", health.status);
    assert_eq!(health.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    let unhealthy = json["health_status"] == "unhealthy";
    assert_eq!(health.status == 503, unhealthy, "{json}");

    let page = get(addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.starts_with("<!doctype html>"));
    assert!(page.body.contains("report.json"));

    let head = request(addr, "HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    for path in ["/nope", "/metrics/", "/report.yaml", "/../etc/passwd"] {
        assert_eq!(get(addr, path).status, 404, "{path}");
    }
    for method in ["POST", "PUT", "DELETE"] {
        let answer = request(addr, method, "/metrics");
        assert_eq!(answer.status, 405, "{method}");
        assert!(answer.header("allow").unwrap().contains("GET"), "{method}");
    }
}

#[test]
fn serve_answers_every_route() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    assert!(server.local_addr().port() != 0);
    assert_eq!(server.url(), format!("http://{}/", server.local_addr()));
    check_routes(server.local_addr());
}

#[test]
fn garbage_gets_an_error_answer_not_a_crash() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"\x00\x01 not http at all\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 400"),
        "{text}"
    );
    // The server still answers.
    assert_eq!(get(server.local_addr(), "/metrics").status, 200);
}

#[test]
fn health_is_503_when_unhealthy() {
    let monitor = coord::monitor();
    let thresholds = coord::HealthThresholds::default().open_breakers_unhealthy(1);
    monitor
        .configure(coord::MonitorConfig::default().thresholds(thresholds))
        .unwrap();
    coord::breaker("http_test.down").force_open();
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let health = get(server.local_addr(), "/health");
    assert_eq!(health.status, 503, "{}", health.body);
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["health_status"], "unhealthy");
    assert_eq!(json["breakdown"]["open_breakers"]["status"], "unhealthy");
}

#[test]
fn shutdown_closes_the_listener_and_open_connections() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    // An idle keep-alive connection must not hold the server up.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"HTTP/1.1"));

    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    // Generous: the contract is 100 ms; a loaded CI machine must not make this flaky.
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(TcpStream::connect(addr).is_err(), "still listening");
    let mut rest = Vec::new();
    let closed = match idle.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "idle connection still open");
}

#[test]
fn dropping_the_server_stops_it() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    drop(server);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn bind_errors_are_returned() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let busy = coord::http::serve(server.local_addr()).unwrap_err();
    assert_eq!(busy.kind(), std::io::ErrorKind::AddrInUse);
    assert!(coord::http::serve("not an address").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_works_inside_an_async_program() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let answer = tokio::task::spawn_blocking(move || get(addr, "/report.json"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    // Dropped inside the runtime: must neither panic nor hang.
    drop(server);
}

#[tokio::test(flavor = "current_thread")]
async fn serve_works_inside_a_current_thread_runtime() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let answer = std::thread::spawn(move || get(addr, "/health"))
        .join()
        .unwrap();
    assert!(matches!(answer.status, 200 | 503));
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_router_answers_the_same_routes() {
    let app = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .merge(coord::http::router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tokio::task::spawn_blocking(move || {
        check_routes(addr);
        assert_eq!(get(addr, "/hello").body, "hello");
    })
    .await
    .unwrap();
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_router_nests_under_a_prefix() {
    let app = axum::Router::new().nest("/coord", coord::http::router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move { axum::serve(listener, app).await });
    let (page, metrics) =
        tokio::task::spawn_blocking(move || (get(addr, "/coord"), get(addr, "/coord/metrics")))
            .await
            .unwrap();
    served.abort();
    assert_eq!(metrics.status, 200);
    assert_eq!(page.status, 200, "{}", page.body);
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

async fn hello(axum::extract::State(state): axum::extract::State<AppState>) -> &'static str {
    state.greeting
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_router_merges_into_an_app_with_state() {
    // The router takes the app's state type: no `.with_state(..)` on coord's routes first.
    let routes: axum::Router<AppState> = axum::Router::new()
        .route("/hello", axum::routing::get(hello))
        .merge(coord::http::router())
        .nest("/coord", coord::http::router_with(Default::default()));
    let app = routes.with_state(AppState {
        greeting: "hello from state",
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move { axum::serve(listener, app).await });
    let answers = tokio::task::spawn_blocking(move || {
        ["/hello", "/health/live", "/coord/health/live", "/metrics"].map(|p| get(addr, p))
    })
    .await
    .unwrap();
    served.abort();
    assert_eq!(answers[0].body, "hello from state");
    for answer in &answers[1..] {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

#[test]
fn liveness_and_readiness_are_separate_routes() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let live = get(addr, "/health/live");
    assert_eq!(live.status, 200);
    assert_eq!(live.header("content-type"), Some("application/json"));
    assert_eq!(live.body, r#"{"status":"live"}"#);
    let ready = get(addr, "/health/ready");
    assert!(matches!(ready.status, 200 | 503), "{}", ready.status);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(ready.status == 503, json["health_status"] == "unhealthy");
    assert!(json["verdict"].is_string(), "{json}");
    for method in ["POST", "DELETE"] {
        assert_eq!(request(addr, method, "/health/live").status, 405);
    }
    assert_eq!(get(addr, "/health/").status, 404);
}
