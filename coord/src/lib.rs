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
//! track_performance → fallback → timeout(total) → retry → hedge → circuit_breaker
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
//! - **`hedge` inside `retry`, outside the gates**: each attempt the retry loop makes is a
//!   race, and every attempt of a race asks the breaker, takes a rate-limit turn and a bulkhead
//!   slot and gets its own `timeout(attempt)`, like any call downstream; a hedge never starts
//!   while the breaker is open and spends the retry budget (Polly v8 puts hedging in the same
//!   place: inside retry, outside the circuit breaker).
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
mod contract;
mod last_error;
mod locks;
mod metrics_bridge;
mod naming;
mod outcome;
mod read;
mod recording;
mod rng;
mod semconv;
mod serde_ms;
mod status;
// Shared by the mechanisms, importing only leaves: fault injection, which each layer consults.
pub mod chaos;
// Mechanisms and their registries: they import only shared modules and leaves.
//
// `breaker`, `bulkhead`, `timeout` (and `report` below) share their names with functions at the
// root (`coord::breaker(name)`, `coord::report()`, ...), so they are compatibility paths, hidden
// from the docs: each of their items has one documented home, at the root, in `limits`, or in
// `breakers` / `bulkheads` below.
#[doc(hidden)]
pub mod breaker;
#[doc(hidden)]
pub mod bulkhead;
pub mod errors;
#[doc(hidden)]
pub mod hedge;
mod objective;
pub mod perf;
pub mod rate_limit;
pub mod retry;
#[doc(hidden)]
pub mod timeout;
pub mod validate;
// Composition: where the mechanisms meet.
mod compose;
mod fallback;
mod layer;
mod mechanisms;
mod stack;
// Presentation and configuration.
pub mod config;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "otel")]
pub mod otel;
#[doc(hidden)]
pub mod report;
#[cfg(feature = "tower")]
pub mod tower;
// The doors: the only callers of the one-time `COORD_CONFIG` load.
#[doc(hidden)]
pub mod __private;
mod doors;

use std::sync::Arc;

pub use coord_macros::Validate;

#[doc = include_str!("../docs/attributes/retry.md")]
pub use coord_macros::retry;

#[doc = include_str!("../docs/attributes/circuit_breaker.md")]
pub use coord_macros::circuit_breaker;

#[doc = include_str!("../docs/attributes/timeout.md")]
pub use coord_macros::timeout;

#[doc = include_str!("../docs/attributes/bulkhead.md")]
pub use coord_macros::bulkhead;

#[doc = include_str!("../docs/attributes/rate_limit.md")]
pub use coord_macros::rate_limit;

#[doc = include_str!("../docs/attributes/fallback.md")]
pub use coord_macros::fallback;

#[doc = include_str!("../docs/attributes/hedge.md")]
pub use coord_macros::hedge;
#[doc = include_str!("../docs/attributes/track_performance.md")]
pub use coord_macros::track_performance;

pub use breaker::{
    BreakerConfig, BreakerConfigError, BreakerState, CircuitBreaker, CircuitOpen, Window,
};
pub use bulkhead::{Bulkhead, BulkheadConfig, BulkheadConfigError, BulkheadFull};
// Compatibility paths of types whose one documented home is their module
// (`coord::breakers`, `coord::bulkheads`, `coord::rate_limit`): reached through the daily types,
// rarely named.
#[doc(hidden)]
pub use breaker::BreakerSnapshot;
#[doc(hidden)]
pub use bulkhead::{BulkheadAcquire, BulkheadPermit, BulkheadSnapshot, OwnedBulkheadPermit};
pub use clock::{Clock, FakeClock, timer};
pub use compose::error_report::ErrorReport;
pub use doors::handler::{ErrorContext, ErrorHandler, NoBreaker};
pub use doors::limits;
pub use doors::{
    breaker, breaker_with, error_report, monitor, operation, report, reset, retry_policy, rules,
    validator,
};
pub use errors::Severity;
pub use hedge::{Hedge, HedgeConfig};
pub use objective::{Objective, ObjectiveError};
pub use outcome::{Outcome, StatusRule};
pub use perf::{
    HealthThresholds, MonitorConfig, MonitorConfigError, OperationGuard, OperationStats,
    PerformanceMonitor, PerformanceReport, SystemHealth, SystemSample,
};
pub use rate_limit::{
    OnFailure, RateLimitConfig, RateLimitConfigError, RateLimited, RateLimiter, SharedConfig,
};
#[doc(hidden)]
pub use rate_limit::{RateLimitSnapshot, SharedSnapshot};
pub use recording::{enabled, set_enabled};
pub use report::{Report, ReportError, TimeoutCount};
pub use retry::{BudgetConfig, Jitter, RetryPolicy, register_policy};
pub use status::HealthStatus;
pub use timeout::{TimedOut, timeout, timeout_at};
pub use validate::{
    FieldError, RuleError, RuleLoadError, RuleRegistry, RuleSet, Validate, ValidationReport,
    ValidationResult, Validator,
};

// The gate layers' registry lookups: doors, so each loads `COORD_CONFIG` first.

