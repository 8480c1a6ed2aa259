//! Fleet-wide rate limits: the GCRA arrival time kept in Redis, so every instance of a service
//! draws on one quota.
//!
//! A shared limiter decides each call with one round trip: `EVALSHA` of one Lua script (loaded
//! once, reloaded on `NOSCRIPT`) that reads the arrival time, moves it and answers, atomically,
//! on Redis's own clock (`TIME`), so the instances' clocks never need to agree. With
//! [`SharedConfig::batch`] `k > 1` one round trip takes up to `k` permits when they are free
//! now, and the instance hands the rest out locally (see [`SharedConfig::batch`] for the cost).
//!
//! **Sync and async.** A synchronous caller makes the round trip on its own thread, on a
//! blocking connection from a small pool, with the socket's read and write timeouts set to
//! [`SharedConfig::timeout`]. It connects on its own thread only to an IP address or a Unix
//! socket: a host name is resolved by `getaddrinfo`, which has no timeout, so with no idle
//! connection to one the round trip runs on a helper thread while the caller waits at most the
//! timeout. An `async` caller never blocks its executor: the round trip runs on one of a few
//! helper threads per Redis URL, and the caller's future waits for the answer or for the
//! timeout on coord's shared timer, whichever comes first (so it works on any executor). A
//! round trip still queued when less than half its timeout is left is not sent: the call is
//! decided locally, and a healthy Redis is not blamed for a busy process.
//!
//! **When Redis is slow or down.** Every call waits at most the timeout (within a millisecond).
//! A call Redis did not answer in time, or could not be sent, is decided locally by
//! [`OnFailure`]: by default (`Open`) on a local limiter at this instance's share (`rate` per
//! `per × instances`), or (`Closed`) rejected. After a failure the backend is left alone for a
//! back-off (50 ms doubling up to 1 s), while calls go straight to the local decision; then one
//! call probes Redis, and sharing resumes with its first answer. The round trips in flight when
//! Redis went away are one failure, not one back-off step each.
//!
//! **What the numbers say** ([`SharedSnapshot`]): `redis_calls` round trips Redis answered
//! (`redis_latency_total` their time); `redis_errors` round trips that failed for another
//! reason than time (refused, broken, a server error) and `redis_timeouts` the ones that ran out
//! of time: both mean Redis is unhealthy or unreachable. `fallbacks` calls decided locally (in
//! back-off, after a failure, or never sent because the process queued them too long), of which
//! `fallback_rejected` were rejected locally; those rejections are not in the limiter's
//! `rejected` (the fleet's quota), and their [`RateLimited::is_fallback`] is true.

use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Counters, RateLimitConfig, RateLimited, RateLimiter, Refusal, clock};

mod admit;
mod config;
#[cfg(feature = "redis")]
mod redis;

pub use admit::SharedAdmit;
pub use config::{MAX_TIMEOUT, OnFailure, REDIS_URL_VAR, SCRIPT, SharedConfig, SharedSnapshot};
pub(crate) use config::{check_url, redact};
#[cfg(feature = "redis")]
use redis::Backend;

/// Without the `redis` feature there is no backend: a shared limiter always decides locally.
#[cfg(not(feature = "redis"))]
pub(crate) enum Backend {}

/// What Redis answered: `admitted` permits (0: rejected) after `wait_us` (or, rejected, the
/// time until a call would be admitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) admitted: u64,
    pub(crate) wait_us: u64,
    /// The round trip's own time, measured around it on the thread that made it: not the
    /// time a job queued for a helper, so a busy process does not make Redis look slow.
    pub(crate) rtt_nanos: u64,
}

/// Why a round trip gave no answer.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// No answer within the timeout.
    Timeout,
    /// Anything else: refused connection, broken pipe, a server error.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Error(String),
    /// Not sent, for a reason of this process (it queued too long, no helper thread): not
    /// Redis's failure.
    NotAsked(&'static str),
    /// No idle connection, and this caller may not connect (a host name is resolved without a
    /// timeout): a helper thread makes the round trip.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    NoConnection,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer within the timeout"),
            Self::Error(why) => f.write_str(why),
            Self::NotAsked(why) => write!(f, "not sent: {why}"),
            Self::NoConnection => f.write_str("no idle connection"),
        }
    }
}

