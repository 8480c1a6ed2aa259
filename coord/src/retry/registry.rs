//! Named policies: the registry behind `#[retry(policy = "name")]` and the configuration file.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use super::policy::RetryPolicy;

static POLICIES: LazyLock<RwLock<HashMap<String, RetryPolicy>>> = LazyLock::new(Default::default);

/// Registers `policy` under `name` for `#[retry(policy = "name")]`, for a `#[retry]` without
/// `policy` on a function whose operation is called `name`, and for [`policy`]; an unnamed
/// policy takes `name` (and so the budget of that name). Call sites read the registry on their
/// first call, so register policies at start-up. A [`when`](RetryPolicy::when) predicate of a
/// registered policy applies to `call`/`execute`; `#[retry]` classifies with its own `when` key.
pub fn register_policy(name: &str, policy: RetryPolicy) {
    let policy = if policy.name().is_some() {
        policy
    } else {
        policy.named(name)
    };
    crate::locks::write(&POLICIES).insert(name.to_owned(), policy);
}

/// The policy registered as `name`. A registry read: it does not load `COORD_CONFIG` (the door
/// [`crate::retry_policy`] does).
pub fn policy(name: &str) -> Option<RetryPolicy> {
    crate::locks::read(&POLICIES).get(name).cloned()
}

/// Names of every registered policy, sorted.
pub fn policy_names() -> Vec<String> {
    let mut names: Vec<_> = crate::locks::read(&POLICIES).keys().cloned().collect();
    names.sort();
    names
}

/// The base policy of `#[retry(policy = "name")]`: the registered one, or defaults named `name`.
pub(crate) fn named_or_default(name: &str) -> RetryPolicy {
    policy(name).unwrap_or_else(|| RetryPolicy::default().named(name))
}
