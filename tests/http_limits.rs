//! `coord::http::serve` against hostile and careless clients, through real sockets on 127.0.0.1:
//! slow readers that pipeline `GET /metrics` and never read, silent sockets, idle keep-alive
//! sockets, and the limits of `ServeConfig` one by one. Every wait is bounded; the bounds are
//! generous liveness bounds, not measurements.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The longest a probe may take to be answered while the server is under attack.
const PROBE_BOUND: Duration = Duration::from_secs(1);

/// One parsed answer.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one answer (head and `Content-Length` body) from `stream`, waiting at most until
/// `deadline`; `None` when the deadline passes or the connection ends first. Bytes read past
/// the answer (the next pipelined answer) stay in `pending`.
fn read_next(stream: &mut TcpStream, pending: &mut Vec<u8>, deadline: Instant) -> Option<Answer> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if pending.len() >= end + 4 + length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                let body =
                    String::from_utf8_lossy(&pending[end + 4..end + 4 + length]).into_owned();
                pending.drain(..end + 4 + length);
                return Some(Answer { status, head, body });
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads one answer from a connection where the client waits for each answer.
fn read_answer(stream: &mut TcpStream, deadline: Instant) -> Option<Answer> {
    read_next(stream, &mut Vec::new(), deadline)
}

/// `GET path` on a fresh connection, answered within `bound` (connect included).
fn get_within(addr: SocketAddr, path: &str, bound: Duration) -> Option<Answer> {
    let deadline = Instant::now() + bound;
    let mut stream = TcpStream::connect_timeout(&addr, bound).ok()?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .ok()?;
    read_answer(&mut stream, deadline)
}

/// A server with `config` on a free port of 127.0.0.1, and its address.
fn serve_local(config: coord::http::ServeConfig) -> (coord::http::Server, SocketAddr) {
    let server = coord::http::serve_with("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr();
    (server, addr)
}

/// A server with `config` on a free port of 127.0.0.1, and one connection to it.
fn serve_connected(config: coord::http::ServeConfig) -> (coord::http::Server, TcpStream) {
    let (server, addr) = serve_local(config);
    (server, TcpStream::connect(addr).unwrap())
}

/// Whether the server closed `stream` (end of stream or reset) within `bound`, reading and
/// dropping whatever it still sends.
fn closed_within(stream: &mut TcpStream, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    let mut sink = [0u8; 64 * 1024];
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        if stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .is_err()
        {
            return true;
        }
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Enough operations that one `/metrics` answer is large (about 150 kB).
fn make_metrics_large() {
    for i in 0..60 {
        coord::monitor()
            .record_operation(&format!("http_limits.op_{i}"))
            .success();
    }
}

/// A client that pipelines `count` `GET /metrics` requests and never reads an answer.
fn slow_reader(addr: SocketAddr, count: usize) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(count);
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The server may stop reading once its answers back up: what was sent is enough.
    let _ = (&stream).write_all(request.as_bytes());
    stream
}

/// A keep-alive client that got one answer and then stays silent.
fn idle_keep_alive(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut stream, Instant::now() + Duration::from_secs(5));
    assert!(answer.is_some(), "no answer on a keep-alive connection");
    stream
}

/// A server with `config`, `slots` ordinary connections and one kept for the probe, every
/// ordinary slot held by an idle keep-alive socket (returned, to be held for the test).
fn serve_full(
    config: coord::http::ServeConfig,
    slots: usize,
) -> (coord::http::Server, SocketAddr, Vec<TcpStream>) {
    let (server, addr) = serve_local(config.max_connections(slots).probe_connections(1));
    let held = (0..slots).map(|_| idle_keep_alive(addr)).collect();
    (server, addr, held)
}

