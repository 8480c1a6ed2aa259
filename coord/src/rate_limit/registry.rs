//! The rate limiter registry: every named rate limiter, created on first use and never removed
//! (up to a cap), so handles cached by call sites stay valid.

use std::sync::{Arc, LazyLock};

use super::{RateLimitConfig, RateLimitConfigError, RateLimitSnapshot, RateLimiter, clock};
use crate::capped::{Capped, Configurable};

/// Default cap on the number of named rate limiters in the registry (see [`rate_limiter`]).
pub const DEFAULT_MAX_RATE_LIMITERS: usize = 1_000;

/// The name of the one rate limiter shared by every name past the registry's cap.
pub const OVERFLOW_NAME: &str = crate::capped::OVERFLOW_NAME;

impl Configurable for RateLimiter {
    type Config = RateLimitConfig;
    type Error = RateLimitConfigError;

    fn validate(config: &RateLimitConfig) -> Result<(), RateLimitConfigError> {
        config.validate()
    }

    fn make(name: Arc<str>, config: RateLimitConfig) -> Self {
        RateLimiter::unchecked(name, config, clock::Source::system())
    }

    fn configure(&self, config: RateLimitConfig) -> Result<(), RateLimitConfigError> {
        RateLimiter::configure(self, config)
    }
}

static REGISTRY: LazyLock<Capped<RateLimiter>> =
    LazyLock::new(|| Capped::new("rate limiter", DEFAULT_MAX_RATE_LIMITERS));

/// The rate limiter called `name`, created with [`RateLimitConfig::default`] on first use.
///
/// The registry holds at most [`max_rate_limiters`] names ([`DEFAULT_MAX_RATE_LIMITERS`] unless
/// [`set_max_rate_limiters`] changed it); a new name past the cap gets the one shared limiter
/// [`OVERFLOW_NAME`] (with the default configuration), and is counted in [`dropped_names`].
pub fn rate_limiter(name: &str) -> Arc<RateLimiter> {
    REGISTRY.get(name)
}

/// The rate limiter called `name` with `config`: created with it, or reconfigured if it exists
/// (the last configuration applied wins; the same one again changes nothing). A name past the
/// registry's cap gets the shared overflow limiter, which keeps its own configuration.
pub fn rate_limiter_with(
    name: &str,
    config: RateLimitConfig,
) -> Result<Arc<RateLimiter>, RateLimitConfigError> {
    REGISTRY.get_with(name, config)
}

/// The rate limiter called `name`, if it has been created (the overflow one is found by
/// [`OVERFLOW_NAME`]).
pub fn find(name: &str) -> Option<Arc<RateLimiter>> {
    REGISTRY.find(name)
}

/// The registry's cap on distinct names.
pub fn max_rate_limiters() -> usize {
    REGISTRY.cap()
}

/// Sets the registry's cap on distinct names. Names already registered stay; a lower cap only
/// stops new ones.
pub fn set_max_rate_limiters(cap: usize) {
    REGISTRY.set_cap(cap);
}

/// How many lookups of a new name found the registry full and got the overflow limiter.
pub fn dropped_names() -> u64 {
    REGISTRY.dropped()
}

/// Every registered rate limiter's numbers, sorted by name, the overflow limiter last.
pub fn snapshots() -> Vec<RateLimitSnapshot> {
    REGISTRY.all().iter().map(|r| r.snapshot()).collect()
}

/// Resets every rate limiter ([`RateLimiter::reset`]) and the dropped-name count, for
/// [`crate::reset`]. Limiters and their configurations stay, so cached handles keep working.
pub fn reset_all() {
    REGISTRY.reset_all(RateLimiter::reset);
}
