//! The global error registry: counters in atomics, per-operation rows and the recent list
//! behind locks that only the failure path and report building take.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use super::{
    AttemptOutcome, ErrorRecord, HealthStatus, OperationErrors, RetryStats, Severity,
    SeverityCounts,
};

/// Longest message kept per record, in bytes.
pub const MAX_MESSAGE_LEN: usize = 256;

/// Records kept in [`ErrorReport::recent`](crate::ErrorReport::recent) unless changed with [`set_recent_capacity`].
pub const DEFAULT_RECENT_CAPACITY: usize = 100;

/// Window over which [`ErrorReport::health_status`](crate::ErrorReport::health_status) looks at final failures.
const HEALTH_WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
struct Counters {
    failed_attempts: AtomicU64,
    final_failures: AtomicU64,
    by_severity: [AtomicU64; 4],
    retries: AtomicU64,
    successes_after_retry: AtomicU64,
    exhausted: AtomicU64,
    permanent: AtomicU64,
    budget_exhausted: AtomicU64,
    deadline_exceeded: AtomicU64,
    cancelled: AtomicU64,
}

static COUNTERS: LazyLock<Counters> = LazyLock::new(Counters::default);
static OPERATIONS: LazyLock<Mutex<HashMap<String, OperationErrors>>> =
    LazyLock::new(Default::default);
static RECENT: LazyLock<Mutex<VecDeque<ErrorRecord>>> = LazyLock::new(Default::default);
static RECENT_CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_RECENT_CAPACITY);

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn truncate(message: &str) -> String {
    let mut end = message.len().min(MAX_MESSAGE_LEN);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

fn operation_row<'m>(
    map: &'m mut HashMap<String, OperationErrors>,
    operation: &str,
) -> &'m mut OperationErrors {
    map.entry(operation.to_owned())
        .or_insert_with(|| OperationErrors {
            operation: operation.to_owned(),
            ..OperationErrors::default()
        })
}

/// Records one failed attempt and what the retry loop decided about it.
pub(crate) fn record_failure(
    operation: &str,
    severity: Severity,
    error_type: &'static str,
    message: &str,
    attempt: u32,
    outcome: AttemptOutcome,
) {
    crate::metrics_bridge::failed_attempt(severity.as_str());
    if outcome != AttemptOutcome::Retried {
        crate::metrics_bridge::retried_call(outcome.as_str());
    }
    let c = &*COUNTERS;
    c.failed_attempts.fetch_add(1, Relaxed);
    c.by_severity[severity_index(severity)].fetch_add(1, Relaxed);
    let is_final = outcome != AttemptOutcome::Retried;
    if is_final {
        c.final_failures.fetch_add(1, Relaxed);
    }
    match outcome {
        AttemptOutcome::Retried => &c.retries,
        AttemptOutcome::Exhausted => &c.exhausted,
        AttemptOutcome::Permanent => &c.permanent,
        AttemptOutcome::BudgetExhausted => &c.budget_exhausted,
        AttemptOutcome::DeadlineExceeded => &c.deadline_exceeded,
    }
    .fetch_add(1, Relaxed);
    let message = truncate(message);
    {
        let mut map = crate::locks::lock(&OPERATIONS);
        let row = operation_row(&mut map, operation);
        row.errors += 1;
        if is_final {
            row.final_failures += 1;
        } else {
            row.retries += 1;
        }
        if outcome == AttemptOutcome::BudgetExhausted {
            row.budget_exhausted += 1;
        }
        row.last_error = Some(message.clone());
    }
    let capacity = RECENT_CAPACITY.load(Relaxed);
    if capacity == 0 {
        return;
    }
    let record = ErrorRecord {
        operation: operation.to_owned(),
        severity,
        error_type,
        message,
        attempt,
        outcome,
        at: SystemTime::now(),
    };
    let mut recent = crate::locks::lock(&RECENT);
    while recent.len() >= capacity {
        recent.pop_front();
    }
    recent.push_back(record);
}

pub(crate) fn record_success_after_retry(operation: &str) {
    crate::metrics_bridge::retried_call("success_after_retry");
    COUNTERS.successes_after_retry.fetch_add(1, Relaxed);
    let mut map = crate::locks::lock(&OPERATIONS);
    operation_row(&mut map, operation).successes_after_retry += 1;
}

pub(crate) fn record_cancelled(operation: &str) {
    COUNTERS.cancelled.fetch_add(1, Relaxed);
    let mut map = crate::locks::lock(&OPERATIONS);
    operation_row(&mut map, operation).cancelled += 1;
}

/// Keeps the last `capacity` records in [`ErrorReport::recent`](crate::ErrorReport::recent) (100 by default; 0 keeps none).
pub fn set_recent_capacity(capacity: usize) {
    RECENT_CAPACITY.store(capacity, Relaxed);
    let mut recent = crate::locks::lock(&RECENT);
    while recent.len() > capacity {
        recent.pop_front();
    }
}

/// The errors recorded for `operation`, if any.
pub fn operation_errors(operation: &str) -> Option<OperationErrors> {
    crate::locks::lock(&OPERATIONS).get(operation).cloned()
}

