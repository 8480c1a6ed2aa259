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
/// `deadline`; `None` when the deadline passes or the connection ends first.
fn read_answer(stream: &mut TcpStream, deadline: Instant) -> Option<Answer> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if raw.len() >= end + 4 + length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                let body = String::from_utf8_lossy(&raw[end + 4..end + 4 + length]).into_owned();
                return Some(Answer { status, head, body });
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return None,
        }
    }
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

/// Enough operations that one `/metrics` answer is large (tens of kilobytes).
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
