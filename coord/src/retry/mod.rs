//! Retry policies: exponential or constant back-off with jitter, error classification,
//! deadlines, hooks and a retry budget per dependency.
//!
//! - `policy`: the [`RetryPolicy`] builder and the loop drivers under it;
//! - `attempt`: the attempt loop, [`RetryLoop`], written once for every driver;
//! - `backoff` and `budget`: delays and the token bucket per dependency;
//! - `blocking`: the warning for a blocking back-off sleep inside an async runtime;
//! - `registry`: named policies.
//!
//! A mechanism layer: it imports only leaves. [`RetryPolicy::call`], [`RetryPolicy::call_async`],
//! [`ErrorHandler`](crate::ErrorHandler) and the code `#[retry]` generates all drive the one
//! loop; the composition layer (`crate::compose`) hands it the error registry to record into.

mod attempt;
mod backoff;
mod blocking;
mod budget;
pub(crate) mod file;
pub(crate) mod layer;
mod policy;
mod registry;

pub use attempt::{Attempt, Next, RetryLoop};
pub(crate) use attempt::{FailedAttempt, RetryObserver};
pub use budget::{BudgetConfig, BudgetSnapshot, RetryBudget, budget};
// Compatibility paths: the caps' documented home is `coord::limits`.
#[doc(hidden)]
pub use budget::{DEFAULT_MAX_BUDGETS, dropped_budget_names, max_budgets, set_max_budgets};
pub(crate) use policy::ANONYMOUS;
pub use policy::{Jitter, RetryEvent, RetryPolicy, RetrySettings, UnknownJitter};
pub(crate) use registry::named_or_default;
pub use registry::policy_names;
// Compatibility paths: the documented homes are the root's `coord::register_policy` and
// `coord::retry_policy` (which loads `COORD_CONFIG` first).
#[doc(hidden)]
pub use registry::{policy, register_policy};

/// The retry loop's metric family: counted in the error registry's rows for the report, sent by
/// the loop to the `metrics` facade.
pub(crate) const RETRY_ATTEMPTS_TOTAL: crate::contract::exposition::Family =
    crate::contract::exposition::Family::counter(
        "coord_retry_attempts_total",
        "{attempt}",
        "Attempts after the first (retries) by operation.",
    );

/// Refills every budget. Named policies are configuration and stay registered (DESIGN
/// principle 6): a `#[retry(policy = "name")]` site first called after a reset still gets its
/// policy.
pub(crate) fn reset_all() {
    budget::reset_all();
}
