//! Bulkheads through the public API: limits under contention, waiting, cancellation, panics.

use std::future::Future;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use coord::{Bulkhead, BulkheadConfig, BulkheadFull};

mod common;
use common::block_on;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

fn config(max: usize) -> BulkheadConfig {
    BulkheadConfig::default().max_concurrent(max)
}

/// Asserts that `holder` (a permit, or a future that holds one) has the bulkhead's one slot
/// taken, and that dropping it frees the slot.
fn assert_dropping_frees_the_slot<T>(bulkhead: &Bulkhead, holder: T) {
    assert_eq!(bulkhead.in_flight(), 1);
    drop(holder);
    assert_eq!(bulkhead.in_flight(), 0);
}

#[derive(Debug)]
enum AppError {
    Full(BulkheadFull),
    Failed,
}

impl From<BulkheadFull> for AppError {
    fn from(full: BulkheadFull) -> Self {
        AppError::Full(full)
    }
}

/// Tracks the highest number of holders seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// Counts the holder of `permit` while it holds it (yielding its thread once if `linger`),
    /// then releases the permit.
    fn hold<P>(&self, permit: P, linger: bool) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if linger {
            std::thread::yield_now();
        }
        self.now.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
    }

    /// The most holders seen at once.
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Runs `body(i, gauge)` for `i` in `0..8` on 8 threads released together, each holding its
/// permits through the shared `gauge`; asserts that some held one and no more than `slots` ever
/// held one at once.
/// The threads' results in order.
fn on_eight_threads<R: Send>(slots: usize, body: impl Fn(usize, &Gauge) -> R + Sync) -> Vec<R> {
    let gauge = Gauge::default();
    let (start, body, gauge_ref) = (&Barrier::new(8), &body, &gauge);
    let results = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    start.wait();
                    body(i, gauge_ref)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let peak = gauge.peak();
    assert!((1..=slots).contains(&peak), "{peak} holders at once");
    results
}

#[test]
fn eight_threads_never_exceed_the_limit() {
    const SLOTS: usize = 3;
    const ROUNDS: usize = 2_000;
    let bulkhead = coord::bulkhead_with("stress.sync", config(SLOTS)).unwrap();
    on_eight_threads(SLOTS, |i, gauge| {
        for round in 0..ROUNDS {
            // Half the threads wait on their thread, half on the async path.
            let permit = if i % 2 == 0 {
                bulkhead.acquire(Duration::MAX).unwrap()
            } else {
                block_on(bulkhead.acquire_async(Duration::MAX)).unwrap()
            };
            gauge.hold(permit, round % 64 == 0);
        }
    });
    let snapshot = bulkhead.snapshot();
    assert_eq!(snapshot.in_flight, 0);
    assert_eq!(snapshot.waiting, 0);
    assert_eq!(snapshot.accepted, 8 * ROUNDS as u64);
    assert_eq!(snapshot.rejected, 0);
}

#[test]
fn rejects_at_once_without_a_wait() {
    let bulkhead = coord::bulkhead_with("reject.now", config(1)).unwrap();
    let _held = bulkhead.try_acquire().unwrap();
    let full = bulkhead.try_acquire().unwrap_err();
    assert_eq!(full.name(), "reject.now");
    assert_eq!(full.max_concurrent(), 1);
    assert_eq!(full.waited(), Duration::ZERO);
    assert!(full.to_string().contains("bulkhead 'reject.now' is full"));
    assert!(block_on(bulkhead.acquire_async(Duration::ZERO)).is_err());
    let r: Result<(), AppError> = bulkhead.call(|| Ok(()));
    assert!(matches!(r, Err(AppError::Full(f)) if f.name() == "reject.now"));
    assert_eq!(bulkhead.snapshot().rejected, 3);
}

