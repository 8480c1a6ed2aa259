//! One circuit breaker per downstream host: a failing replica is cut off while the others keep
//! serving. `cargo run --example per_host_breakers`

use coord::{BreakerConfig, CircuitOpen, circuit_breaker};

#[derive(Debug, thiserror::Error)]
enum DbError {
    #[error("{0} is down")]
    Down(String),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

/// One breaker per value of `host`: `db[replica-1]`, `db[replica-2]`, ...
#[circuit_breaker(name = "db", key = host, minimum_calls = 4, window = 10, open_for = "30s")]
fn query(host: &str, sql: &str) -> Result<usize, DbError> {
    if host == "replica-2" {
        Err(DbError::Down(host.to_string()))
    } else {
        Ok(sql.len())
    }
}

fn main() {
    for round in 0..6 {
        for host in ["replica-1", "replica-2", "replica-3"] {
            match query(host, "SELECT 1") {
                Ok(_) => println!("round {round}: {host} ok"),
                Err(error) => println!("round {round}: {error}"),
            }
        }
    }
    // The same group from the runtime API, e.g. to look at one host's breaker.
    let db = coord::breaker::keyed("db", BreakerConfig::default().minimum_calls(4).window(10))
        .expect("a valid configuration");
    println!("replica-2 is {}", db.get("replica-2").state());
    let group = db.snapshot();
    println!(
        "group {}: {} keys, {} not closed",
        group.name, group.keys, group.open
    );
}
