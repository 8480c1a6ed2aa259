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
pub(crate) mod file;
mod keyed;
pub(crate) mod layer;
mod machine;
mod permit;
mod record;
mod registry;
pub(crate) mod section;
mod settings;
mod state;
mod window;

/// The atomics the state machine is built on (loom's in the model test).
mod sync {
    pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
}

use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use machine::{
    Admission, CLOSED, DISABLED, FORCED_OPEN, GEN_MASK, HALF_OPEN, Machine, OPEN, Transition,
};
use permit::PermitKind;
use settings::Settings;
use window::{CountWindow, Counts, TimeWindow};

pub use config::{BreakerConfig, BreakerConfigError, Classifier, Window};
pub(crate) use keyed::dropped_group_names as dropped_keyed_group_names;
pub(crate) use keyed::keyed_for_layer;
pub(crate) use keyed::open_shares as open_keyed_shares;
pub use keyed::{
    DEFAULT_MAX_GROUPS, DEFAULT_MAX_KEYS, KeyedBreakers, KeyedSnapshot, MAX_KEY_TEXT, OVERFLOW_KEY,
    find_keyed, keyed, keyed_groups,
};
pub use permit::Permit;
pub use registry::{
    DEFAULT_MAX_BREAKERS, OVERFLOW_NAME, all, dropped_names, find, max_breakers, open_count,
    set_max_breakers,
};
pub(crate) use registry::{breaker, breaker_with, for_layer, ignored};
pub(crate) use registry::{open_unkeyed, reset_all};
pub use state::{BreakerSnapshot, BreakerState, CircuitOpen};

/// A circuit breaker: stops calling a failing dependency for a while, then lets a few probes
/// find out whether it recovered.
///
/// Get a shared one by name with [`crate::breaker()`] / [`crate::breaker_with`], or own one with
/// [`CircuitBreaker::new`]. Use [`call`](Self::call) / [`call_async`](Self::call_async), or
/// [`try_acquire`](Self::try_acquire) and finish the [`Permit`] yourself.
pub struct CircuitBreaker {
    name: Arc<str>,
    clock: Clock,
    /// Time zero of the breaker's nanosecond and microsecond clocks, read from `clock`.
    epoch: Instant,
    machine: Machine,
    count_window: CountWindow,
    time_window: TimeWindow,
    settings: Settings,
    /// Generation (29 bits, as everywhere) << 32 | failures in a row.
    consecutive: AtomicU64,
    /// Re-opens straight from half-open since the breaker last closed.
    reopens: AtomicU32,
    rejected: AtomicU64,
    /// Failure rate that caused the last transition, as `f64` bits.
    last_rate: AtomicU64,
    config: RwLock<BreakerConfig>,
}

named_debug!(CircuitBreaker { state: state() });

impl CircuitBreaker {
    /// A breaker not in the registry (reports do not list it).
    pub fn new(name: &str, config: BreakerConfig) -> Result<Self, BreakerConfigError> {
        Self::with_clock(name, config, Clock::system())
    }

    /// A breaker not in the registry whose open periods, half-open waits, time windows and
    /// slow-call timings read `clock`: with a [`FakeClock`](crate::FakeClock), a test moves it
    /// from open to half-open without waiting.
    pub fn with_clock(
        name: &str,
        config: BreakerConfig,
        clock: impl Into<Clock>,
    ) -> Result<Self, BreakerConfigError> {
        config.validate()?;
        Ok(Self::unchecked(Arc::from(name), config, clock.into()))
    }

