//! Circuit breakers: a lock-free state machine per name, the registry behind
//! `#[circuit_breaker]`, and the rejection error [`CircuitOpen`].
//!
//! A closed breaker admits a call with one atomic load. Half-open probes are handed out by
//! compare-and-swap, never more than `half_open_calls` at once, and each is held by a
//! [`Permit`] that is released when the call completes, panics, or its future is dropped. Every
//! state change starts a new generation; the outcome of a call admitted in an earlier generation
//! is ignored, so a late result can never flip the new state.
//!
//! ```
//! use std::time::Duration;
//! use coord::{BreakerConfig, BreakerState, CircuitOpen};
//!
//! #[derive(Debug)]
//! enum DbError { Down, Open(CircuitOpen) }
//! impl From<CircuitOpen> for DbError {
//!     fn from(open: CircuitOpen) -> Self { DbError::Open(open) }
//! }
//!
//! let db = coord::breaker_with(
//!     "docs.db",
//!     BreakerConfig::default().minimum_calls(2).window(4).open_for(Duration::from_secs(60)),
//! )
//! .unwrap();
//! for _ in 0..2 {
//!     let _ = db.call(|| Err::<(), _>(DbError::Down));
//! }
//! assert_eq!(db.state(), BreakerState::Open);
//! match db.call(|| Ok::<_, DbError>(1)) {
//!     Err(DbError::Open(open)) => assert_eq!(open.name(), "docs.db"),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod config;
mod machine;
mod window;

/// The atomics the state machine is built on (loom's in the model test).
mod sync {
    pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
}

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

pub use config::{BreakerConfig, BreakerConfigError, Classifier, Window};
use machine::{
    Admission, CLOSED, DISABLED, FORCED_OPEN, GEN_MASK, HALF_OPEN, Machine, OPEN, ProbeOutcome,
    ProbeRules, Transition,
};
use window::{BUCKETS, CountWindow, Counts, TimeWindow};

/// The state of a circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls run; outcomes are recorded in the window.
    Closed,
    /// Calls are rejected until the open period ends.
    Open,
    /// A few probe calls run; their outcomes decide between closed and open.
    HalfOpen,
    /// Rejects every call until [`CircuitBreaker::reset`].
    ForcedOpen,
    /// Admits every call and records nothing until [`CircuitBreaker::reset`].
    Disabled,
}

impl BreakerState {
    fn of(kind: u8) -> Self {
        match kind {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            FORCED_OPEN => BreakerState::ForcedOpen,
            DISABLED => BreakerState::Disabled,
            _ => BreakerState::Closed,
        }
    }

    /// `"closed"`, `"open"`, `"half-open"`, `"forced-open"` or `"disabled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
            BreakerState::ForcedOpen => "forced-open",
            BreakerState::Disabled => "disabled",
        }
    }

    /// The label value in metrics and serialized reports: `as_str` in snake case.
    pub(crate) fn metric_label(self) -> &'static str {
        match self {
            BreakerState::HalfOpen => "half_open",
            BreakerState::ForcedOpen => "forced_open",
            other => other.as_str(),
        }
    }

    /// Every state, in declaration order.
    pub(crate) const ALL: [BreakerState; 5] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
        BreakerState::ForcedOpen,
        BreakerState::Disabled,
    ];
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of a call a breaker rejected without running it.
///
/// Displays like `circuit breaker 'db' is open; next probe in 12.3s`. Retry layers must not
/// retry it: the breaker exists so that nobody calls the failing dependency right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitOpen {
    name: Arc<str>,
    state: BreakerState,
    retry_after: Duration,
}