#[test]
fn sync_and_async_waits_time_out() {
    let bulkhead = coord::bulkhead_with("wait.timeout", config(1)).unwrap();
    let _held = bulkhead.try_acquire().unwrap();
    let start = Instant::now();
    let full = bulkhead.acquire(Duration::from_millis(5)).unwrap_err();
    assert!(full.waited() >= Duration::from_millis(5));
    assert!(start.elapsed() >= Duration::from_millis(5));
    let full = block_on(bulkhead.acquire_async(Duration::from_millis(5))).unwrap_err();
    assert!(full.waited() >= Duration::from_millis(5));
    let snapshot = bulkhead.snapshot();
    assert_eq!(
        (snapshot.waits, snapshot.rejected, snapshot.waiting),
        (2, 2, 0)
    );
    assert!(snapshot.total_wait >= Duration::from_millis(10));
}

#[test]
fn waiters_get_released_slots() {
    let bulkhead = coord::bulkhead_with("wait.released", config(1)).unwrap();
    let held = bulkhead.try_acquire().unwrap();
    std::thread::scope(|s| {
        let sync = s.spawn(|| bulkhead.acquire(Duration::from_secs(10)).map(drop));
        let not_sync =
            s.spawn(|| block_on(bulkhead.acquire_async(Duration::from_secs(10))).map(drop));
        while bulkhead.snapshot().waiting < 2 {
            std::thread::yield_now();
        }
        drop(held);
        sync.join().unwrap().unwrap();
        not_sync.join().unwrap().unwrap();
    });
    let snapshot = bulkhead.snapshot();
    assert_eq!(
        (snapshot.accepted, snapshot.waits, snapshot.in_flight),
        (3, 2, 0)
    );
}

#[test]
fn a_cancelled_async_waiter_leaves_the_queue() {
    let bulkhead = coord::bulkhead_with("cancel.waiter", config(1)).unwrap();
    let held = bulkhead.try_acquire().unwrap();
    let mut waiter = Box::pin(bulkhead.acquire_async(Duration::from_secs(60)));
    assert!(poll_once(&mut waiter).is_pending());
    assert_eq!(bulkhead.snapshot().waiting, 1);
    drop(waiter);
    assert_eq!(bulkhead.snapshot().waiting, 0);
    drop(held);
    assert_eq!(bulkhead.in_flight(), 0);
    assert!(bulkhead.try_acquire().is_ok());
}

#[test]
fn a_woken_then_cancelled_waiter_passes_the_slot_on() {
    let bulkhead = coord::bulkhead_with("cancel.woken", config(1)).unwrap();
    let held = bulkhead.try_acquire().unwrap();
    let mut first = Box::pin(bulkhead.acquire_async(Duration::from_secs(60)));
    let mut second = Box::pin(bulkhead.acquire_async(Duration::from_secs(60)));
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    drop(held); // wakes `first`, which is cancelled before it runs again
    drop(first);
    let Poll::Ready(Ok(permit)) = poll_once(&mut second) else {
        panic!("the second waiter should have the slot");
    };
    assert_dropping_frees_the_slot(&bulkhead, permit);
}

#[test]
fn a_cancelled_async_holder_releases_its_slot() {
    let bulkhead = coord::bulkhead_with("cancel.holder", config(1)).unwrap();
    let mut call = Box::pin(bulkhead.call_async(|| async {
        std::future::pending::<()>().await;
        Ok::<(), AppError>(())
    }));
    assert!(poll_once(&mut call).is_pending());
    assert_dropping_frees_the_slot(&bulkhead, call);
}

#[test]
fn errors_and_panics_release_their_slots() {
    let bulkhead = coord::bulkhead_with("release.panic", config(1)).unwrap();
    let r: Result<(), AppError> = bulkhead.call(|| Err(AppError::Failed));
    assert!(matches!(r, Err(AppError::Failed)));
    assert_eq!(bulkhead.in_flight(), 0);
    let panicked = std::panic::catch_unwind(|| {
        let _: Result<(), AppError> = bulkhead.call(|| panic!("boom"));
    });
    assert!(panicked.is_err());
    assert_eq!(bulkhead.in_flight(), 0);
    let r: Result<u32, AppError> = block_on(bulkhead.call_async(|| async { Ok(7) }));
    assert_eq!(r.unwrap(), 7);
    assert_eq!(bulkhead.snapshot().accepted, 3);
}

