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
//! [`SharedConfig::timeout`]. An `async` caller never blocks its executor: the round trip runs
//! on one helper thread per Redis URL, and the caller's future waits for the answer or for the
//! timeout on coord's shared timer, whichever comes first (so it works on any executor).
//!
//! **When Redis is slow or down.** Every call waits at most the timeout (within a millisecond).
//! A call Redis did not answer in time, or could not be sent, is decided locally by
//! [`OnFailure`]: by default (`Open`) on a local limiter at this instance's share (`rate` per
//! `per × instances`), or (`Closed`) rejected. After a failure the backend is left alone for a
//! back-off (50 ms doubling up to 1 s), while calls go straight to the local decision; then one
//! call probes Redis, and sharing resumes with its first answer. The report counts round trips,
//! their latency, errors, time-outs and local decisions.

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::{Counters, RateLimitConfig, RateLimitConfigError, RateLimited, RateLimiter, clock};
use crate::clock::timer;

#[cfg(feature = "redis")]
use super::redis::Backend;

/// Without the `redis` feature there is no backend: a shared limiter always decides locally.
#[cfg(not(feature = "redis"))]
pub(crate) enum Backend {}

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
    /// admits `rate` per `per × instances`.
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

    /// Sets how many instances share the quota.
    #[must_use]
    pub fn instances(mut self, instances: u64) -> Self {
        self.instances = instances;
        self
    }

    /// Sets what a call gets when Redis does not answer in time.
    #[must_use]
    pub fn on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// Sets the longest a call waits for Redis.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the permits taken per round trip.
    #[must_use]
    pub fn batch(mut self, batch: u64) -> Self {
        self.batch = batch;
        self
    }

    /// Checks the URL's form, that `instances` and `batch` are at least 1 and the timeout is
    /// longer than zero and at most [`MAX_TIMEOUT`].
    pub fn validate(&self) -> Result<(), RateLimitConfigError> {
        let fail = |key, message: String| Err(RateLimitConfigError { key, message });
        if self.instances == 0 {
            return fail("shared.instances", "must be at least 1".into());
        }
        if self.batch == 0 {
            return fail("shared.batch", "must be at least 1".into());
        }
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
    /// Round trips that failed (time-outs included).
    pub redis_errors: u64,
    /// Of those, the ones that ran out of time.
    pub redis_timeouts: u64,
    /// Times the script was loaded again after Redis forgot it (`NOSCRIPT`).
    pub script_loads: u64,
    /// Calls decided locally because Redis failed or was in back-off.
    pub fallbacks: u64,
    /// Calls admitted from permits a batched round trip took.
    pub batched: u64,
}

/// What Redis answered: `admitted` permits (0: rejected) after `wait_us` (or, rejected, the
/// time until a call would be admitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) admitted: u64,
    pub(crate) wait_us: u64,
}

/// Why a round trip gave no answer.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// No answer within the timeout.
    Timeout,
    /// Anything else: refused connection, broken pipe, a server error.
    Error(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer within the timeout"),
            Self::Error(why) => f.write_str(why),
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
}

