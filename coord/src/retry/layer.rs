//! Retries as a layer of the stack: [`Retry`] is the policy of one call site (where its loop
//! comes from, which errors are retryable, how failures are described). The loop itself is
//! the stack's (`stack/drive.rs`, `stack/sync.rs`): it runs the gates and the body inside it.

use std::fmt;
use std::marker::PhantomData;

use std::time::Instant;

use super::{Attempt, RetryBudget, RetryLoop};
use crate::layer::Fallible;

/// The retry layer.
pub struct Retry<'w, X, E> {
    retrier: X,
    judge: Judge<'w, E>,
}

/// What a retry layer makes of an attempt's result; used only after a failure, and small and
/// `Copy`, so the retry loop's cold path takes it by value (nothing of it is built on the
/// success path).
pub struct Judge<'w, E> {
    when: &'w (dyn Fn(&E) -> bool + Sync),
    describe: fn(&E) -> String,
    /// Tells a gate's rejection coming from inside the operation (an `ErrorHandler` running a
    /// guarded call).
    rejection: fn(&E) -> bool,
}

impl<E> Clone for Judge<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Judge<'_, E> {}

impl<X: fmt::Debug, E> fmt::Debug for Retry<'_, X, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("retrier", &self.retrier)
            .finish_non_exhaustive()
    }
}

impl<E> fmt::Debug for Judge<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Judge").finish_non_exhaustive()
    }
}

/// Where a retry layer's loop comes from: a macro call site, or a policy with an operation name.
pub trait Retrier {
    /// What a call needs before its first attempt, with no loop built yet: the budget a
    /// success refills, and when the call started if the policy has a deadline.
    fn first(&self) -> (Option<&RetryBudget>, Option<Instant>);
    /// The loop of a call that started at `started` (from [`first`](Self::first)), built only
    /// once an attempt failed or was rejected.
    fn start_at(&self, started: Option<Instant>) -> RetryLoop<'_>;
    /// Starts one call.
    #[inline(always)]
    fn start(&self) -> RetryLoop<'_> {
        self.start_at(self.first().1)
    }
}

/// A marker of the error type `E`, handed to the stack's `retry` step so that it can pick a
/// message function by the type's traits.
pub struct Describe<E>(PhantomData<fn(&E)>);

impl<E> Describe<E> {
    /// The marker.
    #[inline(always)]
    pub fn marker() -> Self {
        Self(PhantomData)
    }
}

impl<'w, X: Retrier, E> Retry<'w, X, E> {
    /// Retries as `retrier` allows; `when(&error)` returning `false` makes an error permanent;
    /// `describe` gives the message failures are recorded with.
    #[inline(always)]
    pub fn new(
        retrier: X,
        when: &'w (dyn Fn(&E) -> bool + Sync),
        describe: fn(&E) -> String,
    ) -> Self {
        Self {
            retrier,
            judge: Judge {
                when,
                describe,
                rejection: |_| false,
            },
        }
    }

    /// Errors `is_rejection` recognises end the call as a rejection (not retried, not a failed
    /// attempt) rather than a failure.
    #[inline(always)]
    #[must_use]
    pub fn rejections(mut self, is_rejection: fn(&E) -> bool) -> Self {
        self.judge.rejection = is_rejection;
        self
    }

    /// Starts the retry loop of one call.
    #[inline(always)]
    pub fn start(&self) -> RetryLoop<'_> {
        self.retrier.start()
    }

    /// What the layer makes of an attempt's result.
    #[inline(always)]
    pub(crate) fn judge(&self) -> &Judge<'w, E> {
        &self.judge
    }

    /// The retrier and the judge, apart.
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (X, Judge<'w, E>) {
        (self.retrier, self.judge)
    }
}

/// What a retry loop takes over from a first attempt made without one.
pub(crate) enum Missed<E> {
    /// A gate's rejection from inside the operation (see [`Retry::rejections`]).
    Rejected(E),
    /// A failure for the policy.
    Failed(Attempt<E>),
}

/// A [`Judge`] taken apart, to cross into a cold function as plain values: a judge passed
/// whole is built in memory before the first attempt, on the success path, for that call.
pub(crate) type JudgeParts<'w, E> = (
    &'w (dyn Fn(&E) -> bool + Sync),
    fn(&E) -> String,
    fn(&E) -> bool,
);

impl<'w, E> Judge<'w, E> {
    /// The judge's parts (see [`JudgeParts`]).
    #[inline(always)]
    pub(crate) fn into_parts(self) -> JudgeParts<'w, E> {
        (self.when, self.describe, self.rejection)
    }

    /// The judge of `parts`.
    #[inline(always)]
    pub(crate) fn from_parts((when, describe, rejection): JudgeParts<'w, E>) -> Self {
        Self {
            when,
            describe,
            rejection,
        }
    }
}

impl<E> Judge<'_, E> {
    /// A first attempt's outcome, before any loop exists: the call's outcome on success (the
    /// budget refilled, as [`RetryLoop::succeeded`] would), else what the loop must take over.
    #[inline(always)]
    pub(crate) fn first<Out: Fallible<Err = E>>(
        &self,
        budget: Option<&RetryBudget>,
        out: Out,
    ) -> Result<Out, Missed<E>> {
        match out.into_result() {
            Ok(value) => {
                if let Some(budget) = budget {
                    budget.deposit();
                }
                Ok(Out::from_result(Ok(value)))
            }
            Err(error) if (self.rejection)(&error) => Err(Missed::Rejected(error)),
            Err(error) => Err(Missed::Failed(self.classify(error))),
        }
    }

    /// An attempt's outcome: the call's outcome on success (counted as such), else the failure
    /// for the policy.
    #[inline(always)]
    pub fn outcome<Out: Fallible<Err = E>>(
        &self,
        attempts: &mut RetryLoop<'_>,
        out: Out,
    ) -> Result<Out, Attempt<E>> {
        match out.into_result() {
            Ok(value) => {
                attempts.succeeded();
                Ok(Out::from_result(Ok(value)))
            }
            Err(error) if (self.rejection)(&error) => {
                attempts.rejected();
                Ok(Out::from_result(Err(error)))
            }
            Err(error) => Err(self.classify(error)),
        }
    }

    #[inline]
    fn classify(&self, error: E) -> Attempt<E> {
        let attempt = if (self.when)(&error) {
            Attempt::retryable(error)
        } else {
            Attempt::permanent(error)
        };
        attempt.describe_with(self.describe)
    }
}
