//! What a shared limiter is configured with, the script it runs and what it reports.

use std::time::Duration;

use super::super::RateLimitConfigError;
use super::super::config::at_least_one;

/// The Lua script a shared limiter runs (by its SHA-1, `EVALSHA`) for each admission: GCRA on
/// Redis's clock, in microseconds (a double holds today's microseconds exactly).
/// `KEYS[1]`: the arrival time of the next call. `ARGV`: spacing, tolerance, longest wait (all
/// µs) and the most permits to take at once. Answers `{permits, wait}`: `permits` admitted
/// after `wait` µs, or `{0, retry_after}`. The key expires once its time has passed: a missing
/// key is a full burst, exactly what a past arrival time means.
pub const SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = tonumber(stored) or now end
local start = math.max(tat, now)
local wait = start - now - tolerance
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, math.ceil(wait)} end
local n = 1
if wait == 0 and want > 1 then
  n = math.min(want, math.floor((now + tolerance - start) / interval) + 1)
end
local next_tat = start + n * interval
redis.call('SET', KEYS[1], string.format('%.17g', next_tat),
  'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {n, math.ceil(wait)}
";

/// The environment variable naming the Redis of shared limiters that name none.
pub const REDIS_URL_VAR: &str = "COORD_REDIS_URL";

/// What a shared rate limiter does with a call Redis did not answer within the timeout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnFailure {
    /// Fail open: decide the call on a local limiter at this instance's share of the rate
    /// (`rate` per `per × instances`). The default: a Redis outage slows the fleet to its
    /// expected total instead of stopping it.
    #[default]
    Open,
    /// Fail closed: reject the call (for quotas that must never be exceeded).
    Closed,
}

/// The shared backend of a rate limiter: where its quota lives and how it behaves when Redis
/// does not answer. Builder methods are named like the keys of `shared: { ... }` in
/// `coord.yaml`.
///
/// ```
/// use std::time::Duration;
/// use coord::{OnFailure, RateLimitConfig, SharedConfig};
///
/// let shared = SharedConfig::default()
///     .url("redis://127.0.0.1:6379/")
///     .instances(4)
///     .timeout(Duration::from_millis(20));
/// let config = RateLimitConfig::default().rate(100).shared_with(shared);
/// assert!(config.validate().is_ok());
/// assert_eq!(config.shared.unwrap().on_failure, OnFailure::Open);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedConfig {
    /// The Redis URL (`redis://[user:password@]host:port/db` or `unix:///path`; no TLS); `None`
    /// (the default) reads `COORD_REDIS_URL` when the limiter is made. With neither, the
    /// limiter decides every call locally, as when Redis is down.
    pub url: Option<String>,
    /// How many instances are expected to share the quota (default 1): the local fallback
    /// admits `rate` per `per × instances`. Set it to the fleet's size: with 1, an outage
    /// lets every instance admit the whole rate (a warning says so once).
    pub instances: u64,
    /// What a call Redis does not answer in time gets (default [`OnFailure::Open`]).
    pub on_failure: OnFailure,
    /// The longest a call waits for Redis (default 50 ms), connecting included.
    pub timeout: Duration,
    /// Permits taken per round trip when that many are free now (default 1). With `k > 1` an
    /// instance holds up to `k - 1` permits for its later callers (dropped unused after one
    /// `per`), so a round trip serves up to `k` calls. The cost in accuracy: a held permit is
    /// spent later than its turn, so in any window the fleet may admit up to `(k - 1) ×
    /// instances` calls more than `rate` (plus `burst`) allows; and a quiet instance may hold
    /// permits a busy one could have used, admitting as many fewer. Only permits free *now*
    /// are batched: a call that has to wait or is rejected is one round trip.
    pub batch: u64,
}

impl Default for SharedConfig {
    fn default() -> Self {
        Self {
            url: None,
            instances: 1,
            on_failure: OnFailure::Open,
            timeout: Duration::from_millis(50),
            batch: 1,
        }
    }
}

impl SharedConfig {
    /// Sets the Redis URL.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    setters! {
        /// Sets how many instances share the quota.
        pub fn instances(instances: u64);

