//! The rate limiter registry: every named rate limiter, created on first use and never removed
//! (up to a cap), so handles cached by call sites stay valid. The functions are those of every
//! mechanism's registry, written once in [`crate::capped::registry`].

use std::sync::Arc;

use super::{RateLimitConfig, RateLimitConfigError, RateLimitSnapshot, RateLimiter, clock};

crate::capped::registry! {
    RateLimiter { config: RateLimitConfig, error: RateLimitConfigError, snapshot: RateLimitSnapshot }
    noun: "rate limiter", default_cap: DEFAULT_MAX_RATE_LIMITERS = 1_000,
    get: rate_limiter, get_with: rate_limiter_with, max: max_rate_limiters,
    set_max: set_max_rate_limiters,
    make: |name: Arc<str>, config| RateLimiter::unchecked(name, config, clock::Source::system()),
    /// Resets every rate limiter ([`RateLimiter::reset`]) and the dropped-name count, for
    /// [`crate::reset`]. Limiters and their configurations stay, so cached handles keep working.
    reset: RateLimiter::reset,
}
