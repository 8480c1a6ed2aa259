//! The composition of coord's layers, written once: `track_performance` (outermost) → `retry` →
//! `circuit_breaker` → the operation.
//!
//! A circuit breaker sits *inside* the retry loop: every attempt takes its own permit, and a
//! rejection ([`CircuitOpen`]) is a permanent error, never retried. [`crate::ErrorHandler`]
//! drives these functions; the macros' generated code performs the same steps through
//! `__private` (`try_acquire`, `record`, `breaker_rejected_attempt`), because an `async fn`'s
//! attempts must be able to borrow its parameters, which a closure-per-attempt cannot.

use std::fmt;
use std::future::Future;

use crate::breaker::{CircuitBreaker, CircuitOpen, Permit};
use crate::retry::{Attempt, RetryPolicy};

/// One attempt without a breaker: the operation's error, classified by the policy.
pub(crate) fn attempt<T, E>(
    policy: &RetryPolicy,
    operation: impl FnOnce() -> Result<T, E>,
) -> Result<T, Attempt<E>>
where
    E: fmt::Display + 'static,
{
    operation().map_err(|e| policy.classify(e))
}

/// One attempt through `breaker`: a rejection is permanent; otherwise the outcome is recorded on
/// the permit and the error classified by the policy.
pub(crate) fn guarded_attempt<T, E>(
    breaker: &CircuitBreaker,
    policy: &RetryPolicy,
    operation: impl FnOnce() -> Result<T, E>,
) -> Result<T, Attempt<E>>
where
    E: From<CircuitOpen> + fmt::Display + 'static,
{
    let permit = breaker.try_acquire().map_err(rejected)?;
    let result = operation();
    permit.record(&result);
    result.map_err(|e| policy.classify(e))
}

/// [`guarded_attempt`] for a future. `admitted` is the permit and the attempt's future, made
/// only once the permit was granted (so a rejected attempt runs none of the operation), or the
/// rejection. The permit is held until the future completes and released uncounted if the
/// future is dropped.
pub(crate) async fn guarded_attempt_async<T, E, Fut>(
    admitted: Result<(Permit<'_>, Fut), CircuitOpen>,
    policy: &RetryPolicy,
) -> Result<T, Attempt<E>>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<CircuitOpen> + fmt::Display + 'static,
{
    let (permit, attempt) = admitted.map_err(rejected)?;
    let result = attempt.await;
    permit.record(&result);
    result.map_err(|e| policy.classify(e))
}

fn rejected<E>(open: CircuitOpen) -> Attempt<E>
where
    E: From<CircuitOpen> + fmt::Display + 'static,
{
    Attempt::permanent(E::from(open)).describe_with(|e| e.to_string())
}
