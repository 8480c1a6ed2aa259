//! The global error registry without a global lock on the failure path.
//!
//! Each operation has one [`ErrorRow`], found by name in a capped map once per call site or
//! handler (which keep the `Arc`) and updated with atomics spread over a few per-thread shards,
//! so two threads failing at once do not write the same cache line. The latest message lives in
//! the operation's [`LastError`] cell (shared with the operation registry) and is rewritten only
//! when it changes. The recent list is one ring per shard, each behind its own lock that only
//! the threads of that shard take (and report building, for a copy). Totals are sums over the
//! rows, read without stopping writers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use super::{
    AttemptOutcome, ErrorRecord, HealthStatus, OperationErrors, RetryStats, Severity,
    SeverityCounts,
};
use crate::capped::Capped;
use crate::last_error::{LastError, Message};

pub use crate::last_error::MAX_MESSAGE_LEN;

/// Records kept in [`ErrorReport::recent`](crate::ErrorReport::recent) unless changed with [`set_recent_capacity`].
pub const DEFAULT_RECENT_CAPACITY: usize = 100;

/// Operation names the error registry keeps rows for unless changed with [`set_max_rows`];
/// failures of further names are counted in one row named `coord.overflow`.
pub const DEFAULT_MAX_ROWS: usize = 10_000;

/// Window over which [`ErrorReport::health_status`](crate::ErrorReport::health_status) looks at final failures.
const HEALTH_WINDOW: Duration = Duration::from_secs(300);

/// Shards per row and rings of recent records; threads are spread over them round-robin.
const SHARDS: usize = 4;

fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    SHARD.try_with(|s| *s).unwrap_or(0)
}

/// One shard of a row's counters, alone on its cache lines. A failed attempt adds to two of
/// them (its severity and its outcome); failed attempts and final failures are sums.
#[derive(Default)]
#[repr(align(128))]
struct RowShard {
    by_severity: [AtomicU64; 4],
    /// Indexed by [`outcome_index`].
    by_outcome: [AtomicU64; 5],
    successes_after_retry: AtomicU64,
    cancelled: AtomicU64,
    /// Calls a gate rejected: not failed attempts, no severity.
    rejected: AtomicU64,
}

impl RowShard {
    fn counters(&self) -> impl Iterator<Item = &AtomicU64> {
        self.by_severity.iter().chain(&self.by_outcome).chain([
            &self.successes_after_retry,
            &self.cancelled,
            &self.rejected,
        ])
    }
}

fn outcome_index(outcome: AttemptOutcome) -> usize {
    match outcome {
        AttemptOutcome::Retried => 0,
        AttemptOutcome::Exhausted => 1,
        AttemptOutcome::Permanent => 2,
        AttemptOutcome::BudgetExhausted => 3,
        AttemptOutcome::DeadlineExceeded => 4,
    }
}

/// The errors of one operation: what a call site or handler holds to record failures.
pub(crate) struct ErrorRow {
    id: u32,
    name: Arc<str>,
    shards: [RowShard; SHARDS],
    last_error: Arc<LastError>,
}

impl std::fmt::Debug for ErrorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorRow")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

/// Sums of a row's shards.
#[derive(Default)]
struct Totals {
    errors: u64,
    final_failures: u64,
    retries: u64,
    successes_after_retry: u64,
    budget_exhausted: u64,
    cancelled: u64,
    rejected: u64,
    exhausted: u64,
    permanent: u64,
    deadline_exceeded: u64,
    by_severity: [u64; 4],
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        let pairs = [
            (&mut self.errors, other.errors),
            (&mut self.final_failures, other.final_failures),
            (&mut self.retries, other.retries),
            (&mut self.successes_after_retry, other.successes_after_retry),
            (&mut self.budget_exhausted, other.budget_exhausted),
            (&mut self.cancelled, other.cancelled),
            (&mut self.rejected, other.rejected),
            (&mut self.exhausted, other.exhausted),
            (&mut self.permanent, other.permanent),
            (&mut self.deadline_exceeded, other.deadline_exceeded),
        ];
        for (sum, value) in pairs {
            *sum = sum.saturating_add(value);
        }
        for (sum, value) in self.by_severity.iter_mut().zip(other.by_severity) {
            *sum = sum.saturating_add(value);
        }
    }

    fn is_empty(&self) -> bool {
        self.errors == 0
            && self.successes_after_retry == 0
            && self.cancelled == 0
            && self.rejected == 0
    }

    fn severity_counts(&self) -> SeverityCounts {
        let [low, medium, high, critical] = self.by_severity;
        SeverityCounts {
            low,
            medium,
            high,
            critical,
        }
    }

    fn retry_stats(&self) -> RetryStats {
        RetryStats {
            failed_attempts: self.errors,
            retries: self.retries,
            successes_after_retry: self.successes_after_retry,
            exhausted: self.exhausted,
            permanent: self.permanent,
            budget_exhausted: self.budget_exhausted,
            deadline_exceeded: self.deadline_exceeded,
            cancelled: self.cancelled,
            rejected: self.rejected,
        }
    }
}

