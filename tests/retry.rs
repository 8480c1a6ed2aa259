//! `#[retry]` and `RetryPolicy` through the public API.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use coord::retry::Attempt;
use coord::{BudgetConfig, Jitter, RetryPolicy, Severity, retry, track_performance};

mod support;

use support::keep_all_records;
use support::retry::{ApiError, always_failing, fake, is_transient};

/// Asserts that the one call of `operation` failed once and was cancelled in the back-off
/// sleep before its first retry.
#[track_caller]
fn assert_cancelled_in_its_first_back_off(operation: &str) {
    let row = coord::errors::operation_errors(operation).unwrap();
    assert_eq!(
        (row.errors, row.retries, row.final_failures, row.cancelled),
        (1, 1, 0, 1)
    );
}

// ---- runtime API -------------------------------------------------------------------------

#[test]
fn call_retries_until_success() {
    let sleeper = fake();
    let policy = RetryPolicy::exponential(3, Duration::from_millis(100), 2.0)
        .jitter(Jitter::None)
        .named("t.call_retries_until_success")
        .clock(&sleeper);
    let mut calls = 0;
    let r: Result<u32, ApiError> = policy.call(|| {
        calls += 1;
        if calls < 3 {
            Err(ApiError::Timeout)
        } else {
            Ok(calls)
        }
    });
    assert_eq!(r, Ok(3));
    assert_eq!(
        sleeper.sleeps(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
    let row = coord::errors::operation_errors("t.call_retries_until_success").unwrap();
    assert_eq!(
        (row.errors, row.retries, row.successes_after_retry),
        (2, 2, 1)
    );
}

#[test]
fn call_gives_up_after_max_retries() {
    let sleeper = fake();
    let policy = RetryPolicy::constant(2, Duration::from_millis(5))
        .named("t.call_gives_up")
        .clock(&sleeper);
    let (r, calls) = always_failing(&policy, ApiError::Timeout);
    assert_eq!(r, Err(ApiError::Timeout));
    assert_eq!(calls, 3);
    assert_eq!(sleeper.sleeps(), [Duration::from_millis(5); 2]);
    let row = coord::errors::operation_errors("t.call_gives_up").unwrap();
    assert_eq!((row.errors, row.final_failures), (3, 1));
}

#[test]
fn when_false_is_permanent() {
    let sleeper = fake();
    let policy = RetryPolicy::default()
        .named("t.when_false")
        .clock(&sleeper)
        .when(is_transient);
    let (r, calls) = always_failing(&policy, ApiError::BadRequest);
    assert_eq!(r, Err(ApiError::BadRequest));
    assert_eq!(calls, 1);
    assert!(sleeper.sleeps().is_empty());
}

#[test]
fn run_never_retries_a_permanent_attempt() {
    keep_all_records();
    let sleeper = fake();
    let policy = RetryPolicy::default().clock(&sleeper);
    let mut calls = 0;
    let r: Result<(), &str> = policy.run("t.run_permanent", Severity::High, || {
        calls += 1;
        Err(Attempt::permanent("circuit open"))
    });
    assert_eq!(r, Err("circuit open"));
    assert_eq!(calls, 1);
    let record = coord::error_report()
        .recent
        .into_iter()
        .rfind(|r| r.operation == "t.run_permanent")
        .unwrap();
    assert_eq!(record.outcome, coord::errors::AttemptOutcome::Permanent);
    assert_eq!(record.severity, Severity::High);
    // No describer given: the type name stands in for the message.
    assert_eq!(record.message, "&str");
}

#[test]
fn deadline_stops_before_an_overrunning_sleep() {
    let sleeper = fake();
    let policy = RetryPolicy::exponential(10, Duration::from_millis(100), 2.0)
        .jitter(Jitter::None)
        .deadline(Duration::from_millis(500))
        .named("t.deadline")
        .clock(&sleeper);
    let r: Result<(), ApiError> = policy.call(|| Err(ApiError::Timeout));
    assert!(r.is_err());
    // 100 + 200 = 300 ms slept; 300 + 400 would pass 500 ms.
    assert_eq!(sleeper.elapsed(), Duration::from_millis(300));
    let row = coord::error_report();
    assert!(row.retry.deadline_exceeded >= 1);
}

#[test]
fn on_retry_hook_sees_attempt_error_and_delay() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let policy = RetryPolicy::constant(2, Duration::from_millis(7))
        .named("t.on_retry")
        .clock(fake())
        .on_retry(move |event| {
            log.lock()
                .unwrap()
                .push((event.attempt, event.error.to_owned(), event.delay))
        });
    let _: Result<(), ApiError> = policy.call(|| Err(ApiError::Timeout));
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        [
            (1, "timed out".to_owned(), Duration::from_millis(7)),
            (2, "timed out".to_owned(), Duration::from_millis(7)),
        ]
    );
}

