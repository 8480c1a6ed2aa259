//! The guide's "Database Operation with Circuit Breaker": queries to a database that fails 20 %
//! of the time, then goes down, then recovers. The breaker opens, rejects calls without
//! touching the database, probes, re-opens while the outage lasts, and closes once it is over.
//!
//! Every transition is printed from the `tracing` event the breaker emits (target
//! `coord::breaker`), by the small subscriber at the bottom of this file.
//!
//! `cargo run --example database_breaker`

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use coord::{CircuitOpen, circuit_breaker, track_performance};

#[derive(Debug, thiserror::Error)]
enum DbError {
    #[error("database connection failed")]
    ConnectionFailed,
    #[error(transparent)]
    Unavailable(#[from] CircuitOpen),
}

/// The simulated database: down during the outage, otherwise every fifth query fails.
static DATABASE_DOWN: AtomicBool = AtomicBool::new(false);
static QUERIES_RUN: AtomicU32 = AtomicU32::new(0);

#[track_performance("db.query")]
#[circuit_breaker(
    name = "db",
    failure_rate = 0.5,
    minimum_calls = 5,
    window = 10,
    open_for = "200ms",
    max_open_for = "400ms",
    half_open_calls = 2
)]
fn execute_database_query(query: &str) -> Result<String, DbError> {
    let n = QUERIES_RUN.fetch_add(1, Relaxed) + 1;
    std::thread::sleep(Duration::from_millis(2));
    if DATABASE_DOWN.load(Relaxed) || n.is_multiple_of(5) {
        Err(DbError::ConnectionFailed)
    } else {
        Ok(format!("{query}: query executed successfully"))
    }
}

fn run_queries(count: u32, pause: Duration) {
    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    let mut last_rejection = None;
    for _ in 0..count {
        match execute_database_query("SELECT * FROM users") {
            Ok(_) => ok += 1,
            Err(DbError::ConnectionFailed) => failed += 1,
            Err(DbError::Unavailable(open)) => {
                rejected += 1;
                last_rejection = Some(open);
            }
        }
        std::thread::sleep(pause);
    }
    println!("  {ok} ok, {failed} failed, {rejected} rejected without touching the database");
    if let Some(open) = last_rejection {
        println!("  last rejection: {open}");
    }
}

fn main() {
    let _ = tracing::subscriber::set_global_default(PrintTransitions {
        start: Instant::now(),
        next_id: AtomicU64::new(1),
    });
    let pause = Duration::from_millis(10);

    println!("1. healthy database, 20 % of queries fail");
    run_queries(20, pause);

    println!("2. outage: every query fails");
    DATABASE_DOWN.store(true, Relaxed);
    run_queries(40, pause);

    println!("3. database back");
    DATABASE_DOWN.store(false, Relaxed);
    run_queries(60, pause);

    let db = coord::breaker("db");
    let snapshot = db.snapshot();
    println!(
        "\ncircuit breaker status: {} ({} transitions, {} calls rejected)",
        snapshot.state, snapshot.transitions, snapshot.rejected
    );
    let stats = coord::operation("db.query").expect("recorded by #[track_performance]");
    println!(
        "db.query: {} calls seen by callers, {} reached the database",
        stats.calls,
        QUERIES_RUN.load(Relaxed)
    );

    // The guide's `reset_circuit_breaker()`: take it out of service, then close it by hand.
    println!("\nmanual control:");
    db.force_open();
    db.reset();
}

/// Prints `coord::breaker` events: `[ms] breaker 'db': closed -> open (failure rate 60 %)`.
struct PrintTransitions {
    start: Instant,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Fields {
    breaker: String,
    from: String,
    to: String,
    failure_rate: f64,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "breaker" => self.breaker = value.to_string(),
            "from" => self.from = value.to_string(),
            "to" => self.to = value.to_string(),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "failure_rate" {
            self.failure_rate = value;
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn fmt::Debug) {}
}

impl tracing::Subscriber for PrintTransitions {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "coord::breaker"
    }

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        println!(
            "  [{:>5} ms] breaker '{}': {} -> {} (failure rate {:.0} %)",
            self.start.elapsed().as_millis(),
            fields.breaker,
            fields.from,
            fields.to,
            fields.failure_rate * 100.0
        );
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Relaxed))
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