    pub(crate) fn unchecked(name: Arc<str>, config: BreakerConfig, clock: Clock) -> Self {
        Self {
            name,
            epoch: clock.now(),
            clock,
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
        crate::locks::read(&self.config).clone()
    }

    /// Replaces the configuration. The state is kept; a closed breaker whose window changed
    /// shape starts a fresh window. A configuration equal to the one in force changes nothing
    /// (the window is kept), so building the same configuration per request is harmless.
    ///
    /// The new settings are swapped in as one snapshot: a call recorded meanwhile is judged by
    /// the old settings or the new ones, never by a mix.
    pub fn configure(&self, config: BreakerConfig) -> Result<(), BreakerConfigError> {
        self.configure_if_changed(config).map(|_| ())
    }

    /// [`configure`](Self::configure), telling whether anything changed: `Ok(false)` when
    /// `config` equals the configuration in force (nothing was touched), `Ok(true)` when it was
    /// applied (and logged at `info` on target `coord::breaker`).
    ///
    /// ```
    /// use coord::{BreakerConfig, CircuitBreaker};
    /// let db = CircuitBreaker::new("docs.configure_if_changed", BreakerConfig::default()).unwrap();
    /// assert!(!db.configure_if_changed(BreakerConfig::default()).unwrap());
    /// assert!(db.configure_if_changed(BreakerConfig::default().failure_rate(0.2)).unwrap());
    /// ```
    pub fn configure_if_changed(&self, config: BreakerConfig) -> Result<bool, BreakerConfigError> {
        config.validate()?;
        let mut current = crate::locks::write(&self.config);
        if *current == config {
            return Ok(false);
        }
        let window_changed = current.window != config.window;
        self.settings.store(&config);
        *current = config;
        drop(current);
        if window_changed && self.machine.load().kind() == CLOSED {
            self.machine.force(CLOSED);
        }
        tracing::info!(
            target: "coord::breaker",
            breaker = &*self.name,
            window_changed,
            "circuit breaker reconfigured"
        );
        Ok(true)
    }

    /// Nanoseconds since creation on the breaker's clock.
    #[inline]
    fn now(&self) -> u64 {
        self.clock.nanos_since(self.epoch)
    }

    /// The state word's kind, for the registry's counts.
    pub(crate) fn kind(&self) -> u8 {
        self.machine.load().kind()
    }

    /// Not letting calls through freely: open, half-open or forced open. What every count of
    /// open breakers (health, snapshots) counts.
    pub(crate) fn is_tripped(&self) -> bool {
        use machine::{FORCED_OPEN, HALF_OPEN, OPEN};
        matches!(self.kind(), OPEN | HALF_OPEN | FORCED_OPEN)
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
        if crate::chaos::armed() {
            return self.try_acquire_armed();
        }
        self.admit()
    }

    /// The admission itself, fault injection aside (the stack's gate asks for an injected
    /// rejection before, once per call: [`Self::injected_rejection`]).
    #[inline]
    pub(crate) fn admit(&self) -> Result<Permit<'_>, CircuitOpen> {
        let word = self.machine.load();
        let kind = word.kind();
        if kind == CLOSED || kind == DISABLED {
            return Ok(self.permit(word.generation(), PermitKind::of(kind)));
        }
        self.acquire_slow()
    }

    /// [`try_acquire`](Self::try_acquire) while a fault is armed somewhere (`coord::chaos`),
    /// for the callers of the runtime API, out of line so that the admission's code stays as
    /// it was: a rejection fault on this breaker may reject the call with the breaker's usual
    /// rejection, marked, counted by chaos only (not in `rejected`, not in the window).
    #[cold]
    #[inline(never)]
    fn try_acquire_armed(&self) -> Result<Permit<'_>, CircuitOpen> {
        match self.injected_rejection() {
            Some(open) => {
                crate::semconv::rejected("circuit_breaker", &self.name, true);
                Err(open)
            }
            None => self.admit(),
        }
    }

    /// The rejection a rejection fault on this breaker makes up for this call, if one hits it
    /// (drawn now, counted by chaos); `None` at once while nothing is armed.
    #[inline]
    pub(crate) fn injected_rejection(&self) -> Option<CircuitOpen> {
        if !crate::chaos::armed() || !crate::chaos::inject::rejects(&self.name) {
            return None;
        }
        Some(CircuitOpen {
            name: Arc::clone(&self.name),
            state: BreakerState::Open,
            retry_after: Duration::ZERO,
            injected: true,
        })
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
        self.clock.since(self.epoch).as_micros() as u32
    }

    #[cold]
    fn acquire_slow(&self) -> Result<Permit<'_>, CircuitOpen> {
        let (half_open_calls, max_half_open_wait, open_for) = self.settings.read(|s| {
            (
                s.half_open_calls.load(Relaxed),
                s.max_half_open_wait.load(Relaxed),
                s.open_for.load(Relaxed),
            )
        });
        let admission = self.machine.admit(
            || self.now(),
            half_open_calls,
            max_half_open_wait,
            |now| self.next_open_for(now, true),
            open_for,
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
                    injected: false,
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
    pub(crate) fn clear(&self) {
        self.reset();
        self.rejected.store(0, Relaxed);
        self.last_rate.store(0, Relaxed);
        self.machine.clear_transitions();
    }

    /// The open period to use now, after `reopen`: doubled per re-open with jitter, capped.
    fn next_open_for(&self, now: u64, reopen: bool) -> u64 {
        let (base, cap) = self
            .settings
            .read(|s| (s.open_for.load(Relaxed), s.max_open_for.load(Relaxed)));
        if !reopen {
            return base;
        }
        let cap = cap.max(base);
        let doublings = self.reopens.load(Relaxed).saturating_add(1).min(32);
        let grown = base.saturating_mul(1u64 << doublings).min(cap);
        // Up to 20 % shorter, never below the base: breakers that opened together probe apart.
        let spread = (grown - base).min(grown / 5);
        let jitter = if spread == 0 {
            0
        } else {
            crate::rng::splitmix(now ^ self.machine.transitions()) % spread
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
        crate::metrics_bridge::breaker_state(
            section::STATE.name,
            &self.name,
            from.metric_label(),
            to.metric_label(),
        );
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
    /// A consistent-enough copy of the breaker's numbers, for reports.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let word = self.machine.load();
        let state = BreakerState::of(word.kind());
        let now = self.now();
        let (counts, failure_rate) = match state {
            BreakerState::Closed => {
                let generation = word.generation();
                let settings = self.settings.recording();
                let counts = if settings.window_calls != 0 {
                    self.count_window.counts(generation)
                } else {
                    let tick = now / settings.bucket_nanos.max(1);
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
