//! Retry budgets: a token bucket per policy name, so a failing dependency cannot turn every
//! caller into a retry storm.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
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
    /// Sets [`capacity`](Self::capacity).
    #[must_use]
    pub fn capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets [`retry_cost`](Self::retry_cost).
    #[must_use]
    pub fn retry_cost(mut self, cost: u32) -> Self {
        self.retry_cost = cost;
        self
    }

    /// Sets [`success_refund`](Self::success_refund).
    #[must_use]
    pub fn success_refund(mut self, refund: u32) -> Self {
        self.success_refund = refund;
        self
    }
}

/// The live token bucket of one policy name, shared by every call site using that name.
#[derive(Debug)]
pub struct RetryBudget {
    name: Arc<str>,
    config: BudgetConfig,
    tokens: AtomicU32,
    exhausted: AtomicU64,
}

/// A point-in-time copy of one retry budget.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetSnapshot {
    /// The policy name the budget belongs to.
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
        }
    }

    /// Takes the cost of one retry; `false` (and nothing taken) when the bucket is too low.
    pub fn try_withdraw(&self) -> bool {
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

/// Refills every bucket and zeroes the dropped-name count; handles cached by policies stay valid.
pub(crate) fn reset_all() {
    BUDGETS.for_each(RetryBudget::refill);
    BUDGETS.reset_dropped();
}
