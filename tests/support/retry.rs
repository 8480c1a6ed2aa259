//! What the retry tests share: their operation's error, its retry predicate, a fake clock, and
//! an operation that always fails.

use std::fmt;

use coord::{FakeClock, RetryPolicy};

/// A retried operation's error: `Timeout` is transient, `BadRequest` permanent.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Transient: retried.
    Timeout,
    /// Permanent: never retried.
    BadRequest,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Timeout => f.write_str("timed out"),
            ApiError::BadRequest => f.write_str("bad request"),
        }
    }
}

/// The retry predicate: only time-outs are retried.
pub fn is_transient(e: &ApiError) -> bool {
    matches!(e, ApiError::Timeout)
}

/// A fake clock: back-off sleeps advance it instead of waiting.
pub fn fake() -> FakeClock {
    FakeClock::new()
}

/// Runs an operation that always fails with `error` under `policy`; returns the result and
/// how many attempts ran.
pub fn always_failing(policy: &RetryPolicy, error: ApiError) -> (Result<(), ApiError>, u32) {
    let mut calls = 0;
    let result = policy.call(|| {
        calls += 1;
        Err(error.clone())
    });
    (result, calls)
}
