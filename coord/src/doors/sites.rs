//! The call-site handles macro-generated code keeps in `static`s (re-exported by `__private`).
//! Resolving one is a door: it loads `COORD_CONFIG` first, once per call site, off the hot
//! path; afterwards a site is one atomic load.

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::breaker::{self, BreakerConfig, CircuitBreaker, KeyedBreakers};
use crate::config;
use crate::errors::Severity;
use crate::layer::SiteLayer;
use crate::perf::layer::TimedSite;
use crate::perf::{self, Operation, TimedCall};
use crate::retry::layer::Retrier;
use crate::retry::{self, Attempt, RetryBudget, RetryLoop, RetryPolicy};
use crate::timeout::counters::TimeoutCounter;
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
    /// out invalid falls back to the registry's entry as it is (with a `tracing` error).
    #[inline]
    pub fn breaker(&self) -> &CircuitBreaker {
        self.breaker.get_or_init(|| {
            config::ensure_env_loaded();
            breaker::for_layer(self.name, self.config)
        })
    }
}

/// A `#[circuit_breaker(name = "db", key = expr)]` call site: its group, resolved once like a
/// [`BreakerSite`]'s breaker (a configuration file's entry wins; an existing group keeps its
/// configuration; otherwise the site's configures it), then the key's breaker per call.
#[doc(hidden)]
#[derive(Debug)]
pub struct KeyedSite {
    name: &'static str,
    config: fn() -> BreakerConfig,
    group: OnceLock<Arc<KeyedBreakers>>,
}

impl KeyedSite {
    /// A handle for the keyed group `name` configured by `config`, not yet resolved.
    pub const fn new(name: &'static str, config: fn() -> BreakerConfig) -> Self {
        Self {
            name,
            config,
            group: OnceLock::new(),
        }
    }

    /// The breaker of `key`. A configuration that turns out invalid falls back to the defaults.
    #[inline]
    pub fn get<K: Hash + fmt::Display + ?Sized>(&self, key: &K) -> Arc<CircuitBreaker> {
        self.group.get_or_init(|| self.resolve()).get(key)
    }

    #[cold]
    fn resolve(&self) -> Arc<KeyedBreakers> {
        config::ensure_env_loaded();
        breaker::keyed_for_layer(self.name, self.config)
    }
}

/// A `#[retry]` call site's policy: built on the first call, then one atomic load per call.
/// Its budget is the one of its policy's name: the operation's name unless the attribute reads
/// a named policy (`policy = "name"`), so each call site (each operation) has its own.
#[doc(hidden)]
#[derive(Debug)]
pub struct RetrySite {
    operation: &'static str,
    build: fn(&'static str) -> RetryPolicy,
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
    /// A site for `operation` whose policy `build` makes from the operation's name.
    pub const fn new(operation: &'static str, build: fn(&'static str) -> RetryPolicy) -> Self {
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
            let policy = (self.build)(self.operation);
            let budget = policy.budget_of(self.operation);
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
        self.start_at(self.resolved().policy.start_time())
    }

    /// The loop of a call that started at `started`.
    #[inline]
    fn start_at(&self, started: Option<Instant>) -> RetryLoop<'_> {
        let site = self.resolved();
        RetryLoop::recorded(
            &site.policy,
            site.budget.as_deref(),
            self.operation,
            &site.recorder,
            started,
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

doors! {
    /// The base policy of a `#[retry]` call site: the one registered under `name` (the
    /// attribute's `policy = "name"`, else the operation's name), or defaults named `name`.
    pub fn named_or_default(name: &str) -> RetryPolicy => retry::named_or_default(name);

    /// Registers a derived type's rule set unless one of that name exists; `true` when it was
    /// added (so the caller goes on to register its nested types, and recursive types stop).
    pub fn register_rule_set(build: fn() -> RuleSet) -> bool
        => validate::register_rule_set(build);
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

    /// The operation's name.
    #[inline]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The operation, resolved in the registry on first use.
    #[inline]
    pub fn operation(&self) -> &Operation {
        self.operation.get_or_init(|| {
            config::ensure_env_loaded();
            perf::resolve(self.name)
        })
    }

    /// Starts timing one call (with recording off, without looking the operation up).
    #[inline]
    pub fn start(&self) -> TimedCall<'_> {
        if !crate::recording::enabled() {
            return TimedCall::off();
        }
        self.operation().start_timed()
    }
}

impl TimedSite for OperationSite {
    #[inline(always)]
    fn start(&self) -> TimedCall<'_> {
        OperationSite::start(self)
    }

    #[inline]
    fn name(&self) -> &str {
        self.name
    }

    #[inline(always)]
    fn start_recording(&self) -> TimedCall<'_> {
        self.operation().start_recording()
    }
}

impl Retrier for &RetrySite {
    #[inline(always)]
    fn first(&self) -> (Option<&RetryBudget>, Option<Instant>) {
        let site = self.resolved();
        (site.budget.as_deref(), site.policy.start_time())
    }

    #[inline(always)]
    fn start_at(&self, started: Option<Instant>) -> RetryLoop<'_> {
        RetrySite::start_at(self, started)
    }
}

/// A call site's handle on a named layer (a gate layer's, a time-out counter): resolved on the
/// first call, then one atomic load. A gate layer's site is
/// `LayerSite::<Layer>::configured(name, || config)`, its `SiteLayer` implemented in the
/// layer's folder.
#[derive(Debug)]
pub struct LayerSite<H: SiteLayer> {
    name: Option<&'static str>,
    config: H::Config,
    handle: OnceLock<Arc<H>>,
}

impl<H: SiteLayer> LayerSite<H> {
    /// The layer `name` (`None`: the function's operation name) configured by `config` if the
    /// first call creates it.
    pub const fn configured(name: Option<&'static str>, config: H::Config) -> Self {
        Self {
            name,
            config,
            handle: OnceLock::new(),
        }
    }

    /// The layer; `operation` gives the function's operation name ([`Site::name`]), read
    /// on the first call only, when the layer has no name of its own.
    ///
    /// [`Site::name`]: crate::__private::Site::name
    #[inline]
    pub fn get(&self, operation: impl FnOnce() -> &'static str) -> &H {
        self.handle.get_or_init(|| {
            config::ensure_env_loaded();
            H::resolve(self.name.unwrap_or_else(operation), &self.config)
        })
    }
}

/// A `#[timeout]` call site's time-out counter, under the operation's name.
pub type TimeoutSite = LayerSite<TimeoutCounter>;

impl TimeoutSite {
    /// The counter of the function's operation, named on the first call.
    pub const fn new() -> Self {
        Self::configured(None, ())
    }
}

impl Default for TimeoutSite {
    fn default() -> Self {
        Self::new()
    }
}

impl SiteLayer for TimeoutCounter {
    type Config = ();
    fn resolve(name: &'static str, (): &()) -> Arc<Self> {
        crate::timeout::timeout_count(name)
    }
}
