//! Retry policies: exponential or constant back-off with jitter, error classification,
//! deadlines, hooks and a retry budget per policy name.
//!
//! - `policy`: the [`RetryPolicy`] builder and the loop drivers under it;
//! - `attempt`: the attempt loop, [`RetryLoop`], written once for every driver;
//! - `backoff` and `budget`: delays and the token bucket per policy name;
//! - `registry`: named policies.
//!
//! A mechanism layer: it imports only leaves. [`RetryPolicy::call`], [`RetryPolicy::call_async`],
//! [`ErrorHandler`](crate::ErrorHandler) and the code `#[retry]` generates all drive the one
//! loop; the composition layer (`crate::compose`) hands it the error registry to record into.

mod attempt;
mod backoff;
mod budget;
pub(crate) mod layer;
mod policy;
mod registry;

pub use attempt::{Attempt, Next, RetryLoop};
pub(crate) use attempt::{FailedAttempt, RetryObserver};
pub use budget::{
    BudgetConfig, BudgetSnapshot, DEFAULT_MAX_BUDGETS, RetryBudget, budget, dropped_budget_names,
    max_budgets, set_max_budgets,
};
pub(crate) use policy::ANONYMOUS;
pub use policy::{Jitter, RetryEvent, RetryPolicy, RetrySettings, UnknownJitter};
pub(crate) use registry::named_or_default;
pub use registry::{policy, policy_names, register_policy};

/// Refills every budget. Named policies are configuration and stay registered (DESIGN
/// principle 6): a `#[retry(policy = "name")]` site first called after a reset still gets its
/// policy.
pub(crate) fn reset_all() {
    budget::reset_all();
}