/// The health check answers while 64 slow readers, 64 silent sockets and 16 idle keep-alive
/// sockets hold connections: every check within 1 s, for two seconds of checks.
#[test]
fn health_answers_while_hostile_clients_hold_connections() {
    make_metrics_large();
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();

    let idle: Vec<TcpStream> = (0..16).map(|_| idle_keep_alive(addr)).collect();
    let slow: Vec<TcpStream> = (0..64).map(|_| slow_reader(addr, 64)).collect();
    let silent: Vec<TcpStream> = (0..64).map(|_| TcpStream::connect(addr).unwrap()).collect();

    let checks_until = Instant::now() + Duration::from_secs(2);
    let mut checks = 0;
    while Instant::now() < checks_until || checks < 5 {
        let started = Instant::now();
        let answer = get_within(addr, "/health", PROBE_BOUND);
        let answer = answer.unwrap_or_else(|| {
            panic!(
                "check {checks}: /health unanswered after {:?}",
                started.elapsed()
            )
        });
        assert!(matches!(answer.status, 200 | 503), "{}", answer.head);
        let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_else(|e| {
            panic!("check {checks}: not a health answer ({e}): {}", answer.body)
        });
        assert!(json["health_status"].is_string(), "{json}");
        checks += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    drop((idle, slow, silent));
}

/// Answers read from `stream` until it closes or `bound` passes: (answers, whether it closed).
fn answers_until_closed(stream: &mut TcpStream, bound: Duration) -> (Vec<Answer>, bool) {
    let deadline = Instant::now() + bound;
    let mut answers = Vec::new();
    let mut pending = Vec::new();
    while let Some(answer) = read_next(stream, &mut pending, deadline) {
        answers.push(answer);
    }
    let closed = closed_within(stream, deadline.saturating_duration_since(Instant::now()));
    (answers, closed)
}

/// A client that stops reading its answers loses the connection when the request deadline
/// passes: the deadline covers writing the answer, not only building it.
#[test]
fn a_client_that_stops_reading_loses_the_connection_at_the_request_deadline() {
    make_metrics_large();
    let config = coord::http::ServeConfig::default()
        .request_timeout(Duration::from_millis(300))
        .max_pipelined(10_000)
        .max_requests_per_connection(10_000);
    let (_server, addr) = serve_local(config);
    // Far more answers than the socket buffers hold: writing them must block.
    let sent = 400;
    let mut stream = slow_reader(addr, sent);
    std::thread::sleep(Duration::from_millis(1500));
    let mut received = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let closed = match stream.read_to_end(&mut received) {
        Ok(_) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    };
    assert!(closed, "the connection outlived its request deadline");
    let answers = received
        .windows(12)
        .filter(|w| w == b"HTTP/1.1 200")
        .count();
    assert!(answers < sent, "all {answers} answers were written");
}

#[test]
fn idle_keep_alive_connections_close_after_the_idle_timeout() {
    let config = coord::http::ServeConfig::default().idle_timeout(Duration::from_millis(200));
    let (_server, addr) = serve_local(config);
    let mut stream = idle_keep_alive(addr);
    assert!(closed_within(&mut stream, Duration::from_secs(3)));
}

#[test]
fn silent_connections_close_after_the_header_timeout() {
    let config = coord::http::ServeConfig::default().header_timeout(Duration::from_millis(200));
    let (server, mut silent) = serve_connected(config);
    assert!(closed_within(&mut silent, Duration::from_secs(3)));
    // Half a request head is no better than none.
    let mut trickle = TcpStream::connect(server.local_addr()).unwrap();
    trickle.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
    assert!(closed_within(&mut trickle, Duration::from_secs(3)));
}

#[test]
fn a_connection_answers_at_most_max_requests_per_connection() {
    let config = coord::http::ServeConfig::default().max_requests_per_connection(3);
    let (_server, mut stream) = serve_connected(config);
    for turn in 1..=3 {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut stream, Instant::now() + Duration::from_secs(5)).unwrap();
        let close = answer.header("connection") == Some("close");
        assert_eq!(close, turn == 3, "answer {turn}: {}", answer.head);
    }
    assert!(closed_within(&mut stream, Duration::from_secs(3)));
}

#[test]
fn pipelined_requests_are_capped() {
    let config = coord::http::ServeConfig::default().max_pipelined(4);
    let (server, mut stream) = serve_connected(config);
    stream
        .write_all(
            "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
                .repeat(10)
                .as_bytes(),
        )
        .unwrap();
    let (answers, closed) = answers_until_closed(&mut stream, Duration::from_secs(5));
    assert!(closed);
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[3].header("connection"), Some("close"));

    // A client that waits for each answer is not pipelining: no cap but the per-connection one.
    let mut polite = TcpStream::connect(server.local_addr()).unwrap();
    for _ in 0..8 {
        polite
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut polite, Instant::now() + Duration::from_secs(5)).unwrap();
        assert_eq!(answer.header("connection"), None, "{}", answer.head);
    }
}

