//! What a rate limiter is configured with, and its two errors: a configuration refused, a call
//! rejected.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::SharedConfig;

/// How a rate limiter spaces calls. Builder methods are named like the keys of
/// `#[rate_limit(...)]`.
///
/// ```
/// use std::time::Duration;
/// use coord::RateLimitConfig;
///
/// let config = RateLimitConfig::default().rate(5).per(Duration::from_secs(1)).burst(1);
/// assert!(config.validate().is_ok());
/// assert!(RateLimitConfig::default().rate(0).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Calls admitted per period on average (default 100).
    pub rate: u64,
    /// The period (default 1 s).
    pub per: Duration,
    /// Calls admitted at once after a quiet spell (default 10, at least 1).
    pub burst: u64,
    /// How long a call may wait for its turn before it is rejected (default zero: reject at
    /// once). `Duration::MAX` waits as long as it takes.
    pub max_wait: Duration,
    /// Fleet-wide: the quota lives in Redis and every instance naming this limiter draws on it
    /// (see [`shared`](super::shared)); `None` (the default): this process only.
    pub shared: Option<SharedConfig>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            rate: u64::from(coord_limits::rate_limit::DEFAULT_RATE),
            per: Duration::from_secs(1),
            burst: 10,
            max_wait: Duration::ZERO,
            shared: None,
        }
    }
}

impl RateLimitConfig {
    setters! {
        /// Sets the calls admitted per period.
        pub fn rate(rate: u64);

        /// Sets the period.
        pub fn per(per: Duration);

        /// Sets the burst size.
        pub fn burst(burst: u64);

        /// Sets how long a call may wait for its turn.
        pub fn max_wait(max_wait: Duration);
    }

    /// Shares the quota across the fleet through Redis with the default [`SharedConfig`]
    /// (`COORD_REDIS_URL`, fail-open at the full rate), or (`false`) keeps it in this process.
    /// What `#[rate_limit(shared = true)]` sets.
    #[must_use]
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = shared.then(SharedConfig::default);
        self
    }

    /// Shares the quota across the fleet through the Redis and failure behaviour of `shared`.
    #[must_use]
    pub fn shared_with(mut self, shared: SharedConfig) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Checks that `rate` and `burst` are at least 1, that calls are spaced at least a
    /// nanosecond apart (`per / rate`; a microsecond for a shared limiter, whose script counts
    /// in microseconds since the epoch), and the [`SharedConfig`] if any.
    pub fn validate(&self) -> Result<(), RateLimitConfigError> {
        at_least_one("rate", self.rate)?;
        at_least_one("burst", self.burst)?;
        let fail = |key, message: String| Err(RateLimitConfigError { key, message });
        if self.per.as_nanos() < u128::from(self.rate) {
            return fail(
                "per",
                format!(
                    "{:?} for {} calls spaces them less than 1ns apart",
                    self.per, self.rate
                ),
            );
        }
        match &self.shared {
            Some(shared) => {
                if self.per.as_nanos() < u128::from(self.rate).saturating_mul(1_000) {
                    return fail(
                        "per",
                        format!(
                            "{:?} for {} calls spaces them less than 1µs apart, finer than a \
                             shared limiter counts in Redis",
                            self.per, self.rate
                        ),
                    );
                }
                shared.validate()
            }
            None => Ok(()),
        }
    }

    /// The spacing of calls and the tolerance (how early a call may come), in nanoseconds.
    pub(super) fn gcra(&self) -> (u64, u64) {
        let interval = (self.per.as_nanos() / u128::from(self.rate.max(1))).max(1);
        let interval = u64::try_from(interval).unwrap_or(u64::MAX);
        (
            interval,
            interval.saturating_mul(self.burst.saturating_sub(1)),
        )
    }
}

config_error! {
    /// A [`RateLimitConfig`] value out of range.
    pub struct RateLimitConfigError: "rate limit", as in "#[rate_limit(rate = ...)]";
}

/// Refuses a count of zero: a limiter's rate, burst, instances and batch are each at least 1.
pub(super) fn at_least_one(key: &'static str, value: u64) -> Result<(), RateLimitConfigError> {
    if value == 0 {
        let message = "must be at least 1".into();
        return Err(RateLimitConfigError { key, message });
    }
    Ok(())
}

/// The error of a call a rate limiter rejected without running it.
///
/// Displays like `rate limit 'api' exceeded; next call admitted in 12.3ms`. A rejection, not a
/// failure of the guarded code: retry layers must not retry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimited {
    pub(super) name: Arc<str>,
    pub(super) retry_after: Duration,
    pub(super) fallback: bool,
}

impl RateLimited {
    /// The rate limiter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long until a call would be admitted (if nobody else takes the turn first).
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Whether a shared limiter rejected the call locally because Redis gave no answer
    /// (fail-closed, or this instance's share of the rate spent), not because the fleet's
    /// quota was exceeded.
    pub fn is_fallback(&self) -> bool {
        self.fallback
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = if self.fallback {
            " (decided locally: Redis gave no answer)"
        } else {
            ""
        };
        write!(
            f,
            "rate limit '{}' exceeded{why}; next call admitted in {:.1}ms",
            self.name,
            self.retry_after.as_secs_f64() * 1e3
        )
    }
}

impl std::error::Error for RateLimited {}
