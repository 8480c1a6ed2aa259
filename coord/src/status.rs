//! The small enums several layers speak: how a call ended ([`Outcome`]), what the retry loop
//! made of a failed attempt ([`AttemptOutcome`]) and a health verdict ([`HealthStatus`]). A leaf,
//! so that the registries that produce them and the ones that store them need not import each
//! other.

use std::fmt;

/// How one call of an operation ended.
// The declaration order is the index into `metrics_bridge::OUTCOMES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Returned anything but `Err`.
    Success,
    /// Returned `Err`, or panicked.
    Failure,
    /// An `async` call whose future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// `"success"`, `"failure"` or `"cancelled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the retry loop made of one failed attempt: retried, or why the call ended with it.
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
    /// A short snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retried => "retried",
            Self::Exhausted => "exhausted",
            Self::Permanent => "permanent",
            Self::BudgetExhausted => "budget_exhausted",
            Self::DeadlineExceeded => "deadline_exceeded",
        }
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health verdict, worst last: of the host and its operations
/// ([`SystemHealth`](crate::SystemHealth)) and of recent failures
/// ([`ErrorReport`](crate::ErrorReport)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Nothing is wrong enough to mention.
    Healthy,
    /// Some input passed its "degraded" threshold (for errors: a high-severity failure, or many
    /// failures, in the last five minutes).
    Degraded,
    /// Some input passed its "unhealthy" threshold (for errors: a critical failure in the last
    /// five minutes).
    Unhealthy,
}

impl HealthStatus {
    /// `"healthy"`, `"degraded"` or `"unhealthy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
