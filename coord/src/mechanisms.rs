//! The one list of mechanisms. Each entry registers what one mechanism folder owns (see the
//! contract in `crate::contract`): its reset, its capped registries, its field of
//! [`Report`](crate::Report), its section of the configuration file and its caps in
//! `coord::limits`. The doors (`coord::reset()`), the report, the configuration loader and the
//! limits iterate this list and name no mechanism themselves: adding a layer is one folder, one
//! entry here and the macro's keys.
//!
//! The order of the entries is the order of the report's fields (JSON, YAML), of its tables and
//! Prometheus families, of the file's sections and of the resets.
//!
//! An entry's parts, each optional:
//!
//! - `reset: path`: clears the mechanism's measurements and state, keeps its configuration;
//! - `capped: ["label" => path, ...]`: each capped registry's `registry` label and its
//!   dropped-name count;
//! - `report: field: Type = read`: the `Report` field, its type (a [`Section`]) and how to read
//!   it now;
//! - `families: path::{...}`: its metric families (declared in its `section.rs`, each with
//!   its unit), for the OpenTelemetry instruments;
//! - `file: key => Section as loaded: Type`: the file's key, its [`FileSection`] and the field
//!   of `coord::config::Loaded` that reports it;
//! - `limits: { path::{...} }`: what `coord::limits` re-exports;
//! - `generated: { path::{...} }`: what macro-generated code names (its layer, gate, site
//!   configuration), re-exported by `coord::__private`;
//! - `rejection: Type`: a gate's rejection, which an error coming out of an operation is
//!   recognised as (load shed, never retried).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::breaker::BreakerSnapshot;
use crate::bulkhead::BulkheadSnapshot;
use crate::chaos::ChaosCount;
use crate::compose::error_report::ErrorReport;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::{CappedRegistry, FileSection, Section};
use crate::hedge::HedgeSnapshot;
use crate::objective::ObjectiveSnapshot;
use crate::perf::{PerformanceReport, SystemHealth};
use crate::rate_limit::RateLimitSnapshot;
use crate::timeout::TimeoutCount;
use crate::validate::{RuleLoadError, ValidationReport};

