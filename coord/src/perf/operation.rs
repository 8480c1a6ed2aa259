//! The operation registry: one [`Operation`] per name, counted with atomics only.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use super::histogram::{AtomicHistogram, SHARDS, Snapshot, add_saturating};
use super::stopwatch::{self, Instant};
use crate::capped::Capped;
use crate::outcome::Outcome;

/// A counter alone on its cache line.
#[derive(Default)]
#[repr(align(64))]
struct PaddedCounter(AtomicU64);

/// The live counters of one named operation.
///
/// Obtained from [`crate::monitor()`]; every call site with the same name shares one. Recording
/// touches only atomics.
pub struct Operation {
    name: Arc<str>,
    // Successes are not counted on their own: they are the histogram's total minus failures and
    // cancellations, which keeps one shared read-modify-write off the success path.
    failures: AtomicU64,
    cancelled: AtomicU64,
    // Rejections by a gate are outside the histogram and the latency sums: they did no work, and
    // their microseconds would pull the percentiles down exactly when a dependency is down.
    // One counter, not sharded like the sums: shards would take an operation past its memory
    // budget (`tests/histogram_memory.rs`), and a rejected call is already serialised on its
    // gate's own counters.
    rejected: AtomicU64,
    // One sum per shard, each on its own cache line, like the histogram's buckets.
    total_nanos: [PaddedCounter; SHARDS],
    min_nanos: AtomicU64,
    max_nanos: AtomicU64,
    histogram: AtomicHistogram,
    /// Shared with the error registry's row of the same name: one place per name.
    last_error: Arc<crate::last_error::LastError>,
    metrics: crate::metrics_bridge::OperationMetrics,
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Operation {
    fn new(name: Arc<str>) -> Self {
        let last_error = crate::last_error::cell(&name);
        Self {
            name,
            failures: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            total_nanos: Default::default(),
            min_nanos: AtomicU64::new(u64::MAX),
            max_nanos: AtomicU64::new(0),
            histogram: AtomicHistogram::new(),
            last_error,
            metrics: Default::default(),
        }
    }

    /// The operation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts timing one call; the guard records it when finished or dropped.
    pub fn start(self: &Arc<Self>) -> OperationGuard {
        OperationGuard {
            operation: Arc::clone(self),
            start: stopwatch::now(),
            finished: false,
        }
    }

    /// Records one finished call that took `elapsed` (nothing while recording is off: see
    /// [`crate::set_enabled`]).
    pub fn record(&self, elapsed: Duration, outcome: Outcome) {
        if !crate::recording::enabled() {
            return;
        }
        self.record_nanos(crate::clock::saturating_nanos(elapsed), outcome, None);
    }

    /// Records one call of `nanos`; `started`, when the caller timed the call, dates an
    /// exemplar without a second read of the clock (feature `otel`; unused without it).
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64, outcome: Outcome, started: Option<Instant>) {
        match outcome {
            Outcome::Success => {}
            Outcome::Failure => _ = self.failures.fetch_add(1, Relaxed),
            Outcome::Cancelled => _ = self.cancelled.fetch_add(1, Relaxed),
            Outcome::Rejected => return self.record_rejected(nanos),
        }
        let shard = super::shard::current();
        add_saturating(&self.total_nanos[shard % SHARDS].0, nanos);
        // Loads first: after warm-up the extremes rarely move, and a plain load keeps the cache
        // line shared between threads instead of bouncing it on every call.
        if nanos < self.min_nanos.load(Relaxed) {
            self.min_nanos.fetch_min(nanos, Relaxed);
        }
        if nanos > self.max_nanos.load(Relaxed) {
            self.max_nanos.fetch_max(nanos, Relaxed);
        }
        self.histogram.record(nanos, shard);
        #[cfg(feature = "otel")]
        self.histogram.exemplar(nanos, started);
        #[cfg(not(feature = "otel"))]
        let _ = started;
        self.metrics.record(
            [
                super::section::OPERATION_CALLS_TOTAL.name,
                super::section::OPERATION_DURATION_SECONDS.name,
            ],
            &self.name,
            nanos,
            outcome as usize,
        );
    }

    #[cold]
    fn record_rejected(&self, nanos: u64) {
        self.rejected.fetch_add(1, Relaxed);
        self.metrics.record(
            [
                super::section::OPERATION_CALLS_TOTAL.name,
                super::section::OPERATION_DURATION_SECONDS.name,
            ],
            &self.name,
            nanos,
            Outcome::Rejected as usize,
        );
    }

    fn remember_error(&self, error: &dyn fmt::Display) {
        self.last_error.set(&crate::last_error::Message::of(error));
    }

