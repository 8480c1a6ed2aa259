//! A tour of coord: the four macros on a small user service, then the global report.
//!
//! Run with `cargo run --example quickstart`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use coord::{CircuitOpen, Validate, circuit_breaker, retry, track_performance};

/// Input checked by `#[derive(Validate)]`: every rule is checked, and the result is scored.
#[derive(Validate, serde::Serialize)]
struct UserProfile {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(range(min = 18, max = 120))]
    age: u32,
}

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("upstream timed out")]
    Timeout,
    #[error("user {0} not found")]
    NotFound(u32),
    /// The breaker's rejection: `#[circuit_breaker]` needs `From<CircuitOpen>`.
    #[error(transparent)]
    Unavailable(#[from] CircuitOpen),
}

fn transient(error: &ApiError) -> bool {
    matches!(error, ApiError::Timeout)
}

/// A deterministic stand-in for a flaky upstream: every third attempt times out.
static ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// One composed wrapper: timing around retries around a circuit breaker around the body.
#[track_performance("user_api.fetch")]
#[retry(max_retries = 3, base_delay = "2ms", multiplier = 2.0, jitter = "full", when = transient)]
#[circuit_breaker(
    name = "user_api",
    failure_rate = 0.5,
    minimum_calls = 10,
    open_for = "30s"
)]
async fn fetch_user(id: u32) -> Result<String, ApiError> {
    tokio::time::sleep(Duration::from_micros(300)).await;
    if ATTEMPTS.fetch_add(1, Ordering::Relaxed) % 3 == 2 {
        return Err(ApiError::Timeout);
    }
    if id.is_multiple_of(10) {
        return Err(ApiError::NotFound(id));
    }
    Ok(format!("user-{id}"))
}

#[tokio::main]
async fn main() {
    let profiles = [
        UserProfile {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            age: 36,
        },
        UserProfile {
            name: "B".into(),
            email: "not-an-email".into(),
            age: 12,
        },
    ];
    for profile in &profiles {
        let result = profile.validate();
        println!(
            "validate {:<4} valid={} score={:.0}% errors={:?}",
            profile.name,
            result.is_valid,
            result.score,
            result
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.rule))
                .collect::<Vec<_>>()
        );
    }

    let mut found = 0;
    for id in 1..=30 {
        match fetch_user(id).await {
            Ok(_) => found += 1,
            Err(error) => println!("fetch_user({id}) failed: {error}"),
        }
    }
    println!("fetched {found} of 30 users\n");

    // One system sample, so the report can show host health (the monitor thread would take one
    // every `collection_interval` after `coord::monitor().start()`).
    coord::monitor().record_system_health();

    println!("{}", coord::report());
}
