//! Operation metrics: the registry behind `#[track_performance]` and the performance monitor.

mod clock;
pub mod health;
pub mod histogram;
mod monitor;
mod operation;
mod sampler;
mod shard;
pub mod window;

use std::sync::{Arc, LazyLock};

pub use health::{
    Contribution, HealthBreakdown, HealthInputs, HealthStatus, HealthThresholds,
    LATENCY_UNHEALTHY_FACTOR, SystemHealth,
};
pub use monitor::{MIN_COLLECTION_INTERVAL, MonitorConfig, MonitorConfigError, PerformanceMonitor};
pub use operation::{Operation, OperationGuard, OperationSite, OperationStats, Outcome, TimedCall};
pub use sampler::SystemSample;
pub use window::{Clock, ManualClock, SystemClock, WindowStats};

// The process-wide monitor counts open circuit breakers from the breaker registry.
static MONITOR: LazyLock<PerformanceMonitor> = LazyLock::new(|| {
    let monitor = PerformanceMonitor::new();
    monitor.open_breakers_from(crate::breaker::open_count);
    monitor
});

/// The process-wide performance monitor.
pub fn monitor() -> &'static PerformanceMonitor {
    crate::config::load_env_once();
    &MONITOR
}

/// Stats of the operation called `name`, if it has been used since the process started, with
/// the process-wide monitor's rolling windows.
pub fn operation(name: &str) -> Option<OperationStats> {
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
        self.operation(name).start()
    }

    /// The live handle of operation `name`, created on first use. Keep it to skip the name
    /// lookup on every call.
    pub fn operation(&self, name: &str) -> Arc<Operation> {
        operation::resolve(name)
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
    /// The entry for `name`, if it is in the report.
    pub fn operation(&self, name: &str) -> Option<&OperationStats> {
        self.operations.iter().find(|op| op.name == name)
    }
}
