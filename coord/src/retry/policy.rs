//! The policy builder: what a retry policy is made of (delays, jitter, deadline, budget,
//! classification, hooks, clock) and the loop drivers that run attempts under it.
//!
//! `call`, `call_async`, `run` and `run_async` record failures in the error registry, which this
//! layer must not import: they are defined beside the recorder, in `crate::compose::retry`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::attempt::{Attempt, Next, RetryLoop, RetryObserver};
use super::budget::{self, BudgetConfig, RetryBudget};
use crate::clock::Clock;

named_enum! {
    /// How the delay between attempts is randomised, so that clients that failed together do
    /// not retry together. Parses from its name (`"full".parse::<Jitter>()`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub enum Jitter {
        /// Exactly the exponential delay.
        None = "none",
        /// Uniform in `0..=delay` (the default: the best spread for contended resources).
        #[default]
        Full = "full",
        /// Uniform in `delay/2..=delay`: never much shorter than planned.
        Equal = "equal",
        /// Uniform in `base..=3 × previous delay`, capped at `max_delay` (grows from the last
        /// delay instead of the attempt number).
        Decorrelated = "decorrelated",
    }
}

/// A jitter name that is not `none`, `full`, `equal` or `decorrelated`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownJitter(pub String);

impl fmt::Display for UnknownJitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown jitter `{}`; expected none, full, equal or decorrelated",
            self.0
        )
    }
}

impl std::error::Error for UnknownJitter {}

impl FromStr for Jitter {
    type Err = UnknownJitter;

    /// Parses `"none"`, `"full"`, `"equal"` or `"decorrelated"`.
    fn from_str(name: &str) -> Result<Self, UnknownJitter> {
        Self::ALL
            .into_iter()
            .find(|j| j.as_str() == name)
            .ok_or_else(|| UnknownJitter(name.to_owned()))
    }
}

/// The plain-data part of a [`RetryPolicy`]: what a configuration file can express.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetrySettings {
    /// Retries after the first attempt; at most `max_retries + 1` attempts are made.
    pub max_retries: u32,
    /// The delay before the first retry.
    pub base_delay: Duration,
    /// Growth of the delay per retry (`1.0` = constant back-off).
    pub multiplier: f64,
    /// No delay is longer, jitter included.
    pub max_delay: Duration,
    /// How delays are randomised.
    pub jitter: Jitter,
    /// Total time a call may take; no sleep that would end later is started.
    pub deadline: Option<Duration>,
    /// The retry budget, or `None` when disabled.
    pub budget: Option<BudgetConfig>,
}

impl Default for RetrySettings {
    /// The guide's defaults: 3 retries, 1 s base, ×2, at most 30 s, full jitter, default budget.
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: Jitter::Full,
            deadline: None,
            budget: Some(BudgetConfig::default()),
        }
    }
}

type WhenFn = dyn Fn(&dyn Any) -> Option<bool> + Send + Sync;
type OnRetryFn = dyn Fn(&RetryEvent<'_>) + Send + Sync;

/// What an [`on_retry`](RetryPolicy::on_retry) hook is told before each back-off sleep.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The operation being retried.
    pub operation: &'a str,
    /// The attempt that just failed (1 = the first call).
    pub attempt: u32,
    /// The error's message (its type name when it has no `Display`).
    pub error: &'a str,
    /// How long the policy sleeps before the next attempt.
    pub delay: Duration,
}

