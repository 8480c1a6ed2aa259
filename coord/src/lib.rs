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
pub mod perf;

pub use breaker::{
    BreakerConfig, BreakerConfigError, BreakerSnapshot, BreakerState, CircuitBreaker, CircuitOpen,
    Permit, Window, breaker, breaker_with,
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
    Operation, OperationGuard, OperationStats, Outcome, PerformanceMonitor, PerformanceReport,
    monitor, operation,
};

/// Returns every registry to zero. Handles cached by call sites stay valid and count from zero.
pub fn reset() {
    perf::reset_all();
    breaker::reset_all();
}