#[derive(Default)]
struct Stats {
    calls: AtomicU64,
    latency_nanos: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    fallbacks: AtomicU64,
    batched: AtomicU64,
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
    stats: Stats,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("key", &self.key)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How a call is decided: admitted after a wait (nanoseconds, 0: now) or rejected with the
/// time until a call would be admitted.
pub(crate) type Verdict = Result<u64, u64>;

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
            stats: Stats::default(),
            config: shared,
        }
    }

    /// Decides a call that may wait up to `max_wait` ns, blocking this thread on Redis for at
    /// most the timeout. Never sleeps for the wait itself.
    pub(crate) fn reserve(&self, max_wait: u64) -> Verdict {
        if self.take_held() {
            return Ok(0);
        }
        match self.begin() {
            Some(backend) => {
                let started = Instant::now();
                let answer = self.ask_backend(backend, max_wait, started);
                self.finish(answer, started, max_wait)
            }
            None => self.fall_back(max_wait),
        }
    }

    /// The backend, if a round trip should be made now (not in back-off).
    fn begin(&self) -> Option<&Arc<Backend>> {
        self.backend.as_ref().filter(|backend| backend.try_begin())
    }

    #[cfg(feature = "redis")]
    fn ask_backend(
        &self,
        backend: &Backend,
        max_wait: u64,
        started: Instant,
    ) -> Result<Grant, Failure> {
        backend.eval(&self.ask(max_wait, started))
    }

    #[cfg(not(feature = "redis"))]
    fn ask_backend(&self, backend: &Backend, _: u64, _: Instant) -> Result<Grant, Failure> {
        match *backend {}
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn ask(&self, max_wait: u64, started: Instant) -> Ask<'_> {
        Ask {
            key: &self.key,
            interval_us: self.interval_us,
            tolerance_us: self.tolerance_us,
            max_wait_us: max_wait as f64 / 1e3,
            want: self.config.batch,
            deadline: started.checked_add(self.config.timeout).unwrap_or(started),
        }
    }

    /// Turns an answer (or its absence) into a verdict, counting it.
    fn finish(&self, answer: Result<Grant, Failure>, started: Instant, max_wait: u64) -> Verdict {
        match answer {
            Ok(grant) => {
                self.stats.calls.fetch_add(1, Relaxed);
                let _ = self
                    .stats
                    .latency_nanos
                    .fetch_update(Relaxed, Relaxed, |t| {
                        Some(t.saturating_add(super::nanos(started.elapsed())))
                    });
                let wait = grant.wait_us.saturating_mul(1_000);
                if grant.admitted == 0 {
                    return Err(wait);
                }
                if grant.admitted > 1 {
                    self.hold(grant.admitted - 1);
                }
                Ok(wait)
            }
            Err(failure) => {
                self.stats.errors.fetch_add(1, Relaxed);
                if matches!(failure, Failure::Timeout) {
                    self.stats.timeouts.fetch_add(1, Relaxed);
                }
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
        self.stats.fallbacks.fetch_add(1, Relaxed);
        match self.config.on_failure {
            OnFailure::Open => self.fallback.reserve(max_wait),
            OnFailure::Closed => Err(self
                .backend
                .as_ref()
                .map_or(0, |backend| backend.retry_in_nanos())
                .max(super::nanos(self.config.timeout))),
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
        self.stats.batched.fetch_add(1, Relaxed);
        true
    }

    /// A rejection counted on the limiter.
    pub(crate) fn reject(&self, retry_after: u64) -> RateLimited {
        self.counters.reject(&self.name, retry_after)
    }

    /// A wait counted on the limiter.
    pub(crate) fn record_wait(&self, wait: u64) -> Duration {
        self.counters.record_wait(wait)
    }

    /// Forgets local state (held permits, the fallback's arrival time, the counters); the
    /// fleet's arrival time in Redis stays, since other instances count on it.
    pub(crate) fn reset(&self) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Held::default();
        self.fallback.reset();
        let s = &self.stats;
        for counter in [
            &s.calls,
            &s.latency_nanos,
            &s.errors,
            &s.timeouts,
            &s.fallbacks,
            &s.batched,
        ] {
            counter.store(0, Relaxed);
        }
    }

    /// What the local fallback could admit at once now.
    pub(crate) fn fallback_available(&self) -> u64 {
        self.fallback.snapshot().available
    }

    /// The shared numbers now.
    pub(crate) fn snapshot(&self) -> SharedSnapshot {
        let s = &self.stats;
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
    fn try_begin(&self) -> bool {
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
}

/// Where an async caller's round trip, made on the backend's helper thread, is answered.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
enum SlotState {
    #[default]
    Waiting,
    Parked(Waker),
    Answered(Result<Grant, Failure>),
    /// The caller stopped waiting (its deadline passed or it was dropped).
    Abandoned,
}

impl Slot {
    /// Whether the caller still waits (the helper thread skips abandoned round trips).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn wanted(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(PoisonError::into_inner),
            SlotState::Abandoned
        )
    }

    /// Gives the caller its answer.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn answer(&self, answer: Result<Grant, Failure>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *state, SlotState::Answered(answer)) {
            SlotState::Parked(waker) => {
                drop(state);
                waker.wake();
            }
            SlotState::Abandoned => *state = SlotState::Abandoned,
            SlotState::Waiting | SlotState::Answered(_) => {}
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Option<Result<Grant, Failure>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::take(&mut *state) {
            SlotState::Answered(answer) => {
                *state = SlotState::Abandoned;
                Some(answer)
            }
            SlotState::Abandoned => {
                *state = SlotState::Abandoned;
                None
            }
            SlotState::Waiting | SlotState::Parked(_) => {
                *state = SlotState::Parked(cx.waker().clone());
                None
            }
        }
    }

    fn abandon(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = SlotState::Abandoned;
    }
}