impl CircuitOpen {
    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long until the breaker admits a probe: the rest of the open period when open,
    /// zero when half-open with every probe permit taken, `Duration::MAX` when forced open.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The state that rejected the call: `Open`, `HalfOpen` or `ForcedOpen`.
    pub fn state(&self) -> BreakerState {
        self.state
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            BreakerState::HalfOpen => write!(
                f,
                "circuit breaker '{}' is half-open; every probe permit is in use",
                self.name
            ),
            BreakerState::ForcedOpen => {
                write!(f, "circuit breaker '{}' is forced open", self.name)
            }
            _ => write!(
                f,
                "circuit breaker '{}' is open; next probe in {:.1}s",
                self.name,
                self.retry_after.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// Settings read on the hot and recording paths, as atomics so that
/// [`crate::breaker_with`] can change them under running calls.
#[derive(Debug)]
struct Settings {
    failure_rate: AtomicU64,
    slow_call_rate: AtomicU64,
    /// Nanoseconds; 0 = off.
    slow_call: AtomicU64,
    minimum_calls: AtomicU32,
    /// 0 = time-based window.
    window_calls: AtomicU32,
    bucket_nanos: AtomicU64,
    /// 0 = off.
    consecutive_failures: AtomicU32,
    open_for: AtomicU64,
    max_open_for: AtomicU64,
    half_open_calls: AtomicU32,
    /// Nanoseconds; 0 = wait forever.
    max_half_open_wait: AtomicU64,
    has_classifier: AtomicBool,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Settings {
    fn new(config: &BreakerConfig) -> Self {
        let settings = Self {
            failure_rate: AtomicU64::new(0),
            slow_call_rate: AtomicU64::new(0),
            slow_call: AtomicU64::new(0),
            minimum_calls: AtomicU32::new(0),
            window_calls: AtomicU32::new(0),
            bucket_nanos: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            open_for: AtomicU64::new(0),
            max_open_for: AtomicU64::new(0),
            half_open_calls: AtomicU32::new(0),
            max_half_open_wait: AtomicU64::new(0),
            has_classifier: AtomicBool::new(false),
        };
        settings.store(config);
        settings
    }

    fn store(&self, c: &BreakerConfig) {
        self.failure_rate.store(c.failure_rate.to_bits(), Relaxed);
        self.slow_call_rate
            .store(c.slow_call_rate.to_bits(), Relaxed);
        self.slow_call.store(c.slow_call.map_or(0, nanos), Relaxed);
        self.minimum_calls.store(c.minimum_calls, Relaxed);
        match c.window {
            Window::Calls(calls) => {
                self.window_calls.store(calls, Relaxed);
                self.bucket_nanos.store(0, Relaxed);
            }
            Window::Time(period) => {
                self.window_calls.store(0, Relaxed);
                self.bucket_nanos
                    .store((nanos(period) / BUCKETS).max(1), Relaxed);
            }
        }
        self.consecutive_failures
            .store(c.consecutive_failures.unwrap_or(0), Relaxed);
        self.open_for.store(nanos(c.open_for), Relaxed);
        self.max_open_for.store(nanos(c.open_for_cap()), Relaxed);
        self.half_open_calls.store(c.half_open_calls, Relaxed);
        self.max_half_open_wait
            .store(c.max_half_open_wait.map_or(0, nanos), Relaxed);
        self.has_classifier.store(c.classifier.is_some(), Relaxed);
    }

    fn failure_rate(&self) -> f64 {
        f64::from_bits(self.failure_rate.load(Relaxed))
    }

    fn slow_call_rate(&self) -> f64 {
        f64::from_bits(self.slow_call_rate.load(Relaxed))
    }

    fn probe_rules(&self) -> ProbeRules {
        ProbeRules {
            half_open_calls: self.half_open_calls.load(Relaxed),
            failure_rate: self.failure_rate(),
            slow_call_rate: self.slow_call_rate(),
        }
    }
}

/// A circuit breaker: stops calling a failing dependency for a while, then lets a few probes
/// find out whether it recovered.
///
/// Get a shared one by name with [`crate::breaker()`] / [`crate::breaker_with`], or own one with
/// [`CircuitBreaker::new`]. Use [`call`](Self::call) / [`call_async`](Self::call_async), or
/// [`try_acquire`](Self::try_acquire) and finish the [`Permit`] yourself.
pub struct CircuitBreaker {
    name: Arc<str>,
    epoch: Instant,
    machine: Machine,
    count_window: CountWindow,
    time_window: TimeWindow,
    settings: Settings,
    /// Generation (28 bits) << 32 | failures in a row.
    consecutive: AtomicU64,
    /// Re-opens straight from half-open since the breaker last closed.
    reopens: AtomicU32,
    rejected: AtomicU64,
    /// Failure rate that caused the last transition, as `f64` bits.
    last_rate: AtomicU64,
    config: RwLock<BreakerConfig>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A breaker not in the registry (reports do not list it).
    pub fn new(name: &str, config: BreakerConfig) -> Result<Self, BreakerConfigError> {
        config.validate()?;
        Ok(Self::unchecked(Arc::from(name), config))
    }

    fn unchecked(name: Arc<str>, config: BreakerConfig) -> Self {
        Self {
            name,
            epoch: Instant::now(),
            machine: Machine::new(),
            count_window: CountWindow::new(),
            time_window: TimeWindow::new(),
            settings: Settings::new(&config),
            consecutive: AtomicU64::new(0),
            reopens: AtomicU32::new(0),
            rejected: AtomicU64::new(0),
            last_rate: AtomicU64::new(0),
            config: RwLock::new(config),
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy of the configuration in force.
    pub fn config(&self) -> BreakerConfig {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the configuration. The state is kept; a closed breaker whose window changed
    /// shape starts a fresh window.
    pub fn configure(&self, config: BreakerConfig) -> Result<(), BreakerConfigError> {
        config.validate()?;
        let mut current = self.config.write().unwrap_or_else(PoisonError::into_inner);
        if *current == config {
            return Ok(());
        }
        let window_changed = current.window != config.window;
        self.settings.store(&config);
        *current = config;
        drop(current);
        if window_changed && self.machine.load().kind() == CLOSED {
            self.machine.force(CLOSED);
        }
        Ok(())
    }

    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        BreakerState::of(self.machine.load().kind())
    }

    /// Asks to run one call. Closed: one atomic load. Half-open: one of `half_open_calls`
    /// probe permits, taken by compare-and-swap. Open or forced open: [`CircuitOpen`].
    ///
    /// Finish the permit with [`Permit::success`], [`Permit::failure`], [`Permit::ignore`] or
    /// [`Permit::record`]. Dropped unfinished, it is released without counting, or counted as
    /// a failure when the thread is panicking.
    ///
    /// ```
    /// let db = coord::CircuitBreaker::new("docs.permit", Default::default()).unwrap();
    /// let permit = db.try_acquire().expect("a new breaker is closed");
    /// // ... the protected call ...
    /// permit.success();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        let word = self.machine.load();
        let kind = word.kind();
        if kind == CLOSED || kind == DISABLED {
            return Ok(self.permit(word.generation(), PermitKind::of(kind)));
        }
        self.acquire_slow()
    }

    #[inline]
    fn permit(&self, generation: u64, kind: PermitKind) -> Permit<'_> {
        // Two words, so that the permit travels in registers on the hot path.
        let started = if kind != PermitKind::Disabled && self.settings.slow_call.load(Relaxed) != 0
        {
            self.micros().max(1)
        } else {
            0
        };
        Permit {
            breaker: self,
            tag: u64::from(started) << 32 | (generation & GEN_MASK) << 3 | (kind as u64) << 1,
        }
    }

    /// Microseconds since creation, modulo 2^32 (elapsed times up to 71 minutes are exact).
    fn micros(&self) -> u32 {
        // Truncation intended: only wrapping differences of this clock are used.
        self.epoch.elapsed().as_micros() as u32
    }

    #[cold]
    fn acquire_slow(&self) -> Result<Permit<'_>, CircuitOpen> {
        let admission = self.machine.admit(
            || self.now(),
            self.settings.half_open_calls.load(Relaxed),
            self.settings.max_half_open_wait.load(Relaxed),
            |now| self.next_open_for(now, true),
        );
        match admission {
            Admission::Pass { generation } => Ok(self.permit(generation, PermitKind::Closed)),
            Admission::Probe {
                generation,
                opened_half,
            } => {
                if let Some(transition) = opened_half {
                    self.transitioned(transition, f64::from_bits(self.last_rate.load(Relaxed)));
                }
                Ok(self.permit(generation, PermitKind::Probe))
            }
            Admission::Reject {
                kind,
                retry_after,
                expired,
            } => {
                if let Some(transition) = expired {
                    self.transitioned(transition, 1.0);
                }
                self.rejected.fetch_add(1, Relaxed);
                Err(CircuitOpen {
                    name: Arc::clone(&self.name),
                    state: BreakerState::of(kind),
                    retry_after: if retry_after == u64::MAX {
                        Duration::MAX
                    } else {
                        Duration::from_nanos(retry_after)
                    },
                })
            }
        }
    }

    /// Runs `f` if the breaker admits it and records its outcome; a rejection becomes
    /// `E::from(CircuitOpen)` without running `f`. A panic in `f` counts as a failure and
    /// propagates.
    #[inline]
    pub fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E>,
        E: From<CircuitOpen> + 'static,
    {
        let permit = self.try_acquire()?;
        let result = f();
        permit.record(&result);
        result
    }

    /// [`call`](Self::call) for futures. Dropping the returned future releases the permit
    /// without counting the call.
    pub async fn call_async<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<CircuitOpen> + 'static,
    {
        let permit = self.try_acquire()?;
        let result = f().await;
        permit.record(&result);
        result
    }

    /// Closes the breaker and starts a fresh window and open period.
    pub fn reset(&self) {
        self.move_to(CLOSED);
    }

    /// Rejects every call until [`reset`](Self::reset).
    pub fn force_open(&self) {
        self.move_to(FORCED_OPEN);
    }

    /// Admits every call and records nothing until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.move_to(DISABLED);
    }

    fn move_to(&self, kind: u8) {
        if let Some(transition) = self.machine.force(kind) {
            self.transitioned(transition, 0.0);
        } else if kind == CLOSED {
            self.reopens.store(0, Relaxed);
        }
    }

    /// Back to a new breaker: closed, empty window, zero counters.
    fn clear(&self) {
        self.reset();
        self.rejected.store(0, Relaxed);
        self.last_rate.store(0, Relaxed);
        self.machine.clear_transitions();
    }

    /// The open period to use now, after `reopen`: doubled per re-open with jitter, capped.
    fn next_open_for(&self, now: u64, reopen: bool) -> u64 {
        let base = self.settings.open_for.load(Relaxed);
        if !reopen {
            return base;
        }
        let cap = self.settings.max_open_for.load(Relaxed).max(base);
        let doublings = self.reopens.load(Relaxed).saturating_add(1).min(32);
        let grown = base.saturating_mul(1u64 << doublings).min(cap);
        // Up to 20 % shorter, never below the base: breakers that opened together probe apart.
        let spread = (grown - base).min(grown / 5);
        let jitter = if spread == 0 {
            0
        } else {
            splitmix(now ^ self.machine.transitions()) % spread
        };
        grown - jitter
    }

    #[cold]
    fn transitioned(&self, transition: Transition, failure_rate: f64) {
        self.last_rate.store(failure_rate.to_bits(), Relaxed);
        if transition.to == CLOSED {
            self.reopens.store(0, Relaxed);
        } else if transition.from == HALF_OPEN && transition.to == OPEN {
            self.reopens.fetch_add(1, Relaxed);
        }
        let (from, to) = (
            BreakerState::of(transition.from),
            BreakerState::of(transition.to),
        );
        crate::facade::breaker_state(&self.name, from.metric_label(), to.metric_label());
        let (from, to) = (from.as_str(), to.as_str());
        if transition.to == OPEN || transition.to == FORCED_OPEN {
            tracing::warn!(
                target: "coord::breaker",
                breaker = &*self.name,
                from,
                to,
                failure_rate,
                "circuit breaker opened"
            );
        } else {
            tracing::info!(
                target: "coord::breaker",
                breaker = &*self.name,
                from,
                to,
                failure_rate,
                "circuit breaker changed state"
            );
        }
    }

    fn classify(&self, error: &dyn Any) -> Option<bool> {
        if !self.settings.has_classifier.load(Relaxed) {
            return None;
        }
        let config = self.config.read().unwrap_or_else(PoisonError::into_inner);
        config.classifier.as_ref()?.classify(error)
    }

    #[inline]
    fn finish(&self, permit: &Permit<'_>, verdict: Verdict) {
        match permit.kind() {
            PermitKind::Disabled => {}
            PermitKind::Closed => self.finish_closed(permit, verdict),
            PermitKind::Probe => self.finish_probe(permit, verdict),
        }
    }

    #[inline]
    fn is_slow(&self, permit: &Permit<'_>) -> bool {
        let started = (permit.tag >> 32) as u32;
        started != 0
            && u64::from(self.micros().wrapping_sub(started)) * 1_000
                >= self.settings.slow_call.load(Relaxed)
    }

    #[inline]
    fn finish_closed(&self, permit: &Permit<'_>, verdict: Verdict) {
        let failed = match verdict {
            Verdict::Success => false,
            Verdict::Failure => true,
            Verdict::Ignore => return,
        };
        let slow = self.is_slow(permit);
        let window_calls = self.settings.window_calls.load(Relaxed);
        let consecutive_limit = self.settings.consecutive_failures.load(Relaxed);
        if !failed {
            if consecutive_limit != 0 {
                // A success ends the run of failures of its own generation only.
                let tag = (permit.generation() & 0x0fff_ffff) << 32;
                let mut current = self.consecutive.load(Relaxed);
                while current != tag && current & !u64::from(u32::MAX) == tag {
                    match self
                        .consecutive
                        .compare_exchange_weak(current, tag, Relaxed, Relaxed)
                    {
                        Ok(_) => break,
                        Err(actual) => current = actual,
                    }
                }
            }
            if !slow
                && window_calls != 0
                && self
                    .count_window
                    .success_is_noop(permit.generation(), window_calls)
            {
                return;
            }
        }
        self.record_closed(
            permit.generation(),
            failed,
            slow,
            window_calls,
            consecutive_limit,
        );
    }

    fn record_closed(
        &self,
        generation: u64,
        failed: bool,
        slow: bool,
        window_calls: u32,
        consecutive_limit: u32,
    ) {
        let word = self.machine.load();
        if word.kind() != CLOSED || word.generation() != generation {
            return; // admitted in an earlier generation
        }
        if failed
            && consecutive_limit != 0
            && self.failures_in_a_row(generation) >= consecutive_limit
        {
            self.trip(generation, 1.0);
            return;
        }
        let counts = if window_calls != 0 {
            match self
                .count_window
                .record(generation, window_calls, failed, slow)
            {
                Some(counts) => counts,
                None => return,
            }
        } else {
            let tick = self.now() / self.settings.bucket_nanos.load(Relaxed).max(1);
            self.time_window.record(generation, tick, failed, slow)
        };
        if counts.calls < self.settings.minimum_calls.load(Relaxed) {
            return;
        }
        let rate = counts.failure_rate();
        if (counts.failed > 0 && rate >= self.settings.failure_rate())
            || (counts.slow > 0 && counts.slow_rate() >= self.settings.slow_call_rate())
        {
            self.trip(generation, rate);
        }
    }

    fn failures_in_a_row(&self, generation: u64) -> u32 {
        let tag = (generation & 0x0fff_ffff) << 32;
        let mut current = self.consecutive.load(Relaxed);
        loop {
            let count = if current & !u64::from(u32::MAX) == tag {
                (current & u64::from(u32::MAX)) as u32
            } else {
                0
            };
            let next = tag | u64::from(count.saturating_add(1));
            match self
                .consecutive
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return count.saturating_add(1),
                Err(actual) => current = actual,
            }
        }
    }

    #[cold]
    fn trip(&self, generation: u64, rate: f64) {
        let now = self.now();
        let open_for = self.next_open_for(now, false);
        if let Some(transition) = self.machine.trip(generation, now, open_for) {
            self.transitioned(transition, rate);
        }
    }

    #[cold]
    fn finish_probe(&self, permit: &Permit<'_>, verdict: Verdict) {
        let slow = self.is_slow(permit);
        let outcome = match verdict {
            Verdict::Success => ProbeOutcome::Success { slow },
            Verdict::Failure => ProbeOutcome::Failure { slow },
            Verdict::Ignore => ProbeOutcome::Ignored,
        };
        let rules = self.settings.probe_rules();
        if let Some(transition) = self.machine.finish_probe(
            permit.generation(),
            outcome,
            rules,
            || self.now(),
            |now| self.next_open_for(now, true),
        ) {
            let rate = if transition.to == OPEN { 1.0 } else { 0.0 };
            self.transitioned(transition, rate);
        }
    }

    /// A consistent-enough copy of the breaker's numbers, for reports.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let word = self.machine.load();
        let state = BreakerState::of(word.kind());
        let now = self.now();
        let (counts, failure_rate) = match state {
            BreakerState::Closed => {
                let generation = word.generation();
                let calls = self.settings.window_calls.load(Relaxed);
                let counts = if calls != 0 {
                    self.count_window.counts(generation)
                } else {
                    let tick = now / self.settings.bucket_nanos.load(Relaxed).max(1);
                    self.time_window.counts(generation, tick)
                };
                (counts, counts.failure_rate())
            }
            BreakerState::HalfOpen => {
                let counts = Counts {
                    calls: word.ok() + word.failed(),
                    failed: word.failed(),
                    slow: word.slow(),
                };
                (counts, counts.failure_rate())
            }
            _ => (
                Counts::default(),
                f64::from_bits(self.last_rate.load(Relaxed)),
            ),
        };
        BreakerSnapshot {
            name: self.name.to_string(),
            state,
            failure_rate,
            slow_call_rate: counts.slow_rate(),
            calls_in_window: counts.calls,
            failures_in_window: counts.failed,
            half_open_in_flight: if state == BreakerState::HalfOpen {
                word.in_flight()
            } else {
                0
            },
            rejected: self.rejected.load(Relaxed),
            next_probe_in: (state == BreakerState::Open)
                .then(|| Duration::from_nanos(self.machine.open_until().saturating_sub(now))),
            transitions: self.machine.transitions(),
            generation: word.generation(),
        }
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A breaker's numbers at one moment; see [`CircuitBreaker::snapshot`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: BreakerState,
    /// Failure rate of the window when closed, of the probes so far when half-open, and the
    /// rate that caused the last transition otherwise.
    pub failure_rate: f64,
    /// Slow-call rate of the window (closed) or of the probes (half-open).
    pub slow_call_rate: f64,
    /// Calls in the window (closed) or probes answered (half-open).
    pub calls_in_window: u32,
    /// Failures among them.
    pub failures_in_window: u32,
    /// Probes running now (half-open only).
    pub half_open_in_flight: u32,
    /// Calls rejected since creation or the last [`crate::reset`].
    pub rejected: u64,
    /// Time until the next probe is admitted, when open (serialized as `next_probe_in_ms`).
    #[serde(rename = "next_probe_in_ms", serialize_with = "crate::report::opt_ms")]
    pub next_probe_in: Option<Duration>,
    /// State changes since creation or the last [`crate::reset`].
    pub transitions: u64,
    /// The generation, bumped on every state change.
    pub generation: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PermitKind {
    Closed = 0,
    Probe = 1,
    Disabled = 2,
}

impl PermitKind {
    #[inline]
    fn of(kind: u8) -> Self {
        if kind == DISABLED {
            PermitKind::Disabled
        } else {
            PermitKind::Closed
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Success,
    Failure,
    Ignore,
}

/// Permission to run one call, from [`CircuitBreaker::try_acquire`]. Finish it with the
/// call's outcome; slow calls are measured from the permit's creation.
///
/// Dropped unfinished it is released without counting (a cancelled future), or counted as a
/// failure if the thread is panicking. An outcome reported after the breaker changed state is
/// ignored.
#[must_use = "a permit records nothing until it is finished; drop it only to release it"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    /// start (µs since the breaker's creation, 0 when slow calls are not measured) << 32 |
    /// generation << 3 | kind << 1 | finished.
    tag: u64,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.breaker.name)
            .field("generation", &self.generation())
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl Permit<'_> {
    /// Records a success (slow if it took at least the `slow_call` threshold).
    #[inline]
    pub fn success(mut self) {
        self.finish(Verdict::Success);
    }

    /// Records a failure.
    pub fn failure(mut self) {
        self.finish(Verdict::Failure);
    }

    /// Releases the permit without counting the call either way.
    pub fn ignore(mut self) {
        self.finish(Verdict::Ignore);
    }

    /// Records `result`: `Ok` is a success, `Err` a failure unless the configured classifier
    /// says it counts as neither.
    #[inline]
    pub fn record<T, E: 'static>(self, result: &Result<T, E>) {
        match result {
            Ok(_) => self.success(),
            Err(error) => match self.breaker.classify(error) {
                Some(false) => self.ignore(),
                _ => self.failure(),
            },
        }
    }

    /// `true` when this permit is one of the half-open probes.
    pub fn is_probe(&self) -> bool {
        self.kind() == PermitKind::Probe
    }

    #[inline]
    fn kind(&self) -> PermitKind {
        match (self.tag >> 1) & 0b11 {
            0 => PermitKind::Closed,
            1 => PermitKind::Probe,
            _ => PermitKind::Disabled,
        }
    }

    /// The breaker generation the call was admitted in.
    pub fn generation(&self) -> u64 {
        (self.tag >> 3) & GEN_MASK
    }

    #[inline]
    fn finish(&mut self, verdict: Verdict) {
        self.tag |= 1;
        self.breaker.finish(self, verdict);
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.tag & 1 == 0 {
            let verdict = if std::thread::panicking() {
                Verdict::Failure
            } else {
                Verdict::Ignore
            };
            self.finish(verdict);
        }
    }
}

/// Every registered breaker. Entries are never removed, so handles cached by call sites stay
/// valid; [`reset_all`] clears them instead.
static BREAKERS: LazyLock<RwLock<HashMap<Arc<str>, Arc<CircuitBreaker>>>> =
    LazyLock::new(Default::default);

/// The breaker called `name`, created with [`BreakerConfig::default`] on first use.
pub fn breaker(name: &str) -> Arc<CircuitBreaker> {
    if let Some(found) = find(name) {
        return found;
    }
    let mut map = BREAKERS.write().unwrap_or_else(PoisonError::into_inner);
    let entry = map.entry(Arc::from(name)).or_insert_with_key(|key| {
        Arc::new(CircuitBreaker::unchecked(
            Arc::clone(key),
            BreakerConfig::default(),
        ))
    });
    Arc::clone(entry)
}

/// The breaker called `name` with `config`. If it already exists, `config` replaces its
/// configuration (see [`CircuitBreaker::configure`]): the last configuration applied wins, and
/// applying the same one again changes nothing.
pub fn breaker_with(
    name: &str,
    config: BreakerConfig,
) -> Result<Arc<CircuitBreaker>, BreakerConfigError> {
    config.validate()?;
    if let Some(found) = find(name) {
        found.configure(config)?;
        return Ok(found);
    }
    let mut map = BREAKERS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = map.get(name) {
        let found = Arc::clone(found);
        drop(map);
        found.configure(config)?;
        return Ok(found);
    }
    let name: Arc<str> = Arc::from(name);
    let created = Arc::new(CircuitBreaker::unchecked(Arc::clone(&name), config));
    map.insert(name, Arc::clone(&created));
    Ok(created)
}

/// Configurations from a configuration file ([`crate::config`]), by breaker name. A call
/// site's own configuration never replaces one of these.
static FROM_FILE: LazyLock<RwLock<HashMap<Arc<str>, BreakerConfig>>> =
    LazyLock::new(Default::default);

/// Configures breaker `name` from a configuration file: applied now if the breaker exists, on
/// creation otherwise, and kept over the keys of a `#[circuit_breaker]` call site.
pub(crate) fn configure_from_file(
    name: &str,
    config: BreakerConfig,
) -> Result<Arc<CircuitBreaker>, BreakerConfigError> {
    let breaker = breaker_with(name, config.clone())?;
    FROM_FILE
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(Arc::from(name), config);
    Ok(breaker)
}

fn file_config(name: &str) -> Option<BreakerConfig> {
    FROM_FILE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .cloned()
}

/// The breaker called `name`, if it has been created.
pub fn find(name: &str) -> Option<Arc<CircuitBreaker>> {
    crate::config::load_env_once();
    BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .cloned()
}

/// A snapshot of every registered breaker, sorted by name.
pub fn all() -> Vec<BreakerSnapshot> {
    let mut snapshots: Vec<_> = BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .map(|b| b.snapshot())
        .collect();
    snapshots.sort_by(|a, b| a.name.cmp(&b.name));
    snapshots
}

/// How many registered breakers are not letting calls through freely: open, half-open or
/// forced open. Cheap (one atomic load per breaker); meant for health scores.
pub fn open_count() -> usize {
    BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .filter(|b| matches!(b.machine.load().kind(), OPEN | HALF_OPEN | FORCED_OPEN))
        .count()
}

/// Closes every registered breaker and zeroes its counters.
pub(crate) fn reset_all() {
    FROM_FILE
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    for b in BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
    {
        b.clear();
    }
}

/// A call site's handle on its breaker: a `static` in macro-generated code, resolved in the
/// registry on first use (with the site's configuration) and a plain load afterwards.
#[doc(hidden)]
#[derive(Debug)]
pub struct BreakerSite {
    name: &'static str,
    config: fn() -> BreakerConfig,
    breaker: OnceLock<Arc<CircuitBreaker>>,
}

impl BreakerSite {
    /// A handle for the breaker `name` configured by `config`, not yet resolved.
    pub const fn new(name: &'static str, config: fn() -> BreakerConfig) -> Self {
        Self {
            name,
            config,
            breaker: OnceLock::new(),
        }
    }

    /// The breaker. A configuration the macro could not check at compile time and that turns
    /// out invalid falls back to the registry's entry as it is.
    #[inline]
    pub fn breaker(&self) -> &CircuitBreaker {
        self.breaker.get_or_init(|| {
            // A configuration file's entry wins; otherwise the call site configures the breaker
            // only if it creates it, so a breaker set up with `breaker_with` (or by another call
            // site) keeps its configuration.
            if let Some(config) = file_config(self.name) {
                return breaker_with(self.name, config).unwrap_or_else(|_| breaker(self.name));
            }
            if let Some(existing) = find(self.name) {
                return existing;
            }
            breaker_with(self.name, (self.config)()).unwrap_or_else(|_| breaker(self.name))
        })
    }
}
