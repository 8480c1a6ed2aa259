//! A real `redis-server` for the shared rate limits: started on a free port of 127.0.0.1,
//! spoken to in raw RESP, killed on drop. Without the binary a test says so loudly and passes,
//! except under CI (`CI` set), which installs it and fails without it. Included with `#[path]`
//! by `tests/shared_rate_limit.rs` (feature `redis`) and the `shared_rate_limit` example, which
//! says in its own words what it does without one.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A `redis-server` of this test, killed on drop.
pub struct Redis {
    pub port: u16,
    child: Child,
}

impl Redis {
    /// A new server, or `None` (after a loud message) when the binary is missing locally.
    pub fn start() -> Option<Self> {
        let redis = Self::on(free_port());
        if redis.is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not on PATH; CI installs Debian's redis-server"
            );
            eprintln!(
                "\n*** SKIPPED: redis-server is not on PATH (apt-get install redis-server); \
                 shared rate limits were NOT tested ***\n"
            );
        }
        redis
    }

    /// A server of any Redis version (without the tests' `DEBUG` command) on a free port, or
    /// `None` when the binary is missing or the server does not come up: the caller says what
    /// that means.
    pub fn on_free_port() -> Option<Self> {
        Self::spawn(free_port(), &[]).ok()
    }

    /// A server for the tests on `port` (again, after a kill), ready for commands, with `DEBUG`
    /// (Redis 7 or newer); `None` when the binary is missing.
    pub fn on(port: u16) -> Option<Self> {
        match Self::spawn(port, &["--enable-debug-command", "local"]) {
            Ok(redis) => Some(redis),
            Err(Start::Missing) => None,
            Err(Start::Exited(status)) => panic!(
                "redis-server on port {port} exited at start ({status}): Redis 7 or newer is \
                 needed (for --enable-debug-command)"
            ),
            Err(Start::Slow) => panic!("redis-server on port {port} did not start"),
        }
    }

    fn spawn(port: u16, extra: &[&str]) -> Result<Self, Start> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|_| Start::Missing)?;
        let mut redis = Self { port, child };
        let started = Instant::now();
        while redis.try_command(&["PING"]).as_deref() != Some("+PONG") {
            if let Ok(Some(status)) = redis.child.try_wait() {
                return Err(Start::Exited(status));
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(Start::Slow);
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one command and returns the first line of the reply.
    pub fn try_command(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).ok()?;
        Some(line.trim_end().to_owned())
    }

    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|| panic!("redis-server did not answer {args:?}"))
    }

    /// Kills the server at once (no shutdown handshake), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Calls until `done` holds, within a generous bound.
pub fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Why a server did not come up.
enum Start {
    /// `redis-server` is not on `PATH`.
    Missing,
    /// It exited before answering (an option its version does not know).
    Exited(std::process::ExitStatus),
    /// It did not answer within 10 s.
    Slow,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