    /// Calls a gate rejected (open breaker, full bulkhead, rate limit) so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Relaxed)
    }

    /// A copy of the latency histogram (nanoseconds), for diffing into windows.
    pub fn histogram(&self) -> Snapshot {
        self.histogram.snapshot()
    }

    /// Total calls recorded so far (successes, failures, cancellations and rejections).
    pub fn calls(&self) -> u64 {
        self.histogram
            .snapshot()
            .count()
            .saturating_add(self.rejected())
    }

    /// `(successes, failures, cancelled)`, with successes derived from `histogram`, a snapshot
    /// of this operation's histogram taken by the caller (so it is read once per use).
    pub(crate) fn counters(&self, histogram: &Snapshot) -> (u64, u64, u64) {
        let failures = self.failures.load(Relaxed);
        let cancelled = self.cancelled.load(Relaxed);
        // Failures are counted before their histogram entry lands; never let a racing read
        // report fewer calls than outcomes.
        let calls = histogram.count().max(failures + cancelled);
        (calls - failures - cancelled, failures, cancelled)
    }

    /// Starts timing one call for generated code (see [`TimedCall`]).
    #[inline]
    pub fn start_timed(&self) -> TimedCall<'_> {
        if !crate::recording::enabled() {
            return TimedCall::off();
        }
        self.start_recording()
    }

    /// [`start_timed`](Self::start_timed) once the switch was read (and found on).
    #[inline(always)]
    pub(crate) fn start_recording(&self) -> TimedCall<'_> {
        TimedCall {
            timing: Some((self, stopwatch::now())),
            finished: false,
        }
    }

    /// Reads the counters into a plain [`OperationStats`].
    pub fn stats(&self) -> OperationStats {
        let snapshot = self.histogram.snapshot();
        let (successes, failures, cancelled) = self.counters(&snapshot);
        let rejected = self.rejected();
        let timed = successes + failures + cancelled;
        let calls = timed.saturating_add(rejected);
        let [p50, p90, p95, p99, p999] = snapshot
            .quantiles(&[0.5, 0.9, 0.95, 0.99, 0.999])
            .unwrap_or_default();
        let min = self.min_nanos.load(Relaxed);
        let total = self
            .total_nanos
            .iter()
            .map(|t| t.0.load(Relaxed))
            .fold(0, u64::saturating_add);
        let completed = successes + failures;
        let max = self.max_nanos.load(Relaxed);
        // A bucket midpoint can lie outside what was really seen; never report beyond the
        // exact extremes.
        let within = |q: u64| Duration::from_nanos(q.clamp(min.min(max), max));
        OperationStats {
            name: self.name.to_string(),
            calls,
            successes,
            failures,
            cancelled,
            rejected,
            error_rate: if completed == 0 {
                0.0
            } else {
                failures as f64 / completed as f64
            },
            total: Duration::from_nanos(total),
            mean: Duration::from_nanos(total.checked_div(timed).unwrap_or(0)),
            min: Duration::from_nanos(if min == u64::MAX { 0 } else { min }),
            max: Duration::from_nanos(max),
            p50: within(p50),
            p90: within(p90),
            p95: within(p95),
            p99: within(p99),
            p999: within(p999),
            last_error: self.last_error.get(),
            last_10s: None,
            last_60s: None,
            export_buckets: snapshot.export_buckets(min, max),
            #[cfg(feature = "otel")]
            exemplars: self.histogram.exemplars(),
            #[cfg(not(feature = "otel"))]
            exemplars: Vec::new(),
        }
    }

    fn reset(&self) {
        self.failures.store(0, Relaxed);
        self.cancelled.store(0, Relaxed);
        self.rejected.store(0, Relaxed);
        for t in &self.total_nanos {
            t.0.store(0, Relaxed);
        }
        self.min_nanos.store(u64::MAX, Relaxed);
        self.max_nanos.store(0, Relaxed);
        self.histogram.reset();
        self.last_error.clear();
    }

    /// Bytes this operation occupies, counters and histogram included.
    pub fn memory_footprint(&self) -> usize {
        std::mem::size_of::<Self>() + self.histogram.heap_bytes() + self.name.len()
    }
}

