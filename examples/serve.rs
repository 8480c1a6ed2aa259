//! Serve `/metrics`, `/report.json`, `/health` and the live dashboard while a small simulated
//! shop runs traffic through tracked, retried and breaker-guarded calls.
//!
//! `cargo run --example serve --features http`, then open the printed URL. It serves until you
//! press Enter (at most ten minutes); `-- --for 30` serves 30 seconds instead, `-- --addr
//! 127.0.0.1:0` picks a free port. Without a terminal on standard input (CI, a pipe) and
//! without `--for`, it serves two seconds. The payment gateway has an outage every 20 seconds, so its
//! breaker opens, probes and closes while you watch.
//!
//! `demo.reference` is a reference operation with a known latency distribution (100 calls of
//! 3 ms and 100 of 30 ms, recorded at start), so PromQL over its buckets has a known answer.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use coord::{
    CircuitOpen, ErrorHandler, RetryPolicy, Severity, Validate, circuit_breaker, retry,
    track_performance,
};

/// Where examples/prometheus/prometheus.yml expects coord.
const DEFAULT_ADDR: &str = "127.0.0.1:9898";
/// The longest this example ever runs.
const MAX_RUN: Duration = Duration::from_secs(600);
/// At most this many simulated requests, however long it runs.
const MAX_REQUESTS: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
enum ShopError {
    #[error("card declined")]
    Declined,
    #[error("payment gateway timed out")]
    GatewayDown,
    #[error(transparent)]
    Unavailable(#[from] CircuitOpen),
}

#[derive(Debug, Validate, serde::Serialize)]
struct Order {
    #[validate(length(min = 1, max = 20))]
    items: Vec<String>,
    #[validate(email)]
    email: String,
    #[validate(range(min = 1, max = 10_000))]
    total_cents: u32,
}

/// The simulation's random source: a seeded generator per thread, with the two draws it needs.
struct Dice(fastrand::Rng);

impl Dice {
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.0.f64() < p
    }

    /// A duration between `low` and `high` milliseconds.
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_micros(self.0.u64(low * 1000..high * 1000))
    }

    /// A simulated dependency's call: takes `millis` milliseconds, then fails with `error`
    /// with probability `p`.
    fn dependency_call(
        &mut self,
        millis: std::ops::Range<u64>,
        p: f64,
        error: ShopError,
    ) -> Result<(), ShopError> {
        std::thread::sleep(self.millis(millis.start, millis.end));
        if self.chance(p) { Err(error) } else { Ok(()) }
    }
}

/// Whether the simulated payment gateway is in an outage right now.
static GATEWAY_DOWN: AtomicBool = AtomicBool::new(false);
static SEED: AtomicU64 = AtomicU64::new(0x2545_f491_4f6c_dd1d);

fn dice() -> Dice {
    Dice(fastrand::Rng::with_seed(SEED.fetch_add(1, Relaxed)))
}

#[track_performance(name = "shop.catalog.search", objective = "shop.search")]
fn search(dice: &mut Dice) -> Result<u32, ShopError> {
    std::thread::sleep(dice.millis(1, 6));
    Ok(42)
}

#[track_performance("shop.inventory.reserve")]
#[circuit_breaker(
    name = "inventory.db",
    failure_rate = 0.5,
    minimum_calls = 20,
    open_for = "2s"
)]
fn reserve(dice: &mut Dice) -> Result<(), ShopError> {
    dice.dependency_call(2..9, 0.02, ShopError::GatewayDown)
}

#[track_performance("payments.charge")]
#[retry(max_retries = 2, base_delay = "2ms", jitter = "full")]
#[circuit_breaker(
    name = "payments.gateway",
    failure_rate = 0.5,
    minimum_calls = 10,
    window = 20,
    open_for = "3s"
)]
fn charge(dice: &mut Dice) -> Result<(), ShopError> {
    if GATEWAY_DOWN.load(Relaxed) {
        std::thread::sleep(dice.millis(20, 40));
        return Err(ShopError::GatewayDown);
    }
    dice.dependency_call(5..25, 0.04, ShopError::Declined)
}

#[track_performance(name = "shop.checkout", objective = "shop.checkout")]
fn checkout(dice: &mut Dice, order: &Order) -> Result<(), ShopError> {
    let verdict = order.validate();
    if !verdict.is_valid {
        return Err(ShopError::Declined);
    }
    reserve(dice)?;
    charge(dice)
}

fn order(dice: &mut Dice) -> Order {
    let email = if dice.chance(0.08) {
        "not-an-email"
    } else {
        "ada@example.com"
    };
    let items = (0..dice.0.usize(1..=4))
        .map(|i| format!("sku-{i}"))
        .collect();
    Order {
        items,
        email: email.into(),
        total_cents: dice.0.u32(..12_000),
    }
}

/// One simulated visitor: a search, sometimes a checkout, sometimes a receipt e-mail.
fn visit(dice: &mut Dice, mailer: &ErrorHandler) {
    let _ = search(dice);
    if dice.chance(0.5) {
        let order = order(dice);
        let _ = checkout(dice, &order);
    }
    if dice.chance(0.2) {
        let flaky = dice.chance(0.3);
        let _ = mailer.execute(|| {
            if flaky {
                Err("smtp: connection reset")
            } else {
                Ok(())
            }
        });
    }
}

