//! Operation metrics: the registry behind `#[track_performance]` and the performance monitor.

mod clock;
pub mod histogram;
mod operation;

use std::sync::Arc;

pub use operation::{Operation, OperationGuard, OperationSite, OperationStats, Outcome, TimedCall};

pub(crate) use operation::reset_all;

/// The process-wide performance monitor; see [`crate::monitor()`].
#[derive(Debug)]
pub struct PerformanceMonitor {
    _private: (),
}

static MONITOR: PerformanceMonitor = PerformanceMonitor { _private: () };

/// The process-wide performance monitor.
pub fn monitor() -> &'static PerformanceMonitor {
    &MONITOR
}

/// Stats of the operation called `name`, if it has been used since the process started.
pub fn operation(name: &str) -> Option<OperationStats> {
    operation::find(name).map(|op| op.stats())
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
        self.operation(name).start()
    }

    /// The live handle of operation `name`, created on first use. Keep it to skip the name
    /// lookup on every call.
    pub fn operation(&self, name: &str) -> Arc<Operation> {
        operation::resolve(name)
    }

    /// Stats of every operation that recorded a call since start or the last [`crate::reset`].
    pub fn performance_report(&self) -> PerformanceReport {
        PerformanceReport {
            operations: operation::all()
                .iter()
                .map(|op| op.stats())
                .filter(|stats| stats.calls > 0)
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
    /// The entry for `name`, if it is in the report.
    pub fn operation(&self, name: &str) -> Option<&OperationStats> {
        self.operations.iter().find(|op| op.name == name)
    }
}
