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

// The layers, bottom up; imports point down (`coord/tests/layers.rs` checks it).
//
// Compile-time helpers (`named_enum!`), usable by name everywhere below.
#[macro_use]
mod macros;
// Leaves: they import nothing of coord.
mod capped;
mod clock;
mod last_error;
mod locks;
mod metrics_bridge;
mod naming;
mod rng;
mod serde_ms;
mod status;
// Mechanisms and their registries: they import only leaves.
pub mod breaker;
pub mod bulkhead;
pub mod errors;
pub mod perf;
pub mod rate_limit;
pub mod retry;
pub mod timeout;
pub mod validate;
// Composition: where the mechanisms meet.
mod compose;
mod pipeline;
// Presentation and configuration.
pub mod config;
#[cfg(feature = "http")]
pub mod http;
pub mod report;
// The doors: the only callers of the one-time `COORD_CONFIG` load.
#[doc(hidden)]
pub mod __private;
mod doors;

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

pub use breaker::{
    BreakerConfig, BreakerConfigError, BreakerSnapshot, BreakerState, CircuitBreaker, CircuitOpen,
    Window,
};
pub use bulkhead::{
    Bulkhead, BulkheadAcquire, BulkheadConfig, BulkheadConfigError, BulkheadFull, BulkheadPermit,
    BulkheadSnapshot, OwnedBulkheadPermit, bulkhead, bulkhead_with,
};
pub use clock::{Clock, FakeClock, timer};
pub use compose::error_report::ErrorReport;
pub use compose::handler::{ErrorContext, ErrorHandler, NoBreaker};
pub use doors::limits;
pub use doors::{
    breaker, breaker_with, error_report, monitor, operation, report, reset, retry_policy, rules,
    validator,
};
pub use errors::Severity;
pub use perf::{
    HealthThresholds, MonitorConfig, MonitorConfigError, OperationGuard, OperationStats,
    PerformanceMonitor, PerformanceReport, SystemHealth, SystemSample,
};
pub use rate_limit::{
    RateLimitConfig, RateLimitConfigError, RateLimitSnapshot, RateLimited, RateLimiter,
    rate_limiter, rate_limiter_with,
};
pub use report::{Report, ReportError};
pub use retry::{BudgetConfig, Jitter, RetryPolicy, register_policy};
pub use status::HealthStatus;
pub use timeout::{TimedOut, timeout, timeout_at};
pub use validate::{
    FieldError, RuleError, RuleLoadError, RuleRegistry, RuleSet, Validate, ValidationReport,
    ValidationResult, Validator,
};
