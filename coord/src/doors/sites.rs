//! The call-site handles macro-generated code keeps in `static`s (re-exported by `__private`).
//! Resolving one is a door: it loads `COORD_CONFIG` first, once per call site, off the hot
//! path; afterwards a site is one atomic load.

use std::sync::{Arc, OnceLock};

use crate::breaker::{self, BreakerConfig, CircuitBreaker};
use crate::config;
use crate::errors::Severity;
use crate::perf::{self, Operation, TimedCall};
use crate::retry::{self, Attempt, RetryBudget, RetryLoop, RetryPolicy};
use crate::validate::{self, RuleSet};

/// A call site's handle on its breaker: a `static` in macro-generated code, resolved in the
/// registry on first use (with the site's configuration) and a plain load afterwards.
#[doc(hidden)]
#[derive(Debug)]
pub struct BreakerSite {
    name: &'static str,
    config: fn() -> BreakerConfig,
    breaker: OnceLock<Arc<CircuitBreaker>>,
}

impl BreakerSite {
    /// A handle for the breaker `name` configured by `config`, not yet resolved.
    pub const fn new(name: &'static str, config: fn() -> BreakerConfig) -> Self {
        Self {
            name,
            config,
            breaker: OnceLock::new(),
        }
    }

    /// The breaker. A configuration the macro could not check at compile time and that turns
    /// out invalid falls back to the registry's entry as it is.
    #[inline]
    pub fn breaker(&self) -> &CircuitBreaker {
        self.breaker.get_or_init(|| {
            config::ensure_env_loaded();
            // A configuration file's entry wins; otherwise the call site configures the breaker
            // only if it creates it, so a breaker set up with `breaker_with` (or by another call
            // site) keeps its configuration.
            if let Some(config) = breaker::file_config(self.name) {
                return breaker::breaker_with(self.name, config)
                    .unwrap_or_else(|_| breaker::breaker(self.name));
            }
            if let Some(existing) = breaker::find(self.name) {
                return existing;
            }
            breaker::breaker_with(self.name, (self.config)())
                .unwrap_or_else(|_| breaker::breaker(self.name))
        })
    }
}

/// A `#[retry]` call site's policy: built on the first call, then one atomic load per call.
#[doc(hidden)]
#[derive(Debug)]
pub struct RetrySite {
    operation: &'static str,
    build: fn() -> RetryPolicy,
    policy: OnceLock<SitePolicy>,
}

/// A site's policy with its budget resolved, one pointer away from the `static`.
#[derive(Debug)]
struct SitePolicy {
    policy: RetryPolicy,
    budget: Option<Arc<RetryBudget>>,
    recorder: crate::compose::retry::RowRecorder,
}

impl RetrySite {
    /// A site for `operation` whose policy `build` makes.
    pub const fn new(operation: &'static str, build: fn() -> RetryPolicy) -> Self {
        Self {
            operation,
            build,
            policy: OnceLock::new(),
        }
    }

    #[inline]
    fn resolved(&self) -> &SitePolicy {
        self.policy.get_or_init(|| {
            config::ensure_env_loaded();
            let policy = (self.build)();
            let budget = policy.bound_budget(self.operation).cloned();
            SitePolicy {
                policy,
                budget,
                recorder: crate::compose::retry::RowRecorder::new(Severity::Medium),
            }
        })
    }

    /// Starts one call.
    #[inline]
    pub fn start(&self) -> RetryLoop<'_> {
        let site = self.resolved();
        RetryLoop::recorded(
            &site.policy,
            site.budget.as_deref(),
            self.operation,
            &site.recorder,
        )
    }

    /// Runs a synchronous call: see [`RetryPolicy::run`](crate::RetryPolicy::run).
    #[inline]
    pub fn run<T, E>(&self, attempt: impl FnMut() -> Result<T, Attempt<E>>) -> Result<T, E> {
        let site = self.resolved();
        site.policy.run_budgeted(
            site.budget.as_deref(),
            self.operation,
            &site.recorder,
            attempt,
        )
    }

    /// The site's operation name.
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

/// The base policy of `#[retry(policy = "name")]`: the registered one, or defaults named `name`.
pub fn named_or_default(name: &str) -> RetryPolicy {
    config::ensure_env_loaded();
    retry::named_or_default(name)
}

/// Registers a derived type's rule set unless one of that name exists; `true` when it was added
/// (so the caller goes on to register its nested types, and recursive types stop).
pub fn register_rule_set(build: fn() -> RuleSet) -> bool {
    config::ensure_env_loaded();
    validate::register_rule_set(build)
}

/// A call site's handle on its operation: a `static` in macro-generated code, resolved on the
/// first call and a single atomic load afterwards.
#[derive(Debug)]
pub struct OperationSite {
    name: &'static str,
    operation: OnceLock<Arc<Operation>>,
}

impl OperationSite {
    /// A handle for the operation called `name`, not yet resolved.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            operation: OnceLock::new(),
        }
    }

    /// The operation, resolved in the registry on first use.
    #[inline]
    pub fn operation(&self) -> &Operation {
        self.operation.get_or_init(|| {
            config::ensure_env_loaded();
            perf::resolve(self.name)
        })
    }

    /// Starts timing one call.
    #[inline]
    pub fn start(&self) -> TimedCall<'_> {
        self.operation().start_timed()
    }
}

impl crate::pipeline::TimedSite for OperationSite {
    #[inline(always)]
    fn start(&self) -> TimedCall<'_> {
        OperationSite::start(self)
    }
}

impl crate::pipeline::Retrier for &RetrySite {
    #[inline(always)]
    fn start(&self) -> RetryLoop<'_> {
        RetrySite::start(self)
    }
}
