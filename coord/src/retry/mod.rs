//! Retry policies: exponential or constant back-off with jitter, error classification,
//! deadlines, hooks and a retry budget per policy name.
//!
//! The loop lives in one place, [`RetryLoop`]; [`RetryPolicy::call`], [`RetryPolicy::call_async`],
//! [`ErrorHandler`](crate::ErrorHandler) and the code `#[retry]` generates all drive it.

mod backoff;
mod budget;
mod sleeper;

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::errors::{self, AttemptOutcome, Severity};
use backoff::Rng;

pub use budget::{BudgetConfig, BudgetSnapshot, RetryBudget, budget};
#[cfg(feature = "tokio")]
pub use sleeper::TokioSleeper;
pub use sleeper::{FakeSleeper, SleepFuture, Sleeper, StdSleeper};

/// How the delay between attempts is randomised, so that clients that failed together do not
/// retry together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// Uniform in `0..=delay` (the default: the best spread for contended resources).
    #[default]
    Full,
    /// Uniform in `delay/2..=delay`: never much shorter than planned.
    Equal,
    /// Uniform in `base..=3 × previous delay`, capped at `max_delay` (grows from the last delay
    /// instead of the attempt number).
    Decorrelated,
}

impl Jitter {
    /// The jitter called `name`: `"none"`, `"full"`, `"equal"` or `"decorrelated"`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Self::None,
            "full" => Self::Full,
            "equal" => Self::Equal,
            "decorrelated" => Self::Decorrelated,
            _ => return None,
        })
    }

    /// The name [`from_name`](Self::from_name) accepts.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Full => "full",
            Self::Equal => "equal",
            Self::Decorrelated => "decorrelated",
        }
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
/// retry budget. Clones share the budget and hooks.
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
    sleeper: Option<Arc<dyn Sleeper>>,
    /// The bucket this policy draws from, bound on first use to its name (or, unnamed, to the
    /// first operation that uses it).
    bound_budget: Arc<OnceLock<Arc<RetryBudget>>>,
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("when", &self.when.is_some())
            .field("on_retry", &self.on_retry.is_some())
            .field("sleeper", &self.sleeper)
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
            sleeper: None,
            bound_budget: Arc::default(),
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

    /// Sets the number of retries after the first attempt.
    #[must_use]
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.settings.max_retries = max_retries;
        self
    }

    /// Sets the delay before the first retry.
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.settings.base_delay = delay;
        self
    }

    /// Sets the growth per retry; values below 1.0 (or NaN) become 1.0.
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.settings.multiplier = if multiplier >= 1.0 { multiplier } else { 1.0 };
        self
    }

    /// Caps every delay, jitter included.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.settings.max_delay = delay;
        self
    }

    /// Sets how delays are randomised.
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.settings.jitter = jitter;
        self
    }

    /// Bounds a whole call: a back-off sleep that would end more than `deadline` after the call
    /// started is not begun, and the last error is returned instead.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = Some(deadline);
        self
    }

    /// Sets the retry budget (shared by every policy with the same name).
    #[must_use]
    pub fn budget(mut self, budget: BudgetConfig) -> Self {
        self.settings.budget = Some(budget);
        self.bound_budget = Arc::default();
        self
    }

    /// Turns the retry budget off: every retry the policy allows is made.
    #[must_use]
    pub fn no_budget(mut self) -> Self {
        self.settings.budget = None;
        self.bound_budget = Arc::default();
        self
    }

    /// Names the policy: its retry budget is the one of that name.
    #[must_use]
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self.bound_budget = Arc::default();
        self
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
        self
    }

    /// Calls `hook` before every back-off sleep.
    #[must_use]
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Sleeps (and reads the clock) with `sleeper` instead of the default.
    #[must_use]
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = Some(sleeper);
        self
    }

    /// The policy's numbers.
    pub fn settings(&self) -> RetrySettings {
        self.settings
    }

    /// The policy's name, if it has one.
    pub fn policy_name(&self) -> Option<&str> {
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

    /// Runs `operation` until it succeeds, the error is permanent, retries run out, the budget
    /// is empty or the deadline would pass; sleeps with [`std::thread::sleep`] (or the policy's
    /// sleeper). Failed attempts go to the global error registry under the policy's name;
    /// unnamed policies record (and share a retry budget) under `"retry"`, so name a policy
    /// with [`name`](Self::name) to give it its own row and budget.
    pub fn call<T, E, F>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: fmt::Display + 'static,
    {
        let name = self.name.as_deref().unwrap_or(ANONYMOUS);
        self.run(name, Severity::Medium, || {
            operation().map_err(|e| self.classify(e))
        })
    }

    /// [`call`](Self::call) for async operations: `operation` makes a fresh future per attempt;
    /// back-off sleeps on tokio's timer (or the policy's sleeper).
    pub async fn call_async<T, E, F, Fut>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        let name = self.name.as_deref().unwrap_or(ANONYMOUS);
        self.run_async(name, Severity::Medium, || {
            let attempt = operation();
            async move { attempt.await.map_err(|e| self.classify(e)) }
        })
        .await
    }

    /// The retry loop over attempts that classify their own errors: an
    /// [`Attempt::permanent`] error (a rejection by an open circuit breaker, say) is returned
    /// at once, an [`Attempt::retryable`] one is retried as the policy allows. Failures are
    /// recorded under `operation` with `severity`.
    ///
    /// The first attempt runs inline; everything after a failure lives in a cold function, so
    /// a first-attempt success costs a budget refill check and nothing else.
    #[inline]
    pub fn run<T, E>(
        &self,
        operation: &str,
        severity: Severity,
        attempt: impl FnMut() -> Result<T, Attempt<E>>,
    ) -> Result<T, E> {
        let budget = self.bound_budget(operation).map(|b| &**b);
        self.run_budgeted(budget, operation, severity, attempt)
    }

    /// [`run`](Self::run) with the budget already resolved (call sites cache it).
    #[inline]
    fn run_budgeted<T, E>(
        &self,
        budget: Option<&RetryBudget>,
        operation: &str,
        severity: Severity,
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
                let retry = RetryLoop::with_parts(self, budget, operation, severity, started);
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
    fn start_time(&self) -> Option<Instant> {
        self.settings.deadline.map(|_| self.now())
    }

    /// [`run`](Self::run) for futures.
    pub async fn run_async<T, E, F, Fut>(
        &self,
        operation: &str,
        severity: Severity,
        mut attempt: F,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Attempt<E>>>,
    {
        let mut retry = RetryLoop::new(self, operation, severity);
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

    #[inline]
    fn bound_budget(&self, operation: &str) -> Option<&Arc<RetryBudget>> {
        let config = self.settings.budget?;
        Some(
            self.bound_budget
                .get_or_init(|| budget::resolve(self.name.as_deref().unwrap_or(operation), config)),
        )
    }
}

/// The operation name of `call`s on unnamed policies.
const ANONYMOUS: &str = "retry";

fn display_message<E: fmt::Display>(error: &E) -> String {
    error.to_string()
}

/// The outcome of one failed attempt, as the retry loop sees it.
#[derive(Debug)]
pub struct Attempt<E> {
    error: E,
    permanent: bool,
    describe: Option<fn(&E) -> String>,
}

impl<E> Attempt<E> {
    /// An error the policy may retry (subject to its `max_retries`, budget and deadline).
    pub fn retryable(error: E) -> Self {
        Self {
            error,
            permanent: false,
            describe: None,
        }
    }

    /// An error that must not be retried (a bad request, an open circuit breaker).
    pub fn permanent(error: E) -> Self {
        Self {
            error,
            permanent: true,
            describe: None,
        }
    }

    /// Records the error's message with `describe` (by default only its type name is kept).
    #[must_use]
    pub fn describe_with(mut self, describe: fn(&E) -> String) -> Self {
        self.describe = Some(describe);
        self
    }

    /// `true` for [`permanent`](Self::permanent) errors.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The error.
    pub fn into_error(self) -> E {
        self.error
    }
}

/// What the retry loop does after a failed attempt.
#[derive(Debug)]
#[must_use]
pub enum Next<E> {
    /// Sleep this long, then make another attempt.
    Retry(Duration),
    /// Give up and return this error.
    Stop(E),
}

/// One call's progress through a retry policy: the single implementation of the retry loop.
///
/// Drivers (sync, async, generated code) run an attempt, report it with
/// [`succeeded`](Self::succeeded) or [`failed`](Self::failed), and sleep when told to. On the
/// success path it costs one budget refill check; everything else happens after a failure.
/// Dropped after a failure without finishing (an async call cancelled mid-sleep), it counts
/// the call as cancelled.
#[derive(Debug)]
pub struct RetryLoop<'a> {
    policy: &'a RetryPolicy,
    budget: Option<&'a RetryBudget>,
    operation: &'a str,
    severity: Severity,
    started: Option<Instant>,
    failures: u32,
    previous_delay: Option<u64>,
    rng: Option<Rng>,
    finished: bool,
}

impl<'a> RetryLoop<'a> {
    /// Starts one call of `operation` under `policy`.
    #[inline]
    pub fn new(policy: &'a RetryPolicy, operation: &'a str, severity: Severity) -> Self {
        let budget = policy.bound_budget(operation).map(|b| &**b);
        Self::with_parts(policy, budget, operation, severity, policy.start_time())
    }

    #[inline]
    fn with_parts(
        policy: &'a RetryPolicy,
        budget: Option<&'a RetryBudget>,
        operation: &'a str,
        severity: Severity,
        started: Option<Instant>,
    ) -> Self {
        Self {
            policy,
            budget,
            operation,
            severity,
            started,
            failures: 0,
            previous_delay: None,
            rng: None,
            finished: false,
        }
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records that the latest attempt succeeded.
    #[inline]
    pub fn succeeded(&mut self) {
        self.finished = true;
        if let Some(budget) = self.budget {
            budget.deposit();
        }
        if self.failures > 0 {
            success_after_retry(self.operation);
        }
    }

    /// Records a failed attempt and decides whether to retry.
    #[cold]
    #[inline(never)]
    pub fn failed<E>(&mut self, attempt: Attempt<E>) -> Next<E> {
        self.failures = self.failures.saturating_add(1);
        let Attempt {
            error,
            permanent,
            describe,
        } = attempt;
        let error_type = std::any::type_name::<E>();
        let message = match describe {
            Some(describe) => describe(&error),
            None => error_type.to_owned(),
        };
        let settings = &self.policy.settings;
        let (outcome, delay) = if permanent {
            (AttemptOutcome::Permanent, Duration::ZERO)
        } else if self.failures > settings.max_retries {
            (AttemptOutcome::Exhausted, Duration::ZERO)
        } else {
            let delay = self.next_delay();
            if self.would_overrun(delay) {
                (AttemptOutcome::DeadlineExceeded, delay)
            } else if self.budget.is_some_and(|budget| !budget.try_withdraw()) {
                (AttemptOutcome::BudgetExhausted, delay)
            } else {
                (AttemptOutcome::Retried, delay)
            }
        };
        errors::registry::record_failure(
            self.operation,
            self.severity,
            error_type,
            &message,
            self.failures,
            outcome,
        );
        if outcome == AttemptOutcome::Retried {
            if let Some(hook) = &self.policy.on_retry {
                hook(&RetryEvent {
                    operation: self.operation,
                    attempt: self.failures,
                    error: &message,
                    delay,
                });
            }
            crate::facade::retry(self.operation);
            tracing::warn!(
                operation = self.operation,
                attempt = self.failures,
                delay_ms = delay.as_secs_f64() * 1e3,
                error = %message,
                "retrying after failure"
            );
            return Next::Retry(delay);
        }
        self.finished = true;
        if outcome != AttemptOutcome::Permanent {
            tracing::error!(
                operation = self.operation,
                attempts = self.failures,
                reason = outcome.name(),
                error = %message,
                "giving up"
            );
        }
        Next::Stop(error)
    }

    /// Blocks for `delay` with the policy's sleeper.
    pub fn sleep(&self, delay: Duration) {
        match &self.policy.sleeper {
            Some(sleeper) => sleeper.sleep(delay),
            None => std::thread::sleep(delay),
        }
    }

    /// Waits `delay` with the policy's sleeper (tokio's timer by default).
    pub async fn sleep_async(&self, delay: Duration) {
        match &self.policy.sleeper {
            Some(sleeper) => sleeper.sleep_async(delay).await,
            None => sleeper::default_sleep_async(delay).await,
        }
    }

    fn next_delay(&mut self) -> Duration {
        let settings = &self.policy.settings;
        let capped = backoff::exponential(
            settings.base_delay,
            settings.multiplier,
            self.failures - 1,
            settings.max_delay,
        );
        let rng = self.rng.get_or_insert_with(Rng::new);
        let nanos = backoff::jittered(
            settings.jitter,
            capped,
            settings.base_delay,
            self.previous_delay,
            settings.max_delay,
            rng,
        );
        self.previous_delay = Some(nanos);
        Duration::from_nanos(nanos)
    }

    fn would_overrun(&self, delay: Duration) -> bool {
        let (Some(started), Some(deadline)) = (self.started, self.policy.settings.deadline) else {
            return false;
        };
        let now = self.policy.now();
        match started.checked_add(deadline) {
            Some(end) => now.checked_add(delay).is_none_or(|wake| wake > end),
            None => false,
        }
    }
}

impl Drop for RetryLoop<'_> {
    #[inline]
    fn drop(&mut self) {
        // A panic is not a cancellation (and is the caller's to see, not ours to count).
        if !self.finished && self.failures > 0 && !std::thread::panicking() {
            cancelled(self.operation);
        }
    }
}

#[cold]
fn success_after_retry(operation: &str) {
    errors::registry::record_success_after_retry(operation);
}

#[cold]
fn cancelled(operation: &str) {
    errors::registry::record_cancelled(operation);
}

impl RetryPolicy {
    fn now(&self) -> Instant {
        match &self.sleeper {
            Some(sleeper) => sleeper.now(),
            None => Instant::now(),
        }
    }
}

static POLICIES: LazyLock<RwLock<HashMap<String, RetryPolicy>>> = LazyLock::new(Default::default);

/// Registers `policy` under `name` for `#[retry(policy = "name")]` and [`policy`]; an unnamed
/// policy takes `name` (and so the budget of that name). Call sites read the registry on their
/// first call, so register policies at start-up. A [`when`](RetryPolicy::when) predicate of a
/// registered policy applies to `call`/`execute`; `#[retry]` classifies with its own `when` key.
pub fn register_policy(name: &str, policy: RetryPolicy) {
    let policy = if policy.name.is_some() {
        policy
    } else {
        policy.name(name)
    };
    POLICIES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name.to_owned(), policy);
}