/// A point-in-time copy of one operation's counters and latency distribution.
///
/// Percentiles come from a log-linear histogram and lie within
/// [`RELATIVE_ERROR`](super::histogram::RELATIVE_ERROR) of the exact value; one that lands among
/// calls of [`MAX_TRACKED`](super::histogram::MAX_TRACKED) (about 39 hours) or longer reads as
/// that bound, meaning "at least that".
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OperationStats {
    /// The operation's name.
    pub name: String,
    /// All calls: `successes + failures + cancelled + rejected`.
    pub calls: u64,
    /// Calls whose outcome was a success (`Ok`, a non-5xx response, ...; see
    /// [`Outcome`](crate::Outcome)).
    pub successes: u64,
    /// Calls that failed (`Err`, a 5xx response, a panic, ...).
    pub failures: u64,
    /// Async calls dropped before completion.
    pub cancelled: u64,
    /// Calls whose final result was a gate's rejection (open circuit breaker, full bulkhead,
    /// rate limit): load shed by design, counted apart and never as failures. They are not in
    /// the latency figures (no work was done).
    pub rejected: u64,
    /// `failures / (successes + failures)`, 0.0 when nothing completed: rejections and
    /// cancellations are not in it.
    pub error_rate: f64,
    /// Time spent in all calls together (rejections excluded).
    #[serde(rename = "total_ms", with = "crate::serde_ms::ms")]
    pub total: Duration,
    /// Mean latency over all calls but rejections.
    #[serde(rename = "mean_ms", with = "crate::serde_ms::ms")]
    pub mean: Duration,
    /// Fastest call.
    #[serde(rename = "min_ms", with = "crate::serde_ms::ms")]
    pub min: Duration,
    /// Slowest call.
    #[serde(rename = "max_ms", with = "crate::serde_ms::ms")]
    pub max: Duration,
    /// Median latency.
    #[serde(rename = "p50_ms", with = "crate::serde_ms::ms")]
    pub p50: Duration,
    /// 90th percentile latency.
    #[serde(rename = "p90_ms", with = "crate::serde_ms::ms")]
    pub p90: Duration,
    /// 95th percentile latency.
    #[serde(rename = "p95_ms", with = "crate::serde_ms::ms")]
    pub p95: Duration,
    /// 99th percentile latency.
    #[serde(rename = "p99_ms", with = "crate::serde_ms::ms")]
    pub p99: Duration,
    /// 99.9th percentile latency.
    #[serde(rename = "p999_ms", with = "crate::serde_ms::ms")]
    pub p999: Duration,
    /// The message of the most recent failure, up to 256 bytes: the error's `Display` (or
    /// `Debug`, or its type name) for a `Result`, the status for an HTTP response, the guard's
    /// message for [`OperationGuard::failure`].
    pub last_error: Option<String>,
    /// Calls in about the last 10 seconds, while the monitor is running (see
    /// [`crate::PerformanceMonitor::start`]); `None` otherwise.
    pub last_10s: Option<super::WindowStats>,
    /// Calls in about the last 60 seconds, while the monitor is running; `None` otherwise.
    pub last_60s: Option<super::WindowStats>,
    /// Cumulative counts at [`EXPORT_BOUNDS`](super::histogram::EXPORT_BOUNDS), for the
    /// Prometheus histogram.
    #[serde(skip)]
    pub(crate) export_buckets: [u64; super::histogram::EXPORT_BOUNDS.len()],
    /// Per exported bucket (an index into `export_buckets`, or its length for `+Inf`), the
    /// latest call that ran in a sampled span (feature `otel`; always empty without it).
    #[serde(skip)]
    pub(crate) exemplars: Vec<(usize, crate::contract::exposition::Exemplar)>,
}

impl OperationStats {
    /// Cumulative call counts at each of
    /// [`EXPORT_BOUNDS`](super::histogram::EXPORT_BOUNDS): entry `i` counts the calls that took
    /// at most `EXPORT_BOUNDS[i]` (the `le` buckets of the Prometheus histogram).
    pub fn cumulative_buckets(&self) -> &[u64] {
        &self.export_buckets
    }
}

/// Times one call of an operation; see [`crate::PerformanceMonitor::record_operation`].
///
/// Finish it with [`success`](Self::success) or [`failure`](Self::failure). Dropped while the
/// thread panics it records a failure; dropped otherwise, a success.
#[must_use = "the call is timed until the guard is finished or dropped"]
pub struct OperationGuard {
    operation: Arc<Operation>,
    start: Instant,
    finished: bool,
}

impl fmt::Debug for OperationGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationGuard")
            .field("operation", &self.operation.name)
            .finish()
    }
}

impl OperationGuard {
    /// Records the call as a success.
    pub fn success(mut self) {
        self.finish(Outcome::Success);
    }

    /// Records the call as a failure and keeps `error`'s message as the operation's last error.
    pub fn failure(mut self, error: &dyn fmt::Display) {
        if crate::recording::enabled() {
            self.operation.remember_error(error);
        }
        self.finish(Outcome::Failure);
    }

    /// Records the call as rejected by a gate (an open breaker, a full bulkhead, a rate limit):
    /// counted apart, never as a failure, and outside the latency figures.
    pub fn rejected(mut self) {
        self.finish(Outcome::Rejected);
    }

