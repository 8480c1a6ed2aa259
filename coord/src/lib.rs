//! coord: retries, circuit breakers, latency metrics, system health and input validation from a
//! few attributes, with reports you can read, export and trust.
//!
//! The macros (re-exported here) generate small wrappers that call this crate's process-wide
//! registries; everything they do is also available as a plain runtime API.
//!
//! # Tracking performance
//!
//! ```
//! use coord::track_performance;
//!
//! #[track_performance("docs.parse")]
//! fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
//!     input.parse()
//! }
//!
//! parse("42").unwrap();
//! parse("x").unwrap_err();
//! let stats = coord::operation("docs.parse").unwrap();
//! assert_eq!((stats.calls, stats.successes, stats.failures), (2, 1, 1));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
pub mod __private;
pub mod breaker;
pub mod bulkhead;
mod capped;
pub mod config;
mod facade;
#[cfg(feature = "http")]
pub mod http;
pub mod perf;
mod pipeline;
pub mod rate_limit;
pub mod report;
pub mod validate;

pub mod errors;
pub mod retry;
pub mod timeout;
pub mod timer;

pub use coord_macros::Validate;

/// Retries a function returning `Result<T, E>` with back-off.
///
/// `#[retry(max_retries = 3, base_delay = "1s", multiplier = 2.0, max_delay = "30s",
/// jitter = "full", when = path::to::predicate, policy = "name")]`; every key is optional and
/// the defaults are shown. `when` is a `fn(&E) -> bool` (`false`: do not retry); `policy` starts
/// from the policy registered under that name ([`retry::register_policy`]) when the function is
/// first called, and the keys written in the attribute override it. Works on `fn`, `async fn` (sleeping on tokio), methods taking
/// `&self` or `&mut self`, and generic functions. Combined with `#[track_performance]`, the
/// timing wraps all attempts: one call, one measurement.
///
/// The body runs once per attempt, so every by-value parameter is cloned for each attempt
/// (free for `Copy` types): take a parameter by reference, or wrap costly ones in `Arc`. A
/// parameter that is not `Clone` is a compile error naming it; `self` by value is rejected.
///
/// ```
/// use coord::retry;
///
/// #[derive(Debug)]
/// enum FetchError { Timeout, NotFound }
///
/// impl std::fmt::Display for FetchError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{self:?}")
///     }
/// }
///
/// fn transient(e: &FetchError) -> bool {
///     matches!(e, FetchError::Timeout)
/// }
///
/// #[retry(max_retries = 4, base_delay = "1ms", jitter = "equal", when = transient)]
/// fn fetch(tries: &mut u32, id: u64) -> Result<u64, FetchError> {
///     *tries += 1;
///     if *tries < 3 { Err(FetchError::Timeout) } else { Ok(id * 2) }
/// }
///
/// let mut tries = 0;
/// assert_eq!(fetch(&mut tries, 21).unwrap(), 42);
/// assert_eq!(tries, 3);
/// ```
pub use coord_macros::retry;

pub use breaker::{
    BreakerConfig, BreakerConfigError, BreakerSnapshot, BreakerState, CircuitBreaker, CircuitOpen,
    Permit, Window, breaker, breaker_with,
};
pub use bulkhead::{
    Bulkhead, BulkheadAcquire, BulkheadConfig, BulkheadConfigError, BulkheadFull, BulkheadPermit,
    BulkheadSnapshot, OwnedBulkheadPermit, bulkhead, bulkhead_with,
};
/// Guards a function with a named circuit breaker (see [`CircuitBreaker`]).
///
/// Keys (all optional): `name` (default: module path + function name), `failure_rate`,
/// `minimum_calls`, `window` (calls, or a period like `"10s"`), `open_for`, `max_open_for`,
/// `half_open_calls`, `slow_call`, `slow_call_rate`, `consecutive_failures`,
/// `max_half_open_wait`, `classifier = path` (`fn(&E) -> bool`). The function must return
/// `Result<T, E>` with `E: From<CircuitOpen>`; a rejected call returns `Err(E::from(open))`
/// without running the body.
///
/// ```
/// use coord::{CircuitOpen, circuit_breaker};
///
/// #[derive(Debug)]
/// enum DbError { Down, Unavailable(CircuitOpen) }
/// impl From<CircuitOpen> for DbError {
///     fn from(open: CircuitOpen) -> Self { DbError::Unavailable(open) }
/// }
///
/// #[circuit_breaker(name = "docs.orders", minimum_calls = 2, window = 2, open_for = "30s")]
/// fn load_order(id: u32) -> Result<u32, DbError> {
///     if id == 0 { Err(DbError::Down) } else { Ok(id) }
/// }
///
/// load_order(0).unwrap_err();
/// load_order(0).unwrap_err();
/// assert!(matches!(load_order(1), Err(DbError::Unavailable(_))));
/// assert_eq!(coord::breaker("docs.orders").state(), coord::BreakerState::Open);
/// ```
pub use coord_macros::circuit_breaker;
pub use coord_macros::track_performance;
pub use perf::histogram::RELATIVE_ERROR;
pub use perf::{
    Clock, Contribution, HealthBreakdown, HealthInputs, HealthStatus, HealthThresholds,
    ManualClock, MonitorConfig, MonitorConfigError, SystemClock, SystemHealth, SystemSample,
    WindowStats,
};
pub use perf::{
    Operation, OperationGuard, OperationStats, Outcome, PerformanceMonitor, PerformanceReport,
    monitor, operation,
};
pub use rate_limit::{
    RateLimitConfig, RateLimitConfigError, RateLimitSnapshot, RateLimited, RateLimiter,
    rate_limiter, rate_limiter_with,
};
pub use report::{Report, ReportError, report};
pub use timeout::{TimedOut, timeout, timeout_at};
pub use validate::{AsRuleSet, Checks, RuleSetRef, Validate};
pub use validate::{
    Coercion, FailureCount, FieldError, FieldPath, FieldRules, NestedRules, Params, Pattern, Rule,
    RuleError, RuleKind, RuleLoadError, RuleRegistry, RuleSet, RuleSetReport, ValidationReport,
    ValidationResult, Validator, ValueType, rules, validator,
};

pub use errors::{
    AttemptOutcome, ErrorContext, ErrorHandler, ErrorHealth, ErrorRecord, ErrorReport, NoBreaker,
    OperationErrors, RetryStats, Severity, SeverityCounts, error_report,
};
#[cfg(feature = "tokio")]
pub use retry::TokioSleeper;
pub use retry::{
    Attempt, BudgetConfig, BudgetSnapshot, FakeSleeper, Jitter, RetryEvent, RetryPolicy,
    RetrySettings, Sleeper, StdSleeper, register_policy,
};

/// Returns every registry to zero. Handles cached by call sites stay valid and count from zero.
pub fn reset() {
    perf::reset_all();
    validate::reset();
    retry::reset_all();
    errors::registry::reset_all();
    breaker::reset_all();
}