#[test]
fn budget_drains_then_refills() {
    let sleeper = fake();
    let policy = RetryPolicy::constant(100, Duration::from_millis(1))
        .budget(
            BudgetConfig::default()
                .capacity(20)
                .retry_cost(5)
                .success_refund(5),
        )
        .named("t.budget")
        .clock(&sleeper);
    // Four retries drain the 20 tokens; the fifth is refused.
    let mut calls = 0;
    let r: Result<(), ApiError> = policy.call(|| {
        calls += 1;
        Err(ApiError::Timeout)
    });
    assert!(r.is_err());
    assert_eq!(calls, 5);
    let budget = coord::retry::budget("t.budget").unwrap();
    assert_eq!((budget.tokens, budget.exhausted), (0, 1));
    assert_eq!(
        coord::errors::operation_errors("t.budget")
            .unwrap()
            .budget_exhausted,
        1
    );
    // Two successes refill ten tokens: two retries are allowed again.
    for _ in 0..2 {
        let ok: Result<(), ApiError> = policy.call(|| Ok(()));
        assert!(ok.is_ok());
    }
    assert_eq!(coord::retry::budget("t.budget").unwrap().tokens, 10);
    let mut calls = 0;
    let _: Result<(), ApiError> = policy.call(|| {
        calls += 1;
        Err(ApiError::Timeout)
    });
    assert_eq!(calls, 3);
    // Refunds stop at capacity.
    for _ in 0..10 {
        let _: Result<(), ApiError> = policy.call(|| Ok(()));
    }
    assert_eq!(coord::retry::budget("t.budget").unwrap().tokens, 20);
}

#[test]
fn no_budget_retries_without_limit() {
    let policy = RetryPolicy::constant(50, Duration::ZERO)
        .no_budget()
        .named("t.no_budget")
        .clock(fake());
    let mut calls = 0;
    let _: Result<(), ApiError> = policy.call(|| {
        calls += 1;
        Err(ApiError::Timeout)
    });
    assert_eq!(calls, 51);
    assert!(coord::retry::budget("t.no_budget").is_none());
}

#[tokio::test]
async fn call_async_retries() {
    let sleeper = fake();
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), 2.0)
        .named("t.call_async")
        .clock(&sleeper);
    let calls = AtomicU32::new(0);
    let r: Result<u32, ApiError> = policy
        .call_async(|| async {
            let n = calls.fetch_add(1, SeqCst) + 1;
            if n < 2 { Err(ApiError::Timeout) } else { Ok(n) }
        })
        .await;
    assert_eq!(r, Ok(2));
    assert_eq!(sleeper.sleeps().len(), 1);
}

#[tokio::test]
async fn async_retry_cancelled_mid_sleep_keeps_counts_consistent() {
    let policy = RetryPolicy::constant(5, Duration::from_secs(3600)).named("t.cancelled");
    let calls = AtomicU32::new(0);
    let call = policy.call_async(|| async {
        calls.fetch_add(1, SeqCst);
        Err::<(), _>(ApiError::Timeout)
    });
    // The first attempt fails, then the call sleeps for an hour: cancel it.
    let timed_out = tokio::time::timeout(Duration::from_millis(20), call).await;
    assert!(timed_out.is_err());
    assert_eq!(calls.load(SeqCst), 1);
    assert_cancelled_in_its_first_back_off("t.cancelled");
}

// ---- the macro ---------------------------------------------------------------------------

thread_local! {
    static FLAKY: Cell<u32> = const { Cell::new(0) };
}

/// Fails while the thread's counter is below `fail_times`.
fn flaky(fail_times: u32) -> Result<u32, ApiError> {
    FLAKY.with(|c| {
        let n = c.get() + 1;
        c.set(n);
        if n <= fail_times {
            Err(ApiError::Timeout)
        } else {
            Ok(n)
        }
    })
}

fn reset_flaky() {
    FLAKY.with(|c| c.set(0));
}

#[retry(max_retries = 3, base_delay = "1ms", jitter = "none")]
fn sync_fetch(fail_times: u32) -> Result<u32, ApiError> {
    let n = flaky(fail_times)?;
    Ok(n * 10)
}

#[test]
fn macro_sync_function() {
    reset_flaky();
    assert_eq!(sync_fetch(2), Ok(30));
    reset_flaky();
    assert_eq!(sync_fetch(10), Err(ApiError::Timeout));
    assert_eq!(FLAKY.with(Cell::get), 4);
}

#[retry(max_retries = 5, base_delay = "1ms", when = is_transient)]
fn classified(error: ApiError, attempts: &AtomicU32) -> Result<(), ApiError> {
    attempts.fetch_add(1, SeqCst);
    Err(error)
}

