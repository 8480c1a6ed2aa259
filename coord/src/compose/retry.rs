//! The retry loop recording into the error registry: the recorder the loop reports to, and the
//! drivers of [`RetryPolicy`] and [`RetryLoop`] that use it. They are inherent methods of the
//! retry types, defined here because only this layer knows both the loop and the registry.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::errors::{self, ErrorRow, Severity};
use crate::retry::{
    ANONYMOUS, Attempt, FailedAttempt, RetryBudget, RetryLoop, RetryObserver, RetryPolicy,
};

/// Records what a retry loop did in the error registry, with one severity, finding the
/// operation's row by name on each failure: for a [`RetryLoop`] made by hand, which has no
/// place to keep a row (policies and call sites use a [`RowRecorder`]).
#[derive(Debug)]
pub(crate) struct ErrorRecorder(Severity);

/// Records what one call site's or handler's retry loops did into its operation's row,
/// resolved on the first failure and kept: later failures take no registry lock.
#[derive(Clone, Debug)]
pub(crate) struct RowRecorder {
    severity: Severity,
    row: OnceLock<Arc<ErrorRow>>,
}

impl RowRecorder {
    /// A recorder with `severity`, its row not yet resolved.
    pub(crate) const fn new(severity: Severity) -> Self {
        Self {
            severity,
            row: OnceLock::new(),
        }
    }

    /// The row, resolved by `operation` on first use.
    #[inline]
    pub(crate) fn row(&self, operation: &str) -> &Arc<ErrorRow> {
        self.row.get_or_init(|| errors::row(operation))
    }

    /// The row if a failure resolved it.
    pub(crate) fn resolved(&self) -> Option<&Arc<ErrorRow>> {
        self.row.get()
    }
}

impl RecordsInRow for RowRecorder {
    fn severity(&self) -> Severity {
        self.severity
    }

    #[inline]
    fn row_of(&self, operation: &str) -> impl Deref<Target = ErrorRow> {
        &**self.row(operation)
    }
}

/// What both recorders share: every failure goes to its operation's row with one severity. They
/// differ only in how they find the row.
trait RecordsInRow: Sync {
    fn severity(&self) -> Severity;
    fn row_of(&self, operation: &str) -> impl Deref<Target = ErrorRow>;
}

// While recording is off (`crate::set_enabled`), failures reach no row; the retry loop itself
// (its budget, its delays) goes on.
impl<R: RecordsInRow> RetryObserver for R {
    fn failed_attempt(&self, failure: &FailedAttempt<'_>) {
        if !crate::recording::enabled() {
            return;
        }
        self.row_of(failure.operation).record_failure(
            self.severity(),
            failure.error_type,
            failure.message,
            failure.attempt,
            failure.outcome,
        );
    }

    #[cold]
    fn succeeded_after_retry(&self, operation: &str) {
        if crate::recording::enabled() {
            self.row_of(operation).record_success_after_retry();
        }
    }

    #[cold]
    fn cancelled(&self, operation: &str) {
        if crate::recording::enabled() {
            self.row_of(operation).record_cancelled();
        }
    }

    #[cold]
    fn rejected(&self, operation: &str) {
        if crate::recording::enabled() {
            self.row_of(operation).record_rejected();
        }
    }
}

/// The message failures are recorded with: `error`'s `Display`, at most
/// [`MAX_MESSAGE_LEN`](crate::errors::MAX_MESSAGE_LEN) bytes, formatted into one allocation of
/// that size at most, `"<message unavailable>"` when the `Display` panics.
pub(crate) fn bounded_message<E: fmt::Display>(error: &E) -> String {
    crate::last_error::bounded_string(error)
}

/// [`bounded_message`] of an error's `Debug`.
pub(crate) fn bounded_debug<E: fmt::Debug>(error: &E) -> String {
    struct AsDisplay<'e, E>(&'e E);
    impl<E: fmt::Debug> fmt::Display for AsDisplay<'_, E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self.0, f)
        }
    }
    crate::last_error::bounded_string(&AsDisplay(error))
}

/// `error` classified by `policy`'s `when`, described by [`bounded_message`].
fn classified<E: fmt::Display + 'static>(policy: &RetryPolicy, error: E) -> Attempt<E> {
    let attempt = if policy.is_retryable(&error) {
        Attempt::retryable(error)
    } else {
        Attempt::permanent(error)
    };
    attempt.describe_with(bounded_message::<E>)
}

static RECORDERS: [ErrorRecorder; 4] = [
    ErrorRecorder(Severity::Low),
    ErrorRecorder(Severity::Medium),
    ErrorRecorder(Severity::High),
    ErrorRecorder(Severity::Critical),
];