/// The arguments of one round trip.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Ask<'a> {
    pub(crate) key: &'a str,
    pub(crate) interval_us: f64,
    pub(crate) tolerance_us: f64,
    pub(crate) max_wait_us: f64,
    pub(crate) want: u64,
    pub(crate) deadline: Instant,
    /// The configured timeout (`deadline` is at most this far from the call's start).
    pub(crate) timeout: Duration,
    /// Whether this round trip is the probe after a back-off.
    pub(crate) probe: bool,
}

/// A shared limiter's numbers, kept by the limiter (not its [`Shared`], which a reconfigure
/// rebuilds): a Prometheus counter never goes back.
#[derive(Default)]
pub(crate) struct Stats {
    calls: AtomicU64,
    latency_nanos: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    fallbacks: AtomicU64,
    pub(crate) fallback_rejected: AtomicU64,
    batched: AtomicU64,
}

impl Stats {
    pub(crate) fn reset(&self) {
        for counter in [
            &self.calls,
            &self.latency_nanos,
            &self.errors,
            &self.timeouts,
            &self.fallbacks,
            &self.fallback_rejected,
            &self.batched,
        ] {
            counter.store(0, Relaxed);
        }
    }
}

/// Permits a batched round trip took and not yet handed out, valid until `until`.
#[derive(Default)]
struct Held {
    permits: u64,
    until: Option<Instant>,
}

/// The shared part of a rate limiter: its backend, its fallback and its numbers.
pub(crate) struct Shared {
    name: Arc<str>,
    counters: Arc<Counters>,
    key: String,
    config: SharedConfig,
    url: Option<String>,
    interval_us: f64,
    tolerance_us: f64,
    /// The local limiter at this instance's share, for calls Redis does not decide.
    fallback: RateLimiter,
    backend: Option<Arc<Backend>>,
    held: Mutex<Held>,
    /// How long held permits stay valid: the limiter's period.
    period: Duration,
    /// Whether the warning about failing open at the whole rate was given.
    warned_open: AtomicBool,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("key", &self.key)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How a call is decided: admitted after a wait (nanoseconds, 0: now) or refused.
pub(crate) type Verdict = Result<u64, Refusal>;

/// The key of a limiter's arrival time in Redis.
pub(crate) fn key_of(name: &str) -> String {
    format!("coord:rate_limit:{{{name}}}")
}

impl Shared {
    /// The shared part of limiter `name` with `config` (checked), counting into `counters`.
    pub(crate) fn new(
        name: &Arc<str>,
        config: &RateLimitConfig,
        shared: SharedConfig,
        counters: &Arc<Counters>,
    ) -> Self {
        let url = shared.url.clone().or_else(|| {
            std::env::var(REDIS_URL_VAR)
                .ok()
                .filter(|u| !u.trim().is_empty())
        });
        let backend = url.as_deref().and_then(|url| connect_backend(name, url));
        if url.is_none() {
            tracing::warn!(
                target: "coord::rate_limit",
                rate_limiter = &**name,
                "shared rate limiter has no Redis URL (neither configured nor {REDIS_URL_VAR}); \
                 every call is decided locally"
            );
        }
        let (interval, tolerance) = config.gcra();
        // This instance's share: the same rate over `instances` periods.
        let per = config
            .per
            .checked_mul(u32::try_from(shared.instances).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX);
        let local = RateLimitConfig {
            per,
            burst: (config.burst / shared.instances).max(1),
            shared: None,
            ..config.clone()
        };
        Self {
            name: Arc::clone(name),
            counters: Arc::clone(counters),
            key: key_of(name),
            url,
            interval_us: interval as f64 / 1e3,
            tolerance_us: tolerance as f64 / 1e3,
            fallback: RateLimiter::unchecked(Arc::clone(name), local, clock::Source::system()),
            backend,
            held: Mutex::new(Held::default()),
            period: config.per,
            warned_open: AtomicBool::new(false),
            config: shared,
        }
    }

    /// Decides a call that may wait up to `max_wait` ns, blocking this thread on Redis for at
    /// most the timeout. Never sleeps for the wait itself.
    pub(crate) fn reserve(self: &Arc<Self>, max_wait: u64) -> Verdict {
        if self.take_held() {
            return Ok(0);
        }
        match self.begin() {
            Some((backend, probe)) => {
                let started = Instant::now();
                let answer = self.ask_backend(backend, max_wait, started, probe);
                self.finish(answer, max_wait)
            }
            None => self.fall_back(max_wait),
        }
    }

