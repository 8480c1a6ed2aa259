//! The guide's "API Call with Retry": an API that fails 30 % of the time, called through an
//! `ErrorHandler` and through `#[retry]`, then the error report.
//!
//! The failures come from a seeded xorshift generator, so every run prints the same thing.

use std::cell::RefCell;
use std::time::Duration;

use coord::{ErrorHandler, Jitter, RetryPolicy, Severity, retry};

#[derive(Debug, thiserror::Error)]
#[error("API connection failed")]
struct ConnectionError;

#[derive(Debug)]
struct User {
    user_id: String,
    name: &'static str,
}

/// The remote API: 30 % of calls fail.
struct UserApi {
    /// Seeded, so every run fails the same calls.
    rng: RefCell<fastrand::Rng>,
}

impl UserApi {
    fn call(&self, user_id: &str) -> Result<User, ConnectionError> {
        if self.rng.borrow_mut().f64() < 0.3 {
            return Err(ConnectionError);
        }
        Ok(User {
            user_id: user_id.to_owned(),
            name: "John Doe",
        })
    }

    /// The same call, retried by the attribute: 1 retry, 2 ms, no jitter.
    #[retry(max_retries = 1, base_delay = "2ms", multiplier = 2.0, jitter = "none")]
    fn fetch_with_attribute(&self, user_id: &str) -> Result<User, ConnectionError> {
        self.call(user_id)
    }
}

fn main() {
    let api = UserApi {
        rng: RefCell::new(fastrand::Rng::with_seed(0x2545_F491_4F6C_DD1D)),
    };

    // The guide's `execute_with_error_handling(operation=api_call, max_retries=3,
    // error_severity="MEDIUM")`, with millisecond delays so the example runs fast.
    let handler = ErrorHandler::new("user_api.fetch_user_data")
        .retry(RetryPolicy::exponential(3, Duration::from_millis(2), 2.0).jitter(Jitter::Full))
        .severity(Severity::Medium);

    println!("-- ErrorHandler (3 retries) --");
    for n in 1..=12 {
        let user_id = format!("user_{n}");
        let mut attempts = 0;
        let result = handler.execute(|| {
            attempts += 1;
            api.call(&user_id)
        });
        match result {
            Ok(user) => println!(
                "✅ User data: {} ({}) after {attempts} attempt(s)",
                user.name, user.user_id
            ),
            Err(e) => println!("❌ Failed to fetch user data for {user_id}: {e}"),
        }
    }

    println!("\n-- #[retry(max_retries = 1)] --");
    for n in 13..=24 {
        let user_id = format!("user_{n}");
        match api.fetch_with_attribute(&user_id) {
            Ok(user) => println!("✅ User data: {} ({})", user.name, user.user_id),
            Err(e) => println!("❌ Failed to fetch user data for {user_id}: {e}"),
        }
    }

    let report = coord::error_report();
    println!("\n-- error report --");
    println!(
        "failed attempts: {}   calls failed for good: {}   health: {}",
        report.total_errors, report.final_failures, report.health_status
    );
    println!(
        "retries: {}   successes after retry: {}   exhausted: {}   budget exhausted: {}",
        report.retry.retries,
        report.retry.successes_after_retry,
        report.retry.exhausted,
        report.retry.budget_exhausted
    );
    for op in &report.by_operation {
        println!(
            "  {:<45} errors {:>2}  retries {:>2}  recovered {:>2}  failed {:>2}",
            op.operation, op.errors, op.retries, op.successes_after_retry, op.final_failures
        );
    }
}