doors! {
    /// The bulkhead called `name`, created with [`BulkheadConfig::default`] on first use.
    ///
    /// The registry holds at most [`limits::max_bulkheads`] names; a new name past the cap gets the
    /// one shared bulkhead [`limits::OVERFLOW_NAME`] (with the default configuration), and is
    /// counted in [`limits::dropped_names`].
    pub fn bulkhead(name: &str) -> Arc<Bulkhead> => bulkhead::bulkhead(name);

    /// The bulkhead called `name` with `config`: created with it, or reconfigured if it exists (the
    /// last configuration applied wins). A name past the registry's cap gets the shared overflow
    /// bulkhead, which keeps its own configuration.
    pub fn bulkhead_with(name: &str, config: BulkheadConfig)
        -> Result<Arc<Bulkhead>, BulkheadConfigError>
        => bulkhead::bulkhead_with(name, config);

    /// The hedge called `name`, created with [`HedgeConfig::default`] on first use (hedging after
    /// the 95th percentile of recent latency, once). Its numbers are in the report and on
    /// `/metrics` (`coord_hedge_*`).
    ///
    /// The registry holds at most [`limits::max_hedges`] names; a new name past the cap gets the
    /// one shared hedge [`limits::OVERFLOW_NAME`], and is counted in [`limits::dropped_names`].
    pub fn hedge(name: &str) -> Arc<Hedge> => hedge::hedge(name);

    /// The hedge called `name` with `config`: created with it, or reconfigured if it exists (the
    /// last configuration applied wins).
    pub fn hedge_with(name: &str, config: HedgeConfig)
        -> Result<Arc<Hedge>, hedge::HedgeConfigError>
        => hedge::hedge_with(name, config);

    /// The rate limiter called `name`, created with [`RateLimitConfig::default`] on first use.
    ///
    /// The registry holds at most [`limits::max_rate_limiters`] names; a new name past the cap gets
    /// the one shared rate limiter [`limits::OVERFLOW_NAME`] (with the default configuration), and
    /// is counted in [`limits::dropped_names`].
    pub fn rate_limiter(name: &str) -> Arc<RateLimiter> => rate_limit::rate_limiter(name);

    /// The rate limiter called `name` with `config`: created with it, or reconfigured if it exists
    /// (the last configuration applied wins). A name past the registry's cap gets the shared
    /// overflow rate limiter, which keeps its own configuration.
    pub fn rate_limiter_with(name: &str, config: RateLimitConfig)
        -> Result<Arc<RateLimiter>, RateLimitConfigError>
        => rate_limit::rate_limiter_with(name, config);
}

/// Circuit breakers beyond the daily API at the root ([`breaker()`], [`breaker_with()`],
/// [`CircuitBreaker`], [`BreakerConfig`], ...): registry reads, keyed breakers (one breaker per
/// key value, `#[circuit_breaker(key = expr)]`) and their limits. The caps are in [`limits`].
pub mod breakers {
    pub use crate::breaker::{
        BreakerSnapshot, Classifier, DEFAULT_MAX_GROUPS, DEFAULT_MAX_KEYS, KeyedBreakers,
        KeyedSnapshot, MAX_KEY_TEXT, OVERFLOW_KEY, Permit, all, find, find_keyed, keyed_groups,
        open_count,
    };
    pub use crate::doors::keyed;
}

/// Service-level objectives as code: see [`Objective`] to declare one. Operations join an
/// objective with `#[track_performance(objective = "name")]`, the tower layer's
/// `CoordLayer::objective`, or [`join`](objectives::join); the report carries each objective's
/// compliance, error budget and burn rates; [`prometheus_rules`](objectives::prometheus_rules)
/// renders the recording rules and burn-rate alerts.
pub mod objectives {
    pub use crate::doors::prometheus_rules;
    pub use crate::objective::{
        AlertSeverity, AlertState, BURN_ALERTS, BurnAlert, DEFAULT_MAX_OBJECTIVES, DEFAULT_PERIOD,
        Indicator, MAX_NAME_BYTES, MAX_PERIOD, MIN_PERIOD, Objective, ObjectiveError,
        ObjectiveSnapshot, SliSnapshot, WINDOWS, WindowCompliance, bucket_bound, declared,
        dropped_names, find, join, max_objectives, readiness, set_clock, set_max_objectives,
        set_readiness,
    };
}

/// Hedged requests beyond the daily API at the root ([`Hedge`], [`HedgeConfig`], [`hedge()`],
/// [`hedge_with()`]): see [`Hedge::run`].
pub mod hedges {
    pub use crate::hedge::{
        HedgeAfter, HedgeConfigError, HedgeSnapshot, MAX_EXTRA, RECENT_SAMPLES, RECOMPUTE_EVERY,
        find, snapshots,
    };
}

/// Bulkheads beyond the daily API at the root ([`bulkhead()`], [`bulkhead_with()`],
/// [`Bulkhead`], [`BulkheadConfig`], [`BulkheadFull`]): registry reads, the permits and the
/// largest `max_concurrent`. The caps are in [`limits`].
pub mod bulkheads {
    pub use crate::bulkhead::{
        AdaptiveLimit, Algorithm, BulkheadAcquire, BulkheadPermit, BulkheadSnapshot, Limiter,
        MAX_CONCURRENT, MIN_WINDOW_SAMPLES, OwnedBulkheadPermit, Sample, find, snapshots,
    };
}
