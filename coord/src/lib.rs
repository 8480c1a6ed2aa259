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
mod facade;
pub mod perf;
pub mod report;
pub mod validate;

pub use coord_macros::Validate;
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
pub use report::{Report, ReportError, report};
pub use validate::{Checks, Validate};
pub use validate::{
    Coercion, FailureCount, FieldError, FieldPath, FieldRules, NestedRules, Params, Pattern, Rule,
    RuleError, RuleKind, RuleLoadError, RuleRegistry, RuleSet, RuleSetReport, ValidationReport,
    ValidationResult, Validator, ValueType, rules, validator,
};

/// Returns every registry to zero. Handles cached by call sites stay valid and count from zero.
pub fn reset() {
    perf::reset_all();
    validate::reset();
}
