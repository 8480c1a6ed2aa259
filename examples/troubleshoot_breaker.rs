//! The guide's troubleshooting case "Circuit Breaker Always Open": read every breaker's status
//! from the error report, then reset the one that is stuck.

use std::time::Duration;

use coord::{BreakerConfig, CircuitOpen, ErrorHandler, RetryPolicy};

#[derive(Debug, thiserror::Error)]
enum DbError {
    #[error("database connection failed")]
    Down,
    #[error(transparent)]
    Unavailable(#[from] CircuitOpen),
}

fn print_status(when: &str) {
    let report = coord::error_report();
    for b in &report.circuit_breaker_status {
        println!(
            "{when}: breaker '{}' is {:?}, failure rate {:.0}%, next probe in {:?}",
            b.name,
            b.state,
            b.failure_rate * 100.0,
            b.next_probe_in
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handler = ErrorHandler::new("orders_db")
        .retry(RetryPolicy::no_retry())
        .try_breaker(
            BreakerConfig::default()
                .minimum_calls(4)
                .window(4)
                .open_for(Duration::from_secs(300)),
        )?;

    // The database was down long enough to trip the breaker, which now waits five minutes.
    for _ in 0..4 {
        let _ = handler.execute(|| Err::<(), _>(DbError::Down));
    }
    match handler.execute(|| Ok::<_, DbError>("rows")) {
        Ok(rows) => println!("query: {rows}"),
        Err(e) => println!("query rejected: {e}"),
    }
    print_status("before reset");

    // The database is back: reset instead of waiting for the next probe.
    handler.reset_circuit_breaker();
    print_status("after reset");
    println!("query: {}", handler.execute(|| Ok::<_, DbError>("rows"))?);
    Ok(())
}