/// Writes everything the list registers; see the module docs for the parts of an entry.
macro_rules! mechanisms {
    ($(
        $mechanism:ident {
            $(reset: $reset:path,)?
            $(capped: [$($label:literal => $dropped:path),* $(,)?],)?
            $(report: $(#[$field_doc:meta])* $field:ident: $field_ty:ty = $read:expr,)?
            $(families: $($home:ident)::+ :: { $($family:ident),* $(,)? },)?
            $(file: $(#[$loaded_doc:meta])* $key:ident => $section:ty as $loaded:ident: $loaded_ty:ty,)?
            $(limits: { $($limits:tt)* },)?
            $(generated: { $($generated:tt)* },)?
            $(rejection: $rejection:ty,)?
        }
    )*) => {
        /// Clears every mechanism's measurements and state, keeps configuration.
        pub(crate) fn reset_all() {
            $($( $reset(); )?)*
        }

        /// Every capped registry, in the order they are exposed.
        pub(crate) const CAPPED: &[CappedRegistry] = &[
            $($($( CappedRegistry { label: $label, dropped: $dropped }, )*)?)*
        ];

        /// Every mechanism's metric families, in the list's order: what the OpenTelemetry
        /// instruments mirror.
        #[cfg_attr(not(feature = "otel"), allow(dead_code))]
        pub(crate) const FAMILIES: &[&[Family]] = &[$($({
            use $($home)::+ as home;
            &[$( home::$family ),*]
        },)?)*];

        /// What `coord::limits` re-exports.
        pub mod caps {
            $($( pub use $($limits)*; )?)*
        }

        /// Whether `error` is a gate's rejection, by its type.
        pub(crate) fn is_rejection(error: &dyn std::any::Any) -> bool {
            false $($( || error.is::<$rejection>() )?)*
        }

        /// Whether `error` (one of a `source` chain) is a gate's rejection, by its type.
        pub(crate) fn is_rejection_error(error: &(dyn std::error::Error + 'static)) -> bool {
            false $($( || error.is::<$rejection>() )?)*
        }

        /// What `coord::__private` re-exports for macro-generated code.
        pub mod generated {
            $($( pub use $($generated)*; )?)*
        }

        /// Everything coord knows, read at one moment. Build one with
        /// [`report()`](crate::report()).
        ///
        /// # Serialized schema
        ///
        /// `to_json()` and `to_yaml()` serialize the same tree. Field names are stable; durations are
        /// milliseconds as floats with a `_ms` suffix; rates are ratios in `0.0..=1.0`.
        ///
        /// ```text
        /// performance:
        ///   operations:            # sorted by name; only operations with calls since start or reset
        ///     - name, calls, successes, failures, cancelled, error_rate,
        ///       total_ms, mean_ms, min_ms, max_ms, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, last_error,
        ///       last_10s, last_60s:  # null unless the monitor runs
        ///         span_ms, calls, successes, failures, call_rate, error_rate, p50_ms, p99_ms
        /// breakers:               # sorted by name
        ///   - name, state: closed | open | half_open | forced_open | disabled, failure_rate,
        ///     slow_call_rate, calls_in_window, failures_in_window, half_open_in_flight, rejected,
        ///     next_probe_in_ms, transitions, generation
        /// errors:                  # also carries circuit_breaker_status (same rows as breakers)
        ///   total_errors, final_failures, health_status: healthy | degraded | unhealthy
        ///   by_severity: { low, medium, high, critical }
        ///   by_operation:          # sorted by name
        ///     - operation, errors, final_failures, retries, successes_after_retry,
        ///       budget_exhausted, cancelled, last_error
        ///   retry: { failed_attempts, retries, successes_after_retry, exhausted, permanent,
        ///            budget_exhausted, deadline_exceeded, cancelled }
        ///   recent:                # oldest first, bounded
        ///     - operation, severity, error_type, message, attempt, outcome, at_unix_ms
        /// validation:
        ///   total, valid, invalid, compliance_score, passed_checks, applicable_checks
        ///   rule_sets:             # sorted by name
        ///     - name, total, valid, invalid, compliance_score, passed_checks, applicable_checks
        ///   top_failures:          # most frequent first
        ///     - rule_set, path, rule, count
        ///   other_failures
        /// bulkheads:               # sorted by name; empty until a bulkhead is used
        ///   - name, in_flight, max_concurrent, max_wait_ms, waiting, accepted, rejected, waits,
        ///     total_wait_ms
        /// hedges:                  # sorted by name; empty until a hedge is used
        ///   - name, calls, hedges_started, hedges_won, hedges_denied, delay_ms
        /// rate_limits:             # sorted by name; empty until a rate limiter is used
        ///   - name, rate, per_ms, burst, max_wait_ms, available, rejected, waits, total_wait_ms
        /// timeouts:                # operations with a #[timeout], sorted by name
        ///   - operation, timeouts
        /// chaos:                   # faults injected, sorted by name, then kind; empty until one is
        ///   - name, kind: error | latency | reject, injected
        /// objectives:              # declared objectives, sorted by name
        ///   - name, period_ms, operations
        ///     indicators:          # success, then latency
        ///       - indicator: success | latency, target, threshold_ms, error_budget_remaining
        ///         windows: [{ window: 5m | 30m | 1h | 6h | 3d | <period>, span_ms, valid, good,
        ///                     compliance, burn_rate }]
        ///         alerts: [{ alert, severity: page | ticket, burn_rate, firing }]
        /// system:                  # null before the first system sample
        ///   health_status: healthy | degraded | unhealthy
        ///   performance_score, verdict, sampled   # score 0..=100; verdict: why, in words
        ///   cpu_usage, memory_usage                # the machine's, in %, information only
        ///   process_cpu_usage, process_memory_usage  # this process's, in % (the inputs)
        ///   breakdown:
        ///     cpu | memory | error_rate | latency | open_breakers:
        ///       value, penalty, weight, status, counts, why
        /// ```
        #[derive(Clone, Debug, Serialize)]
        #[non_exhaustive]
        pub struct Report {
            $($( $(#[$field_doc])* pub $field: $field_ty, )?)*
        }

        /// A fresh report of every registry.
        pub(crate) fn read_report() -> Report {
            Report { $($( $field: $read, )?)* }
        }

        impl Report {
            /// Every section's tables, in the list's order.
            pub(crate) fn render_sections(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                $($( Section::render(&self.$field, f)?; )?)*
                Ok(())
            }

            /// Every section's Prometheus families, in the list's order.
            pub(crate) fn export_sections(&self, out: &mut Exposition) {
                $($( Section::export(&self.$field, out); )?)*
            }
        }

        /// The configuration file as serde reads it: one key per section.
        #[derive(Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct File {
            $($( #[serde(default)] $key: <$section as FileSection>::Model, )?)*
        }

        /// A checked file, ready to apply.
        pub(crate) struct Checked {
            $($( $key: <$section as FileSection>::Checked, )?)*
        }

        /// What a loaded file configured, by section: the sections of the file, each optional.
        ///
        /// ```yaml
        /// retry_policies:
        ///   api:                        # serves #[retry(policy = "api")] and coord::retry_policy("api")
        ///     max_retries: 3
        ///     base_delay: 200ms         # durations: ns, us, ms, s, m, h
        ///     multiplier: 2.0
        ///     max_delay: 30s
        ///     jitter: full              # none | full | equal | decorrelated
        ///     deadline: 10s
        ///     budget: { capacity: 500, retry_cost: 5, success_refund: 1 }   # or `budget: off`
        /// circuit_breakers:
        ///   db:                         # applies to the breaker named "db", existing or created later
        ///     failure_rate: 0.5
        ///     minimum_calls: 10
        ///     window: 20                # calls, or a period such as "10s"
        ///     open_for: 30s
        ///     max_open_for: 4m
        ///     half_open_calls: 3
        ///     slow_call: 2s
        ///     slow_call_rate: 1.0
        ///     consecutive_failures: 5
        ///     max_half_open_wait: 10s
        /// rules:                        # rule sets in the rule language of coord::rules().load_yaml
        ///   user_profile:
        ///     required_fields: [name, email]
        ///     field_validations:
        ///       email: { type: email }
        /// monitor:
        ///   collection_interval: 5s
        ///   max_data_points: 1000
        /// bulkheads:                    # by name: #[bulkhead(name = "db")] and coord::bulkhead("db")
        ///   db: { max_concurrent: 10, max_wait: 5ms }
        /// hedges:                       # by name: coord::hedge("profile")
        ///   profile: { after: p95, max_extra: 1 }   # or after: 50ms
        /// rate_limits:                  # by name: #[rate_limit(name = "sms")] and coord::rate_limiter("sms")
        ///   sms: { rate: 100, per: 1s, burst: 10, max_wait: 0ms }
        /// chaos:                        # fault injection (coord::chaos); off unless given
        ///   seed: 42
        ///   operations: { payments: { error: 0.1, latency: { rate: 0.5, fixed: 100ms } } }
        ///   breakers: { db: { reject: 0.2 } }
        /// objectives:                   # by name: #[track_performance(objective = "checkout")]
        ///   checkout: { success_rate: 0.999, latency: { below: 500ms, target: 0.99 }, period: 30d }
        /// ```
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Loaded {
            $($( $(#[$loaded_doc])* pub $loaded: $loaded_ty, )?)*
        }

        impl File {
            /// Checks every section, in the list's order; the first refusal wins.
            pub(crate) fn check(self) -> Result<Checked, FileRefusal> {
                Ok(Checked {
                    $($( $key: <$section as FileSection>::check(stringify!($key), self.$key)
                        .map_err(FileRefusal::from)?, )?)*
                })
            }
        }

        impl Checked {
            /// Applies every section, in the list's order.
            pub(crate) fn apply(self) -> Result<Loaded, FileRefusal> {
                Ok(Loaded {
                    $($( $loaded: <$section as FileSection>::apply(stringify!($key), self.$key)
                        .map_err(FileRefusal::from)?, )?)*
                })
            }
        }
    };
}

/// The limiters a tower layer (`coord::tower`) reserves in `poll_ready`, before its request is
/// known, outer first: a rate-limit turn, then a bulkhead slot, so that a call over the rate
/// never holds a slot. Each implements the tower's `Reservable` in its folder's `tower.rs`.
#[cfg(feature = "tower")]
pub(crate) type ReservedOuter = crate::rate_limit::RateLimiter;

/// The inner one of the limiters a tower layer reserves (see [`ReservedOuter`]).
#[cfg(feature = "tower")]
pub(crate) type ReservedInner = crate::bulkhead::Bulkhead;

/// Why a section of the configuration file was refused.
pub(crate) enum FileRefusal {
    /// A value out of range, or a race with another `configure`, with its place
    /// (`bulkheads.db: ...`).
    Invalid(String),
    /// The `rules` section broke the rule language.
    Rules(Box<RuleLoadError>),
}

impl From<String> for FileRefusal {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

impl From<RuleLoadError> for FileRefusal {
    fn from(error: RuleLoadError) -> Self {
        Self::Rules(Box::new(error))
    }
}

mechanisms! {
    perf {
        reset: crate::perf::reset_all,
        capped: ["operations" => crate::perf::dropped_names],
        report: /** Every tracked operation. */
            performance: PerformanceReport = crate::compose::health::monitor().performance_report(),
        families: crate::perf::section::{
            OPERATION_CALLS_TOTAL, OPERATION_DURATION_SECONDS, SYSTEM_CPU_USAGE_RATIO,
            SYSTEM_MEMORY_USAGE_RATIO, PROCESS_CPU_USAGE_RATIO, PROCESS_MEMORY_USAGE_RATIO,
            HEALTH_SCORE, HEALTH_STATUS, HEALTH_PENALTY
        },
        limits: { crate::perf::{DEFAULT_MAX_OPERATIONS, max_operations, set_max_operations} },
    }
    retry {
        reset: crate::retry::reset_all,
        capped: ["retry_budgets" => crate::retry::dropped_budget_names],
        families: crate::retry::{RETRY_ATTEMPTS_TOTAL},
        file: /** Names of the retry policies registered. */
            retry_policies => crate::retry::file::RetryPoliciesFile as retry_policies: Vec<String>,
        limits: { crate::retry::{DEFAULT_MAX_BUDGETS, max_budgets, set_max_budgets} },
    }
    breaker {
        reset: crate::breaker::reset_all,
        capped: [
            "breakers" => crate::breaker::dropped_names,
            "keyed_breaker_groups" => crate::breaker::dropped_keyed_group_names,
        ],
        report: /** Every circuit breaker, sorted by name. */
            breakers: Vec<BreakerSnapshot> = crate::breaker::all(),
        families: crate::breaker::section::{
            STATE, FAILURE_RATIO, REJECTED_CALLS_TOTAL, TRANSITIONS_TOTAL
        },
        file: /** Names of the circuit breakers configured. */
            circuit_breakers => crate::breaker::file::BreakersFile as circuit_breakers: Vec<String>,
        limits: { crate::breaker::{DEFAULT_MAX_BREAKERS, max_breakers, set_max_breakers} },
        rejection: crate::breaker::CircuitOpen,
    }
    errors {
        reset: crate::errors::reset_all,
        capped: ["error_rows" => crate::errors::dropped_names],
        report: /** Failed attempts, final failures and what the retry loops did. */
            errors: ErrorReport = crate::compose::error_report::error_report(),
        families: crate::errors::section::{
            ERRORS_TOTAL, OPERATION_FINAL_FAILURES_TOTAL, RETRY_CALLS_TOTAL
        },
        limits: { crate::errors::{DEFAULT_MAX_ROWS, max_rows, set_max_rows} },
    }
    validate {
        reset: crate::validate::reset,
        report: /** Every validation since start or reset, per rule set and by failing rule. */
            validation: ValidationReport = crate::validate::validator().validation_report(),
        families: crate::validate::section::{VALIDATIONS_TOTAL, CHECKS_TOTAL, COMPLIANCE_RATIO},
        file: /** Names of the rule sets loaded. */
            rules => crate::validate::file::RulesFile as rule_sets: Vec<String>,
    }
    monitor {
        report:
            /// Health of the host from the latest system sample; `None` before the first sample
            /// (start the monitor, or call `record_system_health`). Building a report never
            /// takes a sample.
            system: Option<SystemHealth> = crate::compose::health::monitor().current_health(),
        file: /** Whether the monitor was configured. */
            monitor => crate::perf::file::MonitorFile as monitor: bool,
    }
    bulkhead {
        reset: crate::bulkhead::reset_all,
        capped: ["bulkheads" => crate::bulkhead::dropped_names],
        report: /** Every bulkhead, sorted by name (the overflow one last). */
            bulkheads: Vec<BulkheadSnapshot> = crate::bulkhead::snapshots(),
        families: crate::bulkhead::section::{
            IN_FLIGHT, MAX_CONCURRENT, LIMIT_CEILING, REJECTED_CALLS_TOTAL, WAITS_TOTAL,
            WAIT_SECONDS_TOTAL
        },
        file: /** Names of the bulkheads configured. */
            bulkheads => crate::bulkhead::file::BulkheadsFile as bulkheads: Vec<String>,
        limits: { crate::bulkhead::{DEFAULT_MAX_BULKHEADS, max_bulkheads, set_max_bulkheads} },
        generated: {
            crate::bulkhead::{Bulkhead, BulkheadConfig, layer::{BulkheadGate, FromBulkheadFull}}
        },
        rejection: crate::bulkhead::BulkheadFull,
    }
    hedge {
        reset: crate::hedge::reset_all,
        capped: ["hedges" => crate::hedge::dropped_names],
        report: /** Every hedge, sorted by name (the overflow one last). */
            hedges: Vec<HedgeSnapshot> = crate::hedge::snapshots(),
        families: crate::hedge::section::{
            CALLS_TOTAL, STARTED_TOTAL, WON_TOTAL, DENIED_TOTAL, DELAY_SECONDS
        },
        file: /** Names of the hedges configured. */
            hedges => crate::hedge::file::HedgesFile as hedges: Vec<String>,
        limits: { crate::hedge::{DEFAULT_MAX_HEDGES, max_hedges, set_max_hedges} },
        generated: { crate::hedge::{Hedge, HedgeConfig} },
    }
    rate_limit {
        reset: crate::rate_limit::reset_all,
        capped: ["rate_limiters" => crate::rate_limit::dropped_names],
        report: /** Every rate limiter, sorted by name (the overflow one last). */
            rate_limits: Vec<RateLimitSnapshot> = crate::rate_limit::snapshots(),
        families: crate::rate_limit::section::{
            REJECTED_CALLS_TOTAL, WAITS_TOTAL, WAIT_SECONDS_TOTAL, SHARED, REDIS_CALLS_TOTAL,
            REDIS_SECONDS_TOTAL, REDIS_ERRORS_TOTAL, REDIS_TIMEOUTS_TOTAL,
            FALLBACK_CALLS_TOTAL, FALLBACK_REJECTED_TOTAL
        },
        file: /** Names of the rate limiters configured. */
            rate_limits => crate::rate_limit::file::RateLimitsFile as rate_limits: Vec<String>,
        limits: {
            crate::rate_limit::{DEFAULT_MAX_RATE_LIMITERS, max_rate_limiters, set_max_rate_limiters}
        },
        generated: {
            crate::rate_limit::{RateLimitConfig, RateLimiter, SharedConfig, layer::{FromRateLimited, RateAdmit, RateGate}}
        },
        rejection: crate::rate_limit::RateLimited,
    }
    timeout {
        reset: crate::timeout::reset_timeouts,
        capped: ["timeout_counters" => crate::timeout::dropped_timeout_names],
        report: /** Time-outs per operation with a `#[timeout]`, sorted by name. */
            timeouts: Vec<TimeoutCount> =
                crate::timeout::timeout_counts(crate::timeout::counters::timeout_counts()),
        families: crate::timeout::section::{OPERATION_TIMEOUTS_TOTAL},
    }
    chaos {
        reset: crate::chaos::reset_all,
        report: /** Faults injected by `coord::chaos`, by name and kind (never counted as real failures). */
            chaos: Vec<ChaosCount> = crate::chaos::injected(),
        families: crate::chaos::section::{INJECTED_TOTAL},
        file: /** Names of the operations and breakers a fault was armed on. */
            chaos => crate::chaos::file::ChaosFile as chaos: Vec<String>,
    }
    objectives {
        reset: crate::objective::reset_all,
        capped: ["objectives" => crate::objective::dropped_names],
        report: /** Every declared objective, sorted by name: compliance, budget, burn rates. */
            objectives: Vec<ObjectiveSnapshot> = crate::compose::objectives::snapshots(),
        families: crate::objective::section::{
            OBJECTIVE_OPERATION_INFO, OBJECTIVE_TARGET_RATIO, OBJECTIVE_COMPLIANCE_RATIO,
            OBJECTIVE_BURN_RATE, OBJECTIVE_ERROR_BUDGET_REMAINING_RATIO,
            OBJECTIVE_ALERT_FIRING
        },
        file: /** Names of the objectives configured. */
            objectives => crate::objective::file::ObjectivesFile as objectives: Vec<String>,
        limits: {
            crate::objective::{DEFAULT_MAX_OBJECTIVES, max_objectives, set_max_objectives}
        },
        generated: { crate::objective::ObjectiveSite },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_labels_are_unique_snake_case_names() {
        let mut labels: Vec<_> = CAPPED.iter().map(|registry| registry.label).collect();
        assert!(labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        }));
        labels.sort_unstable();
        let before = labels.len();
        labels.dedup();
        assert_eq!(labels.len(), before, "a label is registered twice");
    }

    #[test]
    fn an_empty_file_checks_and_applies_to_nothing() {
        let Ok(checked) = File::default().check() else {
            panic!("an empty file is valid")
        };
        let Ok(loaded) = checked.apply() else {
            panic!("an empty file applies")
        };
        assert_eq!(loaded, Loaded::default());
    }

    #[test]
    fn a_refused_section_keeps_its_kind() {
        assert!(matches!(
            FileRefusal::from("bulkheads.db: bad".to_owned()),
            FileRefusal::Invalid(message) if message == "bulkheads.db: bad"
        ));
    }
}
