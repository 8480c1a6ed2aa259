//! Injected rejections at circuit breakers: answered as if open, before the timing, on every
//! stack, never counted as the breaker's or the operation's own, marked in the `rejected`
//! event, drawn again from the seed after a reset.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use coord::chaos::{self, FaultKind};
use coord::{circuit_breaker, retry, track_performance};

use crate::support::DbError;
use crate::support::chaos::turn;
use crate::{injected, recorder};

static GUARDED_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "chaos_t.db")]
fn guarded() -> Result<u32, DbError> {
    GUARDED_RUNS.fetch_add(1, SeqCst);
    Ok(1)
}

#[test]
fn a_breaker_rejects_as_if_open_without_counting_it() {
    let _turn = turn();
    // `an_injected_rejection_is_one_rejected_event_marked_injected` injects at this breaker
    // too, and only a reset zeroes the counts: count this test's injections alone.
    let before = injected("chaos_t.db", FaultKind::Reject);
    chaos::reject("chaos_t.db", 1.0).unwrap();
    let Err(DbError::Open(open)) = guarded() else {
        panic!("the breaker's own rejection type")
    };
    assert!(open.is_injected());
    assert!(open.to_string().contains("injected"), "{open}");
    assert_eq!(GUARDED_RUNS.load(SeqCst), 0);
    let breaker = coord::breaker("chaos_t.db").snapshot();
    assert_eq!((breaker.rejected, breaker.calls_in_window), (0, 0));
    assert_eq!(injected("chaos_t.db", FaultKind::Reject) - before, 1);

    chaos::set_seed(5);
    chaos::reject("chaos_t.db", 0.5).unwrap();
    let rejected = (0..1_000).filter(|_| guarded().is_err()).count();
    assert!((400..600).contains(&rejected), "{rejected}");
    let breaker = coord::breaker("chaos_t.db").snapshot();
    assert_eq!(breaker.calls_in_window as usize, (1_000 - rejected).min(20));
    assert_eq!(breaker.state, coord::BreakerState::Closed);
    assert_eq!(breaker.rejected, 0);
    // A real rejection is not marked.
    chaos::disarm_all();
    coord::breaker("chaos_t.db").force_open();
    let Err(DbError::Open(open)) = guarded() else {
        panic!("forced open")
    };
    assert!(!open.is_injected());
    coord::breaker("chaos_t.db").reset();
}

static TRACKED_GUARDED_RUNS: AtomicU32 = AtomicU32::new(0);

#[track_performance(
    name = "chaos_t.tracked_guarded",
    objective = "chaos_t.guarded_objective"
)]
#[retry(max_retries = 2, base_delay = "1ms")]
#[circuit_breaker(name = "chaos_t.tracked_db")]
fn tracked_guarded() -> Result<u32, DbError> {
    TRACKED_GUARDED_RUNS.fetch_add(1, SeqCst);
    Ok(1)
}

#[track_performance(name = "chaos_t.async_guarded")]
#[circuit_breaker(name = "chaos_t.async_db")]
async fn async_guarded() -> Result<u32, DbError> {
    Ok(2)
}

#[track_performance(name = "chaos_t.async_retried_guarded")]
#[retry(max_retries = 2, base_delay = "1ms")]
#[circuit_breaker(name = "chaos_t.async_retried_db")]
async fn async_retried_guarded() -> Result<u32, DbError> {
    Ok(3)
}

static HEDGED_GUARDED_RUNS: AtomicU32 = AtomicU32::new(0);

#[track_performance(name = "chaos_t.hedged_guarded")]
#[coord::hedge(after = "1s")]
#[circuit_breaker(name = "chaos_t.hedged_db")]
async fn hedged_guarded() -> Result<u32, DbError> {
    HEDGED_GUARDED_RUNS.fetch_add(1, SeqCst);
    Ok(4)
}

/// The success indicator's `(good, valid)` of the objective, in the last window.
fn objective_counts(name: &str) -> (u64, u64) {
    let report = coord::report();
    let objective = report.objectives.iter().find(|o| o.name == name).unwrap();
    let success = objective
        .indicator(coord::objectives::Indicator::Success)
        .unwrap();
    let period = success.windows.last().unwrap();
    (period.good, period.valid)
}

