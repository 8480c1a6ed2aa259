//! Retry budgets: a token bucket per dependency (a policy name, an operation name, or one
//! unnamed policy value), so a failing dependency cannot turn every caller into a retry storm,
//! nor use up the retries of the others.
//!
//! Named budgets live in a capped registry; an unnamed policy's own budget lives in the policy
//! (and its clones) only. [`crate::reset`] refills both kinds the same way: it moves a global
//! epoch, and a budget that sees a newer epoch than its own refills itself before it is next
//! read or drawn from, so the reset needs no list of the budgets outside the registry.

use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, LazyLock};

use crate::capped::Capped;

/// How a retry budget refills and drains. The default (capacity 500, a retry costs 5, a
/// success refunds 1) allows bursts of 100 retries and, sustained, one retry per five successes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens in a full bucket; the bucket starts full.
    pub capacity: u32,
    /// Tokens one retry takes. A retry that finds fewer is not made.
    pub retry_cost: u32,
    /// Tokens every successful call puts back, up to `capacity`.
    pub success_refund: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            capacity: 500,
            retry_cost: 5,
            success_refund: 1,
        }
    }
}

impl BudgetConfig {
    setters! {
        /// Sets [`capacity`](Self::capacity).
        pub fn capacity(capacity: u32);

        /// Sets [`retry_cost`](Self::retry_cost).
        pub fn retry_cost(cost: u32);

        /// Sets [`success_refund`](Self::success_refund).
        pub fn success_refund(refund: u32);
    }
}

/// The live token bucket of one dependency: of a policy or operation name (shared by every
/// call site using that name), or of one unnamed policy value.
#[derive(Debug)]
pub struct RetryBudget {
    name: Arc<str>,
    config: BudgetConfig,
    tokens: AtomicU32,
    exhausted: AtomicU64,
    /// The reset epoch this bucket was last refilled for.
    epoch: AtomicU64,
}

/// Moved by every [`crate::reset`]; see the module's docs.
static RESET_EPOCH: AtomicU64 = AtomicU64::new(0);

/// The name an unnamed policy's own budget reports (it is in no registry).
const OWN_BUDGET_NAME: &str = "retry";

/// A point-in-time copy of one retry budget.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetSnapshot {
    /// The policy (or operation) name the budget belongs to; `"retry"` for an unnamed
    /// policy's own budget.
    pub name: String,
    /// Tokens left.
    pub tokens: u32,
    /// The bucket's configuration.
    pub config: BudgetConfig,
    /// Retries refused because the bucket was empty.
    pub exhausted: u64,
}

impl RetryBudget {
    fn new(name: Arc<str>, config: BudgetConfig) -> Self {
        Self {
            name,
            tokens: AtomicU32::new(config.capacity),
            config,
            exhausted: AtomicU64::new(0),
            epoch: AtomicU64::new(RESET_EPOCH.load(Acquire)),
        }
    }

    /// The budget of one unnamed policy value, outside the registry.
    pub(crate) fn own(config: BudgetConfig) -> Self {
        Self::new(Arc::from(OWN_BUDGET_NAME), config)
    }

    /// Refills the bucket if a reset happened since it was last refilled. Only the draw and
    /// the read check: a refund into a stale bucket is undone by the refill that follows.
    #[inline]
    fn catch_up(&self) {
        let now = RESET_EPOCH.load(Acquire);
        if self.epoch.load(Relaxed) != now && self.epoch.swap(now, Relaxed) != now {
            self.refill();
        }
    }

    /// Takes the cost of one retry; `false` (and nothing taken) when the bucket is too low.
    pub fn try_withdraw(&self) -> bool {
        self.catch_up();
        let cost = self.config.retry_cost;
        let taken = self
            .tokens
            .fetch_update(Relaxed, Relaxed, |t| t.checked_sub(cost))
            .is_ok();
        if !taken {
            self.exhausted.fetch_add(1, Relaxed);
        }
        taken
    }

    /// Puts back one success's refund. A full bucket costs one load and no write, which keeps
    /// the success path free of contended read-modify-writes.
    #[inline]
    pub fn deposit(&self) {
        let capacity = self.config.capacity;
        if self.tokens.load(Relaxed) < capacity {
            let refund = self.config.success_refund;
            // Never fails: the closure always returns Some.
            let _ = self.tokens.fetch_update(Relaxed, Relaxed, |t| {
                Some(t.saturating_add(refund).min(capacity))
            });
        }
    }

    /// Reads the bucket.
    pub fn snapshot(&self) -> BudgetSnapshot {
        self.catch_up();
        BudgetSnapshot {
            name: self.name.to_string(),
            tokens: self.tokens.load(Relaxed),
            config: self.config,
            exhausted: self.exhausted.load(Relaxed),
        }
    }

    fn refill(&self) {
        self.tokens.store(self.config.capacity, Relaxed);
        self.exhausted.store(0, Relaxed);
    }
}

/// Distinct budget names the registry holds unless [`set_max_budgets`] says otherwise.
pub const DEFAULT_MAX_BUDGETS: usize = 10_000;

/// Budgets by policy (or operation) name, at most [`max_budgets`] plus the shared overflow one.
static BUDGETS: LazyLock<Capped<RetryBudget>> =
    LazyLock::new(|| Capped::new("retry budget", DEFAULT_MAX_BUDGETS));

/// The budget called `name` (cut to 256 bytes), created full with `config` on first use (later
/// configs for the same name are ignored: the first policy to use a name sets its bucket). Past
/// the cap, every new name shares the one budget `coord.overflow`, with the default
/// configuration.
pub(crate) fn resolve(name: &str, config: BudgetConfig) -> Arc<RetryBudget> {
    BUDGETS
        .get_or_make(name, |key| {
            let config = if &*key == crate::capped::OVERFLOW_NAME {
                BudgetConfig::default()
            } else {
                config
            };
            RetryBudget::new(key, config)
        })
        .entry()
}

/// The retry budget of policy (or operation) `name`, if a retrying call has used it (the shared
/// overflow budget is found by its name, `coord.overflow`).
pub fn budget(name: &str) -> Option<BudgetSnapshot> {
    BUDGETS.find(name).map(|b| b.snapshot())
}

/// The budget registry's cap on distinct names.
pub fn max_budgets() -> usize {
    BUDGETS.cap()
}

/// Sets the budget registry's cap on distinct names. Names already registered stay; a lower cap
/// only stops new ones.
pub fn set_max_budgets(cap: usize) {
    BUDGETS.set_cap(cap);
}

/// How many lookups of a new budget name found the registry full (each got the shared budget
/// `coord.overflow`) since start or the last [`crate::reset`].
pub fn dropped_budget_names() -> u64 {
    BUDGETS.dropped()
}

/// Refills every bucket (the registry's and the policies' own, each on its next use) and zeroes
/// the dropped-name count; handles cached by policies stay valid.
pub(crate) fn reset_all() {
    RESET_EPOCH.fetch_add(1, Release);
    BUDGETS.reset_dropped();
}
