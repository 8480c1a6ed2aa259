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
//!
//! # The order of the layers
//!
//! The coord attributes on one function compose into one wrapper, always in this order
//! (outermost first), whatever order they are written in:
//!
//! ```text
//! track_performance → fallback → timeout(total) → retry → circuit_breaker
//!                   → rate_limit → bulkhead → timeout(attempt) → body
//! ```
//!
//! - **`track_performance` outermost**: one call, one measurement, whatever happened inside
//!   (a call the fallback recovered is a success for the caller, and recorded so).
//! - **`fallback` next**: it sees the final error, after every other layer gave up (Polly v8
//!   puts its fallback outermost for the same reason).
//! - **`timeout(total)` outside `retry`**: it bounds the whole call, back-off sleeps included,
//!   and ends it (Polly's "total request timeout").
//! - **`retry` outside `circuit_breaker`**: every attempt asks the breaker; an open breaker
//!   ends the retries at once instead of being retried (resilience4j's aspect order, Retry
//!   outside CircuitBreaker; Polly's retry → circuit breaker).
//! - **`circuit_breaker` outside `rate_limit` and `bulkhead`**: an open breaker rejects
//!   before a rate-limit turn or a bulkhead slot is used (resilience4j: CircuitBreaker outside
//!   RateLimiter and Bulkhead).
//! - **`rate_limit` outside `bulkhead`**: a call over the rate never holds a slot.
//! - **`timeout(attempt)` innermost**: it times the body only, not the wait for a turn or a
//!   slot (each has its own `max_wait`); a timed-out attempt is a failure for the breaker and
//!   retryable (Polly's "attempt timeout", inside retry and circuit breaker).
//!
//! Rejections (breaker open, bulkhead full, rate limited) are permanent: never retried. A
//! rejection below the breaker (rate limit, bulkhead) releases the breaker's permit without
//! counting it, so it never opens the breaker; each mechanism counts its rejections in the
//! report.
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
mod fallback;
mod layer;
mod stack;
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

/// Gives an `async fn` returning `Result<T, E>` (with `E: From<TimedOut>`) a time limit:
/// `#[timeout("2s")]` per attempt (also `attempt = "2s"`), `#[timeout(total = "10s")]` for the
/// whole call, retries and back-off sleeps included; both may be given.
///
/// A timed-out attempt's future is dropped and the attempt fails with `E::from(TimedOut)`: the
/// circuit breaker counts it as a failure and `#[retry]` retries it (unless its `when` says
/// otherwise). A total time-out ends the call. Time-outs are counted per operation in the
/// report. On a synchronous `fn` it is a compile error: a running thread cannot be
/// interrupted.
///
/// ```
/// use std::time::Duration;
/// use coord::{TimedOut, retry, timeout};
///
/// #[derive(Debug)]
/// enum FetchError { TooSlow(TimedOut) }
/// impl From<TimedOut> for FetchError {
///     fn from(t: TimedOut) -> Self { FetchError::TooSlow(t) }
/// }
///
/// #[retry(max_retries = 2, base_delay = "1ms")]
/// #[timeout("20ms")]
/// async fn fetch(slow: bool) -> Result<u32, FetchError> {
///     if slow { std::future::pending::<()>().await; }
///     Ok(1)
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// assert_eq!(fetch(false).await.unwrap(), 1);
/// let Err(FetchError::TooSlow(t)) = fetch(true).await else { panic!() };
/// assert_eq!(t.limit(), Duration::from_millis(20));
/// # });
/// ```
pub use coord_macros::timeout;

/// Runs at most `max_concurrent` calls of a function at once:
/// `#[bulkhead(max_concurrent = 10, max_wait = "0ms", name = "db")]` (all keys optional; the
/// default name is the function's, like [`track_performance`]'s; functions naming the same
/// bulkhead share it). A call that finds every slot taken waits up to `max_wait` (async calls
/// without blocking a thread), then returns `Err(E::from(BulkheadFull))` without running; it
/// is a rejection, never retried. A slot is released on success, error, panic and
/// cancellation.
///
/// ```
/// use coord::{BulkheadFull, bulkhead};
///
/// #[bulkhead(name = "docs.reports", max_concurrent = 1)]
/// fn render(inner: Option<fn() -> Result<(), BulkheadFull>>) -> Result<(), BulkheadFull> {
///     match inner { Some(f) => f(), None => Ok(()) }
/// }
///
/// fn nested() -> Result<(), BulkheadFull> { render(None) }
/// assert!(render(None).is_ok());
/// // The one slot is taken by the outer call: the inner one is rejected.
/// assert!(render(Some(nested)).is_err());
/// assert_eq!(coord::bulkhead("docs.reports").snapshot().rejected, 1);
/// ```
pub use coord_macros::bulkhead;

/// Spaces the calls of a function: `#[rate_limit(rate = 100, per = "1s", burst = 10,
/// max_wait = "0ms", name = "api")]` (all keys optional; GCRA, see [`RateLimiter`]). A call
/// over the limit waits for its turn up to `max_wait`, then returns
/// `Err(E::from(RateLimited))` without running; it is a rejection, never retried.
///
/// ```
/// use coord::{RateLimited, rate_limit};
///
/// #[rate_limit(name = "docs.sms", rate = 1, per = "1m", burst = 2)]
/// fn send_sms() -> Result<(), RateLimited> { Ok(()) }
///
/// assert!(send_sms().is_ok());
/// assert!(send_sms().is_ok());
/// assert!(send_sms().unwrap_err().retry_after() > std::time::Duration::ZERO);
/// ```
pub use coord_macros::rate_limit;

/// Recovers from a function's final error: `#[fallback(path::to::recover)]` with
/// `recover: fn(E) -> Result<T, E>` (on an `async fn`, `recover` may also be an `async fn`).
/// It is called with the error left after every other layer gave up (retries exhausted, a
/// rejection, a time-out); a panic is not caught.
///
/// ```
/// use coord::fallback;
///
/// fn cached(_: String) -> Result<u32, String> { Ok(0) }
///
/// #[fallback(cached)]
/// fn price(id: u32) -> Result<u32, String> {
///     if id == 0 { Err("no price".into()) } else { Ok(id * 10) }
/// }
///
/// assert_eq!(price(2), Ok(20));
/// assert_eq!(price(0), Ok(0));
/// ```
pub use coord_macros::fallback;
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