/// What the registry holds, read at one moment; the composition layer adds the breakers.
#[derive(Clone, Debug)]
pub(crate) struct ErrorSummary {
    pub(crate) total_errors: u64,
    pub(crate) final_failures: u64,
    pub(crate) by_severity: SeverityCounts,
    pub(crate) by_operation: Vec<OperationErrors>,
    pub(crate) retry: RetryStats,
    pub(crate) recent: Vec<ErrorRecord>,
    pub(crate) health_status: HealthStatus,
}

pub(crate) fn summary() -> ErrorSummary {
    let c = &*COUNTERS;
    let load = |a: &AtomicU64| a.load(Relaxed);
    let mut by_operation: Vec<OperationErrors> =
        crate::locks::lock(&OPERATIONS).values().cloned().collect();
    by_operation.sort_by(|a, b| a.operation.cmp(&b.operation));
    let recent: Vec<ErrorRecord> = crate::locks::lock(&RECENT).iter().cloned().collect();
    let health_status = health(&recent);
    ErrorSummary {
        total_errors: load(&c.failed_attempts),
        final_failures: load(&c.final_failures),
        by_severity: SeverityCounts {
            low: load(&c.by_severity[0]),
            medium: load(&c.by_severity[1]),
            high: load(&c.by_severity[2]),
            critical: load(&c.by_severity[3]),
        },
        by_operation,
        retry: RetryStats {
            failed_attempts: load(&c.failed_attempts),
            retries: load(&c.retries),
            successes_after_retry: load(&c.successes_after_retry),
            exhausted: load(&c.exhausted),
            permanent: load(&c.permanent),
            budget_exhausted: load(&c.budget_exhausted),
            deadline_exceeded: load(&c.deadline_exceeded),
            cancelled: load(&c.cancelled),
        },
        recent,
        health_status,
    }
}

/// Unhealthy when a critical operation failed for good in the last five minutes; degraded when
/// a high-severity one did, or ten or more calls failed for good; healthy otherwise.
fn health(recent: &[ErrorRecord]) -> HealthStatus {
    let now = SystemTime::now();
    let finals = recent.iter().filter(|r| {
        r.outcome != AttemptOutcome::Retried
            && now
                .duration_since(r.at)
                .map_or(true, |age| age <= HEALTH_WINDOW)
    });
    let mut count = 0;
    let mut worst = Severity::Low;
    for record in finals {
        count += 1;
        worst = worst.max(record.severity);
    }
    if worst == Severity::Critical {
        HealthStatus::Unhealthy
    } else if worst == Severity::High || count >= 10 {
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    }
}

pub(crate) fn reset_all() {
    let c = &*COUNTERS;
    for counter in [
        &c.failed_attempts,
        &c.final_failures,
        &c.retries,
        &c.successes_after_retry,
        &c.exhausted,
        &c.permanent,
        &c.budget_exhausted,
        &c.deadline_exceeded,
        &c.cancelled,
    ]
    .into_iter()
    .chain(&c.by_severity)
    {
        counter.store(0, Relaxed);
    }
    crate::locks::lock(&OPERATIONS).clear();
    crate::locks::lock(&RECENT).clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(severity: Severity, outcome: AttemptOutcome, age: Duration) -> ErrorRecord {
        ErrorRecord {
            operation: "op".into(),
            severity,
            error_type: "E",
            message: String::new(),
            attempt: 1,
            outcome,
            at: SystemTime::now() - age,
        }
    }

    #[test]
    fn health_follows_recent_final_failures() {
        use AttemptOutcome::*;
        let now = Duration::ZERO;
        assert_eq!(health(&[]), HealthStatus::Healthy);
        // Retried attempts are not failures of the call.
        assert_eq!(
            health(&[record(Severity::Critical, Retried, now)]),
            HealthStatus::Healthy
        );
        assert_eq!(
            health(&[record(Severity::High, Exhausted, now)]),
            HealthStatus::Degraded
        );
        assert_eq!(
            health(&vec![record(Severity::Low, Permanent, now); 10]),
            HealthStatus::Degraded
        );
        assert_eq!(
            health(&[
                record(Severity::Low, Exhausted, now),
                record(Severity::Critical, BudgetExhausted, now)
            ]),
            HealthStatus::Unhealthy
        );
        // Old failures no longer count.
        assert_eq!(
            health(&[record(
                Severity::Critical,
                Exhausted,
                Duration::from_secs(600)
            )]),
            HealthStatus::Healthy
        );
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("short"), "short");
        let s = "ab".to_owned() + &"€".repeat(100); // 2 + 300 bytes
        let t = truncate(&s);
        assert!(t.len() <= MAX_MESSAGE_LEN && t.len() > MAX_MESSAGE_LEN - 3);
        assert!(s.starts_with(&t));
    }

    #[test]
    fn recent_list_is_bounded() {
        set_recent_capacity(3);
        for attempt in 1..=10 {
            record_failure(
                "unit.recent",
                Severity::Low,
                "E",
                "m",
                attempt,
                AttemptOutcome::Retried,
            );
        }
        let recent = summary().recent;
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.last().map(|r| r.attempt), Some(10));
        set_recent_capacity(0);
        assert!(summary().recent.is_empty());
        set_recent_capacity(DEFAULT_RECENT_CAPACITY);
    }
}
