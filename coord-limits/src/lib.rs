//! The limits and defaults of coord's resilience layers, in one place. `coord-macros` checks
//! an attribute's literals against them at compile time (`#[circuit_breaker(window = 2000)]`
//! is an error) and `coord` checks a configuration against the same values at run time
//! (`BreakerConfig::validate`, the configuration file), so the two cannot disagree about what
//! is accepted. Each crate words its own errors.
//!
//! The runtime's own limits come from how it stores state (a bulkhead's in-flight count is a
//! 20-bit field of one atomic word, a breaker's probe count an 8-bit one); the runtime asserts
//! at compile time that the values here fit its layout.
//!
//! ```
//! use coord_limits::breaker;
//!
//! assert!((1..=breaker::MAX_WINDOW_CALLS).contains(&breaker::DEFAULT_WINDOW_CALLS));
//! assert!(breaker::DEFAULT_MINIMUM_CALLS <= breaker::DEFAULT_WINDOW_CALLS);
//! ```

#![no_std]
#![forbid(unsafe_code)]

/// `#[circuit_breaker]` and `coord::BreakerConfig`.
pub mod breaker {
    use core::time::Duration;

    /// Largest count-based window, in calls (`window = 1024`); a power of two, the size of the
    /// largest ring of outcomes.
    pub const MAX_WINDOW_CALLS: u32 = 1024;
    /// Most probes a half-open breaker admits at once (`half_open_calls = 255`).
    pub const MAX_HALF_OPEN_CALLS: u32 = 255;
    /// Shortest time-based window (`window = "10ms"`): the window is counted in ten buckets.
    pub const MIN_TIME_WINDOW: Duration = Duration::from_millis(10);
    /// The window when none is given: the last 20 calls.
    pub const DEFAULT_WINDOW_CALLS: u32 = 20;
    /// Calls the window must hold before the breaker may open, when not given.
    pub const DEFAULT_MINIMUM_CALLS: u32 = 10;
    /// How long an open breaker rejects calls before probing, when not given.
    pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);
}

/// `#[bulkhead]` and `coord::BulkheadConfig`.
pub mod bulkhead {
    /// The largest `max_concurrent` (1,048,575 = 2^20 - 1).
    pub const MAX_CONCURRENT: u32 = (1 << 20) - 1;
}

/// `#[retry]` and `coord::RetryPolicy` as the configuration file sets it.
pub mod retry {
    /// The largest `max_retries`: more is a mistake, not a policy.
    pub const MAX_RETRIES: u32 = 1000;
}

/// `#[rate_limit]` and `coord::RateLimitConfig`.
pub mod rate_limit {
    /// Calls per period when `rate` is not given.
    pub const DEFAULT_RATE: u32 = 100;
}

/// Objectives (`#[track_performance(objective = "..")]`, `coord::Objective`).
pub mod objective {
    /// The longest objective name, in bytes.
    pub const MAX_NAME_BYTES: usize = 128;
}

/// `#[hedge]` and `coord::HedgeConfig`.
pub mod hedge {
    /// The most extra attempts one call may start (`max_extra = 4`).
    pub const MAX_EXTRA: u32 = 4;

    /// The quantile (`0.95`) a percentile delay names (`p95`, `p99.9`): `None` when `text` does
    /// not start with `p`, `Some(None)` when the rest is not a percentile strictly between 0
    /// and 100.
    pub fn percentile(text: &str) -> Option<Option<f64>> {
        let percent = text.trim().strip_prefix('p')?;
        Some(match percent.parse::<f64>() {
            Ok(p) if p > 0.0 && p < 100.0 => Some(p / 100.0),
            _ => None,
        })
    }
}
