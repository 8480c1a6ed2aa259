//! What `coord::http` exposes and to whom: the bearer token, the `Host` allow-list, the
//! security headers of every answer and the redaction of error messages, on `serve_with` and
//! `router_with`, through real sockets on 127.0.0.1.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use coord::ErrorHandler;
use coord::http::ServeConfig;

mod support;
use support::http::{Answer, exchange};

/// `method path` with the given extra header lines.
fn send(addr: SocketAddr, method: &str, path: &str, headers: &str) -> Answer {
    exchange(
        addr,
        &format!("{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    )
}

fn get(addr: SocketAddr, path: &str, headers: &str) -> Answer {
    send(addr, "GET", path, headers)
}

const LOCAL: &str = "Host: localhost\r\n";

/// Records a failure whose message carries a secret.
fn fail_with_a_secret(operation: &str) {
    let outcome: Result<(), String> = ErrorHandler::new(operation)
        .retry(coord::RetryPolicy::no_retry())
        .execute(|| Err::<(), String>("login failed: password=hunter2".into()));
    assert!(outcome.is_err());
}

/// Checks the security headers every answer must carry.
fn assert_secure(answer: &Answer, what: &str) {
    assert_eq!(
        answer.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    let policy = answer
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{what}: {policy}"
    );
    assert!(policy.contains("default-src 'none'"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains('*'), "{what}: {policy}");
}

#[test]
fn the_bearer_token_guards_every_route_but_the_probe() {
    let config = ServeConfig::default().bearer_token("exposure-s3cret");
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    for path in ["/", "/metrics", "/report.json", "/nope"] {
        for offered in [
            "",
            "Authorization: Bearer wrong-s3cret\r\n",
            "Authorization: Bearer exposure-s3cre\r\n",
            "Authorization: Basic ZXhwb3N1cmUtczNjcmV0\r\n",
        ] {
            let answer = get(addr, path, &format!("{LOCAL}{offered}"));
            assert_eq!(answer.status, 401, "{path} with {offered:?}");
            assert!(
                answer
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{path}"
            );
            assert!(
                !answer.body.contains("operation"),
                "{path}: {}",
                answer.body
            );
            assert_secure(&answer, path);
        }
    }
    let with = format!("{LOCAL}Authorization: Bearer exposure-s3cret\r\n");
    assert_eq!(get(addr, "/metrics", &with).status, 200);
    assert_eq!(get(addr, "/report.json", &with).status, 200);
    assert_eq!(get(addr, "/", &with).status, 200);
    assert_eq!(get(addr, "/nope", &with).status, 404);
    for probe in ["/health", "/health/ready"] {
        let health = get(addr, probe, LOCAL);
        assert!(
            matches!(health.status, 200 | 503),
            "{probe}: {}",
            health.status
        );
        assert!(health.body.contains("health_status"), "{probe}");
    }
    assert_eq!(get(addr, "/health/live", LOCAL).status, 200);
}

#[test]
fn the_probe_can_need_the_token_too() {
    let config = ServeConfig::default()
        .bearer_token("exposure-probe")
        .health_needs_token(true);
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    let with = format!("{LOCAL}Authorization: Bearer exposure-probe\r\n");
    for probe in ["/health", "/health/ready", "/health/live"] {
        assert_eq!(get(addr, probe, LOCAL).status, 401, "{probe}");
        assert!(
            matches!(get(addr, probe, &with).status, 200 | 503),
            "{probe}"
        );
    }
}

#[test]
fn a_loopback_server_answers_loopback_host_names_only() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let port = addr.port();
    for host in [
        "localhost".to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "[::1]".to_string(),
        format!("[::1]:{port}"),
        "LOCALHOST".to_string(),
    ] {
        let answer = get(addr, "/metrics", &format!("Host: {host}\r\n"));
        assert_eq!(answer.status, 200, "Host: {host}");
    }
    // A page on another origin that rebinds its name to 127.0.0.1 sends its own name.
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        "localhost.evil.example".to_string(),
        "127.0.0.1.nip.io".to_string(),
    ] {
        for path in ["/", "/report.json", "/metrics", "/health"] {
            let answer = get(addr, path, &format!("Host: {host}\r\n"));
            assert_eq!(answer.status, 421, "Host: {host} {path}");
            assert!(!answer.body.contains("operation"), "{}", answer.body);
            assert_secure(&answer, "421");
        }
    }
    // An absolute target names its host too, whatever the Host header says.
    let absolute = exchange(
        addr,
        "GET http://evil.example/report.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(absolute.status, 421);
    // HTTP/1.0 without a Host header names no host at all.
    let bare = exchange(addr, "GET /report.json HTTP/1.0\r\n\r\n");
    assert_eq!(bare.status, 421);
}

#[test]
fn the_host_list_can_be_set_or_opened() {
    let config = ServeConfig::default().allowed_hosts(["metrics.internal"]);
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    assert_eq!(
        get(addr, "/metrics", "Host: metrics.internal:9898\r\n").status,
        200
    );
    assert_eq!(get(addr, "/metrics", LOCAL).status, 421);

    let open =
        coord::http::serve_with("127.0.0.1:0", ServeConfig::default().allow_any_host()).unwrap();
    assert_eq!(
        get(open.local_addr(), "/metrics", "Host: anything.example\r\n").status,
        200
    );
}

#[test]
fn every_answer_carries_the_security_headers() {
    let config = ServeConfig::default()
        .max_connections(1)
        .probe_connections(1);
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    for (method, path, status) in [
        ("GET", "/", 200),
        ("GET", "/metrics", 200),
        ("GET", "/report.json", 200),
        ("HEAD", "/report.json", 200),
        ("GET", "/nope", 404),
        ("POST", "/metrics", 405),
    ] {
        let answer = send(addr, method, path, LOCAL);
        assert_eq!(answer.status, status, "{method} {path}");
        assert_secure(&answer, path);
    }
    let misdirected = get(addr, "/", "Host: evil.example\r\n");
    assert_eq!(misdirected.status, 421);
    assert_secure(&misdirected, "421");

    // The dashboard's policy lets its own inline style and script run, by hash, and fetch
    // its own origin only.
    let page = get(addr, "/", LOCAL);
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    assert!(policy.contains("style-src 'sha256-"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    // The 503s of the limits carry them too: the one connection slot and the probe's are
    // taken by silent sockets.
    let _held = [
        TcpStream::connect(addr).unwrap(),
        TcpStream::connect(addr).unwrap(),
    ];
    std::thread::sleep(Duration::from_millis(100));
    let refused = get(addr, "/metrics", LOCAL);
    assert_eq!(refused.status, 503);
    assert_secure(&refused, "503");
}

#[test]
fn error_messages_are_redacted_when_asked() {
    fail_with_a_secret("http_exposure.login");
    let shown = coord::http::serve("127.0.0.1:0").unwrap();
    let report = get(shown.local_addr(), "/report.json", LOCAL);
    assert!(
        report.body.contains("password=hunter2"),
        "a loopback server shows messages by default"
    );

    let config = ServeConfig::default().redact_errors(true);
    let redacted = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let report = get(redacted.local_addr(), "/report.json", LOCAL);
    assert_eq!(report.status, 200);
    assert!(!report.body.contains("hunter2"), "{}", report.body);
    let json: serde_json::Value = serde_json::from_str(&report.body).unwrap();
    let recent = json["errors"]["recent"].as_array().unwrap();
    let mine: Vec<_> = recent
        .iter()
        .filter(|r| r["operation"] == "http_exposure.login")
        .collect();
    assert!(!mine.is_empty(), "{json}");
    assert!(mine.iter().all(|r| r["message"] == "<redacted>"), "{json}");
    let row = json["errors"]["by_operation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operation"] == "http_exposure.login")
        .unwrap();
    assert_eq!(row["last_error"], "<redacted>");
    assert!(row["errors"].as_u64().unwrap() >= 1, "counts stay: {row}");
    // Nothing else carries a message: /metrics and /health never did.
    for path in ["/metrics", "/health"] {
        let answer = get(redacted.local_addr(), path, LOCAL);
        assert!(!answer.body.contains("hunter2"), "{path}");
    }
}

/// Serves `app` on 127.0.0.1 for the duration of `check`.
async fn with_axum(app: axum::Router, check: impl FnOnce(SocketAddr) + Send + 'static) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move { axum::serve(listener, app).await });
    tokio::task::spawn_blocking(move || check(addr))
        .await
        .unwrap();
    served.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_redacts_by_default_and_takes_the_same_settings() {
    fail_with_a_secret("http_exposure.router_login");
    let app = axum::Router::new().nest("/coord", coord::http::router());
    with_axum(app, |addr| {
        let report = get(addr, "/coord/report.json", "Host: anything.example\r\n");
        assert_eq!(report.status, 200);
        assert!(!report.body.contains("hunter2"), "{}", report.body);
        assert_secure(&report, "router report");
        let page = get(addr, "/coord", "Host: anything.example\r\n");
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("script-src 'sha256-")
        );
        let wrong_method = send(addr, "POST", "/coord/metrics", LOCAL);
        assert_eq!(wrong_method.status, 405);
        assert_secure(&wrong_method, "router 405");
    })
    .await;

    let config = ServeConfig::default()
        .bearer_token("router-s3cret")
        .allowed_hosts(["metrics.internal"])
        .redact_errors(false);
    let app = axum::Router::new().merge(coord::http::router_with(config));
    with_axum(app, |addr| {
        let host = "Host: metrics.internal\r\n";
        let token = "Authorization: Bearer router-s3cret\r\n";
        assert_eq!(get(addr, "/metrics", host).status, 401);
        assert_eq!(
            get(addr, "/metrics", &format!("Host: evil.example\r\n{token}")).status,
            421
        );
        let report = get(addr, "/report.json", &format!("{host}{token}"));
        assert_eq!(report.status, 200);
        assert!(report.body.contains("password=hunter2"));
        assert!(matches!(get(addr, "/health", host).status, 200 | 503));
    })
    .await;
}