impl ErrorRow {
    fn new(id: u32, name: Arc<str>) -> Self {
        Self {
            id,
            last_error: crate::last_error::cell(&name),
            name,
            shards: Default::default(),
        }
    }

    /// Records one failed attempt and what the retry loop decided about it. Takes no lock but
    /// this thread's ring of recent records (and the row's message cell when the message
    /// changed); allocates nothing.
    pub(crate) fn record_failure(
        &self,
        severity: Severity,
        error_type: &'static str,
        message: &str,
        attempt: u32,
        outcome: AttemptOutcome,
    ) {
        crate::metrics_bridge::failed_attempt(super::section::ERRORS_TOTAL.name, severity.as_str());
        if outcome != AttemptOutcome::Retried {
            crate::metrics_bridge::retried_call(
                super::section::RETRY_CALLS_TOTAL.name,
                outcome.as_str(),
            );
        }
        let shard = shard();
        let s = &self.shards[shard];
        s.by_severity[severity_index(severity)].fetch_add(1, Relaxed);
        s.by_outcome[outcome_index(outcome)].fetch_add(1, Relaxed);
        self.last_error.set_str(message);
        let capacity = RECENT_CAPACITY.load(Relaxed);
        if capacity == 0 {
            return;
        }
        let at = SystemTime::now();
        let mut ring = crate::locks::lock(&RECENT[shard]);
        let slot = ring.next_slot(capacity);
        slot.row = self.id;
        slot.severity = severity;
        slot.error_type = error_type;
        slot.message.set(message);
        slot.attempt = attempt;
        slot.outcome = outcome;
        slot.at = at;
    }

    /// Records a call that succeeded after at least one failed attempt.
    pub(crate) fn record_success_after_retry(&self) {
        crate::metrics_bridge::retried_call(
            super::section::RETRY_CALLS_TOTAL.name,
            "success_after_retry",
        );
        self.shards[shard()]
            .successes_after_retry
            .fetch_add(1, Relaxed);
    }

    /// Records a call dropped after a failure.
    pub(crate) fn record_cancelled(&self) {
        self.shards[shard()].cancelled.fetch_add(1, Relaxed);
    }

    /// Records a call a gate rejected: counted apart, never an error, kept out of the recent
    /// failures (so that the failures that opened a breaker are not pushed out by its
    /// rejections).
    pub(crate) fn record_rejected(&self) {
        crate::metrics_bridge::retried_call(super::section::RETRY_CALLS_TOTAL.name, "rejected");
        self.shards[shard()].rejected.fetch_add(1, Relaxed);
    }

    fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in &self.shards {
            let load = |a: &AtomicU64| a.load(Relaxed);
            let by_severity: [u64; 4] = std::array::from_fn(|i| load(&s.by_severity[i]));
            let [
                retries,
                exhausted,
                permanent,
                budget_exhausted,
                deadline_exceeded,
            ] = std::array::from_fn(|i| load(&s.by_outcome[i]));
            // Both sums count every failed attempt; they differ only while one is being
            // recorded, so take the outcomes' (final failures are read from them).
            let errors = [
                retries,
                exhausted,
                permanent,
                budget_exhausted,
                deadline_exceeded,
            ]
            .into_iter()
            .fold(0, u64::saturating_add);
            t.add(&Totals {
                errors,
                final_failures: errors - retries,
                retries,
                successes_after_retry: load(&s.successes_after_retry),
                budget_exhausted,
                cancelled: load(&s.cancelled),
                rejected: load(&s.rejected),
                exhausted,
                permanent,
                deadline_exceeded,
                by_severity,
            });
        }
        t
    }

    fn public(&self, t: &Totals) -> OperationErrors {
        OperationErrors {
            operation: self.name.to_string(),
            errors: t.errors,
            final_failures: t.final_failures,
            retries: t.retries,
            successes_after_retry: t.successes_after_retry,
            budget_exhausted: t.budget_exhausted,
            cancelled: t.cancelled,
            rejected: t.rejected,
            last_error: self.last_error.get(),
        }
    }

    fn reset(&self) {
        for s in &self.shards {
            for counter in s.counters() {
                counter.store(0, Relaxed);
            }
        }
        self.last_error.clear();
    }
}

/// One recent failed attempt as stored: the row by id, the message inline.
#[derive(Clone)]
struct Slot {
    row: u32,
    severity: Severity,
    error_type: &'static str,
    message: Message,
    attempt: u32,
    outcome: AttemptOutcome,
    at: SystemTime,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            row: u32::MAX,
            severity: Severity::default(),
            error_type: "",
            message: Message::default(),
            attempt: 0,
            outcome: AttemptOutcome::Retried,
            at: SystemTime::UNIX_EPOCH,
        }
    }
}

/// The recent records of one shard: once full, the oldest slot is rewritten in place (no
/// allocation, no moves).
struct Ring {
    slots: Vec<Slot>,
    /// Where the next record goes once the ring is full: the oldest one.
    next: usize,
}

impl Ring {
    const fn new() -> Self {
        Self {
            slots: Vec::new(),
            next: 0,
        }
    }

    /// The slot to fill with a new record, the ring holding at most `capacity` (≥ 1).
    fn next_slot(&mut self, capacity: usize) -> &mut Slot {
        if self.slots.len() > capacity {
            self.shrink(capacity);
        }
        if self.slots.len() < capacity && self.next == 0 {
            self.slots.push(Slot::default());
            let last = self.slots.len() - 1;
            return &mut self.slots[last];
        }
        let index = self.next % self.slots.len();
        self.next = (index + 1) % self.slots.len();
        &mut self.slots[index]
    }

    /// Oldest first.
    fn iter(&self) -> impl Iterator<Item = &Slot> {
        let (newer, older) = self.slots.split_at(self.next.min(self.slots.len()));
        older.iter().chain(newer)
    }

    /// Keeps the newest `capacity` records, oldest first.
    fn shrink(&mut self, capacity: usize) {
        let mut kept: Vec<Slot> = self.iter().cloned().collect();
        kept.drain(..kept.len().saturating_sub(capacity));
        self.slots = kept;
        self.next = 0;
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.next = 0;
    }
}

static ROWS: LazyLock<Capped<ErrorRow>> =
    LazyLock::new(|| Capped::new("error row", DEFAULT_MAX_ROWS));
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
/// One shard's ring and its lock, alone on its cache lines: adjacent unpadded rings shared a
/// line, so two threads failing on different shards (and different operations) wrote the same
/// line on every failure (the lock word and the ring's cursor).
#[repr(align(128))]
struct Recent(Mutex<Ring>);

impl std::ops::Deref for Recent {
    type Target = Mutex<Ring>;
    fn deref(&self) -> &Mutex<Ring> {
        &self.0
    }
}

static RECENT: [Recent; SHARDS] = [const { Recent(Mutex::new(Ring::new())) }; SHARDS];
static RECENT_CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_RECENT_CAPACITY);

/// The row of `operation`, made on first use; past the cap, the shared overflow row. Callers
/// that record more than once keep the `Arc`.
pub(crate) fn row(operation: &str) -> Arc<ErrorRow> {
    let make = |name| {
        let id = NEXT_ID.fetch_add(1, Relaxed);
        ErrorRow::new(u32::try_from(id).unwrap_or(u32::MAX), name)
    };
    ROWS.get_or_make(operation, make).entry()
}

