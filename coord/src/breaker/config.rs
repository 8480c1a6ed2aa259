//! [`BreakerConfig`]: what trips a breaker and how it recovers.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use coord_limits::breaker::{
    DEFAULT_MINIMUM_CALLS, DEFAULT_OPEN_FOR, DEFAULT_WINDOW_CALLS, MIN_TIME_WINDOW,
};

use super::machine::MAX_HALF_OPEN_CALLS;
use super::window::MAX_WINDOW_CALLS;

/// The sliding window a closed breaker computes its failure rate over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last N calls (1..=1024).
    Calls(u32),
    /// The calls of the last period, kept in 10 buckets of a tenth each (at least 10 ms).
    Time(Duration),
}

impl From<u32> for Window {
    fn from(calls: u32) -> Self {
        Window::Calls(calls)
    }
}

impl From<Duration> for Window {
    fn from(period: Duration) -> Self {
        Window::Time(period)
    }
}

type ClassifyFn = dyn Fn(&dyn Any) -> Option<bool> + Send + Sync;

/// Decides which errors count as failures; see [`BreakerConfig::classifier`].
#[derive(Clone)]
pub struct Classifier(Arc<ClassifyFn>);

impl Classifier {
    /// `Some(true)`: failure; `Some(false)`: neither success nor failure; `None`: the error is
    /// not of the classifier's type.
    pub(crate) fn classify(&self, error: &dyn Any) -> Option<bool> {
        (self.0)(error)
    }
}

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Classifier(..)")
    }
}

impl PartialEq for Classifier {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Configuration of a [`CircuitBreaker`](crate::CircuitBreaker). Builder methods are named like
/// the keys of `#[circuit_breaker(...)]`.
///
/// ```
/// use std::time::Duration;
/// use coord::BreakerConfig;
///
/// let config = BreakerConfig::default()
///     .failure_rate(0.25)
///     .minimum_calls(5)
///     .window(Duration::from_secs(10))
///     .open_for(Duration::from_secs(5))
///     .half_open_calls(2);
/// assert!(config.validate().is_ok());
/// assert!(BreakerConfig::default().failure_rate(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Failure rate in the window at or above which the breaker opens (default 0.5).
    pub failure_rate: f64,
    /// A call taking at least this long is slow (default: off).
    pub slow_call: Option<Duration>,
    /// Slow-call rate at or above which the breaker opens (default 1.0).
    pub slow_call_rate: f64,
    /// Calls the window must hold before rates are judged (default 10).
    pub minimum_calls: u32,
    /// The window (default: the last 20 calls).
    pub window: Window,
    /// Opens after this many failures in a row, whatever the rate (default: off).
    pub consecutive_failures: Option<u32>,
    /// How long an open breaker rejects calls before probing (default 30 s). Each re-open
    /// straight from half-open doubles it, with up to 20 % jitter, up to `max_open_for`; closing
    /// resets it.
    pub open_for: Duration,
    /// Cap of the growing open period (default: 8 × `open_for`).
    pub max_open_for: Option<Duration>,
    /// Probes admitted while half-open, at most this many at once (default 3, at most 255).
    pub half_open_calls: u32,
    /// Probes unanswered after this long count as failures (default: wait forever).
    pub max_half_open_wait: Option<Duration>,
    /// Which errors count as failures (default: every `Err`).
    pub classifier: Option<Classifier>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_rate: 0.5,
            slow_call: None,
            slow_call_rate: 1.0,
            minimum_calls: DEFAULT_MINIMUM_CALLS,
            window: Window::Calls(DEFAULT_WINDOW_CALLS),
            consecutive_failures: None,
            open_for: DEFAULT_OPEN_FOR,
            max_open_for: None,
            half_open_calls: 3,
            max_half_open_wait: None,
            classifier: None,
        }
    }
}

