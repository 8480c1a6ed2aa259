//! Whose retry budget: a failing dependency drains its own bucket, never an unrelated one's.
//! Unnamed policies used with `call`/`call_async` each have their own (shared by clones), a
//! named policy the one of its name, a `#[retry]` call site the one of its operation.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use coord::{FakeClock, RetryPolicy, retry};

fn policy(clock: &FakeClock) -> RetryPolicy {
    RetryPolicy::exponential(3, Duration::from_millis(1), 2.0).clock(clock)
}

/// Attempts one failing call of `policy` makes.
fn attempts_of(policy: &RetryPolicy) -> u32 {
    let mut attempts = 0;
    let _: Result<(), String> = policy.call(|| {
        attempts += 1;
        Err("down".to_owned())
    });
    attempts
}

#[test]
fn unrelated_unnamed_policies_do_not_share_a_budget() {
    let clock = FakeClock::new();
    let failing = policy(&clock);
    let healthy = policy(&clock);
    for _ in 0..2_000 {
        attempts_of(&failing);
    }
    // The failing dependency spent its own bucket (500 tokens, 5 a retry)...
    assert_eq!(attempts_of(&failing), 1);
    // ...and the unrelated one still makes all its attempts.
    assert_eq!(attempts_of(&healthy), 4);
}

#[tokio::test]
async fn call_async_draws_from_the_policy_s_own_budget_too() {
    let clock = FakeClock::new();
    let failing = policy(&clock);
    let healthy = policy(&clock);
    let fail = || async { Err::<(), String>("down".to_owned()) };
    for _ in 0..200 {
        let _ = failing.call_async(fail).await;
    }
    let attempts = AtomicU32::new(0);
    let _ = healthy
        .call_async(|| {
            attempts.fetch_add(1, SeqCst);
            fail()
        })
        .await;
    assert_eq!(attempts.load(SeqCst), 4);
}

#[test]
fn clones_of_one_policy_share_its_budget() {
    let clock = FakeClock::new();
    let original = policy(&clock);
    let clone = original.clone();
    for _ in 0..2_000 {
        attempts_of(&clone);
    }
    assert_eq!(attempts_of(&original), 1);
    // A builder call makes a new policy, with a bucket of its own.
    assert_eq!(attempts_of(&original.clone().max_retries(2)), 3);
}

#[test]
fn named_policies_share_the_budget_of_their_name() {
    let clock = FakeClock::new();
    let first = policy(&clock).named("budgets.named");
    let second = policy(&clock).named("budgets.named");
    for _ in 0..2_000 {
        attempts_of(&first);
    }
    assert_eq!(attempts_of(&second), 1);
    assert_eq!(coord::retry::budget("budgets.named").unwrap().tokens, 0);
}

static DRAINED: AtomicU32 = AtomicU32::new(0);
static SPARED: AtomicU32 = AtomicU32::new(0);

#[retry(max_retries = 3, base_delay = "1ns", jitter = "none")]
fn drained() -> Result<(), String> {
    DRAINED.fetch_add(1, SeqCst);
    Err("down".to_owned())
}

#[retry(max_retries = 3, base_delay = "1ns", jitter = "none")]
fn spared() -> Result<(), String> {
    SPARED.fetch_add(1, SeqCst);
    Err("down".to_owned())
}

#[test]
fn each_retry_call_site_has_the_budget_of_its_operation() {
    for _ in 0..200 {
        let _ = drained();
    }
    let before = DRAINED.load(SeqCst);
    let _ = drained();
    assert_eq!(
        DRAINED.load(SeqCst) - before,
        1,
        "the drained site's bucket is empty"
    );
    let _ = spared();
    assert_eq!(SPARED.load(SeqCst), 4);
    let drained_name = concat!(module_path!(), "::drained");
    assert_eq!(coord::retry::budget(drained_name).unwrap().tokens, 0);
}