/// Records the reference operation's fixed distribution.
fn reference_load() {
    let reference = coord::monitor().operation_handle("demo.reference");
    for _ in 0..100 {
        reference.record(Duration::from_millis(3), coord::perf::Outcome::Success);
        reference.record(Duration::from_millis(30), coord::perf::Outcome::Success);
    }
}

/// A dependency that failed at start-up and is not called again: its breaker stays open, and
/// once its open time is over the dashboard reads "next probe: on next call" (an open breaker
/// lets its probe through only when a call comes).
fn trip_idle_breaker() {
    let config = coord::BreakerConfig::default()
        .minimum_calls(5)
        .open_for(Duration::from_secs(1));
    let quotes = coord::breaker_with("shipping.quotes", config).expect("a valid config");
    for _ in 0..5 {
        let _ = quotes.call(|| Err::<(), ShopError>(ShopError::GatewayDown));
    }
}

/// Runs visitors on two threads until `deadline`, `stop`, or [`MAX_REQUESTS`].
fn traffic(deadline: Instant, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    let served = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for worker in 0..2 {
        let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
        threads.push(std::thread::spawn(move || {
            let mut dice = dice();
            let mailer = ErrorHandler::new("email.receipt")
                .severity(Severity::Low)
                .retry(RetryPolicy::exponential(1, Duration::from_millis(1), 2.0));
            let started = Instant::now();
            while Instant::now() < deadline
                && !stop.load(Relaxed)
                && served.fetch_add(1, Relaxed) < MAX_REQUESTS
            {
                if worker == 0 {
                    // An outage of 8 s every 20 s.
                    let phase = started.elapsed().as_secs() % 20;
                    GATEWAY_DOWN.store((10..18).contains(&phase), Relaxed);
                }
                visit(&mut dice, &mailer);
                std::thread::sleep(dice.millis(5, 30));
            }
        }));
    }
    threads
}

/// Fetches `path` from the server with a plain HTTP/1.1 request; returns the status line.
fn fetch(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    // The Host a browser sends: a server bound to loopback answers loopback names only.
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer.lines().next().unwrap_or_default().to_string())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut run_for) = (DEFAULT_ADDR.to_string(), None);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--for", Some(value)) => match value.parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs >= 0.0 => {
                    run_for = Some(Duration::from_secs_f64(secs).min(MAX_RUN));
                }
                _ => return Err(std::io::Error::other(format!("--for {value}: not seconds"))),
            },
            (other, _) => {
                return Err(std::io::Error::other(format!(
                    "unknown argument {other}; usage: serve [--addr IP:PORT] [--for SECONDS]"
                )));
            }
        }
    }

    if run_for.is_none() && !std::io::stdin().is_terminal() {
        run_for = Some(Duration::from_secs(2));
    }

    // The shop's objectives (the same as examples/objectives.rs, whose rules
    // examples/prometheus/objectives.yml holds).
    coord::Objective::new("shop.checkout")
        .success_rate(0.999)
        .latency_below(Duration::from_millis(500), 0.99)
        .declare()
        .map_err(std::io::Error::other)?;
    coord::Objective::new("shop.search")
        .latency_below(Duration::from_millis(20), 0.99)
        .period(Duration::from_secs(7 * 86_400))
        .declare()
        .map_err(std::io::Error::other)?;

    let monitor = coord::monitor();
    monitor
        .configure(coord::MonitorConfig::default().collection_interval(Duration::from_secs(1)))
        .map_err(std::io::Error::other)?;
    reference_load();
    trip_idle_breaker();

    let server = match coord::http::serve(addr.as_str()) {
        // The default port is taken (another copy running?): any free port will do.
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && addr == DEFAULT_ADDR => {
            eprintln!("{DEFAULT_ADDR} is in use; serving on a free port instead");
            coord::http::serve("127.0.0.1:0")?
        }
        other => other?,
    };
    // Serving started the monitor (ServeConfig::start_monitor): samples and windows run.
    assert!(monitor.is_active(), "serve starts the monitor");
    println!("coord dashboard: {}", server.url());
    println!("metrics:         {}metrics", server.url());
    std::io::stdout().flush()?;

    let deadline = Instant::now() + run_for.unwrap_or(MAX_RUN);
    let stop = Arc::new(AtomicBool::new(false));
    let workers = traffic(deadline, Arc::clone(&stop));

    // The server answers while the traffic runs.
    let status = fetch(server.local_addr(), "/metrics")?;
    if !status.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("GET /metrics: {status}")));
    }

    match run_for {
        Some(period) => std::thread::sleep(period),
        None => {
            println!("press Enter to stop");
            // Enter, end of input, or the ten-minute cap, whichever comes first.
            let (done, wait) = mpsc::channel();
            std::thread::spawn(move || {
                let _ = std::io::stdin().lock().read_line(&mut String::new());
                let _ = done.send(());
            });
            let _ = wait.recv_timeout(MAX_RUN);
        }
    }
    stop.store(true, Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    server.shutdown();
    monitor.stop();
    println!("{}", coord::report());
    Ok(())
}