    /// The backend, if a round trip should be made now (not in back-off), and whether it is
    /// the probe after a back-off.
    fn begin(&self) -> Option<(&Arc<Backend>, bool)> {
        let backend = self.backend.as_ref()?;
        backend.try_begin().map(|probe| (backend, probe))
    }

    fn ask_backend(
        self: &Arc<Self>,
        backend: &Arc<Backend>,
        max_wait: u64,
        started: Instant,
        probe: bool,
    ) -> Result<Grant, Failure> {
        let ask = self.ask(max_wait, started, probe);
        match backend.eval(&ask, false) {
            Err(Failure::NoConnection) => admit::spawn_ask(self, backend, max_wait, started, probe)
                .and_then(|slot| slot.wait(ask.deadline)),
            answer => answer,
        }
    }

    fn ask(&self, max_wait: u64, started: Instant, probe: bool) -> Ask<'_> {
        Ask {
            key: &self.key,
            interval_us: self.interval_us,
            tolerance_us: self.tolerance_us,
            max_wait_us: max_wait as f64 / 1e3,
            want: self.config.batch,
            deadline: started.checked_add(self.config.timeout).unwrap_or(started),
            timeout: self.config.timeout,
            probe,
        }
    }

    fn stats(&self) -> &Stats {
        &self.counters.shared
    }

    /// Turns an answer (or its absence) into a verdict, counting it.
    fn finish(&self, answer: Result<Grant, Failure>, max_wait: u64) -> Verdict {
        let stats = self.stats();
        match answer {
            Ok(grant) => {
                stats.calls.fetch_add(1, Relaxed);
                let _ = stats.latency_nanos.fetch_update(Relaxed, Relaxed, |t| {
                    Some(t.saturating_add(grant.rtt_nanos))
                });
                let wait = grant.wait_us.saturating_mul(1_000);
                if grant.admitted == 0 {
                    return Err(Refusal::quota(wait));
                }
                if grant.admitted > 1 {
                    self.hold(grant.admitted - 1);
                }
                Ok(wait)
            }
            Err(failure) => {
                match failure {
                    Failure::Timeout => stats.timeouts.fetch_add(1, Relaxed),
                    Failure::Error(_) => stats.errors.fetch_add(1, Relaxed),
                    Failure::NotAsked(_) | Failure::NoConnection => 0,
                };
                tracing::debug!(
                    target: "coord::rate_limit",
                    rate_limiter = &*self.name,
                    failure = %failure,
                    "shared rate limiter: Redis gave no answer; deciding locally"
                );
                self.fall_back(max_wait)
            }
        }
    }

    /// Decides a call locally, by [`OnFailure`].
    fn fall_back(&self, max_wait: u64) -> Verdict {
        self.stats().fallbacks.fetch_add(1, Relaxed);
        match self.config.on_failure {
            OnFailure::Open => {
                if self.config.instances == 1 && !self.warned_open.swap(true, Relaxed) {
                    tracing::warn!(
                        target: "coord::rate_limit",
                        rate_limiter = &*self.name,
                        "shared rate limiter fails open with `instances` 1: while Redis gives no \
                         answer, every instance admits the whole rate; set `instances` to the \
                         fleet's size"
                    );
                }
                self.fallback.reserve(max_wait).map_err(Refusal::fallback)
            }
            OnFailure::Closed => Err(Refusal::fallback(
                self.backend
                    .as_ref()
                    .map_or(0, |backend| backend.retry_in_nanos())
                    .max(crate::clock::saturating_nanos(self.config.timeout)),
            )),
        }
    }