fn assert_rejected_apart(operation: &str, calls: u64) {
    let stats = coord::operation(operation).unwrap();
    assert_eq!(
        (
            stats.calls,
            stats.rejected,
            stats.failures,
            stats.last_error
        ),
        (calls, 0, 0, None),
        "{operation}: an injected rejection is not one of the operation's calls"
    );
    assert!(
        coord::error_report()
            .find(operation)
            .is_none_or(|row| row.errors == 0 && row.rejected == 0),
        "{operation}: no error row"
    );
}

#[test]
fn an_injected_rejection_is_answered_before_the_timing_and_counted_apart() {
    let _turn = turn();
    coord::Objective::new("chaos_t.guarded_objective")
        .success_rate(0.9)
        .declare()
        .unwrap();
    assert_eq!(tracked_guarded().unwrap(), 1);
    chaos::reject("chaos_t.tracked_db", 1.0).unwrap();
    for _ in 0..3 {
        let Err(DbError::Open(open)) = tracked_guarded() else {
            panic!("the breaker's own rejection")
        };
        assert!(open.is_injected());
    }
    assert_eq!(TRACKED_GUARDED_RUNS.load(SeqCst), 1);
    assert_eq!(injected("chaos_t.tracked_db", FaultKind::Reject), 3);
    assert_rejected_apart("chaos_t.tracked_guarded", 1);
    assert_eq!(coord::breaker("chaos_t.tracked_db").snapshot().rejected, 0);
    assert_eq!(
        objective_counts("chaos_t.guarded_objective"),
        (1, 1),
        "the objective's budget is untouched"
    );

    // The async stacks: once (`run_future`) and retried (`drive_async!`).
    recorder::block_on(async {
        assert_eq!(async_guarded().await.unwrap(), 2);
        assert_eq!(async_retried_guarded().await.unwrap(), 3);
        assert_eq!(hedged_guarded().await.unwrap(), 4);
        chaos::reject("chaos_t.async_db", 1.0).unwrap();
        chaos::reject("chaos_t.async_retried_db", 1.0).unwrap();
        chaos::reject("chaos_t.hedged_db", 1.0).unwrap();
        assert!(matches!(hedged_guarded().await, Err(DbError::Open(o)) if o.is_injected()));
        assert_eq!(HEDGED_GUARDED_RUNS.load(SeqCst), 1);
        assert!(matches!(async_guarded().await, Err(DbError::Open(o)) if o.is_injected()));
        assert!(matches!(async_retried_guarded().await, Err(DbError::Open(o)) if o.is_injected()));
    });
    for (operation, breaker) in [
        ("chaos_t.async_guarded", "chaos_t.async_db"),
        ("chaos_t.async_retried_guarded", "chaos_t.async_retried_db"),
        ("chaos_t.hedged_guarded", "chaos_t.hedged_db"),
    ] {
        assert_eq!(injected(breaker, FaultKind::Reject), 1, "{breaker}");
        assert_rejected_apart(operation, 1);
    }
}

#[test]
fn an_injected_rejection_is_one_rejected_event_marked_injected() {
    let _turn = turn();
    let direct = coord::CircuitBreaker::new("chaos_t.direct_db", Default::default()).unwrap();
    chaos::reject("chaos_t.db", 1.0).unwrap();
    chaos::reject("chaos_t.direct_db", 1.0).unwrap();
    let ((), recorded) = recorder::recording(|| {
        let span = tracing::info_span!("chaos_t.request");
        let _entered = span.enter();
        assert!(matches!(guarded(), Err(DbError::Open(o)) if o.is_injected()));
        assert!(direct.try_acquire().is_err_and(|o| o.is_injected()));
    });
    let span = recorded.named("chaos_t.request");
    let events: Vec<_> = span
        .events
        .iter()
        .filter(|(m, _)| m == "rejected")
        .map(|(_, f)| {
            (
                f["coord.gate.name"].as_str(),
                f.get("coord.chaos.injected").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("chaos_t.db", Some("true")),
            ("chaos_t.direct_db", Some("true"))
        ]
    );
}

#[test]
fn reset_starts_the_draws_from_the_seed_again() {
    let _turn = turn();
    let breaker = coord::CircuitBreaker::new("chaos_t.reseeded", Default::default()).unwrap();
    let draws = || {
        chaos::reject("chaos_t.reseeded", 0.5).unwrap();
        (0..64)
            .map(|_| breaker.try_acquire().is_err())
            .collect::<Vec<bool>>()
    };
    chaos::set_seed(11);
    let first = draws();
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    coord::reset();
    assert_eq!(draws(), first);
}
