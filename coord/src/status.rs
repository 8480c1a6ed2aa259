//! The small enums several layers speak (how a call ended is `crate::outcome`'s): what the
//! retry loop made of a failed attempt ([`AttemptOutcome`]) and a health verdict ([`HealthStatus`]). A leaf,
//! so that the registries that produce them and the ones that store them need not import each
//! other.

named_enum! {
    /// What the retry loop made of one failed attempt: retried, or why the call ended with it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AttemptOutcome {
        /// Another attempt followed after a back-off sleep.
        Retried = "retried",
        /// `max_retries` was reached; the call failed.
        Exhausted = "exhausted",
        /// The error was classified as not retryable; the call failed.
        Permanent = "permanent",
        /// The retry budget was empty; the call failed.
        BudgetExhausted = "budget_exhausted",
        /// The next sleep would have ended past the deadline; the call failed.
        DeadlineExceeded = "deadline_exceeded",
    }
}

named_enum! {
    /// A health verdict, worst last: of the host and its operations
    /// ([`SystemHealth`](crate::SystemHealth)) and of recent failures
    /// ([`ErrorReport`](crate::ErrorReport)).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum HealthStatus {
        /// Nothing is wrong enough to mention.
        Healthy = "healthy",
        /// Some input passed its "degraded" threshold (for errors: a high-severity failure, or
        /// many failures, in the last five minutes).
        Degraded = "degraded",
        /// Some input passed its "unhealthy" threshold (for errors: a critical failure in the
        /// last five minutes).
        Unhealthy = "unhealthy",
    }
}
