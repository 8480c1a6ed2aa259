//! Properties of `RetryPolicy` through the public API: proptest over its settings, and the
//! retry budget under concurrent callers.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use coord::retry::Attempt;
use coord::{BudgetConfig, Jitter, RetryPolicy, Severity};
use proptest::prelude::*;

mod support;

use support::retry::{ApiError, fake};

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

/// The capped exponential delay before retry `n`, computed independently in nanoseconds.
fn capped(base: u64, multiplier: f64, n: u32, max: u64) -> u64 {
    let raw = base as f64 * multiplier.powi(n as i32);
    if raw >= max as f64 { max } else { raw as u64 }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn attempts_never_exceed_max_retries_plus_one(
        max_retries in 0u32..30,
        failures in 0u32..40,
        jitter in jitter(),
    ) {
        let policy = RetryPolicy::exponential(max_retries, Duration::from_millis(3), 2.0)
            .jitter(jitter)
            .no_budget()
            .clock(fake());
        let mut attempts = 0;
        let r: Result<(), ApiError> = policy.call(|| {
            attempts += 1;
            if attempts <= failures { Err(ApiError::Timeout) } else { Ok(()) }
        });
        prop_assert!(attempts <= max_retries + 1);
        prop_assert_eq!(r.is_ok(), failures <= max_retries);
        prop_assert_eq!(attempts, (failures + 1).min(max_retries + 1));
    }

    #[test]
    fn delays_stay_within_max_delay_and_jitter_bounds(
        max_retries in 1u32..25,
        base_ms in 0u64..2_000,
        multiplier in 1.0f64..4.0,
        max_ms in 0u64..60_000,
        jitter in jitter(),
    ) {
        let sleeper = fake();
        let (base, max) = (base_ms * 1_000_000, max_ms * 1_000_000);
        let policy = RetryPolicy::exponential(
                max_retries, Duration::from_nanos(base), multiplier)
            .max_delay(Duration::from_nanos(max))
            .jitter(jitter)
            .no_budget()
            .clock(&sleeper);
        let _: Result<(), ApiError> = policy.call(|| Err(ApiError::Timeout));
        let delays = sleeper.sleeps();
        prop_assert_eq!(delays.len() as u32, max_retries);
        let mut previous = base.min(max);
        for (n, delay) in delays.iter().enumerate() {
            let d = delay.as_nanos() as u64;
            prop_assert!(d <= max, "delay {d} above max {max}");
            let c = capped(base, multiplier, n as u32, max);
            let (lo, hi) = match jitter {
                Jitter::None => (c, c),
                Jitter::Full => (0, c),
                Jitter::Equal => (c - c / 2, c),
                Jitter::Decorrelated => {
                    let lo = base.min(max);
                    (lo, previous.saturating_mul(3).max(lo).min(max))
                }
            };
            prop_assert!(lo <= d && d <= hi, "retry {n}: {d} outside {lo}..={hi}");
            previous = d;
        }
    }

    #[test]
    fn a_permanent_error_is_tried_exactly_once(
        max_retries in 0u32..50,
        permanent_at in 1u32..10,
    ) {
        let policy = RetryPolicy::constant(max_retries, Duration::from_millis(1))
            .no_budget()
            .clock(fake());
        let mut attempts = 0;
        let r: Result<(), u32> = policy.run("t.prop_permanent", Severity::Low, || {
            attempts += 1;
            if attempts == permanent_at {
                Err(Attempt::permanent(attempts))
            } else {
                Err(Attempt::retryable(attempts))
            }
        });
        if permanent_at <= max_retries + 1 {
            prop_assert_eq!(attempts, permanent_at);
            prop_assert_eq!(r, Err(permanent_at));
        } else {
            prop_assert_eq!(attempts, max_retries + 1);
        }
    }

    #[test]
    fn the_deadline_is_never_overrun_by_a_sleep(
        deadline_ms in 1u64..5_000,
        base_ms in 1u64..500,
        attempt_ms in prop::collection::vec(0u64..300, 1..40),
        jitter in jitter(),
    ) {
        let sleeper = fake();
        let deadline = Duration::from_millis(deadline_ms);
        let policy = RetryPolicy::exponential(30, Duration::from_millis(base_ms), 1.5)
            .jitter(jitter)
            .deadline(deadline)
            .no_budget()
            .clock(&sleeper);
        let starts = RefCell::new(Vec::new());
        let mut n = 0;
        let _: Result<(), ApiError> = policy.call(|| {
            starts.borrow_mut().push(sleeper.elapsed());
            sleeper.advance(Duration::from_millis(attempt_ms[n % attempt_ms.len()]));
            n += 1;
            Err(ApiError::Timeout)
        });
        // Every attempt after the first starts right after a sleep: none ends past the
        // deadline.
        for start in starts.borrow().iter().skip(1) {
            prop_assert!(*start <= deadline, "a sleep ended at {start:?} > {deadline:?}");
        }
    }
}

#[test]
fn budget_holds_under_concurrent_callers() {
    let (capacity, cost, refund) = (200u64, 5u64, 1u64);
    let policy = RetryPolicy::constant(3, Duration::ZERO)
        .budget(
            BudgetConfig::default()
                .capacity(capacity as u32)
                .retry_cost(cost as u32)
                .success_refund(refund as u32),
        )
        .named("t.budget_concurrent")
        .clock(fake());
    let attempts = AtomicU32::new(0);
    let successes = AtomicU32::new(0);
    let calls_per_thread = 2_000u32;
    std::thread::scope(|s| {
        for t in 0..8u32 {
            let (policy, attempts, successes) = (&policy, &attempts, &successes);
            s.spawn(move || {
                for i in 0..calls_per_thread {
                    let mut n = 0;
                    let r: Result<(), ApiError> = policy.call(|| {
                        attempts.fetch_add(1, SeqCst);
                        n += 1;
                        // Two calls in three fail on their first two attempts.
                        if (i + t) % 3 != 0 && n <= 2 {
                            Err(ApiError::Timeout)
                        } else {
                            Ok(())
                        }
                    });
                    if r.is_ok() {
                        successes.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    let calls = u64::from(8 * calls_per_thread);
    let retries = u64::from(attempts.load(SeqCst)) - calls;
    let successes = u64::from(successes.load(SeqCst));
    // A retry is only made with tokens in hand, and tokens only come from the initial fill
    // and from success refunds.
    assert!(
        retries * cost <= capacity + successes * refund,
        "{retries} retries from {capacity} + {successes} refunds"
    );
    let budget = coord::retry::budget("t.budget_concurrent").unwrap();
    assert!(u64::from(budget.tokens) <= capacity);
    assert!(budget.exhausted > 0, "the budget should have run dry");
    let row = coord::errors::operation_errors("t.budget_concurrent").unwrap();
    assert_eq!(row.retries, retries);
}