/// When and how often a failing operation is tried again.
///
/// Defaults follow the guide: 3 retries, 1 s base delay doubling up to 30 s, full jitter, and a
/// retry budget.
///
/// **Whose budget.** The retry budget (a token bucket, see [`BudgetConfig`]) stops a failing
/// dependency from turning every caller into a retry storm; it is kept per dependency, so one
/// failing dependency cannot use up the retries of the others:
///
/// - a [`named`](Self::named) policy draws from the budget of its name, shared by every policy
///   of that name ([`coord::retry::budget`](crate::retry::budget) reads it);
/// - an unnamed policy run under an operation name ([`ErrorHandler`](crate::ErrorHandler),
///   [`run`](Self::run), [`RetryLoop::new`]) draws from the budget of that operation name (the
///   first one the policy value runs under); a `#[retry]` call site's budget is its
///   operation's;
/// - an unnamed policy used with [`call`](Self::call) or [`call_async`](Self::call_async) has a
///   budget of its own.
///
/// A policy value is what a constructor or builder method returns; its clones share its budget
/// (and hooks). Cloning is how one policy reaches the tasks and handlers calling one dependency,
/// and a bucket split per clone would never run dry; a policy built anew for every call gets a
/// full bucket every time, so build it once (or name it).
///
/// ```
/// use std::time::Duration;
/// use coord::{Jitter, RetryPolicy};
///
/// let policy = RetryPolicy::exponential(5, Duration::from_millis(1), 2.0)
///     .max_delay(Duration::from_millis(4))
///     .jitter(Jitter::Equal)
///     .when(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound);
///
/// let mut calls = 0;
/// let value = policy.call(|| {
///     calls += 1;
///     if calls < 3 { Err(std::io::Error::other("flaky")) } else { Ok(calls) }
/// });
/// assert_eq!(value.unwrap(), 3);
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    settings: RetrySettings,
    name: Option<Arc<str>>,
    when: Option<Arc<WhenFn>>,
    on_retry: Option<Arc<OnRetryFn>>,
    clock: Clock,
    /// What the clones of this value share.
    shared: Arc<Shared>,
}

/// What the clones of one policy value share, each resolved on first use.
#[derive(Debug, Default)]
struct Shared {
    /// Named: the registry's budget of the name. Unnamed: the value's own (made by `call`).
    budget: OnceLock<Arc<RetryBudget>>,
    /// Unnamed: the registry's budget of the first operation name the value ran under.
    operation_budget: OnceLock<Arc<RetryBudget>>,
    /// Whether a blocking back-off sleep inside an async runtime was reported.
    warned: AtomicBool,
}

impl Shared {
    fn untouched(&self) -> bool {
        self.budget.get().is_none()
            && self.operation_budget.get().is_none()
            && !self.warned.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("when", &self.when.is_some())
            .field("on_retry", &self.on_retry.is_some())
            .field("clock", &self.clock)
            .finish()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::from(RetrySettings::default())
    }
}

impl From<RetrySettings> for RetryPolicy {
    fn from(settings: RetrySettings) -> Self {
        Self {
            settings,
            name: None,
            when: None,
            on_retry: None,
            clock: Clock::system(),
            shared: Arc::default(),
        }
        .multiplier(settings.multiplier)
    }
}

impl RetryPolicy {
    /// Exponential back-off: `base_delay × multiplier^n` before retry `n` (from 0).
    pub fn exponential(max_retries: u32, base_delay: Duration, multiplier: f64) -> Self {
        Self::default()
            .max_retries(max_retries)
            .base_delay(base_delay)
            .multiplier(multiplier)
    }

    /// The same `delay` before every retry, without jitter.
    pub fn constant(max_retries: u32, delay: Duration) -> Self {
        Self::default()
            .max_retries(max_retries)
            .base_delay(delay)
            .multiplier(1.0)
            .jitter(Jitter::None)
    }

    /// One attempt, no retry: errors are still recorded.
    pub fn no_retry() -> Self {
        Self::default().max_retries(0)
    }

    // Each stores in `settings` and, like every builder method of the policy, makes a new
    // policy (`renewed`).
    setters! {
        in settings, then renewed;

        /// Sets the number of retries after the first attempt.
        pub fn max_retries(max_retries: u32);

        /// Sets the delay before the first retry.
        pub fn base_delay(delay: Duration);

        /// Sets the growth per retry; values below 1.0 (or NaN) become 1.0.
        pub fn multiplier(multiplier: f64) = max(1.0);

        /// Caps every delay, jitter included.
        pub fn max_delay(delay: Duration);

        /// Sets how delays are randomised.
        pub fn jitter(jitter: Jitter);

        /// Bounds a whole call: a back-off sleep that would end more than `deadline` after the
        /// call started is not begun, and the last error is returned instead.
        pub fn deadline(deadline: Duration) = Some;

        /// Sets the retry budget (shared by every policy with the same name).
        pub fn budget(budget: BudgetConfig) = Some;
    }