#[test]
fn raising_the_limit_wakes_waiters() {
    let bulkhead = Bulkhead::new("raise", config(1)).unwrap();
    let _held = bulkhead.try_acquire().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| bulkhead.acquire(Duration::from_secs(10)).map(drop));
        while bulkhead.snapshot().waiting < 1 {
            std::thread::yield_now();
        }
        bulkhead.configure(config(2)).unwrap();
        waiter.join().unwrap().unwrap();
    });
}

#[test]
fn configuration_is_validated() {
    assert!(coord::bulkhead_with("bad", config(0)).is_err());
    let err = Bulkhead::new("bad", config(usize::MAX)).unwrap_err();
    assert_eq!(err.key(), "max_concurrent");
    assert!(coord::bulkhead::find("bad").is_none());
}

#[test]
fn futures_and_permits_are_send() {
    fn check<T: Send>(_: &T) {}
    let bulkhead = coord::bulkhead("send");
    let fut = bulkhead.acquire_async(Duration::from_millis(1));
    check(&fut);
    let call = bulkhead.call_async(|| async { Ok::<(), BulkheadFull>(()) });
    check(&call);
}

#[test]
fn owned_permits_move_into_spawned_work() {
    let bulkhead = coord::bulkhead_with("owned", config(1)).unwrap();
    let permit = bulkhead.try_acquire_owned().unwrap();
    assert!(bulkhead.try_acquire_owned().is_err());
    std::thread::spawn(move || drop(permit)).join().unwrap();
    let permit = block_on(bulkhead.clone().acquire_owned_async(Duration::ZERO)).unwrap();
    assert_eq!(permit.bulkhead().name(), "owned");
    assert_dropping_frees_the_slot(&bulkhead, permit);
}

/// Waiters that wait forever, time out, or are cancelled (possibly just after being woken) mixed
/// on 8 threads: the limit holds, and no forever-waiter misses a released slot (it would hang).
#[test]
fn mixed_waiters_cancellations_and_timeouts_lose_no_wake_up() {
    const SLOTS: usize = 2;
    const ROUNDS: usize = 1_000;
    let bulkhead = Bulkhead::new("stress.mixed", config(SLOTS)).unwrap();
    let admitted: u64 = on_eight_threads(SLOTS, |i, gauge| {
        let mut admitted = 0u64;
        for _ in 0..ROUNDS {
            let permit = match i % 4 {
                0 => bulkhead.acquire(Duration::MAX).ok(),
                1 => block_on(bulkhead.acquire_async(Duration::MAX)).ok(),
                2 => {
                    // Queue, let releases happen, then walk away.
                    let mut waiter = Box::pin(bulkhead.acquire_async(Duration::MAX));
                    match poll_once(&mut waiter) {
                        Poll::Ready(permit) => permit.ok(),
                        Poll::Pending => {
                            std::thread::yield_now();
                            None
                        }
                    }
                }
                _ => bulkhead.acquire(Duration::from_micros(50)).ok(),
            };
            if let Some(permit) = permit {
                admitted += 1;
                gauge.hold(permit, true);
            }
        }
        admitted
    })
    .into_iter()
    .sum();
    let snapshot = bulkhead.snapshot();
    assert_eq!((snapshot.in_flight, snapshot.waiting), (0, 0));
    assert_eq!(snapshot.accepted, admitted);
    // Forever-waiters on 4 threads were always admitted.
    assert!(admitted >= 4 * ROUNDS as u64);
}

#[test]
fn an_invalid_limit_is_a_typed_error_naming_its_key() {
    for bad in [0, coord::bulkhead::MAX_CONCURRENT + 1] {
        let error = BulkheadConfig::default()
            .max_concurrent(bad)
            .validate()
            .unwrap_err();
        assert_eq!(error.key(), "max_concurrent");
        assert_eq!(
            error.to_string(),
            format!(
                "invalid bulkhead `max_concurrent`: {bad} is not in 1..={}",
                coord::bulkhead::MAX_CONCURRENT
            )
        );
    }
}
