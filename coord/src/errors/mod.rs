//! Error handling: severities, the [`ErrorHandler`] that runs operations under a retry policy,
//! and the global error registry behind [`crate::error_report()`].

pub(crate) mod registry;

use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use std::sync::Arc;

use crate::breaker::{BreakerConfig, BreakerConfigError, CircuitBreaker, CircuitOpen};
use crate::pipeline::{self, Pipeline, PolicyRetrier};
use crate::retry::RetryPolicy;

pub use registry::{
    DEFAULT_RECENT_CAPACITY, MAX_MESSAGE_LEN, operation_errors, set_recent_capacity,
};

/// How much a failure matters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Cosmetic or expected.
    Low,
    /// Worth a look (the default).
    #[default]
    Medium,
    /// A feature is failing.
    High,
    /// The service is failing.
    Critical,
}

impl Severity {
    /// `"low"`, `"medium"`, `"high"` or `"critical"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the retry loop made of one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Another attempt followed after a back-off sleep.
    Retried,
    /// `max_retries` was reached; the call failed.
    Exhausted,
    /// The error was classified as not retryable; the call failed.
    Permanent,
    /// The retry budget was empty; the call failed.
    BudgetExhausted,
    /// The next sleep would have ended past the deadline; the call failed.
    DeadlineExceeded,
}

impl AttemptOutcome {
    /// A short snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Retried => "retried",
            Self::Exhausted => "exhausted",
            Self::Permanent => "permanent",
            Self::BudgetExhausted => "budget_exhausted",
            Self::DeadlineExceeded => "deadline_exceeded",
        }
    }
}

/// One failed attempt, as kept in [`ErrorReport::recent`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorRecord {
    /// The operation that failed.
    pub operation: String,
    /// Its severity.
    pub severity: Severity,
    /// The error's Rust type name.
    pub error_type: &'static str,
    /// The error's message, at most [`MAX_MESSAGE_LEN`] bytes.
    pub message: String,
    /// Which attempt failed (1 = the first).
    pub attempt: u32,
    /// Whether it was retried or ended the call, and why.
    pub outcome: AttemptOutcome,
    /// When it was recorded (serialized as `at_unix_ms`).
    #[serde(rename = "at_unix_ms", serialize_with = "crate::report::unix_ms")]
    pub at: SystemTime,
}

/// Failed attempts per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SeverityCounts {
    /// [`Severity::Low`].
    pub low: u64,
    /// [`Severity::Medium`].
    pub medium: u64,
    /// [`Severity::High`].
    pub high: u64,
    /// [`Severity::Critical`].
    pub critical: u64,
}

impl SeverityCounts {
    /// The count for `severity`.
    pub fn of(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }
}

/// What the retry loops did, process-wide. First attempts that succeed are not counted here
/// (that would put a shared counter on the success path); `#[track_performance]` counts calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RetryStats {
    /// Attempts that failed.
    pub failed_attempts: u64,
    /// Back-off sleeps started (each followed by another attempt unless cancelled).
    pub retries: u64,
    /// Calls that succeeded after at least one failed attempt.
    pub successes_after_retry: u64,
    /// Calls that failed after using all their retries.
    pub exhausted: u64,
    /// Calls that failed with an error classified as not retryable.
    pub permanent: u64,
    /// Calls that failed because the retry budget was empty.
    pub budget_exhausted: u64,
    /// Calls that failed because the next sleep would pass the deadline.
    pub deadline_exceeded: u64,
    /// Calls dropped after a failure and before finishing (an async call cancelled mid-sleep).
    pub cancelled: u64,
}

/// Errors of one operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct OperationErrors {
    /// The operation.
    pub operation: String,
    /// Failed attempts.
    pub errors: u64,
    /// Calls that failed for good.
    pub final_failures: u64,
    /// Back-off sleeps started.
    pub retries: u64,
    /// Calls that succeeded after a retry.
    pub successes_after_retry: u64,
    /// Calls stopped by an empty retry budget.
    pub budget_exhausted: u64,
    /// Calls cancelled after a failure.
    pub cancelled: u64,
    /// The latest error message.
    pub last_error: Option<String>,
}

/// The error side's verdict on the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorHealth {
    /// No serious failure recently.
    Healthy,
    /// A high-severity failure, or many failures, in the last five minutes.
    Degraded,
    /// A critical failure in the last five minutes.
    Critical,
}