impl BreakerConfig {
    setters! {
        /// Sets the failure rate (0.0..=1.0) that opens the breaker.
        pub fn failure_rate(rate: f64);

        /// Calls taking at least `threshold` count as slow.
        pub fn slow_call(threshold: Duration) = Some;

        /// Sets the slow-call rate (0.0..=1.0) that opens the breaker.
        pub fn slow_call_rate(rate: f64);

        /// Sets how many calls the window needs before rates are judged.
        pub fn minimum_calls(calls: u32);

        /// Sets the window: a number of calls (`20`) or a period (`Duration::from_secs(10)`).
        pub fn window(window: impl Into<Window>) = into;

        /// Opens after `failures` failures in a row, whatever the window says.
        pub fn consecutive_failures(failures: u32) = Some;

        /// Sets the first open period.
        pub fn open_for(period: Duration);

        /// Caps the open period as it doubles on repeated re-opens.
        pub fn max_open_for(cap: Duration) = Some;

        /// Sets how many probes a half-open breaker admits (1..=255).
        pub fn half_open_calls(calls: u32);

        /// Probes unanswered after `wait` count as failures and the breaker opens again.
        pub fn max_half_open_wait(wait: Duration) = Some;
    }

    /// Decides which errors of type `E` count as failures: `true` is a failure, `false` counts
    /// as neither success nor failure (a "not found" should not open a breaker). Errors of
    /// other types still count as failures.
    ///
    /// ```
    /// use coord::BreakerConfig;
    ///
    /// #[derive(Debug)]
    /// enum DbError { NotFound, Timeout }
    /// let config = BreakerConfig::default()
    ///     .classifier(|e: &DbError| matches!(e, DbError::Timeout));
    /// ```
    #[must_use]
    pub fn classifier<E: 'static>(
        mut self,
        is_failure: impl Fn(&E) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.classifier = Some(Classifier(Arc::new(move |error: &dyn Any| {
            error.downcast_ref::<E>().map(&is_failure)
        })));
        self
    }

    /// The open period after `reopens` re-opens in a row, before jitter.
    pub(crate) fn open_for_cap(&self) -> Duration {
        self.max_open_for
            .unwrap_or_else(|| self.open_for.saturating_mul(8))
    }

    /// Checks every value; the error names the key and the accepted range.
    pub fn validate(&self) -> Result<(), BreakerConfigError> {
        let err = |key: &'static str, message: String| Err(BreakerConfigError { key, message });
        for (key, rate) in [
            ("failure_rate", self.failure_rate),
            ("slow_call_rate", self.slow_call_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return err(key, format!("{rate} is not a rate in 0.0..=1.0"));
            }
        }
        if self.minimum_calls == 0 {
            return err("minimum_calls", "must be at least 1".into());
        }
        match self.window {
            Window::Calls(calls) => {
                if !(1..=MAX_WINDOW_CALLS).contains(&calls) {
                    return err(
                        "window",
                        format!("{calls} calls is outside 1..={MAX_WINDOW_CALLS}"),
                    );
                }
                if self.minimum_calls > calls {
                    return err(
                        "minimum_calls",
                        format!(
                            "{} is larger than the window of {calls} calls, so the breaker could never open",
                            self.minimum_calls
                        ),
                    );
                }
            }
            Window::Time(period) => {
                if period < MIN_TIME_WINDOW {
                    return err(
                        "window",
                        format!(
                            "{period:?} is shorter than the smallest time window, {MIN_TIME_WINDOW:?}"
                        ),
                    );
                }
            }
        }
        if self.consecutive_failures == Some(0) {
            return err("consecutive_failures", "must be at least 1".into());
        }
        if self.open_for.is_zero() {
            return err("open_for", "must be longer than zero".into());
        }
        if let Some(cap) = self.max_open_for
            && cap < self.open_for
        {
            return err(
                "max_open_for",
                format!("{cap:?} is shorter than open_for ({:?})", self.open_for),
            );
        }
        if !(1..=MAX_HALF_OPEN_CALLS).contains(&self.half_open_calls) {
            return err(
                "half_open_calls",
                format!(
                    "{} is outside 1..={MAX_HALF_OPEN_CALLS}",
                    self.half_open_calls
                ),
            );
        }
        if self.max_half_open_wait.is_some_and(|wait| wait.is_zero()) {
            return err("max_half_open_wait", "must be longer than zero".into());
        }
        if self.slow_call.is_some_and(|slow| slow.is_zero()) {
            return err("slow_call", "must be longer than zero".into());
        }
        Ok(())
    }
}

config_error! {
    /// A [`BreakerConfig`] value out of range.
    pub struct BreakerConfigError: "circuit breaker", as in "#[circuit_breaker(failure_rate = ...)]";
}
