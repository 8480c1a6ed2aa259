//! [`ErrorHandler`]: runs an operation under a retry policy, optionally through a circuit
//! breaker, recording every failure in the error registry. Composition: it knows the retry
//! loop, the breakers, the layer stack and the error registry.

use crate::retry::RetryBudget;
use std::any::Any;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::breaker::layer::BreakerGate;
use crate::breaker::{self, BreakerConfig, BreakerConfigError, CircuitBreaker, CircuitOpen};
use crate::compose::error_report::ErrorReport;
use crate::compose::retry::{RowRecorder, bounded_message};
use crate::errors::{self, Severity};
use crate::layer::{GateFor, Off};
use crate::mechanisms;
use crate::retry::layer::Retrier;
use crate::retry::{RetryLoop, RetryPolicy};
use crate::stack::Stack;

/// How one operation is run: its name, severity and retry policy. Build it with a struct
/// literal (`..Default::default()` for the rest) or with [`ErrorContext::new`] and the builders.
#[derive(Clone, Debug, Default)]
pub struct ErrorContext {
    /// The name errors are recorded under.
    pub operation_name: String,
    /// The severity of its failures.
    pub severity: Severity,
    /// How it is retried.
    pub retry: RetryPolicy,
}

impl ErrorContext {
    /// A context for `operation_name` with medium severity and the default retry policy.
    pub fn new(operation_name: impl Into<String>) -> Self {
        Self {
            operation_name: operation_name.into(),
            severity: Severity::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Sets the severity.
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
}

/// Runs operations with retries (and optionally a circuit breaker) and records every failure in
/// the global error registry, in its operation's row (found on the first failure and kept by
/// the handler and its clones, so later failures take no registry lock).
///
/// ```
/// use std::time::Duration;
/// use coord::{ErrorHandler, RetryPolicy, Severity};
///
/// let handler = ErrorHandler::new("docs.fetch_user")
///     .retry(RetryPolicy::exponential(3, Duration::from_millis(1), 2.0))
///     .severity(Severity::High);
/// let mut calls = 0;
/// let user = handler.execute(|| {
///     calls += 1;
///     if calls == 1 { Err("connection reset") } else { Ok("John Doe") }
/// });
/// assert_eq!(user, Ok("John Doe"));
/// // This handler's operation only; `coord::error_report()` has every operation.
/// let report = handler.error_report();
/// assert_eq!(report.operation("docs.fetch_user").unwrap().successes_after_retry, 1);
/// assert_eq!(report.by_operation.len(), 1);
/// ```
///
/// With [`breaker`](ErrorHandler::breaker), every attempt goes through the circuit breaker
/// named after the operation; the error type must then hold a rejection
/// (`E: From<CircuitOpen>`), and a rejection is returned at once, never retried.
///
/// # Rejections are not errors
///
/// A call ended by a gate's rejection (this handler's breaker open, or coord's own rejection
/// coming out of the operation: [`CircuitOpen`], [`BulkheadFull`](crate::BulkheadFull),
/// [`RateLimited`](crate::RateLimited)) is load shed by design: it is returned at once, never
/// retried, and counted as *rejected* in the operation's row
/// ([`OperationErrors::rejected`](crate::errors::OperationErrors::rejected)), not as a failed
/// attempt: no severity, not in the recent failures, not in the health verdict. An error from
/// the operation is recognised as a rejection when `E` is one of those three types, or a
/// `Box<dyn Error (+ Send + Sync)>` whose [`source`](std::error::Error::source) chain holds
/// one. An application error type wrapping a rejection in a variant is not inspected: with
/// [`breaker`](ErrorHandler::breaker) the handler's own rejections are known without looking
/// at the error.
///
/// ```
/// use coord::{CircuitOpen, ErrorHandler, RetryPolicy};
///
/// let handler = ErrorHandler::new("docs.rejections").retry(RetryPolicy::default().no_budget());
/// let breaker = coord::breaker("docs.rejections.downstream");
/// breaker.force_open();
/// let out: Result<(), CircuitOpen> = handler.execute(|| breaker.call(|| Ok::<_, CircuitOpen>(())));
/// assert!(out.is_err());
/// let row = coord::errors::operation_errors("docs.rejections").unwrap();
/// assert_eq!((row.errors, row.rejected), (0, 1));
/// ```
#[derive(Clone, Debug)]
pub struct ErrorHandler<B = NoBreaker> {
    context: ErrorContext,
    breaker: B,
    recorder: RowRecorder,
}

/// The breaker slot of an [`ErrorHandler`] without a circuit breaker.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBreaker;

impl From<ErrorContext> for ErrorHandler {
    fn from(context: ErrorContext) -> Self {
        // A door like the others: a configuration file's breakers and budgets are in place
        // before the handler reaches them, not applied under it later.
        crate::config::ensure_env_loaded();
        Self {
            recorder: RowRecorder::new(context.severity),
            context,
            breaker: NoBreaker,
        }
    }
}

impl ErrorHandler {
    /// A handler for the operation `name`: medium severity, the default retry policy.
    pub fn new(name: impl Into<String>) -> Self {
        Self::from(ErrorContext::new(name))
    }

    /// A handler running under `context`.
    pub fn with_context(context: ErrorContext) -> Self {
        Self::from(context)
    }

    /// Guards every attempt with the circuit breaker named after the operation, configured
    /// with `config`. An invalid `config` (a rate outside `0.0..=1.0`, say) is reported as a
    /// `tracing` error event and the breaker keeps the configuration it has (defaults for a new
    /// one); use [`try_breaker`](Self::try_breaker) to get the error instead.
    pub fn breaker(self, config: BreakerConfig) -> ErrorHandler<Arc<CircuitBreaker>> {
        let name = &self.context.operation_name;
        let breaker = breaker::breaker_with(name, config).unwrap_or_else(|error| {
            breaker::ignored(name, &error);
            breaker::breaker(name)
        });
        ErrorHandler {
            context: self.context,
            breaker,
            recorder: self.recorder,
        }
    }

    /// [`breaker`](Self::breaker), returning the configuration error instead of logging it.
    pub fn try_breaker(
        self,
        config: BreakerConfig,
    ) -> Result<ErrorHandler<Arc<CircuitBreaker>>, BreakerConfigError> {
        let breaker = breaker::breaker_with(&self.context.operation_name, config)?;
        Ok(ErrorHandler {
            context: self.context,
            breaker,
            recorder: self.recorder,
        })
    }

    /// Runs `operation`, retrying as the policy allows; returns its value or its last error.
    pub fn execute<T, E, F>(&self, operation: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: fmt::Display + 'static,
    {
        self.run(operation, Off)
    }

    /// [`execute`](Self::execute) for async operations (a fresh future per attempt).
    pub async fn execute_async<T, E, F, Fut>(&self, operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        self.run_async(operation, Off).await
    }
}

impl ErrorHandler<Arc<CircuitBreaker>> {
    /// Runs `operation` through the circuit breaker, retrying as the policy allows. A rejection
    /// returns `Err(E::from(CircuitOpen))` at once.
    pub fn execute<T, E, F>(&self, operation: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: From<CircuitOpen> + fmt::Display + 'static,
    {
        self.run(operation, BreakerGate::new(&self.breaker))
    }

    /// [`execute`](Self::execute) for async operations (a fresh future per attempt).
    pub async fn execute_async<T, E, F, Fut>(&self, operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<CircuitOpen> + fmt::Display + 'static,
    {
        self.run_async(operation, BreakerGate::new(&self.breaker))
            .await
    }

    /// The handler's circuit breaker.
    pub fn circuit_breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }
}

impl<B> ErrorHandler<B> {
    /// The handler's stack: `operation` through `gate` (admitting each attempt), retried.
    fn run<T, E, F, G>(&self, operation: F, gate: G) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: fmt::Display + 'static,
        G: GateFor<Result<T, E>>,
    {
        let policy = &self.context.retry;
        Stack::attempts(operation)
            .retry(self.retrier(), &|e: &E| policy.is_retryable(e), |_| {
                bounded_message::<E>
            })
            .rejections(is_rejection::<E>)
            .gate(gate)
            .run()
    }

    /// [`run`](Self::run) for async operations.
    async fn run_async<T, E, F, Fut, G>(&self, mut operation: F, gate: G) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
        G: GateFor<Result<T, E>>,
    {
        let policy = &self.context.retry;
        Stack::async_attempts(async move || operation().await)
            .retry(self.retrier(), &|e: &E| policy.is_retryable(e), |_| {
                bounded_message::<E>
            })
            .rejections(is_rejection::<E>)
            .gate(gate)
            .run_async()
            .await
    }

    /// The retry layer of this handler's stack.
    fn retrier(&self) -> HandlerRetrier<'_> {
        HandlerRetrier {
            policy: &self.context.retry,
            operation: &self.context.operation_name,
            recorder: &self.recorder,
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.context.retry = policy;
        self
    }

    /// Sets the severity failures are recorded with.
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.context.severity = severity;
        self.recorder = RowRecorder::new(severity);
        self
    }

    /// The handler's context.
    pub fn context(&self) -> &ErrorContext {
        &self.context
    }

    /// Closes the circuit breaker named after this handler's operation (the one
    /// [`breaker`](ErrorHandler::breaker) configured), if it exists.
    pub fn reset_circuit_breaker(&self) {
        if let Some(breaker) = breaker::find(&self.context.operation_name) {
            breaker.reset();
        }
    }

    /// This handler's errors: the report of its operation alone (its row, its recent
    /// failures, a health verdict from them, and the breaker named after the operation if there
    /// is one), as the guide's `error_handler.get_error_report()`. Handlers of the same
    /// operation name share it; [`coord::error_report()`](crate::error_report) covers every
    /// operation.
    pub fn error_report(&self) -> ErrorReport {
        let name = &self.context.operation_name;
        let row = self
            .recorder
            .resolved()
            .cloned()
            .or_else(|| errors::find_row(name));
        crate::compose::error_report::operation_report(row.as_ref(), name)
    }
}

/// Whether `error` is one of coord's rejections (directly, or in a boxed error's source chain):
/// see [`ErrorHandler`]'s "Rejections are not errors".
fn is_rejection<E: 'static>(error: &E) -> bool {
    let any: &dyn Any = error;
    if mechanisms::is_rejection(any) {
        return true;
    }
    let boxed: Option<&(dyn Error + 'static)> =
        match any.downcast_ref::<Box<dyn Error + Send + Sync>>() {
            Some(boxed) => Some(&**boxed),
            None => any.downcast_ref::<Box<dyn Error>>().map(|boxed| &**boxed),
        };
    // Bounded: a cyclic chain (possible with a hand-written `source`) must not hang the caller.
    let mut next = boxed;
    for _ in 0..32 {
        match next {
            Some(error) if mechanisms::is_rejection_error(error) => return true,
            Some(error) => next = error.source(),
            None => return false,
        }
    }
    false
}

/// The retry layer of a handler: its policy, recording into the handler's row.
#[derive(Clone, Copy, Debug)]
struct HandlerRetrier<'a> {
    policy: &'a RetryPolicy,
    operation: &'a str,
    recorder: &'a RowRecorder,
}

impl<'a> HandlerRetrier<'a> {
    /// The operation's retry budget.
    #[inline(always)]
    fn budget(&self) -> Option<&'a RetryBudget> {
        self.policy.bound_budget(self.operation).map(|b| &**b)
    }
}

impl Retrier for HandlerRetrier<'_> {
    #[inline(always)]
    fn first(&self) -> (Option<&RetryBudget>, Option<std::time::Instant>) {
        (self.budget(), self.policy.start_time())
    }

    #[inline(always)]
    fn start_at(&self, started: Option<std::time::Instant>) -> RetryLoop<'_> {
        RetryLoop::recorded(
            self.policy,
            self.budget(),
            self.operation,
            self.recorder,
            started,
        )
    }

    /// The async loop's start, with one look-up of the budget (the default asks
    /// [`first`](Retrier::first) for the start time, which looks it up too).
    #[inline(always)]
    fn start(&self) -> RetryLoop<'_> {
        self.start_at(self.policy.start_time())
    }
}
