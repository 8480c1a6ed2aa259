//! The attempt loop: one call's progress through a policy, written once for every driver.
//!
//! The loop reports what it did to a [`RetryObserver`] instead of recording it itself: the
//! composition layer hands it the error registry's recorder.

use std::fmt;
use std::time::{Duration, Instant};

use super::backoff;
use super::budget::RetryBudget;
use super::policy::{RetryEvent, RetryPolicy};
use crate::rng::Rng;
use crate::status::AttemptOutcome;

/// Where a retry loop reports failed attempts and how calls ended.
pub(crate) trait RetryObserver: Sync {
    /// One failed attempt and what the loop decided about it.
    fn failed_attempt(&self, failure: &FailedAttempt<'_>);
    /// A call succeeded after at least one failed attempt.
    fn succeeded_after_retry(&self, operation: &str);
    /// A call was dropped after a failure and before finishing.
    fn cancelled(&self, operation: &str);
    /// A gate rejected the call's latest attempt, which ends the call: not a failure.
    fn rejected(&self, operation: &str);
}

impl fmt::Debug for dyn RetryObserver + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RetryObserver")
    }
}

/// One failed attempt, as told to a [`RetryObserver`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailedAttempt<'a> {
    pub(crate) operation: &'a str,
    pub(crate) error_type: &'static str,
    pub(crate) message: &'a str,
    pub(crate) attempt: u32,
    pub(crate) outcome: AttemptOutcome,
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
    observer: &'a dyn RetryObserver,
    started: Option<Instant>,
    failures: u32,
    previous_delay: Option<u64>,
    rng: Option<Rng>,
    finished: bool,
}

impl<'a> RetryLoop<'a> {
    /// Starts one call of `operation` under `policy`, reporting to `observer`. (`new`, which
    /// records into the error registry, is defined in `crate::compose::retry`.)
    #[inline]
    pub(crate) fn observed(
        policy: &'a RetryPolicy,
        budget: Option<&'a RetryBudget>,
        operation: &'a str,
        observer: &'a dyn RetryObserver,
        started: Option<Instant>,
    ) -> Self {
        Self {
            policy,
            budget,
            operation,
            observer,
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

    /// Whether the retry budget allows one more attempt beside the running one (a hedge), which
    /// it then spends: hedges and retries draw on the same budget. Without a budget, always.
    #[inline]
    pub fn may_hedge(&self) -> bool {
        self.budget.is_none_or(RetryBudget::try_withdraw)
    }

    /// Records that the latest attempt succeeded.
    #[inline]
    pub fn succeeded(&mut self) {
        self.finished = true;
        if let Some(budget) = self.budget {
            budget.deposit();
        }
        if self.failures > 0 {
            self.observer.succeeded_after_retry(self.operation);
        }
    }

    /// Records that a gate (an open breaker, a full bulkhead, a rate limit) rejected the latest
    /// attempt: the call ends with the rejection, counted as such, not as a failed attempt.
    #[cold]
    pub fn rejected(&mut self) {
        self.finished = true;
        self.observer.rejected(self.operation);
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
        let settings = self.policy.settings_ref();
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
        self.observer.failed_attempt(&FailedAttempt {
            operation: self.operation,
            error_type,
            message: &message,
            attempt: self.failures,
            outcome,
        });
        if outcome == AttemptOutcome::Retried {
            if let Some(hook) = self.policy.on_retry_hook() {
                hook(&RetryEvent {
                    operation: self.operation,
                    attempt: self.failures,
                    error: &message,
                    delay,
                });
            }
            crate::metrics_bridge::retry(super::RETRY_ATTEMPTS_TOTAL.name, self.operation);
            tracing::warn!(
                operation = self.operation,
                attempt = self.failures,
                delay_ms = delay.as_secs_f64() * 1e3,
                error = %message,
                "retrying after failure"
            );
            crate::semconv::retry(self.operation, self.failures, delay);
            return Next::Retry(delay);
        }
        self.finished = true;
        if outcome != AttemptOutcome::Permanent {
            tracing::error!(
                operation = self.operation,
                attempts = self.failures,
                reason = outcome.as_str(),
                error = %message,
                "giving up"
            );
        }
        Next::Stop(error)
    }

    /// Blocks for `delay` on the policy's clock. Inside an async runtime (seen with coord's
    /// `tokio` feature), the first such sleep of a policy logs a `tracing` warning naming the
    /// operation and the async alternatives.
    pub fn sleep(&self, delay: Duration) {
        super::blocking::report(self.policy, self.operation, delay);
        self.policy.clock_ref().sleep(delay);
    }

    /// Waits `delay` on the policy's clock (tokio's timer by default).
    pub async fn sleep_async(&self, delay: Duration) {
        self.policy.clock_ref().sleep_async(delay).await;
    }

    fn next_delay(&mut self) -> Duration {
        let settings = self.policy.settings_ref();
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
        let (Some(started), Some(deadline)) = (self.started, self.policy.settings_ref().deadline)
        else {
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
            self.observer.cancelled(self.operation);
        }
    }
}
