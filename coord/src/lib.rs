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