/// The policy registered as `name`.
pub fn policy(name: &str) -> Option<RetryPolicy> {
    crate::config::load_env_once();
    POLICIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .cloned()
}

/// Names of every registered policy, sorted.
pub fn policy_names() -> Vec<String> {
    let mut names: Vec<_> = POLICIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// Forgets registered policies and refills every budget.
pub(crate) fn reset_all() {
    POLICIES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    budget::reset_all();
}

/// A `#[retry]` call site's policy: built on the first call, then one atomic load per call.
#[doc(hidden)]
#[derive(Debug)]
pub struct RetrySite {
    operation: &'static str,
    build: fn() -> RetryPolicy,
    policy: OnceLock<SitePolicy>,
}

/// A site's policy with its budget resolved, one pointer away from the `static`.
#[derive(Debug)]
struct SitePolicy {
    policy: RetryPolicy,
    budget: Option<Arc<RetryBudget>>,
}

impl RetrySite {
    /// A site for `operation` whose policy `build` makes.
    pub const fn new(operation: &'static str, build: fn() -> RetryPolicy) -> Self {
        Self {
            operation,
            build,
            policy: OnceLock::new(),
        }
    }

    #[inline]
    fn resolved(&self) -> &SitePolicy {
        self.policy.get_or_init(|| {
            let policy = (self.build)();
            let budget = policy.bound_budget(self.operation).cloned();
            SitePolicy { policy, budget }
        })
    }

    /// Starts one call.
    #[inline]
    pub fn start(&self) -> RetryLoop<'_> {
        let site = self.resolved();
        RetryLoop::with_parts(
            &site.policy,
            site.budget.as_deref(),
            self.operation,
            Severity::Medium,
            site.policy.start_time(),
        )
    }

    /// Runs a synchronous call: see [`RetryPolicy::run`].
    #[inline]
    pub fn run<T, E>(&self, attempt: impl FnMut() -> Result<T, Attempt<E>>) -> Result<T, E> {
        let site = self.resolved();
        site.policy.run_budgeted(
            site.budget.as_deref(),
            self.operation,
            Severity::Medium,
            attempt,
        )
    }

    /// The site's operation name.
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

/// The base policy of `#[retry(policy = "name")]`: the registered one, or defaults named `name`.
#[doc(hidden)]
pub fn named_or_default(name: &str) -> RetryPolicy {
    policy(name).unwrap_or_else(|| RetryPolicy::default().name(name))
}