/// Past `max_connections`, the probe still answers on a kept connection, other routes get
/// `503` with `Retry-After`, and past the kept ones too every new connection gets the `503` at
/// once instead of waiting in the backlog.
#[test]
fn every_slot_taken_gets_a_fast_503_and_the_probe_keeps_its_slots() {
    let config = coord::http::ServeConfig::default().retry_after(Duration::from_secs(3));
    let (_server, addr, _held) = serve_full(config, 2);

    let health = get_within(addr, "/health", PROBE_BOUND).expect("probe unanswered");
    assert!(matches!(health.status, 200 | 503), "{}", health.head);
    assert!(health.body.contains("health_status"), "{}", health.body);
    assert_eq!(health.header("connection"), Some("close"));
    // The kept slot is free again once that connection closed; liveness is a probe too.
    std::thread::sleep(Duration::from_millis(100));
    let live = get_within(addr, "/health/live", PROBE_BOUND).expect("probe unanswered");
    assert_eq!(live.status, 200, "{}", live.head);
    std::thread::sleep(Duration::from_millis(100));

    let metrics = get_within(addr, "/metrics", PROBE_BOUND).expect("no fast answer");
    assert_eq!(metrics.status, 503, "{}", metrics.head);
    assert_eq!(metrics.header("retry-after"), Some("3"));

    // The kept connection is taken too: the next one is refused without being read.
    let _probe_slot = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    for path in ["/health", "/metrics"] {
        let refused = get_within(addr, path, PROBE_BOUND).expect("no fast answer");
        assert_eq!(refused.status, 503, "{path}: {}", refused.head);
        assert_eq!(refused.header("retry-after"), Some("3"));
    }
}

/// `/metrics` answers being sent hold the reports' budget; past it, `503` at once, and the
/// probe is not counted.
#[test]
fn reports_past_their_budget_get_503_and_the_probe_still_answers() {
    make_metrics_large();
    let config = coord::http::ServeConfig::default()
        .max_concurrent_reports(1)
        .max_pipelined(1000);
    let (_server, addr) = serve_local(config);
    // 64 answers of ~150 kB: more than the socket buffers hold, so one stays unsent.
    let _slow = slow_reader(addr, 64);
    std::thread::sleep(Duration::from_millis(300));
    let metrics = get_within(addr, "/metrics", PROBE_BOUND).expect("no fast answer");
    assert_eq!(metrics.status, 503, "{}", metrics.head);
    assert_eq!(metrics.header("retry-after"), Some("1"));
    let health = get_within(addr, "/health", PROBE_BOUND).expect("probe unanswered");
    assert!(health.body.contains("health_status"), "{}", health.body);
}

/// A request head larger than the read buffer (16 KiB) is refused, not buffered.
#[test]
fn an_oversized_request_head_is_refused() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    let padding = "x".repeat(20 * 1024);
    // The server may refuse before reading all of it.
    let _ = stream.write_all(
        format!("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: {padding}\r\n\r\n").as_bytes(),
    );
    let answer = read_answer(&mut stream, Instant::now() + Duration::from_secs(5));
    if let Some(answer) = answer {
        assert_eq!(answer.status, 431, "{}", answer.head);
    }
    assert!(closed_within(&mut stream, Duration::from_secs(3)));
}

/// `HEAD` answers have no body for hyper to send; the connection still goes idle and serves
/// the next request under the idle time-out, not the request one.
#[test]
fn keep_alive_goes_on_after_head_answers() {
    let config = coord::http::ServeConfig::default()
        .request_timeout(Duration::from_millis(200))
        .idle_timeout(Duration::from_secs(30));
    let (_server, mut stream) = serve_connected(config);
    for method in ["HEAD", "GET", "HEAD"] {
        stream
            .write_all(format!("{method} /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let answer = if method == "HEAD" {
            // No body follows a HEAD answer, whatever its Content-Length says.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && Instant::now() < deadline {
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed after {method}");
                head.push(byte[0]);
            }
            String::from_utf8(head).unwrap()
        } else {
            read_answer(&mut stream, deadline).unwrap().head
        };
        assert!(answer.starts_with("HTTP/1.1 200"), "{method}: {answer}");
        // Longer than the request time-out: an idle connection must not be held to it.
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// A silent socket on the connection kept for the probe loses it within about a second,
/// whatever the header time-out.
#[test]
fn a_silent_socket_cannot_hold_the_probe_connection() {
    let config = coord::http::ServeConfig::default().header_timeout(Duration::from_secs(30));
    let (_server, addr, _held) = serve_full(config, 1);
    let mut silent = TcpStream::connect(addr).unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(3)));
    let health = get_within(addr, "/health", PROBE_BOUND).expect("probe unanswered");
    assert!(health.body.contains("health_status"), "{}", health.body);
}