/// The admission future of a shared limiter for an async caller.
pub struct SharedAdmit {
    shared: Arc<Shared>,
    max_wait: u64,
    state: AdmitState,
}

enum AdmitState {
    /// Waiting for the helper thread's answer, or for the deadline.
    Asking {
        slot: Arc<Slot>,
        started: Instant,
        deadline: timer::Sleep,
    },
    /// Admitted; waiting for the reserved turn.
    Turn(timer::Sleep),
    Done(Option<Result<(), RateLimited>>),
}

impl fmt::Debug for SharedAdmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedAdmit")
            .field("limiter", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl SharedAdmit {
    /// Starts deciding a call that may wait up to `max_wait` ns.
    pub(crate) fn new(shared: Arc<Shared>, max_wait: u64) -> Self {
        let state = if shared.take_held() {
            AdmitState::Done(Some(Ok(())))
        } else {
            match shared.begin().map(Arc::clone) {
                Some(backend) => {
                    let started = Instant::now();
                    match spawn_ask(&shared, &backend, max_wait, started) {
                        Some(slot) => AdmitState::Asking {
                            slot,
                            started,
                            // A little past the helper's own deadline: its answer (a time-out
                            // included) normally comes first.
                            deadline: timer::sleep(
                                shared.config.timeout.saturating_add(ASYNC_SLACK),
                            ),
                        },
                        None => {
                            let verdict = shared.finish(
                                Err(Failure::Error("no helper thread".into())),
                                started,
                                max_wait,
                            );
                            settle(&shared, verdict)
                        }
                    }
                }
                None => {
                    let verdict = shared.fall_back(max_wait);
                    settle(&shared, verdict)
                }
            }
        };
        Self {
            shared,
            max_wait,
            state,
        }
    }
}

/// How long past the timeout an async caller waits for the helper thread's own time-out.
const ASYNC_SLACK: Duration = Duration::from_millis(1);

#[cfg(feature = "redis")]
fn spawn_ask(
    shared: &Arc<Shared>,
    backend: &Arc<Backend>,
    max_wait: u64,
    started: Instant,
) -> Option<Arc<Slot>> {
    let slot = Arc::new(Slot::default());
    let job_slot = Arc::clone(&slot);
    let job_shared = Arc::clone(shared);
    let job_backend = Arc::clone(backend);
    backend
        .spawn(Box::new(move || {
            if job_slot.wanted() {
                let answer = job_backend.eval(&job_shared.ask(max_wait, started));
                job_slot.answer(answer);
            }
        }))
        .then_some(slot)
}

#[cfg(not(feature = "redis"))]
fn spawn_ask(_: &Arc<Shared>, backend: &Arc<Backend>, _: u64, _: Instant) -> Option<Arc<Slot>> {
    match **backend {}
}

/// The state after a verdict: done, or waiting for the reserved turn.
fn settle(shared: &Shared, verdict: Verdict) -> AdmitState {
    match verdict {
        Ok(0) => AdmitState::Done(Some(Ok(()))),
        Ok(wait) => AdmitState::Turn(timer::sleep(shared.record_wait(wait))),
        Err(retry_after) => AdmitState::Done(Some(Err(shared.reject(retry_after)))),
    }
}

impl Future for SharedAdmit {
    type Output = Result<(), RateLimited>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                AdmitState::Asking {
                    slot,
                    started,
                    deadline,
                } => {
                    let answer = match slot.poll(cx) {
                        Some(answer) => answer,
                        None => {
                            if std::pin::Pin::new(deadline).poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            slot.abandon();
                            Err(Failure::Timeout)
                        }
                    };
                    let verdict = this.shared.finish(answer, *started, this.max_wait);
                    this.state = settle(&this.shared, verdict);
                }
                AdmitState::Turn(sleep) => {
                    std::task::ready!(std::pin::Pin::new(sleep).poll(cx));
                    this.state = AdmitState::Done(Some(Ok(())));
                }
                // Polled again after completion: admitted (the turn was taken).
                AdmitState::Done(done) => return Poll::Ready(done.take().unwrap_or(Ok(()))),
            }
        }
    }
}

impl Drop for SharedAdmit {
    fn drop(&mut self) {
        if let AdmitState::Asking { slot, .. } = &self.state {
            slot.abandon();
        }
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