/// The row of `operation` if it exists (the overflow row by its name).
pub(crate) fn find_row(operation: &str) -> Option<Arc<ErrorRow>> {
    ROWS.find(operation)
}

/// Keeps the last `capacity` records in [`ErrorReport::recent`](crate::ErrorReport::recent) (100 by default; 0 keeps none).
pub fn set_recent_capacity(capacity: usize) {
    RECENT_CAPACITY.store(capacity, Relaxed);
    for ring in &RECENT {
        let mut ring = crate::locks::lock(ring);
        if ring.slots.len() > capacity {
            ring.shrink(capacity);
        }
    }
}

/// Keeps rows for at most `cap` operation names ([`DEFAULT_MAX_ROWS`] by default); failures
/// of names past it are counted in the row `coord.overflow` and in [`dropped_names`]. Rows
/// already made are kept.
pub fn set_max_rows(cap: usize) {
    ROWS.set_cap(cap);
    crate::last_error::raise_cap(cap.saturating_mul(2));
}

/// The current cap on rows (see [`set_max_rows`]).
pub fn max_rows() -> usize {
    ROWS.cap()
}

/// How many times a name past the cap was folded into the overflow row.
pub fn dropped_names() -> u64 {
    ROWS.dropped()
}

/// The errors recorded for `operation`, if any.
pub fn operation_errors(operation: &str) -> Option<OperationErrors> {
    let row = ROWS.find(operation)?;
    let totals = row.totals();
    (!totals.is_empty()).then(|| row.public(&totals))
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

/// The recent records of the rows in `names` (by id), oldest first, at most the capacity.
fn recent_of(names: &HashMap<u32, Arc<str>>) -> Vec<ErrorRecord> {
    let mut recent = Vec::new();
    for ring in &RECENT {
        // Copied under the shard's lock (a few hundred bytes a record); strings made after.
        let copied: Vec<Slot> = crate::locks::lock(ring)
            .iter()
            .filter(|slot| names.contains_key(&slot.row))
            .cloned()
            .collect();
        recent.extend(copied.into_iter().filter_map(|s| {
            Some(ErrorRecord {
                operation: names.get(&s.row)?.to_string(),
                severity: s.severity,
                error_type: s.error_type,
                message: s.message.as_str().to_owned(),
                attempt: s.attempt,
                outcome: s.outcome,
                at: s.at,
            })
        }));
    }
    // Stable: records of one thread keep their order when the clock does not move.
    recent.sort_by_key(|r| r.at);
    let capacity = RECENT_CAPACITY.load(Relaxed);
    if recent.len() > capacity {
        recent.drain(..recent.len() - capacity);
    }
    recent
}

fn summarize<'r>(rows: impl IntoIterator<Item = &'r Arc<ErrorRow>>) -> ErrorSummary {
    let mut total = Totals::default();
    let mut by_operation = Vec::new();
    let mut names = HashMap::new();
    for row in rows {
        let totals = row.totals();
        names.insert(row.id, Arc::clone(&row.name));
        if totals.is_empty() {
            continue;
        }
        total.add(&totals);
        by_operation.push(row.public(&totals));
    }
    let recent = recent_of(&names);
    let health_status = health(&recent);
    ErrorSummary {
        total_errors: total.errors,
        final_failures: total.final_failures,
        by_severity: total.severity_counts(),
        by_operation,
        retry: total.retry_stats(),
        recent,
        health_status,
    }
}

/// Every row's errors, sorted by operation (the overflow row last).
pub(crate) fn summary() -> ErrorSummary {
    summarize(&ROWS.all())
}

/// The errors of `row` alone.
pub(crate) fn summary_of(row: Option<&Arc<ErrorRow>>) -> ErrorSummary {
    summarize(row)
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

/// Zeroes every row in place (handles kept by call sites stay valid) and empties the recent
/// list; the cap stays.
pub(crate) fn reset_all() {
    for row in ROWS.all() {
        row.reset();
    }
    ROWS.reset_dropped();
    for ring in &RECENT {
        crate::locks::lock(ring).clear();
    }
}

#[cfg(test)]
mod tests;