    /// Time since the guard was created.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(stopwatch::nanos_since(self.start))
    }

    fn finish(&mut self, outcome: Outcome) {
        self.finished = true;
        if crate::recording::enabled() {
            self.operation.record_nanos(
                stopwatch::nanos_since(self.start),
                outcome,
                Some(self.start),
            );
        }
    }
}

impl Drop for OperationGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::of_unfinished(Outcome::Success));
        }
    }
}

/// The exemplars the operation `name` keeps, by bucket (`None`: no such operation, or none
/// kept yet).
#[cfg(feature = "otel")]
pub(crate) fn exemplars_of(
    name: &str,
) -> Option<Vec<(usize, crate::contract::exposition::Exemplar)>> {
    let exemplars = find(name)?.histogram.exemplars();
    (!exemplars.is_empty()).then_some(exemplars)
}

/// Distinct operation names the registry holds unless [`set_max_operations`] says otherwise.
pub const DEFAULT_MAX_OPERATIONS: usize = 10_000;

/// All operations by name, at most [`max_operations`] of them plus the shared overflow entry.
/// Entries are never removed, so handles cached by call sites stay valid; [`reset_all`] zeroes
/// them instead.
static OPERATIONS: LazyLock<Capped<Operation>> =
    LazyLock::new(|| Capped::new("operation", DEFAULT_MAX_OPERATIONS));

/// The operation called `name` (cut to 256 bytes), created on first use; past the cap, the one
/// shared operation `coord.overflow`.
pub(crate) fn resolve(name: &str) -> Arc<Operation> {
    OPERATIONS.get_or_make(name, Operation::new).entry()
}

/// The operation called `name`, if any call site or guard has used it.
pub(crate) fn find(name: &str) -> Option<Arc<Operation>> {
    OPERATIONS.find(name)
}

/// Every registered operation, sorted by name, the overflow entry last.
pub(crate) fn all() -> Vec<Arc<Operation>> {
    OPERATIONS.all()
}

/// The operation registry's cap on distinct names.
pub fn max_operations() -> usize {
    OPERATIONS.cap()
}

/// Sets the operation registry's cap on distinct names. Names already registered stay; a lower
/// cap only stops new ones.
pub fn set_max_operations(cap: usize) {
    OPERATIONS.set_cap(cap);
    // Operations and error rows keep their last error in one shared map of cells, whose cap
    // must follow both registries (as `errors::set_max_rows` does).
    crate::last_error::raise_cap(cap.saturating_mul(2));
}

/// How many lookups of a new operation name found the registry full (each got the shared
/// operation `coord.overflow`) since start or the last [`crate::reset`].
pub fn dropped_names() -> u64 {
    OPERATIONS.dropped()
}

/// Zeroes every operation in place, and the dropped-name count.
pub(crate) fn reset_all() {
    OPERATIONS.for_each(Operation::reset);
    OPERATIONS.reset_dropped();
}

/// One call being timed by generated code. Unlike [`OperationGuard`], dropping it unfinished
/// outside a panic means an `async` call was cancelled.
#[must_use]
pub struct TimedCall<'a> {
    /// The operation and the call's start; `None` while recording is off
    /// ([`crate::set_enabled`]): the clock is not read and nothing is recorded.
    timing: Option<(&'a Operation, Instant)>,
    finished: bool,
}

impl TimedCall<'_> {
    /// A call timed by nobody (recording is off).
    #[inline]
    pub(crate) fn off() -> Self {
        TimedCall {
            timing: None,
            finished: true,
        }
    }

    /// Records the call with `failed` deciding the outcome.
    #[inline]
    pub fn finish(self, failed: bool) {
        let outcome = if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        self.finish_with(outcome);
    }

    /// Records the call with `outcome`.
    #[inline]
    pub fn finish_with(mut self, outcome: Outcome) {
        self.finished = true;
        if let Some((operation, start)) = self.timing {
            operation.record_nanos(stopwatch::nanos_since(start), outcome, Some(start));
        }
    }

    /// Records the call as a failure whose message is `error` (kept, bounded, as the
    /// operation's last error: formatted here, on the failure path only).
    #[cold]
    pub fn fail_with(self, error: &dyn fmt::Display) {
        if let Some((operation, _)) = self.timing {
            operation.remember_error(error);
        }
        self.finish_with(Outcome::Failure);
    }
}

impl Drop for TimedCall<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.finished
            && let Some((operation, start)) = self.timing
        {
            let outcome = Outcome::of_unfinished(Outcome::Cancelled);
            operation.record_nanos(stopwatch::nanos_since(start), outcome, Some(start));
        }
    }
}
