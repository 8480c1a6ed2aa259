//! Hedged calls (`coord::hedge`), on tokio's paused clock: every latency is virtual, so the
//! simulated downstream's one-second calls cost nothing and the numbers are exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use coord::{Clock, Hedge, HedgeConfig};

#[macro_use]
#[path = "support/rows.rs"]
mod rows;

/// A hedge on tokio's clock, which the tests pause.
fn on_tokio_clock(name: &str, config: HedgeConfig) -> Hedge {
    Hedge::new(name, config).unwrap().clock(Clock::tokio())
}

/// A downstream where 1 call in 20 takes a second and the rest 10 ms (a fixed, seeded
/// sequence), counting the attempts started, finished and dropped before finishing.
#[derive(Default)]
struct Downstream {
    spread: bool,
    started: AtomicU64,
    finished: AtomicU64,
    dropped: AtomicU64,
    next: AtomicU64,
}

/// Counts an attempt dropped before it finished.
struct Dropped<'a>(&'a Downstream, bool);

impl Drop for Dropped<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.dropped.fetch_add(1, SeqCst);
        }
    }
}

impl Downstream {
    async fn call(&self) -> Result<u64, String> {
        let n = self.next.fetch_add(1, SeqCst);
        self.started.fetch_add(1, SeqCst);
        let mut guard = Dropped(self, false);
        // Every twentieth attempt, shuffled by a multiplicative hash; the others take 10 ms,
        // or, spread, 5 to 15 ms.
        let hash = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let latency = if hash.is_multiple_of(20) {
            1_000
        } else if self.spread {
            5 + (hash >> 32) % 11
        } else {
            10
        };
        tokio::time::sleep(Duration::from_millis(latency)).await;
        guard.1 = true;
        self.finished.fetch_add(1, SeqCst);
        Ok(n)
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn latencies(hedge: Option<&Hedge>, downstream: &Downstream, calls: usize) -> Vec<Duration> {
    let mut all = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = tokio::time::Instant::now();
        let answer = match hedge {
            Some(hedge) => hedge.run(|| downstream.call()).await,
            None => downstream.call().await,
        };
        assert!(answer.is_ok());
        all.push(start.elapsed());
    }
    all.sort();
    all
}

#[tokio::test(start_paused = true)]
async fn hedging_at_the_90th_percentile_cuts_the_tail_of_a_bimodal_downstream() {
    let unhedged = latencies(None, &Downstream::default(), 2_000).await;
    assert_eq!(percentile(&unhedged, 0.99), Duration::from_secs(1));

    let downstream = Downstream::default();
    let hedge = on_tokio_clock("hedge.bimodal", HedgeConfig::percentile(0.9));
    // The first calls teach it the latency (no hedge before 32 samples).
    let _ = latencies(Some(&hedge), &downstream, 64).await;
    assert_eq!(hedge.delay(), Some(Duration::from_millis(10)));
    let before = hedge.snapshot();
    let hedged = latencies(Some(&hedge), &downstream, 2_000).await;
    let after = hedge.snapshot();
    let p99 = percentile(&hedged, 0.99);
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");
    assert!(p99 <= Duration::from_millis(20), "p99 {p99:?}");
    let extra = after.hedges_started - before.hedges_started;
    assert!(extra <= 200, "{extra} extra calls for 2,000");
    assert!(extra >= 50, "a slow call in 20 is hedged: {extra}");
    assert_eq!(
        after.hedges_won - before.hedges_won,
        extra,
        "every hedge beat a 1 s call"
    );
    // Every loser was cancelled, none finished late.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let started = downstream.started.load(SeqCst);
    assert_eq!(
        downstream.finished.load(SeqCst) + downstream.dropped.load(SeqCst),
        started
    );
    assert!(downstream.dropped.load(SeqCst) >= extra);
}

#[tokio::test(start_paused = true)]
async fn the_delay_stays_at_its_percentile_when_fast_calls_vary() {
    // Fast calls of 5 to 15 ms, 1 in 20 of a second: at the 90th percentile, about a tenth of
    // calls are hedged. Were the hedges' own (fast) latencies learnt instead of what the caller
    // waited, the slow tail would vanish from the samples and the delay drift down, hedging
    // more and more calls.
    let downstream = Downstream {
        spread: true,
        ..Downstream::default()
    };
    let hedge = on_tokio_clock("hedge.spread", HedgeConfig::percentile(0.9));
    let _ = latencies(Some(&hedge), &downstream, 256).await;
    let before = hedge.snapshot();
    let hedged = latencies(Some(&hedge), &downstream, 4_000).await;
    let extra = hedge.snapshot().hedges_started - before.hedges_started;
    assert!(extra <= 480, "{extra} extra calls for 4,000 (12 % at most)");
    assert!(percentile(&hedged, 0.99) < Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn the_first_success_wins_and_the_others_are_dropped() {
    let hedge = on_tokio_clock(
        "hedge.first_wins",
        HedgeConfig::after(Duration::from_millis(50)).max_extra(2),
    );
    let attempt = AtomicU32::new(0);
    let dropped = Arc::new(AtomicU32::new(0));
    let started = tokio::time::Instant::now();
    let answer: Result<u32, ()> = hedge
        .run(|| {
            let n = attempt.fetch_add(1, SeqCst);
            let dropped = Arc::clone(&dropped);
            async move {
                let mut guard = DropCount(dropped, false);
                // The first attempt hangs; the second answers in 20 ms, the third in 5 ms.
                let ms = [10_000, 20, 5][n as usize];
                tokio::time::sleep(Duration::from_millis(ms)).await;
                guard.1 = true;
                Ok(n)
            }
        })
        .await;
    // The second started at 50 ms and answered at 70; the third would start at 100.
    assert_eq!(answer, Ok(1));
    assert_eq!(started.elapsed(), Duration::from_millis(70));
    assert_eq!(attempt.load(SeqCst), 2);
    assert_eq!(
        dropped.load(SeqCst),
        1,
        "the hung first attempt was dropped"
    );
    let snapshot = hedge.snapshot();
    assert_eq!((snapshot.hedges_started, snapshot.hedges_won), (1, 1));
}

struct DropCount(Arc<AtomicU32>, bool);

impl Drop for DropCount {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, SeqCst);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_failure_starts_no_hedge_and_all_failing_returns_the_last_error() {
    let hedge = on_tokio_clock(
        "hedge.errors",
        HedgeConfig::after(Duration::from_millis(10)),
    );
    // Fails at once: no hedge.
    let answer: Result<(), &str> = hedge.run(|| async { Err("down") }).await;
    assert_eq!(answer, Err("down"));
    assert_eq!(hedge.snapshot().hedges_started, 0);
    // Slow and failing: hedged once, both fail, the last error is the answer.
    let attempt = AtomicU32::new(0);
    let answer: Result<(), String> = hedge
        .run(|| {
            let n = attempt.fetch_add(1, SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(if n == 0 { 30 } else { 40 })).await;
                Err(format!("attempt {n}"))
            }
        })
        .await;
    assert_eq!(answer, Err("attempt 1".to_owned()));
    assert_eq!(hedge.snapshot().hedges_started, 1);
}

#[tokio::test(start_paused = true)]
async fn a_denied_hedge_is_counted_and_the_call_goes_on() {
    let hedge = on_tokio_clock(
        "hedge.denied",
        HedgeConfig::after(Duration::from_millis(10)),
    );
    let answer: Result<u8, ()> = hedge
        .run_when(
            || async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(7)
            },
            || false,
        )
        .await;
    assert_eq!(answer, Ok(7));
    let snapshot = hedge.snapshot();
    assert_eq!((snapshot.hedges_started, snapshot.hedges_denied), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_registered_hedge_is_in_the_report_and_on_metrics() {
    let hedge = coord::hedge_with(
        "hedge.reported",
        HedgeConfig::after(Duration::from_millis(10)),
    )
    .unwrap();
    // The registry's hedge runs on the system clock: a real 10 ms.
    let answer: Result<u8, ()> = hedge
        .run(|| async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Ok(1)
        })
        .await;
    assert_eq!(answer, Ok(1));
    let report = coord::report();
    let row = row!(report.hedges, "hedge.reported");
    assert_eq!((row.calls, row.hedges_started), (1, 0));
    assert_eq!(row.delay, Some(Duration::from_millis(10)));
    assert!(report.to_string().contains("hedge.reported"), "{report}");
    let prometheus = report.to_prometheus();
    assert!(
        prometheus.contains("coord_hedge_calls_total{hedge=\"hedge.reported\"} 1"),
        "{prometheus}"
    );
    assert!(
        prometheus.contains("coord_hedge_delay_seconds{hedge=\"hedge.reported\"} 0.01"),
        "{prometheus}"
    );
    assert!(std::sync::Arc::ptr_eq(
        &hedge,
        &coord::hedge("hedge.reported")
    ));
}

#[test]
fn the_configuration_file_configures_hedges() {
    let loaded = coord::config::load_str(
        "hedges:\n  hedge.file: { after: p99, max_extra: 2 }\n  hedge.fixed: { after: 40ms }\n",
    )
    .unwrap();
    assert_eq!(loaded.hedges, ["hedge.file", "hedge.fixed"]);
    let config = coord::hedge("hedge.file").config();
    assert_eq!(config.after, coord::hedges::HedgeAfter::Percentile(0.99));
    assert_eq!(config.max_extra, 2);
    assert_eq!(
        coord::hedge("hedge.fixed").delay(),
        Some(Duration::from_millis(40))
    );
    for (bad, says) in [
        ("hedges:\n  h.bad:\n    after: p100\n", "percentile"),
        (
            "hedges:\n  h.bad:\n    after: soon\n",
            "neither a percentile",
        ),
        ("hedges:\n  h.bad:\n    max_extra: 9\n", "outside 1..=4"),
        ("hedges:\n  h.bad:\n    delay: 5ms\n", "delay"),
    ] {
        let error = coord::config::load_str(bad).unwrap_err();
        assert!(error.to_string().contains(says), "{bad}: {error}");
        assert_eq!(error.location.map(|l| l.0), Some(3), "{bad}: {error}");
    }
    assert!(coord::hedges::find("h.bad").is_none());
}

#[test]
fn bad_configurations_say_which_key() {
    let error = Hedge::new("hedge.bad", HedgeConfig::percentile(1.0)).unwrap_err();
    assert_eq!(error.key(), "after");
    assert!(
        error.to_string().contains("strictly between 0 and 1"),
        "{error}"
    );
    let error = HedgeConfig::after(Duration::from_millis(1))
        .max_extra(0)
        .validate()
        .unwrap_err();
    assert_eq!(error.key(), "max_extra");
    assert!(HedgeConfig::percentile(f64::NAN).validate().is_err());
}

// `#[hedge]`: the attribute, on tokio's paused clock (set on the function's hedge before its
// first call, through the registry).

use coord::{CircuitOpen, hedge, retry};

/// A downstream for the attributes' tests, in a `static`.
static BIMODAL: Downstream = Downstream::new();

impl Downstream {
    const fn new() -> Self {
        Self {
            spread: false,
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            next: AtomicU64::new(0),
        }
    }
}

#[hedge(after = "p90", name = "hedge.attr.bimodal")]
async fn bimodal(downstream: &Downstream, label: String) -> Result<u64, String> {
    assert_eq!(label, "call", "every attempt has its own copy");
    downstream.call().await
}

fn on_paused_clock(name: &str, config: HedgeConfig) -> Arc<Hedge> {
    let hedge = coord::hedge_with(name, config).unwrap();
    hedge.set_clock(Clock::tokio());
    hedge
}

#[tokio::test(start_paused = true)]
async fn the_attribute_cuts_the_tail_of_a_bimodal_downstream_with_few_extra_calls() {
    let hedge = on_paused_clock("hedge.attr.bimodal", HedgeConfig::percentile(0.9));
    let mut all = Vec::new();
    for _ in 0..2_064 {
        let start = tokio::time::Instant::now();
        assert!(bimodal(&BIMODAL, "call".to_owned()).await.is_ok());
        all.push(start.elapsed());
    }
    // Past the first 64 calls, which taught it the latency.
    let mut hedged = all.split_off(64);
    hedged.sort();
    let p99 = percentile(&hedged, 0.99);
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");
    let snapshot = hedge.snapshot();
    assert_eq!(snapshot.calls, 2_064);
    assert!(
        snapshot.hedges_started <= 206,
        "{} extra calls for 2,064 (10 % at most)",
        snapshot.hedges_started
    );
    assert!(snapshot.hedges_started >= 50, "{snapshot:?}");
    assert_eq!(snapshot.hedges_won, snapshot.hedges_started);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        BIMODAL.finished.load(SeqCst) + BIMODAL.dropped.load(SeqCst),
        BIMODAL.started.load(SeqCst),
        "every loser was dropped, none finished late"
    );
}

#[derive(Debug, PartialEq)]
enum CallError {
    Open,
    Down,
}

impl From<CircuitOpen> for CallError {
    fn from(_: CircuitOpen) -> Self {
        CallError::Open
    }
}

static GUARDED_CALLS: AtomicU32 = AtomicU32::new(0);

/// The first attempt of each call hangs for a second; the others answer in 10 ms.
#[hedge(after = "20ms", name = "hedge.attr.guarded")]
#[coord::circuit_breaker(name = "hedge.attr.guarded.breaker", window = 10, minimum_calls = 10)]
async fn guarded(fail: bool) -> Result<u32, CallError> {
    let n = GUARDED_CALLS.fetch_add(1, SeqCst);
    let ms = if n.is_multiple_of(2) { 1_000 } else { 10 };
    tokio::time::sleep(Duration::from_millis(ms)).await;
    if fail { Err(CallError::Down) } else { Ok(n) }
}

#[tokio::test(start_paused = true)]
async fn each_attempt_passes_the_breaker_and_no_hedge_starts_while_it_is_open() {
    let hedge = on_paused_clock(
        "hedge.attr.guarded",
        HedgeConfig::after(Duration::from_millis(20)),
    );
    let started = tokio::time::Instant::now();
    assert_eq!(guarded(false).await, Ok(1), "the hedge won");
    assert_eq!(started.elapsed(), Duration::from_millis(30));
    let breaker = coord::breakers::find("hedge.attr.guarded.breaker").unwrap();
    // The winner counted; the dropped loser released its permit uncounted.
    assert_eq!(
        breaker.snapshot().calls_in_window,
        1,
        "{:?}",
        breaker.snapshot()
    );

    // The breaker opens while a call's first attempt is running: when the delay passes, the
    // hedge is held back (denied), not started into a sure rejection.
    let before = hedge.snapshot();
    let call = tokio::spawn(guarded(false));
    tokio::time::sleep(Duration::from_millis(5)).await;
    breaker.force_open();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let during = hedge.snapshot();
    assert_eq!(during.hedges_started, before.hedges_started, "no hedge");
    assert_eq!(during.hedges_denied, before.hedges_denied + 1);
    assert_eq!(call.await.unwrap(), Ok(2), "the first attempt answers");

    // Open before the call: rejected at once, before any race.
    assert_eq!(guarded(false).await, Err(CallError::Open));
    let after = hedge.snapshot();
    assert_eq!(after.hedges_started, before.hedges_started);
    assert_eq!(
        after.calls, during.calls,
        "a call rejected before its race runs none"
    );
}

static BUDGETED_CALLS: AtomicU32 = AtomicU32::new(0);

#[hedge(after = "10ms", max_extra = 2, name = "hedge.attr.budgeted")]
#[retry(max_retries = 1, base_delay = "1ms", jitter = "none")]
async fn budgeted() -> Result<u32, String> {
    let n = BUDGETED_CALLS.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    Err(format!("attempt {n}"))
}

#[tokio::test(start_paused = true)]
async fn inside_a_retry_each_attempt_is_a_race_and_hedges_spend_the_retry_budget() {
    let hedge = on_paused_clock(
        "hedge.attr.budgeted",
        HedgeConfig::after(Duration::from_millis(10)).max_extra(2),
    );
    let budget = |coord: &str| coord::retry::budget(coord).map(|b| b.tokens);
    let operation = "hedge::budgeted";
    assert!(budgeted().await.is_err());
    let snapshot = hedge.snapshot();
    // Two races (the first attempt and one retry), each hedged twice.
    assert_eq!((snapshot.calls, snapshot.hedges_started), (2, 4));
    assert_eq!(BUDGETED_CALLS.load(SeqCst), 6);
    let full = coord::BudgetConfig::default().capacity;
    let cost = coord::BudgetConfig::default().retry_cost;
    assert_eq!(
        budget(operation),
        Some(full - 5 * cost),
        "four hedges and one retry were paid for"
    );
}

#[hedge(after = "50ms", max_extra = 2)]
async fn configured_by_the_attribute() -> Result<(), ()> {
    Ok(())
}

#[tokio::test]
async fn the_attribute_configures_a_hedge_named_after_the_operation() {
    assert_eq!(configured_by_the_attribute().await, Ok(()));
    let hedge = coord::hedges::find("hedge::configured_by_the_attribute").unwrap();
    assert_eq!(
        hedge.config(),
        HedgeConfig::after(Duration::from_millis(50)).max_extra(2)
    );
    assert_eq!(hedge.snapshot().calls, 1);
}

#[derive(Debug, PartialEq)]
enum WalledError {
    Full,
}

impl From<coord::BulkheadFull> for WalledError {
    fn from(_: coord::BulkheadFull) -> Self {
        WalledError::Full
    }
}

#[hedge(after = "10ms", name = "hedge.attr.walled")]
#[coord::bulkhead(name = "hedge.attr.walled", max_concurrent = 1)]
async fn walled() -> Result<(), WalledError> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_holds_a_hedge_back_instead_of_rejecting_it() {
    let hedge = on_paused_clock(
        "hedge.attr.walled",
        HedgeConfig::after(Duration::from_millis(10)),
    );
    assert_eq!(walled().await, Ok(()));
    let snapshot = hedge.snapshot();
    assert_eq!((snapshot.hedges_started, snapshot.hedges_denied), (0, 1));
    let bulkhead = coord::bulkheads::find("hedge.attr.walled").unwrap();
    assert_eq!(bulkhead.snapshot().rejected, 0);
}
