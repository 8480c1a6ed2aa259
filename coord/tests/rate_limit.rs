//! Rate limiters through the public API, on a fake clock where exact counts matter.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use coord::{FakeClock, RateLimitConfig, RateLimited, RateLimiter};

mod common;
use common::block_on;

fn config(rate: u64, per: Duration, burst: u64) -> RateLimitConfig {
    RateLimitConfig::default().rate(rate).per(per).burst(burst)
}

fn fake(config: RateLimitConfig) -> (RateLimiter, FakeClock) {
    let clock = FakeClock::new();
    let limiter = RateLimiter::with_clock("fake", config, &clock).unwrap();
    (limiter, clock)
}

/// Admits as many calls as the limiter allows right now.
fn drain(limiter: &RateLimiter) -> u64 {
    let mut admitted = 0;
    while limiter.check().is_ok() {
        admitted += 1;
    }
    admitted
}

#[test]
fn admits_the_ideal_count_over_a_period() {
    // 100 per second with a burst of 10, for 10 s: 10 + 1000 calls, whatever the step.
    for step_micros in [1_000, 7_000, 333, 50_000, 10_000] {
        let (limiter, clock) = fake(config(100, Duration::from_secs(1), 10));
        let step = Duration::from_micros(step_micros);
        let mut admitted = drain(&limiter);
        let mut elapsed = Duration::ZERO;
        while elapsed + step <= Duration::from_secs(10) {
            clock.advance(step);
            elapsed += step;
            admitted += drain(&limiter);
        }
        let ideal = 10 + (elapsed.as_secs_f64() * 100.0) as i64;
        assert!(
            (admitted as i64 - ideal).abs() <= 1,
            "step {step:?}: admitted {admitted}, ideal {ideal}"
        );
    }
}

#[test]
fn bursts_then_spaces_calls() {
    let (limiter, clock) = fake(config(10, Duration::from_secs(1), 3));
    assert_eq!(drain(&limiter), 3);
    let limited: RateLimited = limiter.check().unwrap_err();
    assert_eq!(limited.retry_after(), Duration::from_millis(100));
    assert_eq!(limited.name(), "fake");
    assert!(limited.to_string().contains("rate limit 'fake' exceeded"));
    clock.advance(Duration::from_millis(60));
    assert_eq!(
        limiter.check().unwrap_err().retry_after(),
        Duration::from_millis(40)
    );
    clock.advance(Duration::from_millis(40));
    assert_eq!(drain(&limiter), 1);
    // A quiet spell restores the burst, never more.
    clock.advance(Duration::from_secs(60));
    assert_eq!(limiter.snapshot().available, 3);
    assert_eq!(drain(&limiter), 3);
    assert_eq!(limiter.snapshot().available, 0);
    assert!(limiter.snapshot().rejected >= 4);
}

#[test]
fn a_burst_of_one_spaces_every_call() {
    let (limiter, clock) = fake(config(2, Duration::from_secs(1), 1));
    assert_eq!(drain(&limiter), 1);
    clock.advance(Duration::from_millis(499));
    assert!(limiter.check().is_err());
    clock.advance(Duration::from_millis(1));
    assert_eq!(drain(&limiter), 1);
}

#[test]
fn two_threads_share_the_budget_exactly() {
    let (limiter, clock) = fake(config(1_000, Duration::from_secs(1), 500));
    let limiter = Arc::new(limiter);
    let count = |limiter: &Arc<RateLimiter>| {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (limiter, barrier) = (limiter.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut admitted = 0u64;
                    for _ in 0..5_000 {
                        admitted += u64::from(limiter.check().is_ok());
                    }
                    admitted
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum::<u64>()
    };
    assert_eq!(count(&limiter), 500);
    clock.advance(Duration::from_millis(123));
    assert_eq!(count(&limiter), 123);
}

#[test]
fn waits_for_a_turn_within_max_wait() {
    // 10 per second: each turn is 100 ms after the last, far more than a preempted test thread
    // loses between two calls, so both acquisitions really wait.
    let limiter = RateLimiter::new("wait", config(10, Duration::from_secs(1), 1)).unwrap();
    limiter.check().unwrap();
    let start = Instant::now();
    limiter.acquire(Duration::from_secs(1)).unwrap();
    block_on(limiter.acquire_async(Duration::from_secs(1))).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(150));
    let snapshot = limiter.snapshot();
    assert_eq!(snapshot.waits, 2);
    assert!(snapshot.total_wait > Duration::ZERO);

    let slow = RateLimiter::new("slow", config(1, Duration::from_secs(60), 1)).unwrap();
    slow.check().unwrap();
    let limited = slow.acquire(Duration::from_millis(5)).unwrap_err();
    assert!(limited.retry_after() > Duration::from_secs(59));
    assert!(block_on(slow.acquire_async(Duration::from_millis(5))).is_err());
}

#[derive(Debug)]
enum ApiError {
    Limited(RateLimited),
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> Self {
        ApiError::Limited(limited)
    }
}

#[test]
fn call_helpers_and_registry() {
    let limiter = coord::rate_limiter_with("calls", config(1, Duration::from_secs(60), 1)).unwrap();
    let first: Result<u32, ApiError> = limiter.call(|| Ok(1));
    assert_eq!(first.unwrap(), 1);
    let second: Result<u32, ApiError> = limiter.call(|| Ok(2));
    assert!(matches!(second, Err(ApiError::Limited(l)) if l.name() == "calls"));
    let third: Result<u32, ApiError> = block_on(limiter.call_async(|| async { Ok(3) }));
    assert!(third.is_err());
    assert!(Arc::ptr_eq(&limiter, &coord::rate_limiter("calls")));
    let snapshot = coord::rate_limit::snapshots()
        .into_iter()
        .find(|s| s.name == "calls")
        .unwrap();
    assert_eq!(
        (snapshot.rate, snapshot.burst, snapshot.rejected),
        (1, 1, 2)
    );
    let json = serde_json::to_value(&snapshot).unwrap();
    assert_eq!(json["per_ms"], 60_000.0);
}

#[test]
fn configuration_is_validated() {
    let err = RateLimitConfig::default().rate(0).validate().unwrap_err();
    assert_eq!(err.key(), "rate");
    assert_eq!(
        RateLimitConfig::default()
            .burst(0)
            .validate()
            .unwrap_err()
            .key(),
        "burst"
    );
    let err = config(10, Duration::from_nanos(5), 1)
        .validate()
        .unwrap_err();
    assert_eq!(err.key(), "per");
    assert!(err.to_string().contains("invalid rate limit `per`"));
    assert!(coord::rate_limiter_with("bad", RateLimitConfig::default().rate(0)).is_err());
    // Extreme but valid values neither panic nor admit more than the burst.
    let (limiter, clock) = fake(config(1, Duration::MAX, u64::MAX));
    assert!(limiter.check().is_ok());
    clock.advance(Duration::MAX);
    assert!(limiter.check().is_ok());
}

#[test]
fn async_waits_are_send() {
    fn check<T: Send>(_: &T) {}
    let limiter = coord::rate_limiter("send");
    check(&limiter.acquire_async(Duration::from_millis(1)));
    check(&limiter.call_async(|| async { Ok::<(), RateLimited>(()) }));
}
