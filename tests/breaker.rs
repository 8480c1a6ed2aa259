//! Circuit breakers through the public API: transitions, the generation rule, permits released
//! on panic and on drop, the registry, and a real-thread stress test.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use coord::{BreakerConfig, BreakerState, CircuitBreaker};

mod support;

use support::DbError;

fn fail(b: &CircuitBreaker) -> Result<(), DbError> {
    b.call(|| Err(DbError::Down))
}

fn succeed(b: &CircuitBreaker) -> Result<(), DbError> {
    b.call(|| Ok(()))
}

/// Small window, quick to trip; `open_for` long unless a test needs the half-open state.
fn quick(open_for: Duration) -> BreakerConfig {
    BreakerConfig::default()
        .window(4)
        .minimum_calls(4)
        .failure_rate(0.5)
        .open_for(open_for)
        .half_open_calls(2)
}

fn breaker(name: &str, config: BreakerConfig) -> CircuitBreaker {
    CircuitBreaker::new(name, config).unwrap()
}

/// Trips `b` and waits until its open period ends.
fn to_half_open_ready(b: &CircuitBreaker) {
    while b.state() == BreakerState::Closed {
        let _ = fail(b);
    }
    assert_eq!(b.state(), BreakerState::Open);
    std::thread::sleep(b.snapshot().next_probe_in.unwrap() + Duration::from_millis(2));
}

/// A breaker that admits one probe at a time, tripped and at the end of its open period.
fn half_open_for_one_probe(name: &str) -> CircuitBreaker {
    let b = breaker(name, quick(Duration::from_millis(10)).half_open_calls(1));
    to_half_open_ready(&b);
    b
}

#[test]
fn opens_at_the_failure_rate_once_minimum_calls_are_in() {
    let b = breaker("t.opens", quick(Duration::from_secs(60)));
    succeed(&b).unwrap();
    succeed(&b).unwrap();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), BreakerState::Closed, "3 calls < minimum_calls");
    fail(&b).unwrap_err();
    assert_eq!(b.state(), BreakerState::Open, "2 of 4 failed = 0.5");
    let snap = b.snapshot();
    assert_eq!(snap.failure_rate, 0.5);
    assert_eq!(snap.transitions, 1);
    assert!(snap.next_probe_in.unwrap() <= Duration::from_secs(60));

    let ran = AtomicBool::new(false);
    let err = b
        .call(|| {
            ran.store(true, SeqCst);
            Ok::<_, DbError>(())
        })
        .unwrap_err();
    assert!(!ran.load(SeqCst), "a rejected call must not run");
    let DbError::Open(open) = err else {
        panic!("{err:?}")
    };
    assert_eq!(open.name(), "t.opens");
    assert_eq!(open.state(), BreakerState::Open);
    assert!(open.retry_after() <= Duration::from_secs(60));
    assert_eq!(b.snapshot().rejected, 1);
}

#[test]
fn circuit_open_displays_name_and_next_probe() {
    let b = breaker("db", quick(Duration::from_secs(12)));
    to_open(&b);
    let open = b.try_acquire().unwrap_err();
    let text = open.to_string();
    assert!(
        text.starts_with("circuit breaker 'db' is open; next probe in 1"),
        "{text}"
    );
    assert!(text.ends_with('s'), "{text}");
    let err: Box<dyn std::error::Error> = Box::new(open);
    assert!(err.source().is_none());

    b.force_open();
    assert_eq!(
        b.try_acquire().unwrap_err().to_string(),
        "circuit breaker 'db' is forced open"
    );
    assert_eq!(b.try_acquire().unwrap_err().retry_after(), Duration::MAX);
}

fn to_open(b: &CircuitBreaker) {
    while b.state() == BreakerState::Closed {
        let _ = fail(b);
    }
}

#[test]
fn closed_open_half_open_closed() {
    let b = breaker("t.cycle", quick(Duration::from_millis(20)));
    to_half_open_ready(&b);
    let first = b
        .try_acquire()
        .expect("open period over: a probe is admitted");
    assert!(first.is_probe());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    let second = b.try_acquire().unwrap();
    let third = b.try_acquire().unwrap_err();
    assert_eq!(
        third.state(),
        BreakerState::HalfOpen,
        "only 2 probes at once"
    );
    assert_eq!(b.snapshot().half_open_in_flight, 2);
    first.success();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    second.success();
    assert_eq!(b.state(), BreakerState::Closed);
    let snap = b.snapshot();
    assert_eq!(snap.calls_in_window, 0, "closing starts a fresh window");
    assert_eq!(snap.transitions, 3);
}

