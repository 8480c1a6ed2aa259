//! Breakers under failures: classifiers outside every lock, panicking classifiers, settings
//! swapped as one snapshot, unchanged configurations, fake-clock extremes, the registry cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use coord::{BreakerConfig, BreakerState, CircuitBreaker, FakeClock};

mod support;

use support::DbError;

/// One test lowers the process-wide breaker cap for a moment: the tests of this binary take
/// turns, so no other test registers a breaker while the cap is low.
static CAP: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    CAP.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f` on a thread and fails the test if it does not finish within 10 s (a deadlock).
fn within_timeout(f: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    wait.recv_timeout(Duration::from_secs(10))
        .expect("deadlock: the call did not finish");
}

#[test]
fn a_classifier_that_reconfigures_its_breaker_does_not_deadlock() {
    let _turn = turn();
    within_timeout(|| {
        const NAME: &str = "failures.classifier_reconfigures";
        let config = BreakerConfig::default()
            .minimum_calls(2)
            .window(4)
            .classifier(|_: &DbError| {
                // Reconfigure the breaker from inside its own classifier.
                coord::breaker(NAME)
                    .configure(BreakerConfig::default().failure_rate(0.9))
                    .unwrap();
                true
            });
        let breaker = coord::breaker_with(NAME, config).unwrap();
        let result: Result<(), DbError> = breaker.call(|| Err(DbError::Down));
        assert_eq!(result, Err(DbError::Down));
        assert_eq!(breaker.config().failure_rate, 0.9);
    });
}

#[test]
fn a_panicking_classifier_counts_as_a_failure_and_does_not_propagate() {
    let _turn = turn();
    within_timeout(|| {
        let breaker = CircuitBreaker::new(
            "failures.classifier_panics",
            BreakerConfig::default()
                .minimum_calls(2)
                .window(2)
                .classifier(|_: &DbError| -> bool { panic!("classifier bug") }),
        )
        .unwrap();
        for _ in 0..2 {
            let result: Result<(), DbError> = breaker.call(|| Err(DbError::Down));
            assert_eq!(result, Err(DbError::Down));
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        // The breaker's locks are not poisoned: it still reconfigures and reports.
        breaker
            .configure(BreakerConfig::default().failure_rate(0.3))
            .unwrap();
        assert_eq!(breaker.snapshot().state, BreakerState::Open);
    });
}

#[test]
fn an_unchanged_configuration_keeps_the_window() {
    let _turn = turn();
    let config = BreakerConfig::default().minimum_calls(4).window(4);
    let breaker = CircuitBreaker::new("failures.unchanged", config.clone()).unwrap();
    for _ in 0..3 {
        let _: Result<(), DbError> = breaker.call(|| Err(DbError::Down));
    }
    // Built per request with the same values: nothing is reset.
    assert!(!breaker.configure_if_changed(config.clone()).unwrap());
    breaker.configure(config.clone()).unwrap();
    assert_eq!(breaker.snapshot().calls_in_window, 3);
    let _: Result<(), DbError> = breaker.call(|| Err(DbError::Down));
    assert_eq!(breaker.state(), BreakerState::Open);
    // A changed one is applied once.
    assert!(
        breaker
            .configure_if_changed(config.clone().failure_rate(0.2))
            .unwrap()
    );
    assert!(
        !breaker
            .configure_if_changed(config.failure_rate(0.2))
            .unwrap()
    );
}

/// Configurations swapped under running calls: every call is judged by one of the two, so a
/// window of 4 with `minimum_calls` 4 and rate 1.0 never opens on 50 % failures, even while
/// another configuration (window 2, minimum 2, rate 1.0) is swapped in and out.
#[test]
fn reconfiguring_under_load_is_consistent() {
    let _turn = turn();
    let a = BreakerConfig::default()
        .window(4)
        .minimum_calls(4)
        .failure_rate(1.0);
    let b = BreakerConfig::default()
        .window(1000)
        .minimum_calls(1000)
        .failure_rate(1.0);
    let breaker = Arc::new(CircuitBreaker::new("failures.swap", a.clone()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (breaker, stop) = (Arc::clone(&breaker), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut flip = false;
            while !stop.load(Relaxed) {
                breaker
                    .configure(if flip { a.clone() } else { b.clone() })
                    .unwrap();
                flip = !flip;
            }
        })
    };
    for i in 0..100_000u32 {
        let _: Result<(), DbError> = breaker.call(|| {
            if i % 2 == 0 {
                Err(DbError::Down)
            } else {
                Ok(())
            }
        });
    }
    stop.store(true, Relaxed);
    writer.join().unwrap();
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[test]
fn fake_clock_extremes_saturate() {
    let _turn = turn();
    let clock = FakeClock::new();
    let breaker = CircuitBreaker::with_clock(
        "failures.extremes",
        BreakerConfig::default()
            .minimum_calls(1)
            .window(1)
            .slow_call(Duration::from_nanos(1))
            .open_for(Duration::MAX)
            .max_open_for(Duration::MAX),
        clock.clone(),
    )
    .unwrap();
    let permit = breaker.try_acquire().unwrap();
    clock.advance(Duration::from_secs(1));
    permit.failure();
    assert_eq!(breaker.state(), BreakerState::Open);
    // An open period of Duration::MAX saturates instead of wrapping.
    let rejected = breaker.call(|| Ok::<_, DbError>(()));
    assert!(matches!(rejected, Err(DbError::Open(_))), "{rejected:?}");
    assert!(breaker.snapshot().next_probe_in.unwrap() > Duration::from_secs(1 << 30));
    // A clock pushed to its end: the open period is over, nothing overflows.
    clock.advance(Duration::MAX);
    let _ = breaker.call(|| Ok::<_, DbError>(()));
    let _ = breaker.snapshot();
}

#[test]
fn a_slow_call_is_recorded_as_slow() {
    let _turn = turn();
    let clock = FakeClock::new();
    let breaker = CircuitBreaker::with_clock(
        "failures.slow",
        BreakerConfig::default()
            .minimum_calls(2)
            .window(2)
            .slow_call(Duration::from_millis(10))
            .slow_call_rate(1.0),
        clock.clone(),
    )
    .unwrap();
    for _ in 0..2 {
        let permit = breaker.try_acquire().unwrap();
        clock.advance(Duration::from_millis(20));
        permit.success();
    }
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[test]
fn the_registry_is_capped() {
    let _turn = turn();
    assert_eq!(coord::breaker::DEFAULT_MAX_BREAKERS, 10_000);
    assert!(coord::breaker::max_breakers() >= 1);
    // Other tests in this binary register a few names; set the cap just above them.
    let existing = coord::breaker::all().len();
    coord::breaker::set_max_breakers(existing + 2);
    let dropped_before = coord::breaker::dropped_names();
    let names: Vec<_> = (0..10)
        .map(|i| coord::breaker(&format!("failures.cap.{i}")))
        .collect();
    let overflow: Vec<_> = names
        .iter()
        .filter(|b| b.name() == coord::breaker::OVERFLOW_NAME)
        .collect();
    assert!(overflow.len() >= 8, "{}", overflow.len());
    assert!(coord::breaker::dropped_names() >= dropped_before + 8);
    coord::breaker::set_max_breakers(coord::breaker::DEFAULT_MAX_BREAKERS);
}
