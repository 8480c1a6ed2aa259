//! Operation metrics: the registry behind `#[track_performance]` and the performance monitor.

pub(crate) mod file;
mod health;
pub(crate) mod histogram;
pub(crate) mod layer;
mod monitor;
mod operation;
mod sampler;
pub(crate) mod section;
mod shard;
pub(crate) mod span;
mod stopwatch;
mod window;

use std::sync::{Arc, LazyLock};

// Compatibility path: `Outcome`'s documented home is the crate root.
#[doc(hidden)]
pub use crate::outcome::Outcome;
pub use health::{
    Contribution, HealthBreakdown, HealthInputs, HealthThresholds, KeyedGroupInput,
    LATENCY_UNHEALTHY_FACTOR, SystemHealth,
};
#[cfg(feature = "otel")]
pub(crate) use histogram::exemplar::set_capture as set_exemplar_capture;
pub use histogram::{EXPORT_BOUNDS, MAX_TRACKED, RELATIVE_ERROR};
pub use monitor::{MIN_COLLECTION_INTERVAL, MonitorConfig, MonitorConfigError, PerformanceMonitor};
#[cfg(feature = "otel")]
pub(crate) use operation::exemplars_of;
pub use operation::{Operation, OperationGuard, OperationStats, TimedCall};
pub(crate) use operation::{all as all_operations, resolve};
// Compatibility paths: the caps' documented home is `coord::limits`.
#[doc(hidden)]
pub use operation::{DEFAULT_MAX_OPERATIONS, dropped_names, max_operations, set_max_operations};
pub use sampler::SystemSample;
pub use window::{LONG_WINDOW, SHORT_WINDOW, WindowStats};

/// The process-wide monitor. The composition layer tells it how to count open breakers.
static MONITOR: LazyLock<PerformanceMonitor> = LazyLock::new(PerformanceMonitor::new);

/// The process-wide performance monitor, as this layer knows it (see `crate::monitor()`).
pub(crate) fn global() -> &'static PerformanceMonitor {
    &MONITOR
}

/// Stats of the operation called `name` (the door is `crate::operation()`).
pub(crate) fn operation(name: &str) -> Option<OperationStats> {
    operation::find(name).map(|op| {
        let mut stats = op.stats();
        MONITOR.fill_windows(&op, &mut stats);
        stats
    })
}

/// Zeroes every operation and forgets the monitor's samples and windows.
pub(crate) fn reset_all() {
    operation::reset_all();
    MONITOR.clear();
}

impl PerformanceMonitor {
    /// Starts timing one call of the operation `name`.
    ///
    /// ```
    /// let guard = coord::monitor().record_operation("docs.record_operation");
    /// // ... the work ...
    /// guard.success();
    /// assert_eq!(coord::operation("docs.record_operation").unwrap().successes, 1);
    /// ```
    pub fn record_operation(&self, name: &str) -> OperationGuard {
        self.operation_handle(name).start()
    }

    /// The live handle of operation `name`, created on first use. Keep it to skip the name
    /// lookup on every call. (Its stats are read with [`crate::operation()`].)
    ///
    /// ```
    /// let op = coord::monitor().operation_handle("docs.operation_handle");
    /// op.start().success();
    /// assert_eq!(coord::operation("docs.operation_handle").unwrap().calls, 1);
    /// ```
    pub fn operation_handle(&self, name: &str) -> Arc<Operation> {
        operation::resolve(name)
    }

    /// The live handle of operation `name`: renamed [`operation_handle`](Self::operation_handle),
    /// so that `operation` means one thing (`coord::operation(name)` reads an operation's stats).
    #[deprecated(note = "renamed `operation_handle`")]
    pub fn operation(&self, name: &str) -> Arc<Operation> {
        self.operation_handle(name)
    }

    /// Stats of every operation that recorded a call since start or the last [`crate::reset`],
    /// with this monitor's rolling windows.
    pub fn performance_report(&self) -> PerformanceReport {
        PerformanceReport {
            operations: operation::all()
                .iter()
                .filter_map(|op| {
                    let mut stats = op.stats();
                    if stats.calls == 0 {
                        return None;
                    }
                    self.fill_windows(op, &mut stats);
                    Some(stats)
                })
                .collect(),
        }
    }
}

/// Every operation's stats, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PerformanceReport {
    /// One entry per operation with at least one call.
    pub operations: Vec<OperationStats>,
}

impl PerformanceReport {
    /// The entry of operation `name`, if it is in the report.
    pub fn find(&self, name: &str) -> Option<&OperationStats> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The entry of operation `name`: renamed [`find`](Self::find).
    #[deprecated(note = "renamed `find`")]
    pub fn operation(&self, name: &str) -> Option<&OperationStats> {
        self.find(name)
    }
}