        /// Sets what a call gets when Redis does not answer in time.
        pub fn on_failure(on_failure: OnFailure);

        /// Sets the longest a call waits for Redis.
        pub fn timeout(timeout: Duration);

        /// Sets the permits taken per round trip.
        pub fn batch(batch: u64);
    }

    /// Checks the URL's form, that `instances` and `batch` are at least 1 and the timeout is
    /// longer than zero and at most [`MAX_TIMEOUT`].
    pub fn validate(&self) -> Result<(), RateLimitConfigError> {
        at_least_one("shared.instances", self.instances)?;
        at_least_one("shared.batch", self.batch)?;
        let fail = |key, message: String| Err(RateLimitConfigError { key, message });
        if self.timeout.is_zero() {
            return fail("shared.timeout", "must be longer than zero".into());
        }
        if self.timeout > MAX_TIMEOUT {
            return fail(
                "shared.timeout",
                format!(
                    "{:?} is over the {MAX_TIMEOUT:?} a caller may be held",
                    self.timeout
                ),
            );
        }
        if let Some(url) = &self.url {
            check_url(url).map_err(|message| RateLimitConfigError {
                key: "shared.url",
                message,
            })?;
        }
        Ok(())
    }
}

/// The longest [`SharedConfig::timeout`]: a caller held longer by a rate limiter is hung.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks a Redis URL's form without connecting.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    // No `rediss://`: the `redis` feature builds the client without TLS.
    const SCHEMES: [&str; 3] = ["redis://", "unix://", "redis+unix://"];
    let Some(rest) = SCHEMES.iter().find_map(|scheme| url.strip_prefix(scheme)) else {
        return Err(format!(
            "`{}` is not a Redis URL; expected redis://host:port/db or unix:///path (no TLS)",
            redact(url)
        ));
    };
    if rest.is_empty() || rest.starts_with('/') && !url.contains("unix://") {
        return Err(format!("`{}` names no host", redact(url)));
    }
    #[cfg(feature = "redis")]
    super::redis::check_url(url).map_err(|why| format!("`{}`: {why}", redact(url)))?;
    Ok(())
}

/// `url` without its password, for logs and reports.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            let user = if user.is_empty() { "" } else { user };
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => url.to_owned(),
    }
}

/// A shared limiter's numbers in the report: which backend, whether it answers, and what its
/// round trips cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct SharedSnapshot {
    /// The Redis URL without its password; `None` when none is configured (every call is then
    /// decided locally).
    pub backend: Option<String>,
    /// `"redis"` while Redis answers, `"fallback"` while calls are decided locally (Redis
    /// failed, is in back-off, or no backend is configured or compiled in).
    pub state: &'static str,
    /// What a call Redis does not answer gets.
    pub on_failure: OnFailure,
    /// Instances expected to share the quota.
    pub instances: u64,
    /// Permits taken per round trip.
    pub batch: u64,
    /// Round trips Redis answered.
    pub redis_calls: u64,
    /// Time those round trips took (serialized as `redis_latency_total_ms`).
    #[serde(rename = "redis_latency_total_ms", with = "crate::serde_ms::ms")]
    pub redis_latency_total: Duration,
    /// Round trips that failed other than by time: refused or broken connections, server
    /// errors (Redis unreachable or unhealthy).
    pub redis_errors: u64,
    /// Round trips Redis did not answer within the timeout (Redis slow or unreachable). Calls
    /// this process queued too long to send are not counted here but in `fallbacks`.
    pub redis_timeouts: u64,
    /// Times the script was loaded again after Redis forgot it (`NOSCRIPT`).
    pub script_loads: u64,
    /// Calls decided locally (admitted or rejected): Redis failed, was in back-off, or the
    /// round trip was not sent in time.
    pub fallbacks: u64,
    /// Of those, the calls rejected locally (fail-closed, or this instance's share spent):
    /// not counted in the limiter's `rejected`, which counts the fleet's quota only.
    pub fallback_rejected: u64,
    /// Calls admitted from permits a batched round trip took.
    pub batched: u64,
}