#[test]
fn macro_when_predicate() {
    let attempts = AtomicU32::new(0);
    assert_eq!(
        classified(ApiError::BadRequest, &attempts),
        Err(ApiError::BadRequest)
    );
    assert_eq!(attempts.load(SeqCst), 1);
    attempts.store(0, SeqCst);
    assert_eq!(
        classified(ApiError::Timeout, &attempts),
        Err(ApiError::Timeout)
    );
    assert_eq!(attempts.load(SeqCst), 6);
}

#[retry(max_retries = 2, base_delay = "1ms")]
async fn async_fetch(name: String, counter: &AtomicU32) -> Result<String, ApiError> {
    tokio::task::yield_now().await;
    if counter.fetch_add(1, SeqCst) < 2 {
        return Err(ApiError::Timeout);
    }
    Ok(name + "!")
}

#[tokio::test]
async fn macro_async_function_with_owned_parameter() {
    let counter = AtomicU32::new(0);
    assert_eq!(
        async_fetch("ada".to_owned(), &counter).await,
        Ok("ada!".to_owned())
    );
    assert_eq!(counter.load(SeqCst), 3);
}

struct Client {
    calls: u32,
    fail_first: u32,
}

impl Client {
    #[retry(max_retries = 3, base_delay = "1ms", jitter = "equal")]
    fn get(&mut self, path: &str) -> Result<String, ApiError> {
        self.calls += 1;
        if self.calls <= self.fail_first {
            return Err(ApiError::Timeout);
        }
        Ok(format!("{path}#{}", self.calls))
    }

    #[retry(max_retries = 3, base_delay = "1ms", multiplier = 1.5)]
    async fn get_async(&mut self) -> Result<u32, ApiError> {
        self.calls += 1;
        if self.calls <= self.fail_first {
            Err(ApiError::Timeout)
        } else {
            Ok(self.calls)
        }
    }

    #[retry(max_retries = 1, base_delay = "1ms")]
    fn peek(&self) -> Result<u32, ApiError> {
        Ok(self.calls)
    }
}

#[test]
fn macro_methods() {
    let mut client = Client {
        calls: 0,
        fail_first: 2,
    };
    assert_eq!(client.get("/users"), Ok("/users#3".to_owned()));
    assert_eq!(client.peek(), Ok(3));
}

#[tokio::test]
async fn macro_async_method() {
    let mut client = Client {
        calls: 0,
        fail_first: 1,
    };
    assert_eq!(client.get_async().await, Ok(2));
}

#[retry(max_retries = 2, base_delay = "1ms")]
fn generic_parse<T: std::str::FromStr>(input: &str, attempts: &AtomicU32) -> Result<T, T::Err> {
    attempts.fetch_add(1, SeqCst);
    input.parse()
}

#[test]
fn macro_generic_function() {
    let attempts = AtomicU32::new(0);
    assert_eq!(generic_parse::<u8>("7", &attempts), Ok(7));
    assert_eq!(attempts.load(SeqCst), 1);
    assert!(generic_parse::<u8>("x", &attempts).is_err());
    assert_eq!(attempts.load(SeqCst), 4);
}

#[retry(max_retries = 4, base_delay = "1ms", policy = "t.named_policy")]
fn with_named_policy(attempts: &AtomicU32) -> Result<(), ApiError> {
    attempts.fetch_add(1, SeqCst);
    Err(ApiError::Timeout)
}

#[test]
fn macro_named_policy_with_override() {
    // The registered policy says 1 retry; the attribute's max_retries = 4 overrides it.
    coord::register_policy(
        "t.named_policy",
        RetryPolicy::constant(1, Duration::from_millis(1)),
    );
    let attempts = AtomicU32::new(0);
    assert!(with_named_policy(&attempts).is_err());
    assert_eq!(attempts.load(SeqCst), 5);
    assert!(coord::retry::budget("t.named_policy").is_some());
}

#[track_performance("t.perf_then_retry")]
#[retry(max_retries = 2, base_delay = "1ms")]
fn perf_then_retry(fail_times: u32) -> Result<u32, ApiError> {
    flaky(fail_times)
}

#[retry(max_retries = 2, base_delay = "1ms")]
#[track_performance("t.retry_then_perf")]
fn retry_then_perf(fail_times: u32) -> Result<u32, ApiError> {
    flaky(fail_times)
}