    /// Turns the retry budget off: every retry the policy allows is made.
    #[must_use]
    pub fn no_budget(mut self) -> Self {
        self.settings.budget = None;
        self.renewed()
    }

    /// Names the policy: its retry budget is the one of that name.
    #[must_use]
    pub fn named(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self.renewed()
    }

    /// Retries only errors for which `retryable` returns `true`; others are permanent and
    /// returned after one attempt. Applies to [`call`](Self::call), [`call_async`](Self::call_async)
    /// and [`ErrorHandler`](crate::ErrorHandler) when the error type is `E` (other error types are
    /// all retryable).
    #[must_use]
    pub fn when<E: 'static>(
        mut self,
        retryable: impl Fn(&E) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.when = Some(Arc::new(move |error: &dyn Any| {
            error.downcast_ref::<E>().map(&retryable)
        }));
        self.renewed()
    }

    /// Calls `hook` before every back-off sleep.
    #[must_use]
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self.renewed()
    }

    /// Sleeps and reads the time (for the deadline) on `clock` instead of the system clock;
    /// a [`FakeClock`](crate::FakeClock) makes back-off instant and observable in tests.
    #[must_use]
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self.renewed()
    }

    /// This value as a new policy: with its own budget and warning flag unless no clone or
    /// call has touched them yet (so a chain of builder calls allocates once).
    fn renewed(mut self) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) if shared.untouched() => {}
            _ => self.shared = Arc::default(),
        }
        self
    }

    /// The policy's numbers.
    pub fn settings(&self) -> RetrySettings {
        self.settings
    }

    /// The policy's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `true` unless the policy's [`when`](Self::when) predicate rejects `error`.
    pub fn is_retryable<E: 'static>(&self, error: &E) -> bool {
        self.when
            .as_ref()
            .and_then(|when| when(error))
            .unwrap_or(true)
    }

    /// Wraps `error` as the outcome of one attempt, classified by [`when`](Self::when).
    pub fn classify<E: fmt::Display + 'static>(&self, error: E) -> Attempt<E> {
        let attempt = if self.is_retryable(&error) {
            Attempt::retryable(error)
        } else {
            Attempt::permanent(error)
        };
        attempt.describe_with(display_message::<E>)
    }

    /// The blocking retry loop with the budget already resolved (call sites cache it),
    /// reporting to `observer`. The first attempt runs inline; everything after a failure lives
    /// in a cold function, so a first-attempt success costs a budget refill check and nothing
    /// else.
    #[inline]
    pub(crate) fn run_budgeted<T, E>(
        &self,
        budget: Option<&RetryBudget>,
        operation: &str,
        observer: &dyn RetryObserver,
        mut attempt: impl FnMut() -> Result<T, Attempt<E>>,
    ) -> Result<T, E> {
        let started = self.start_time();
        match attempt() {
            Ok(value) => {
                if let Some(budget) = budget {
                    budget.deposit();
                }
                Ok(value)
            }
            Err(failure) => {
                let retry = RetryLoop::observed(self, budget, operation, observer, started);
                Self::retry_blocking(retry, failure, attempt)
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn retry_blocking<T, E>(
        mut retry: RetryLoop<'_>,
        mut failure: Attempt<E>,
        mut attempt: impl FnMut() -> Result<T, Attempt<E>>,
    ) -> Result<T, E> {
        loop {
            match retry.failed(failure) {
                Next::Retry(delay) => retry.sleep(delay),
                Next::Stop(error) => return Err(error),
            }
            match attempt() {
                Ok(value) => {
                    retry.succeeded();
                    return Ok(value);
                }
                Err(next) => failure = next,
            }
        }
    }

    /// When a call under this policy starts: read only when a deadline is set.
    #[inline]
    pub(crate) fn start_time(&self) -> Option<Instant> {
        self.settings.deadline.map(|_| self.now())
    }

    /// The async retry loop drawing from `budget`, reporting to `observer`.
    pub(crate) async fn run_async_observed<T, E, F, Fut>(
        &self,
        budget: Option<&RetryBudget>,
        observer: &dyn RetryObserver,
        operation: &str,
        mut attempt: F,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Attempt<E>>>,
    {
        let mut retry = RetryLoop::observed(self, budget, operation, observer, self.start_time());
        loop {
            match attempt().await {
                Ok(value) => {
                    retry.succeeded();
                    return Ok(value);
                }
                Err(failure) => match retry.failed(failure) {
                    Next::Retry(delay) => retry.sleep_async(delay).await,
                    Next::Stop(error) => return Err(error),
                },
            }
        }
    }

    /// The budget of a call run under `operation`: the name's, else the operation's (the
    /// first operation this value ran under keeps it: the handle is cached here).
    #[inline]
    pub(crate) fn bound_budget(&self, operation: &str) -> Option<&Arc<RetryBudget>> {
        self.cached_budget(&self.shared.operation_budget, |config| {
            budget::resolve(operation, config)
        })
    }

    /// The budget of [`call`](Self::call) and [`call_async`](Self::call_async): the name's,
    /// else this value's own, outside the registry (so unrelated unnamed policies never share
    /// one).
    #[inline]
    pub(crate) fn own_budget(&self) -> Option<&Arc<RetryBudget>> {
        self.cached_budget(&self.shared.budget, |config| {
            Arc::new(RetryBudget::own(config))
        })
    }

    /// The named budget, cached; for an unnamed policy, `unnamed`'s, cached in `cell`.
    #[inline]
    fn cached_budget<'s>(
        &'s self,
        cell: &'s OnceLock<Arc<RetryBudget>>,
        unnamed: impl FnOnce(BudgetConfig) -> Arc<RetryBudget>,
    ) -> Option<&'s Arc<RetryBudget>> {
        let config = self.settings.budget?;
        Some(match self.name.as_deref() {
            Some(name) => self
                .shared
                .budget
                .get_or_init(|| budget::resolve(name, config)),
            None => cell.get_or_init(|| unnamed(config)),
        })
    }

    /// The budget a call site resolves once and keeps: the name's, else `operation`'s.
    pub(crate) fn budget_of(&self, operation: &str) -> Option<Arc<RetryBudget>> {
        let config = self.settings.budget?;
        Some(budget::resolve(
            self.name.as_deref().unwrap_or(operation),
            config,
        ))
    }

    /// Whether this is the first blocking back-off sleep of this value (and its clones) to be
    /// reported.
    pub(crate) fn first_blocking_report(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let warned = &self.shared.warned;
        !warned.load(Relaxed) && !warned.swap(true, Relaxed)
    }
}

/// The operation name of `call`s on unnamed policies.
pub(crate) const ANONYMOUS: &str = "retry";

fn display_message<E: fmt::Display>(error: &E) -> String {
    error.to_string()
}

impl RetryPolicy {
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    pub(crate) fn clock_ref(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn settings_ref(&self) -> &RetrySettings {
        &self.settings
    }

    pub(crate) fn on_retry_hook(&self) -> Option<&OnRetryFn> {
        self.on_retry.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_below_one_or_nan_become_one() {
        for (given, kept) in [
            (0.5, 1.0),
            (-0.0, 1.0),
            (f64::NAN, 1.0),
            (f64::NEG_INFINITY, 1.0),
            (1.0, 1.0),
            (2.5, 2.5),
            (f64::INFINITY, f64::INFINITY),
        ] {
            let policy = RetryPolicy::default().multiplier(given);
            assert_eq!(policy.settings().multiplier, kept, "{given}");
        }
    }
}