impl ErrorHealth {
    /// `"healthy"`, `"degraded"` or `"critical"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for ErrorHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the error registry knows; see [`crate::error_report()`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorReport {
    /// Failed attempts, retried or not.
    pub total_errors: u64,
    /// Calls that failed for good.
    pub final_failures: u64,
    /// Failed attempts per severity.
    pub by_severity: SeverityCounts,
    /// Per operation, sorted by name.
    pub by_operation: Vec<OperationErrors>,
    /// What the retry loops did.
    pub retry: RetryStats,
    /// The latest failed attempts, oldest first (bounded, see [`set_recent_capacity`]).
    pub recent: Vec<ErrorRecord>,
    /// Healthy, degraded or critical, from recent final failures.
    pub health_status: ErrorHealth,
    /// Every circuit breaker's state and window, sorted by name.
    pub circuit_breaker_status: Vec<crate::BreakerSnapshot>,
}

impl ErrorReport {
    /// The row of `operation`, if it recorded an error.
    pub fn operation(&self, operation: &str) -> Option<&OperationErrors> {
        self.by_operation.iter().find(|o| o.operation == operation)
    }
}

/// The global error report: totals, per severity and operation, retry statistics, recent
/// errors and a health verdict.
pub fn error_report() -> ErrorReport {
    registry::report()
}

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
/// the global error registry.
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
/// let report = handler.error_report();
/// assert_eq!(report.operation("docs.fetch_user").unwrap().successes_after_retry, 1);
/// ```
///
/// With [`breaker`](ErrorHandler::breaker), every attempt goes through the circuit breaker
/// named after the operation; the error type must then hold a rejection
/// (`E: From<CircuitOpen>`), and a rejection is returned at once, never retried.
#[derive(Clone, Debug)]
pub struct ErrorHandler<B = NoBreaker> {
    context: ErrorContext,
    breaker: B,
}

/// The breaker slot of an [`ErrorHandler`] without a circuit breaker.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBreaker;

impl From<ErrorContext> for ErrorHandler {
    fn from(context: ErrorContext) -> Self {
        Self {
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
        let breaker = crate::breaker_with(name, config).unwrap_or_else(|error| {
            tracing::error!(target: "coord::breaker", breaker = %name, %error, "invalid breaker configuration ignored");
            crate::breaker(name)
        });
        ErrorHandler {
            context: self.context,
            breaker,
        }
    }

    /// [`breaker`](Self::breaker), returning the configuration error instead of logging it.
    pub fn try_breaker(
        self,
        config: BreakerConfig,
    ) -> Result<ErrorHandler<Arc<CircuitBreaker>>, BreakerConfigError> {
        let breaker = crate::breaker_with(&self.context.operation_name, config)?;
        Ok(ErrorHandler {
            context: self.context,
            breaker,
        })
    }

    /// Runs `operation`, retrying as the policy allows; returns its value or its last error.
    pub fn execute<T, E, F>(&self, operation: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        E: fmt::Display + 'static,
    {
        Pipeline::attempts(operation)
            .retry(
                self.retrier(),
                &|e: &E| self.context.retry.is_retryable(e),
                |_| pipeline::display,
            )
            .run()
    }

    /// [`execute`](Self::execute) for async operations (a fresh future per attempt).
    pub async fn execute_async<T, E, F, Fut>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        Pipeline::async_attempts(async move || operation().await)
            .retry(
                self.retrier(),
                &|e: &E| self.context.retry.is_retryable(e),
                |_| pipeline::display,
            )
            .run_async()
            .await
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
        Pipeline::attempts(operation)
            .retry(
                self.retrier(),
                &|e: &E| self.context.retry.is_retryable(e),
                |_| pipeline::display,
            )
            .breaker(&self.breaker)
            .run()
    }

    /// [`execute`](Self::execute) for async operations (a fresh future per attempt).
    pub async fn execute_async<T, E, F, Fut>(&self, mut operation: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<CircuitOpen> + fmt::Display + 'static,
    {
        Pipeline::async_attempts(async move || operation().await)
            .retry(
                self.retrier(),
                &|e: &E| self.context.retry.is_retryable(e),
                |_| pipeline::display,
            )
            .breaker(&self.breaker)
            .run_async()
            .await
    }

    /// The handler's circuit breaker.
    pub fn circuit_breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }
}

impl<B> ErrorHandler<B> {
    /// The retry slot of this handler's pipeline.
    fn retrier(&self) -> PolicyRetrier<'_> {
        PolicyRetrier {
            policy: &self.context.retry,
            operation: &self.context.operation_name,
            severity: self.context.severity,
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
        self
    }

    /// The handler's context.
    pub fn context(&self) -> &ErrorContext {
        &self.context
    }

    /// Closes the circuit breaker named after this handler's operation (the one
    /// [`breaker`](ErrorHandler::breaker) configured), if it exists.
    pub fn reset_circuit_breaker(&self) {
        if let Some(breaker) = crate::breaker::find(&self.context.operation_name) {
            breaker.reset();
        }
    }

    /// The global error report (its [`ErrorReport::operation`] gives this handler's row).
    pub fn error_report(&self) -> ErrorReport {
        error_report()
    }
}
