//! Fault injection's admin route, `/chaos` (`ServeConfig::chaos_token`), on `serve_with` and
//! `router_with`, through real sockets on 127.0.0.1: off without its token, answering only that
//! token, bounded in what it reads, arming all of a body's rules or none. Chaos is
//! process-wide, so the tests of this file take turns.

use std::time::Duration;

use coord::chaos;
use coord::http::ServeConfig;

mod support;
use support::chaos::turn;
use support::http::{Answer, exchange};

fn post(addr: std::net::SocketAddr, token: &str, body: &str) -> Answer {
    exchange(
        addr,
        &format!(
            "POST /chaos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn send(addr: std::net::SocketAddr, method: &str, path: &str, token: Option<&str>) -> Answer {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    exchange(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"),
    )
}

#[coord::track_performance(name = "chaos_t.http_mismatch")]
fn http_mismatch() -> Result<u32, String> {
    Ok(1)
}

#[test]
fn the_admin_route_is_off_without_its_token_and_answers_only_that_token() {
    let _turn = turn();
    let off = coord::http::serve_with("127.0.0.1:0", ServeConfig::default()).unwrap();
    let answer = post(
        off.local_addr(),
        "anything",
        r#"{"breakers": {"x": {"reject": 1}}}"#,
    );
    assert_eq!(answer.status, 404);
    assert!(!chaos::armed());
    off.shutdown();

    let config = ServeConfig::default()
        .bearer_token("read-token")
        .chaos_token("chaos-token");
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    let arm = r#"{"seed": 1, "breakers": {"chaos_t.http_db": {"reject": 0.5}}}"#;
    for token in [None, Some("read-token"), Some("chaos-tokeN"), Some("")] {
        let answer = match token {
            Some(token) => post(addr, token, arm),
            None => send(addr, "POST", "/chaos", None),
        };
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer realm=\"coord\"")
        );
    }
    assert!(!chaos::armed());
    // The chaos token opens nothing else.
    assert_eq!(
        send(addr, "GET", "/metrics", Some("chaos-token")).status,
        401
    );

    let answer = post(addr, "chaos-token", arm);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["armed"][0]["name"], "chaos_t.http_db");
    assert_eq!(answer.json()["armed"][0]["kind"], "reject");
    assert!(answer.header("content-security-policy").is_some());
    assert_eq!(chaos::rules().len(), 1);
    let listed = send(addr, "GET", "/chaos", Some("chaos-token"));
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["armed"][0]["rate"], 0.5);

    // Refused bodies arm nothing.
    let refused = post(addr, "chaos-token", "{not json");
    assert_eq!(refused.status, 400, "{}", refused.body);
    let refused = post(addr, "chaos-token", r#"{"breakers": {"x": {"reject": 2}}}"#);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("outside 0.0..=1.0"),
        "{}",
        refused.body
    );
    let refused = post(
        addr,
        "chaos-token",
        r#"{"operations": {"chaos_t.http_no_factory": {"error": 0.5}}}"#,
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("register_error"), "{}", refused.body);
    assert_eq!(chaos::rules().len(), 1);
    assert_eq!(send(addr, "PUT", "/chaos", Some("chaos-token")).status, 405);

    // One name's rules, then every rule.
    let other = r#"{"breakers": {"chaos_t.http other": {"reject": 0.1}}}"#;
    assert_eq!(post(addr, "chaos-token", other).status, 200);
    let deleted = send(
        addr,
        "DELETE",
        "/chaos?name=chaos_t.http%20other",
        Some("chaos-token"),
    );
    assert_eq!(
        (deleted.status, &deleted.json()["disarmed"]),
        (200, &1.into())
    );
    assert_eq!(chaos::rules()[0].name, "chaos_t.http_db");
    let refused = send(addr, "DELETE", "/chaos?name=%zz", Some("chaos-token"));
    assert_eq!(refused.status, 400);
    // An error rule whose factory makes another type than the operation's error says so.
    chaos::error("chaos_t.http_mismatch", 1.0, || 7_u32).unwrap();
    assert_eq!(http_mismatch(), Ok(1));
    let listed = send(addr, "GET", "/chaos", Some("chaos-token"));
    let mismatch = &listed.json()["armed"][1];
    assert_eq!(
        (&mismatch["name"], &mismatch["mismatched"]),
        (&"chaos_t.http_mismatch".into(), &true.into()),
        "{}",
        listed.body
    );
    assert!(listed.json()["armed"][0].get("mismatched").is_none());
    let deleted = send(addr, "DELETE", "/chaos", Some("chaos-token"));
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["disarmed"], 2);
    assert!(!chaos::armed());
    server.shutdown();
}

#[test]
fn the_admin_route_bounds_the_body_it_reads() {
    let _turn = turn();
    let config = ServeConfig::default().chaos_token("chaos-token");
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    // Declared too large: refused before reading.
    let answer = exchange(
        addr,
        "POST /chaos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer chaos-token\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(answer.status, 413);
    // Chunked, past the bound: refused once the bound passes.
    let chunk = "x".repeat(16 * 1024);
    let mut request = String::from(
        "POST /chaos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer chaos-token\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for _ in 0..5 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    assert_eq!(exchange(addr, &request).status, 413);
    // A body of many rules within the bound is read whole.
    let rules: Vec<String> = (0..100)
        .map(|i| format!("\"chaos_t.many_{i}\": {{\"reject\": 0.01}}"))
        .collect();
    let body = format!("{{\"breakers\": {{{}}}}}", rules.join(","));
    assert_eq!(post(addr, "chaos-token", &body).status, 200);
    assert_eq!(chaos::rules().len(), 100);
    server.shutdown();
}

#[test]
fn a_body_sent_slowly_loses_the_connection_at_the_request_deadline() {
    use std::io::{Read, Write};
    let _turn = turn();
    let config = ServeConfig::default()
        .chaos_token("chaos-token")
        .request_timeout(Duration::from_millis(300));
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /chaos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer chaos-token\r\nContent-Length: 1000\r\n\r\n{\"breakers\"",
        )
        .unwrap();
    // Generous liveness bound: the server gives up at its 300 ms request deadline.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut received = Vec::new();
    let closed = stream.read_to_end(&mut received).is_ok();
    assert!(closed, "the connection is closed, not left waiting");
    assert!(!chaos::armed());
    // The server still answers.
    let answer = send(addr, "GET", "/chaos", Some("chaos-token"));
    assert_eq!(answer.status, 200);
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axum_router_serves_the_admin_route_only_with_its_token() {
    let _turn = turn();
    let serve = |router: axum::Router| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    };
    let off = serve(coord::http::router()).await;
    let on = serve(coord::http::router_with(
        ServeConfig::default().chaos_token("chaos-token"),
    ))
    .await;
    let body = r#"{"breakers": {"chaos_t.axum_db": {"reject": 0.1}}}"#;
    let (off_answer, wrong, right) = tokio::task::spawn_blocking(move || {
        (
            post(off, "chaos-token", body),
            post(on, "other", body),
            post(on, "chaos-token", body),
        )
    })
    .await
    .unwrap();
    assert_eq!(off_answer.status, 404);
    assert_eq!(wrong.status, 401);
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(chaos::rules()[0].name, "chaos_t.axum_db");
}