/// The recorder for failures of `severity`.
pub(crate) fn recorder(severity: Severity) -> &'static ErrorRecorder {
    match severity {
        Severity::Low => &RECORDERS[0],
        Severity::Medium => &RECORDERS[1],
        Severity::High => &RECORDERS[2],
        Severity::Critical => &RECORDERS[3],
    }
}

impl RecordsInRow for ErrorRecorder {
    fn severity(&self) -> Severity {
        self.0
    }

    fn row_of(&self, operation: &str) -> impl Deref<Target = ErrorRow> {
        errors::row(operation)
    }
}

impl RetryPolicy {
    /// Runs `operation` until it succeeds, the error is permanent, retries run out, the budget
    /// is empty or the deadline would pass; sleeps on the policy's [`clock`](Self::clock) (the
    /// system clock by default). Failed attempts go to the global error registry under the
    /// policy's name; unnamed policies record under `"retry"`, so name a policy with
    /// [`named`](Self::named) to give it its own row. The retry budget is the name's, or an
    /// unnamed policy's own (shared by its clones only; see [`RetryPolicy`]).
    ///
    /// The back-off sleeps block the thread: called inside an async runtime (detected with
    /// coord's `tokio` feature), the first sleep of this policy logs a `tracing` warning; use
    /// [`call_async`](Self::call_async) there.
    pub fn call<T, E, F>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: fmt::Display + 'static,
    {
        let name = self.name().unwrap_or(ANONYMOUS);
        let budget = self.own_budget().map(|b| &**b);
        self.run_with_budget(budget, name, Severity::Medium, || {
            operation().map_err(|e| classified(self, e))
        })
    }

    /// [`call`](Self::call) for async operations: `operation` makes a fresh future per attempt;
    /// back-off sleeps on tokio's timer (or the policy's clock).
    pub async fn call_async<T, E, F, Fut>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        let name = self.name().unwrap_or(ANONYMOUS);
        let budget = self.own_budget().map(|b| &**b);
        let recorder = RowRecorder::new(Severity::Medium);
        self.run_async_observed(budget, &recorder, name, || {
            let attempt = operation();
            async move { attempt.await.map_err(|e| classified(self, e)) }
        })
        .await
    }

    /// The retry loop over attempts that classify their own errors: an
    /// [`Attempt::permanent`] error (a rejection by an open circuit breaker, say) is returned
    /// at once, an [`Attempt::retryable`] one is retried as the policy allows. Failures are
    /// recorded under `operation` with `severity`; retries draw from the budget of the policy's
    /// name, else of `operation`.
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
        self.run_with_budget(budget, operation, severity, attempt)
    }

    /// [`run`](Self::run) for futures.
    pub async fn run_async<T, E, F, Fut>(
        &self,
        operation: &str,
        severity: Severity,
        attempt: F,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Attempt<E>>>,
    {
        let budget = self.bound_budget(operation).map(|b| &**b);
        // One row lookup per failing call, none per further attempt.
        self.run_async_observed(budget, &RowRecorder::new(severity), operation, attempt)
            .await
    }
}

impl<'a> RetryLoop<'a> {
    /// Starts one call of `operation` under `policy`; failures are recorded in the error
    /// registry with `severity`.
    #[inline]
    pub fn new(policy: &'a RetryPolicy, operation: &'a str, severity: Severity) -> Self {
        let budget = policy.bound_budget(operation).map(|b| &**b);
        Self::new_with_budget(policy, budget, operation, severity)
    }
}

impl RetryPolicy {
    /// [`run`](Self::run) with the budget already resolved (call sites cache it).
    #[inline]
    pub(crate) fn run_with_budget<T, E>(
        &self,
        budget: Option<&RetryBudget>,
        operation: &str,
        severity: Severity,
        attempt: impl FnMut() -> Result<T, Attempt<E>>,
    ) -> Result<T, E> {
        // One row lookup per failing call, none per further attempt.
        self.run_budgeted(budget, operation, &RowRecorder::new(severity), attempt)
    }
}

impl<'a> RetryLoop<'a> {
    /// One call recording into `recorder`'s row (call sites and handlers keep the recorder).
    #[inline]
    pub(crate) fn recorded(
        policy: &'a RetryPolicy,
        budget: Option<&'a RetryBudget>,
        operation: &'a str,
        recorder: &'a RowRecorder,
        started: Option<Instant>,
    ) -> Self {
        Self::observed(policy, budget, operation, recorder, started)
    }

    /// [`new`](Self::new) with the budget already resolved (call sites cache it).
    #[inline]
    pub(crate) fn new_with_budget(
        policy: &'a RetryPolicy,
        budget: Option<&'a RetryBudget>,
        operation: &'a str,
        severity: Severity,
    ) -> Self {
        Self::observed(
            policy,
            budget,
            operation,
            recorder(severity),
            policy.start_time(),
        )
    }
}