#[test]
fn failed_probes_reopen_for_longer() {
    let b = breaker(
        "t.reopen",
        quick(Duration::from_millis(300)).max_open_for(Duration::from_secs(10)),
    );
    to_half_open_ready(&b);
    let before = std::time::Instant::now();
    fail(&b).unwrap_err(); // 1 of 2 probes failed = 0.5: reopen at once
    assert_eq!(b.state(), BreakerState::Open);
    let next = b.snapshot().next_probe_in.unwrap();
    let waited = before.elapsed();
    // Doubled (600 ms) with at most 20 % jitter: at least 480 ms from the transition, which
    // happened at most `waited` ago, however slow the machine.
    assert!(
        next + waited >= Duration::from_millis(480),
        "{next:?} + {waited:?}"
    );
    assert!(next <= Duration::from_millis(600), "{next:?}");
}

#[test]
fn ignored_probe_returns_its_permit() {
    let b = half_open_for_one_probe("t.ignore");
    b.try_acquire().unwrap().ignore();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().half_open_in_flight, 0);
    succeed(&b).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn late_result_from_an_older_generation_is_ignored() {
    let b = breaker("t.late", quick(Duration::from_millis(10)));
    // A slow call admitted while closed...
    let late = b.try_acquire().unwrap();
    let admitted_in = late.generation();
    // ...meanwhile the breaker opens, probes, and closes again.
    to_half_open_ready(&b);
    succeed(&b).unwrap();
    succeed(&b).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
    assert_ne!(b.snapshot().generation, admitted_in);
    // The late failure must not count in the new window.
    late.failure();
    assert_eq!(b.snapshot().calls_in_window, 0);

    // A late probe cannot close a breaker that has moved on either.
    to_half_open_ready(&b);
    let probe = b.try_acquire().unwrap();
    assert!(probe.is_probe());
    b.force_open();
    probe.success();
    assert_eq!(b.state(), BreakerState::ForcedOpen);
}

#[test]
fn panic_in_a_probe_releases_its_permit_and_counts_as_failure() {
    let b = half_open_for_one_probe("t.panic");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.call(|| -> Result<(), DbError> { panic!("probe blew up") })
    }));
    assert!(caught.is_err(), "the panic propagates unchanged");
    assert_eq!(
        b.state(),
        BreakerState::Open,
        "the panicking probe counted as failure"
    );
    assert_eq!(b.snapshot().half_open_in_flight, 0);
}

#[test]
fn panic_while_closed_counts_as_failure() {
    let b = breaker("t.panic_closed", quick(Duration::from_secs(60)));
    for _ in 0..4 {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            b.call(|| -> Result<(), DbError> { panic!("boom") })
        }));
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[tokio::test]
async fn dropping_a_future_releases_its_probe_permit() {
    let b = half_open_for_one_probe("t.drop");
    let pending = b.call_async(std::future::pending::<Result<(), DbError>>);
    let timed_out = tokio::time::timeout(Duration::from_millis(5), pending).await;
    assert!(timed_out.is_err());
    // The future is dropped: its permit is free again and nothing was counted.
    let snap = b.snapshot();
    assert_eq!(snap.state, BreakerState::HalfOpen);
    assert_eq!(snap.half_open_in_flight, 0);
    assert_eq!(snap.calls_in_window, 0);
    b.call_async(|| async { Ok::<_, DbError>(()) })
        .await
        .unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[tokio::test]
async fn call_async_records_like_call() {
    let b = breaker("t.async", quick(Duration::from_secs(60)));
    for _ in 0..4 {
        let r = b.call_async(|| async { Err::<(), _>(DbError::Down) }).await;
        assert_eq!(r, Err(DbError::Down));
    }
    let r = b.call_async(|| async { Ok::<_, DbError>(()) }).await;
    assert!(matches!(r, Err(DbError::Open(_))));
}

#[test]
fn force_open_disable_and_reset() {
    let b = breaker("t.manual", quick(Duration::from_secs(60)));
    b.force_open();
    assert_eq!(b.state(), BreakerState::ForcedOpen);
    assert!(b.try_acquire().is_err());
    b.disable();
    assert_eq!(b.state(), BreakerState::Disabled);
    for _ in 0..10 {
        fail(&b).unwrap_err();
    }
    assert_eq!(
        b.state(),
        BreakerState::Disabled,
        "disabled records nothing"
    );
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);
    to_open(&b);
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);
    succeed(&b).unwrap();
}

