//! The doors: the functions users call at the crate root and the call-site handles the macros
//! use (through `__private`); the gate layers' lookups are written beside their re-exports in
//! the crate root. Only the doors load `COORD_CONFIG`
//! ([`config::ensure_env_loaded`](crate::config::ensure_env_loaded)) before they reach a
//! registry (the functions through `doors!`, the call-site handles on their first use); the
//! layers below never look upward for configuration.

pub(crate) mod handler;
pub mod limits;
pub(crate) mod sites;

use std::sync::Arc;

use crate::breaker::{self, BreakerConfig, BreakerConfigError, CircuitBreaker};
use crate::compose;
use crate::perf::{self, OperationStats, PerformanceMonitor};
use crate::report::{self, Report};
use crate::retry::{self, RetryPolicy};
use crate::validate::{self, RuleRegistry, Validator};

doors! {
    /// The recording rules and multi-window, multi-burn-rate alerts of every declared objective (a
    /// configuration file's too: this loads `COORD_CONFIG` first), as a Prometheus rule file: one
    /// group per objective (`coord_objective_<name>`), with
    ///
    /// - `coord_objective:error_ratio:rate<window>{objective, sli}` for each window of
    ///   [`WINDOWS`](crate::objectives::WINDOWS) and the period: the share of bad events, from
    ///   `coord_operation_calls_total` (success) and `coord_operation_duration_seconds_bucket`
    ///   (latency) of the operations that joined the objective (joined through the
    ///   `coord_objective_operation_info{objective, operation}` series coord exports);
    /// - `coord_objective:error_budget_remaining:ratio{objective, sli}` over the period;
    /// - the [`BURN_ALERTS`](crate::objectives::BURN_ALERTS) of each indicator, labelled
    ///   `objective`, `sli` and `severity`.
    ///
    /// `groups: []` when no objective is declared.
    pub fn prometheus_rules() -> String => crate::objective::prometheus_rules();

    /// The process-wide performance monitor. Its health score counts open circuit breakers.
    pub fn monitor() -> &'static PerformanceMonitor => compose::health::monitor();

    /// Stats of the operation called `name`, if it has been used since the process started, with
    /// the process-wide monitor's rolling windows.
    pub fn operation(name: &str) -> Option<OperationStats> => perf::operation(name);

    /// The breaker called `name`, created with
    /// [`BreakerConfig::default`](crate::BreakerConfig::default) on first use.
    pub fn breaker(name: &str) -> Arc<CircuitBreaker> => breaker::breaker(name);

    /// The breaker called `name` with `config`. If it already exists, `config` replaces its
    /// configuration (see [`CircuitBreaker::configure`](crate::CircuitBreaker::configure)): the
    /// last configuration applied wins, and applying the same one again changes nothing.
    pub fn breaker_with(name: &str, config: BreakerConfig)
        -> Result<Arc<CircuitBreaker>, BreakerConfigError>
        => breaker::breaker_with(name, config);

    /// The keyed breakers called `name` (one breaker per key value, as `#[circuit_breaker(key =
    /// expr)]` makes them) with `config`: created with it, or reconfigured if the group exists (the
    /// last configuration applied wins, as with [`breaker_with`]). Names past
    /// [`DEFAULT_MAX_GROUPS`](crate::breakers::DEFAULT_MAX_GROUPS) share one overflow group.
    pub fn keyed(name: &str, config: BreakerConfig)
        -> Result<Arc<breaker::KeyedBreakers>, BreakerConfigError>
        => breaker::keyed(name, config);

    /// The retry policy registered as `name` (by [`register_policy`](crate::register_policy) or a
    /// configuration file).
    pub fn retry_policy(name: &str) -> Option<RetryPolicy> => retry::policy(name);

    /// The process-wide rule registry.
    ///
    /// ```
    /// let names = coord::rules()
    ///     .load_yaml("docs_user:\n  required_fields: [name]\n  field_validations:\n    name: {type: string, min_length: 2}\n")
    ///     .unwrap();
    /// assert_eq!(names, ["docs_user"]);
    /// let set = coord::rules().get("docs_user").unwrap();
    /// assert!(!set.validate_value(&serde_json::json!({"name": "x"})).is_valid);
    /// println!("{set}");
    /// ```
    pub fn rules() -> &'static RuleRegistry => validate::rules();

    /// The process-wide validator.
    ///
    /// ```
    /// let r = coord::validator().validate_message_structure(&serde_json::json!({
    ///     "content": "Hello, world!",
    ///     "user_id": "user_123",
    ///     "timestamp": "2024-01-01T12:00:00Z",
    ///     "priority": "high",
    /// }));
    /// assert!(r.is_valid);
    /// assert_eq!(r.score, 100.0);
    /// ```
    pub fn validator() -> &'static Validator => validate::validator();

    /// The global error report: totals, per severity and operation, retry statistics, recent
    /// errors, a health verdict and every breaker's state.
    pub fn error_report()
        -> compose::error_report::ErrorReport
        => compose::error_report::error_report();

    /// A fresh report of every registry.
    ///
    /// ```
    /// #[coord::track_performance("docs.report")]
    /// fn work() {}
    /// work();
    /// let report = coord::report();
    /// assert!(report.to_string().contains("docs.report"));
    /// assert!(report.to_json().unwrap().contains("\"p99_ms\""));
    /// assert!(report.to_prometheus().contains("coord_operation_calls_total"));
    /// ```
    pub fn report() -> Report => report::build();
}

/// Returns every registry to zero: clears *measurements and state* (operation metrics, the
/// monitor's samples and windows, error records, breaker states, budgets' tokens, validation
/// counts, the concurrency and rate limiters' counters, dropped-name counts) and keeps *configuration*
/// (named retry policies, breaker configurations and a configuration file's precedence over
/// call-site keys, rule sets, monitor settings, registry caps). A call site first used after a
/// reset behaves exactly like one used before it; handles cached by call sites stay valid and
/// count from zero. Fault injection ([`crate::chaos`]) is disarmed, whatever armed it, and its
/// counts zeroed: a reset never leaves a fault armed (the registered error factories stay).
pub fn reset() {
    crate::mechanisms::reset_all();
}