#[test]
fn composes_with_track_performance_in_either_order() {
    reset_flaky();
    assert_eq!(perf_then_retry(1), Ok(2));
    reset_flaky();
    assert_eq!(retry_then_perf(1), Ok(2));
    reset_flaky();
    assert!(retry_then_perf(5).is_err());
    let a = coord::operation("t.perf_then_retry").unwrap();
    assert_eq!((a.calls, a.successes, a.failures), (1, 1, 0));
    let b = coord::operation("t.retry_then_perf").unwrap();
    assert_eq!((b.calls, b.successes, b.failures), (2, 1, 1));
    // The retry layer records under the same operation name.
    let row = coord::errors::operation_errors("t.retry_then_perf").unwrap();
    assert_eq!(
        (row.errors, row.successes_after_retry, row.final_failures),
        (4, 1, 1)
    );
}

#[derive(Debug)]
struct OnlyDebug;

#[retry(max_retries = 0)]
fn debug_only_error() -> Result<(), OnlyDebug> {
    Err(OnlyDebug)
}

struct Opaque;

#[retry(max_retries = 0)]
fn opaque_error() -> Result<(), Opaque> {
    Err(Opaque)
}

#[test]
fn error_messages_fall_back_to_debug_then_type_name() {
    keep_all_records();
    assert!(debug_only_error().is_err());
    assert!(opaque_error().is_err());
    let report = coord::error_report();
    let message = |op: &str| {
        report
            .recent
            .iter()
            .rfind(|r| r.operation.ends_with(op))
            .map(|r| r.message.clone())
    };
    assert_eq!(message("::debug_only_error").as_deref(), Some("OnlyDebug"));
    assert_eq!(message("::opaque_error").as_deref(), Some("retry::Opaque"));
}

#[retry(max_retries = 1, base_delay = "1ms")]
fn impl_trait_param(make: impl Fn() -> u32 + Clone) -> Result<u32, ApiError> {
    Ok(make())
}

#[test]
fn macro_impl_trait_parameter() {
    assert_eq!(impl_trait_param(|| 4), Ok(4));
}

// ---- more shapes -------------------------------------------------------------------------

trait Repository {
    fn load(&self, key: &str) -> Result<String, ApiError>;
}

struct Flaky {
    failures_left: Cell<u32>,
}

impl Repository for Flaky {
    #[retry(max_retries = 3, base_delay = "1ms")]
    fn load(&self, key: &str) -> Result<String, ApiError> {
        if self.failures_left.get() > 0 {
            self.failures_left.set(self.failures_left.get() - 1);
            return Err(ApiError::Timeout);
        }
        Ok(key.to_uppercase())
    }
}

#[test]
fn macro_in_a_trait_impl() {
    let repo = Flaky {
        failures_left: Cell::new(2),
    };
    assert_eq!(repo.load("k"), Ok("K".to_owned()));
}

#[retry(max_retries = 1, base_delay = "1ms")]
fn impl_trait_return(n: u32) -> Result<impl fmt::Display, ApiError> {
    Ok(n + 1)
}

#[derive(Debug)]
struct Wrapped(#[allow(dead_code)] ApiError);

impl From<ApiError> for Wrapped {
    fn from(e: ApiError) -> Self {
        Wrapped(e)
    }
}

#[retry(max_retries = 2, base_delay = "1ms", jitter = "decorrelated")]
fn question_mark_converts(fail_times: u32) -> Result<u32, Wrapped> {
    let n = flaky(fail_times)?;
    Ok(n)
}

#[retry(max_retries = 2, base_delay = "1ms")]
async fn async_generic<T: Clone + Send>(value: T, counter: &AtomicU32) -> Result<T, ApiError> {
    if counter.fetch_add(1, SeqCst) == 0 {
        Err(ApiError::Timeout)
    } else {
        Ok(value)
    }
}

#[tokio::test]
async fn macro_async_generic_and_other_shapes() {
    assert_eq!(impl_trait_return(1).unwrap().to_string(), "2");
    reset_flaky();
    assert_eq!(question_mark_converts(2).unwrap(), 3);
    let counter = AtomicU32::new(0);
    assert_eq!(async_generic(vec![1, 2], &counter).await, Ok(vec![1, 2]));
    assert_eq!(counter.load(SeqCst), 2);
}

#[retry(max_retries = 3, base_delay = "1h", max_delay = "2h", jitter = "none")]
async fn slow_backoff(attempts: &AtomicU32) -> Result<(), ApiError> {
    attempts.fetch_add(1, SeqCst);
    Err(ApiError::Timeout)
}

#[tokio::test]
async fn macro_async_cancelled_mid_sleep() {
    let attempts = AtomicU32::new(0);
    let cancelled = tokio::time::timeout(Duration::from_millis(20), slow_backoff(&attempts)).await;
    assert!(cancelled.is_err());
    assert_eq!(attempts.load(SeqCst), 1);
    assert_cancelled_in_its_first_back_off("retry::slow_backoff");
}