#[test]
fn classifier_decides_what_counts() {
    let config =
        quick(Duration::from_secs(60)).classifier(|e: &DbError| !matches!(e, DbError::NotFound));
    let b = breaker("t.classify", config);
    for _ in 0..20 {
        assert_eq!(
            b.call(|| Err::<(), _>(DbError::NotFound)),
            Err(DbError::NotFound)
        );
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(
        b.snapshot().calls_in_window,
        0,
        "not-found counts as neither"
    );
    to_open(&b);
}

#[test]
fn consecutive_failures_open_before_minimum_calls() {
    let config = BreakerConfig::default()
        .window(100)
        .minimum_calls(100)
        .consecutive_failures(3)
        .open_for(Duration::from_secs(60));
    let b = breaker("t.consecutive", config);
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    succeed(&b).unwrap(); // breaks the run
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b).unwrap_err();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn slow_calls_open_the_breaker() {
    let config = quick(Duration::from_secs(60))
        .slow_call(Duration::from_millis(1))
        .slow_call_rate(0.5);
    let b = breaker("t.slow", config);
    for _ in 0..4 {
        b.call(|| {
            std::thread::sleep(Duration::from_millis(2));
            Ok::<_, DbError>(())
        })
        .unwrap();
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn time_window_counts_calls_in_the_period() {
    let config = BreakerConfig::default()
        .window(Duration::from_secs(60))
        .minimum_calls(6)
        .open_for(Duration::from_secs(60));
    let b = breaker("t.time", config);
    for _ in 0..3 {
        succeed(&b).unwrap();
    }
    for _ in 0..2 {
        fail(&b).unwrap_err();
    }
    let snap = b.snapshot();
    assert_eq!((snap.calls_in_window, snap.failures_in_window), (5, 2));
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b).unwrap_err();
    assert_eq!(b.state(), BreakerState::Open, "3 of 6 failed");
}

#[test]
fn unanswered_probes_count_as_failures_after_max_half_open_wait() {
    let config = quick(Duration::from_millis(10))
        .half_open_calls(1)
        .max_half_open_wait(Duration::from_millis(20));
    let b = breaker("t.wait", config);
    to_half_open_ready(&b);
    let hung = b.try_acquire().unwrap();
    assert!(b.try_acquire().is_err());
    std::thread::sleep(Duration::from_millis(25));
    let open = b.try_acquire().unwrap_err();
    assert_eq!(open.state(), BreakerState::Open);
    hung.success(); // late: ignored
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn registry_shares_breakers_by_name_and_applies_configs() {
    let a = coord::breaker("t.registry");
    let b = coord::breaker("t.registry");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.config(), BreakerConfig::default());
    let c = coord::breaker_with("t.registry", quick(Duration::from_secs(5))).unwrap();
    assert!(Arc::ptr_eq(&a, &c));
    assert_eq!(a.config().open_for, Duration::from_secs(5));
    to_open(&a);
    assert!(coord::breaker::open_count() >= 1);
    // Applying the same configuration again leaves the state alone.
    coord::breaker_with("t.registry", quick(Duration::from_secs(5))).unwrap();
    assert_eq!(a.state(), BreakerState::Open);
    let listed = coord::breaker::all();
    let entry = listed.iter().find(|s| s.name == "t.registry").unwrap();
    assert_eq!(entry.state, BreakerState::Open);
    assert!(coord::breaker::find("t.registry").is_some());
    assert!(coord::breaker::find("t.never-created").is_none());
}

#[test]
fn invalid_configs_are_typed_errors() {
    let cases = [
        (BreakerConfig::default().failure_rate(1.5), "failure_rate"),
        (
            BreakerConfig::default().failure_rate(f64::NAN),
            "failure_rate",
        ),
        (
            BreakerConfig::default().slow_call_rate(-0.1),
            "slow_call_rate",
        ),
        (BreakerConfig::default().minimum_calls(0), "minimum_calls"),
        (BreakerConfig::default().window(0), "window"),
        (BreakerConfig::default().window(5000), "window"),
        (BreakerConfig::default().window(5), "minimum_calls"),
        (
            BreakerConfig::default().window(Duration::from_millis(1)),
            "window",
        ),
        (
            BreakerConfig::default().consecutive_failures(0),
            "consecutive_failures",
        ),
        (
            BreakerConfig::default().open_for(Duration::ZERO),
            "open_for",
        ),
        (
            BreakerConfig::default().max_open_for(Duration::from_secs(1)),
            "max_open_for",
        ),
        (
            BreakerConfig::default().half_open_calls(0),
            "half_open_calls",
        ),
        (
            BreakerConfig::default().half_open_calls(256),
            "half_open_calls",
        ),
        (
            BreakerConfig::default().max_half_open_wait(Duration::ZERO),
            "max_half_open_wait",
        ),
        (
            BreakerConfig::default().slow_call(Duration::ZERO),
            "slow_call",
        ),
    ];
    for (config, key) in cases {
        let err = coord::breaker_with("t.invalid", config.clone()).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
        assert!(err.to_string().contains(key), "{err}");
        assert_eq!(CircuitBreaker::new("t.invalid", config).unwrap_err(), err);
    }
    assert!(coord::breaker::find("t.invalid").is_none());
}

/// 4 threads, 1,000,000 admitted calls (plus the rejected ones) through a breaker that flips between closed, open and half-open
/// thousands of times. Inside the protected function a counter per half-open generation proves
/// that no more than `half_open_calls` probes ever run at once; afterwards the breaker must
/// not be stuck in half-open.
#[test]
fn stress_half_open_concurrency_is_bounded() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 250_000;
    const HALF_OPEN_CALLS: u32 = 2;
    let config = BreakerConfig::default()
        .window(10)
        .minimum_calls(5)
        .failure_rate(0.5)
        .open_for(Duration::from_micros(2))
        .max_open_for(Duration::from_micros(8))
        .half_open_calls(HALF_OPEN_CALLS);
    let b = Arc::new(breaker("t.stress", config));
    let in_probe: Arc<Vec<AtomicU32>> = Arc::new((0..1024).map(|_| AtomicU32::new(0)).collect());
    let violations = Arc::new(AtomicU64::new(0));
    let max_seen = Arc::new(AtomicU32::new(0));
    let probes = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, in_probe, violations, max_seen, probes, rejected, barrier) = (
                Arc::clone(&b),
                Arc::clone(&in_probe),
                Arc::clone(&violations),
                Arc::clone(&max_seen),
                Arc::clone(&probes),
                Arc::clone(&rejected),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                let mut rng = fastrand::Rng::with_seed(t + 1);
                let mut admitted = 0u64;
                barrier.wait();
                while admitted < CALLS {
                    let roll = rng.u8(..100);
                    let Ok(permit) = b.try_acquire() else {
                        rejected.fetch_add(1, SeqCst);
                        // Let a descheduled probe holder finish (2 cores, 4 threads).
                        std::thread::yield_now();
                        continue;
                    };
                    // Short bad phases (80 % failures) between long good ones (5 %).
                    admitted += 1;
                    let bad_phase = admitted % 220 < 20;
                    let fails = roll < if bad_phase { 80 } else { 5 };
                    if permit.is_probe() {
                        probes.fetch_add(1, SeqCst);
                        let slot = &in_probe[(permit.generation() % 1024) as usize];
                        let running = slot.fetch_add(1, SeqCst) + 1;
                        if running > HALF_OPEN_CALLS {
                            violations.fetch_add(1, SeqCst);
                        }
                        max_seen.fetch_max(running, SeqCst);
                        // Stay a while, so that other threads race for the permits.
                        for _ in 0..50 {
                            std::hint::spin_loop();
                        }
                        slot.fetch_sub(1, SeqCst);
                    }
                    if fails {
                        permit.failure();
                    } else {
                        permit.success();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let snap = b.snapshot();
    eprintln!(
        "stress: {} transitions, {} probes (at most {} at once), {} rejected",
        snap.transitions,
        probes.load(SeqCst),
        max_seen.load(SeqCst),
        rejected.load(SeqCst)
    );
    assert_eq!(
        violations.load(SeqCst),
        0,
        "more than {HALF_OPEN_CALLS} probes at once"
    );
    assert!(
        snap.transitions > 100,
        "the breaker should flip often: {snap:?}"
    );
    assert!(probes.load(SeqCst) > 100, "{snap:?}");
    assert!(rejected.load(SeqCst) > 0);
    assert_eq!(snap.half_open_in_flight, 0, "a permit leaked: {snap:?}");
    // Not stuck: with healthy calls the breaker closes within a few open periods.
    for _ in 0..1_000 {
        if b.state() == BreakerState::Closed {
            break;
        }
        let _ = succeed(&b);
        std::thread::sleep(Duration::from_micros(100));
    }
    assert_eq!(b.state(), BreakerState::Closed, "{:?}", b.snapshot());
}