    fn hold(&self, permits: u64) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        // Never more than `k - 1` held: what bounds the fleet's excess in any window.
        held.permits = held
            .permits
            .saturating_add(permits)
            .min(self.config.batch.saturating_sub(1));
        held.until = Instant::now().checked_add(self.period);
    }

    fn take_held(&self) -> bool {
        if self.config.batch <= 1 {
            return false;
        }
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.permits == 0 {
            return false;
        }
        if held.until.is_none_or(|until| Instant::now() > until) {
            held.permits = 0;
            return false;
        }
        held.permits -= 1;
        drop(held);
        self.stats().batched.fetch_add(1, Relaxed);
        true
    }

    /// A refusal counted on the limiter.
    pub(crate) fn reject(&self, refusal: Refusal) -> RateLimited {
        self.counters.reject(&self.name, refusal)
    }

    /// A wait counted on the limiter.
    pub(crate) fn record_wait(&self, wait: u64) -> Duration {
        self.counters.record_wait(wait)
    }

    /// Forgets local state (held permits, the fallback's arrival time); the fleet's arrival
    /// time in Redis stays, since other instances count on it. The limiter zeroes the numbers.
    pub(crate) fn reset(&self) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Held::default();
        self.fallback.reset();
    }

    /// What the local fallback could admit at once now.
    pub(crate) fn fallback_available(&self) -> u64 {
        self.fallback.snapshot().available
    }

    /// The shared numbers now.
    pub(crate) fn snapshot(&self) -> SharedSnapshot {
        let s = self.stats();
        let up = self.backend.as_ref().is_some_and(|backend| backend.is_up());
        SharedSnapshot {
            backend: self.url.as_deref().map(redact),
            state: if up { "redis" } else { "fallback" },
            on_failure: self.config.on_failure,
            instances: self.config.instances,
            batch: self.config.batch,
            redis_calls: s.calls.load(Relaxed),
            redis_latency_total: Duration::from_nanos(s.latency_nanos.load(Relaxed)),
            redis_errors: s.errors.load(Relaxed),
            redis_timeouts: s.timeouts.load(Relaxed),
            script_loads: self
                .backend
                .as_ref()
                .map_or(0, |backend| backend.script_loads()),
            fallbacks: s.fallbacks.load(Relaxed),
            fallback_rejected: s.fallback_rejected.load(Relaxed),
            batched: s.batched.load(Relaxed),
        }
    }
}

#[cfg(feature = "redis")]
fn connect_backend(name: &str, url: &str) -> Option<Arc<Backend>> {
    match Backend::for_url(url) {
        Ok(backend) => Some(backend),
        Err(why) => {
            tracing::warn!(
                target: "coord::rate_limit",
                rate_limiter = name,
                "shared rate limiter: {why}; every call is decided locally"
            );
            None
        }
    }
}

#[cfg(not(feature = "redis"))]
fn connect_backend(name: &str, _: &str) -> Option<Arc<Backend>> {
    tracing::warn!(
        target: "coord::rate_limit",
        rate_limiter = name,
        "shared rate limiter: coord was built without its `redis` feature; every call is decided locally"
    );
    None
}

#[cfg(not(feature = "redis"))]
impl Backend {
    fn try_begin(&self) -> Option<bool> {
        match *self {}
    }
    fn retry_in_nanos(&self) -> u64 {
        match *self {}
    }
    fn is_up(&self) -> bool {
        match *self {}
    }
    fn script_loads(&self) -> u64 {
        match *self {}
    }
    fn eval(&self, _: &Ask<'_>, _: bool) -> Result<Grant, Failure> {
        match *self {}
    }
    fn spawn(&self, _: Box<dyn FnOnce() + Send>) -> Result<(), &'static str> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_report() {
        assert_eq!(
            redact("redis://:hunter2@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
        assert_eq!(
            redact("redis://app:hunter2@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
        assert_eq!(redact("redis://cache:6379/0"), "redis://cache:6379/0");
    }

    #[test]
    fn urls_are_checked_by_form() {
        assert!(check_url("redis://127.0.0.1:6379/").is_ok());
        assert!(check_url("redis://cache.internal:6380/2").is_ok());
        assert!(check_url("rediss://cache.internal:6380/2").is_err());
        assert!(check_url("http://cache:6379").is_err());
        assert!(check_url("redis://").is_err());
        assert!(check_url("cache:6379").is_err());
    }

    #[test]
    fn shared_settings_are_checked() {
        let key = |c: SharedConfig| c.validate().unwrap_err().key();
        assert_eq!(
            key(SharedConfig::default().instances(0)),
            "shared.instances"
        );
        assert_eq!(key(SharedConfig::default().batch(0)), "shared.batch");
        assert_eq!(
            key(SharedConfig::default().timeout(Duration::ZERO)),
            "shared.timeout"
        );
        assert_eq!(key(SharedConfig::default().url("mysql://x")), "shared.url");
        assert_eq!(
            key(SharedConfig::default().timeout(Duration::from_secs(61))),
            "shared.timeout"
        );
        assert!(SharedConfig::default().validate().is_ok());
    }
}
