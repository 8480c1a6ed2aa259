//! One fake clock drives breakers and retries without real sleeping, the way Polly's
//! `TimeProvider` lets .NET tests do: an open period passes with `advance`, and back-off sleeps
//! return at once while the clock records them.

use std::time::{Duration, Instant};

use coord::{BreakerConfig, BreakerState, CircuitBreaker, FakeClock, Jitter, RetryPolicy};

mod support;

use support::DbError;

#[test]
fn a_breaker_goes_from_open_to_half_open_when_the_fake_clock_says_so() {
    let clock = FakeClock::new();
    let config = BreakerConfig::default()
        .minimum_calls(2)
        .window(2)
        .open_for(Duration::from_secs(30))
        .half_open_calls(1);
    let db = CircuitBreaker::with_clock("fake_clock.db", config, &clock).unwrap();
    for _ in 0..2 {
        let _ = db.call(|| Err::<(), _>(DbError::Down));
    }
    assert_eq!(db.state(), BreakerState::Open);

    clock.advance(Duration::from_secs(29));
    match db.call(|| Ok::<_, DbError>(())) {
        Err(DbError::Open(open)) => assert_eq!(open.retry_after(), Duration::from_secs(1)),
        other => panic!("still open, got {other:?}"),
    }

    clock.advance(Duration::from_secs(1));
    let probe = db.try_acquire().expect("the open period is over");
    assert!(probe.is_probe());
    assert_eq!(db.state(), BreakerState::HalfOpen);
    probe.success();
    assert_eq!(db.state(), BreakerState::Closed);
}

#[test]
fn a_time_window_forgets_failures_older_than_the_window() {
    let clock = FakeClock::new();
    let config = BreakerConfig::default()
        .minimum_calls(3)
        .window(Duration::from_secs(10));
    let db = CircuitBreaker::with_clock("fake_clock.window", config, &clock).unwrap();
    for _ in 0..2 {
        let _ = db.call(|| Err::<(), _>(DbError::Down));
    }
    clock.advance(Duration::from_secs(60));
    let _ = db.call(|| Err::<(), _>(DbError::Down));
    assert_eq!(db.state(), BreakerState::Closed, "two failures aged out");
    assert_eq!(db.snapshot().calls_in_window, 1);
}

#[test]
fn retry_delays_are_recorded_not_slept() {
    let clock = FakeClock::new();
    let policy = RetryPolicy::exponential(3, Duration::from_secs(10), 2.0)
        .max_delay(Duration::from_secs(60))
        .jitter(Jitter::None)
        .no_budget()
        .named("fake_clock.retry")
        .clock(&clock);
    let started = Instant::now();
    let result: Result<(), &str> = policy.call(|| Err("down"));
    assert!(result.is_err());
    assert_eq!(clock.sleeps(), [10, 20, 40].map(Duration::from_secs));
    assert_eq!(clock.elapsed(), Duration::from_secs(70));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "nothing really slept"
    );
}

#[test]
fn a_retry_deadline_reads_the_fake_clock() {
    let clock = FakeClock::new();
    let policy = RetryPolicy::constant(10, Duration::from_secs(1))
        .deadline(Duration::from_millis(2500))
        .no_budget()
        .named("fake_clock.deadline")
        .clock(&clock);
    let result: Result<(), &str> = policy.call(|| Err("down"));
    assert!(result.is_err());
    assert_eq!(clock.sleeps(), [Duration::from_secs(1); 2]);
}

#[tokio::test]
async fn async_retries_and_a_breaker_share_one_fake_clock() {
    let clock = FakeClock::new();
    let db = CircuitBreaker::with_clock(
        "fake_clock.shared",
        BreakerConfig::default()
            .minimum_calls(1)
            .window(1)
            .open_for(Duration::from_secs(5))
            .half_open_calls(1),
        &clock,
    )
    .unwrap();
    let policy = RetryPolicy::constant(1, Duration::from_secs(5))
        .no_budget()
        .named("fake_clock.shared")
        .clock(&clock);
    let mut attempts = 0;
    // The first attempt fails and opens the breaker; the back-off sleep on the fake clock
    // lasts exactly the open period, so the retry is admitted as the probe and succeeds.
    let result = policy
        .call_async(|| {
            attempts += 1;
            let first = attempts == 1;
            db.call_async(move || async move {
                if first {
                    Err(DbError::Down)
                } else {
                    Ok(attempts)
                }
            })
        })
        .await;
    assert_eq!(result.unwrap(), 2);
    assert_eq!(db.state(), BreakerState::Closed);
    assert_eq!(clock.sleeps(), [Duration::from_secs(5)]);
}
