//! Fault injection with `coord::chaos`: an operator makes a payment operation fail and slow
//! down, and a breaker reject, at run time — from code, from a `coord.yaml` section and over
//! the `/chaos` admin route — and the report counts the injected faults apart from real ones.
//!
//! `cargo run --example chaos --features http`

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use coord::chaos::{self, Latency};
use coord::{CircuitOpen, circuit_breaker, track_performance};

#[derive(Debug)]
enum PayError {
    /// A fault injected by `coord::chaos`, never a real decline.
    Injected,
    Unavailable(CircuitOpen),
}

impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayError::Injected => f.write_str("injected by coord::chaos"),
            PayError::Unavailable(open) => open.fmt(f),
        }
    }
}

// Fault injection may make this error type up (the factory below is typed by it).
impl chaos::Injectable for PayError {}

impl From<CircuitOpen> for PayError {
    fn from(open: CircuitOpen) -> Self {
        PayError::Unavailable(open)
    }
}

#[track_performance(name = "example.chaos.pay")]
fn pay(amount: u64) -> Result<u64, PayError> {
    Ok(amount)
}

#[circuit_breaker(name = "example.chaos.ledger")]
fn write_ledger() -> Result<(), PayError> {
    Ok(())
}

/// One request to the admin route; the answer's status line.
fn admin(addr: std::net::SocketAddr, method: &str, token: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the server listens");
    // A server that kept the connection open must not hang the example.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a read timeout");
    let request = format!(
        "{method} /chaos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answered");
    answer.lines().next().unwrap_or_default().to_owned()
}

/// One payment, its result printed under the admin call before it.
fn pay_and_show() -> Result<u64, PayError> {
    let paid = pay(1);
    println!(
        "       pay(1) = {:?}",
        paid.as_ref().map_err(|e| format!("{e:?}"))
    );
    paid
}

fn main() {
    // Draws that repeat from run to run.
    chaos::set_seed(2026);

    // 1. From code: 10 % of payments fail with an error only this factory makes, and every
    //    payment waits 1 to 3 ms first.
    chaos::error("example.chaos.pay", 0.1, || PayError::Injected).expect("a valid rule");
    chaos::latency(
        "example.chaos.pay",
        1.0,
        Latency::Between(Duration::from_millis(1), Duration::from_millis(3)),
    )
    .expect("a valid rule");
    let started = Instant::now();
    let failed = (0..200).filter(|i| pay(*i).is_err()).count();
    println!(
        "code:  {failed} of 200 payments failed by injection, in {:?} (latency injected)",
        started.elapsed()
    );
    assert!(
        (5..=40).contains(&failed),
        "about 10 % of 200 fail: {failed}"
    );
    chaos::disarm_all();

    // 2. From the configuration file: the ledger's breaker rejects half of the calls. The
    //    factory registered above lets a file switch the error fault on again too.
    coord::config::load_str("chaos:\n  breakers:\n    example.chaos.ledger: { reject: 0.5 }\n")
        .expect("a valid section");
    let rejected = (0..100)
        .filter(
            |_| matches!(write_ledger(), Err(PayError::Unavailable(open)) if open.is_injected()),
        )
        .count();
    println!("file:  {rejected} of 100 ledger writes rejected as if the breaker were open");
    assert!(
        (25..=75).contains(&rejected),
        "about half rejected: {rejected}"
    );
    chaos::disarm_all();

    // 3. Over HTTP: the admin route exists only with its own token.
    let config = coord::http::ServeConfig::default().chaos_token("chaos-secret");
    let server = coord::http::serve_with("127.0.0.1:0", config).expect("a free port");
    let addr = server.local_addr();
    let body = r#"{"operations": {"example.chaos.pay": {"error": 1.0}}}"#;
    let refused = admin(addr, "POST", "guess", body);
    println!("http:  wrong token -> {refused}");
    assert!(refused.contains(" 401 "), "{refused}");
    let armed = admin(addr, "POST", "chaos-secret", body);
    println!("http:  POST /chaos -> {armed}");
    assert!(armed.contains(" 200 "), "{armed}");
    assert!(pay_and_show().is_err(), "every payment fails while armed");
    let disarmed = admin(addr, "DELETE", "chaos-secret", "");
    println!("http:  DELETE /chaos -> {disarmed}");
    assert!(disarmed.contains(" 200 "), "{disarmed}");
    assert!(pay_and_show().is_ok(), "nothing injected once disarmed");
    server.shutdown();

    // The report: injected faults in their own section, the operation's failures untouched.
    let stats = coord::operation("example.chaos.pay").expect("timed");
    println!(
        "\noperation example.chaos.pay: {} calls, {} failures (injected calls are counted apart)",
        stats.calls, stats.failures
    );
    for count in chaos::injected() {
        println!(
            "  injected {:>4} × {:<7} on {}",
            count.injected, count.kind, count.name
        );
    }
    let prometheus = coord::report().to_prometheus();
    for line in prometheus.lines().filter(|l| l.starts_with("coord_chaos")) {
        println!("  {line}");
    }
    assert_eq!(stats.failures, 0, "no injected error is a real failure");
    assert!(!chaos::armed());
}
