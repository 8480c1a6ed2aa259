//! `#[circuit_breaker]` on functions, async functions, methods and generic functions, alone and
//! composed with `#[track_performance]`.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use coord::{BreakerState, CircuitOpen, circuit_breaker, track_performance};

#[derive(Debug, PartialEq)]
enum ApiError {
    Down,
    NotFound,
    Open(String),
}

impl From<CircuitOpen> for ApiError {
    fn from(open: CircuitOpen) -> Self {
        ApiError::Open(open.name().to_string())
    }
}

static RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(
    name = "m.sync",
    failure_rate = 0.5,
    minimum_calls = 4,
    window = 4,
    open_for = "60s"
)]
fn flaky(ok: bool) -> Result<u32, ApiError> {
    RUNS.fetch_add(1, SeqCst);
    if ok { Ok(7) } else { Err(ApiError::Down) }
}

#[test]
fn sync_function_trips_and_rejects_without_running() {
    assert_eq!(flaky(true), Ok(7));
    for _ in 0..3 {
        assert_eq!(flaky(false), Err(ApiError::Down));
    }
    let b = coord::breaker::find("m.sync").unwrap();
    assert_eq!(b.state(), BreakerState::Open);
    let config = b.config();
    assert_eq!((config.minimum_calls, config.open_for.as_secs()), (4, 60));
    let before = RUNS.load(SeqCst);
    assert_eq!(flaky(true), Err(ApiError::Open("m.sync".into())));
    assert_eq!(RUNS.load(SeqCst), before, "the body must not run when open");
}

#[circuit_breaker(minimum_calls = 2, window = 2)]
async fn fetch(fail: bool) -> Result<&'static str, ApiError> {
    tokio::task::yield_now().await;
    if fail {
        Err(ApiError::Down)
    } else {
        Ok("user")
    }
}

#[tokio::test]
async fn async_function_with_the_default_name() {
    assert_eq!(fetch(false).await, Ok("user"));
    let name = concat!(module_path!(), "::fetch");
    let b = coord::breaker::find(name).expect("default name: module path + fn name");
    assert_eq!(b.snapshot().calls_in_window, 1);
    fetch(true).await.unwrap_err();
    fetch(true).await.unwrap_err();
    assert_eq!(fetch(false).await, Err(ApiError::Open(name.into())));
}

struct Client {
    calls: AtomicU32,
}

impl Client {
    #[circuit_breaker(name = "m.method", minimum_calls = 1, window = 1, open_for = "60s")]
    fn get(&self, key: &str) -> Result<String, ApiError> {
        self.calls.fetch_add(1, SeqCst);
        if key.is_empty() {
            Err(ApiError::NotFound)
        } else {
            Ok(key.to_uppercase())
        }
    }

    #[circuit_breaker(name = "m.generic", minimum_calls = 1, window = 1)]
    fn parse<T: std::str::FromStr>(&mut self, text: &str) -> Result<T, ApiError> {
        text.parse().map_err(|_| ApiError::Down)
    }
}

fn counts_as_failure(e: &ApiError) -> bool {
    !matches!(e, ApiError::NotFound)
}

#[circuit_breaker(name = "m.classified", minimum_calls = 1, window = 1, classifier = counts_as_failure)]
fn lookup(found: bool) -> Result<(), ApiError> {
    if found {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[test]
fn methods_generics_and_classifier() {
    let mut client = Client {
        calls: AtomicU32::new(0),
    };
    assert_eq!(client.get("a").unwrap(), "A");
    assert_eq!(client.parse::<u8>("12"), Ok(12));
    assert_eq!(client.get(""), Err(ApiError::NotFound));
    assert_eq!(client.get("b"), Err(ApiError::Open("m.method".into())));
    assert_eq!(client.calls.load(SeqCst), 2);
    for _ in 0..5 {
        assert_eq!(lookup(false), Err(ApiError::NotFound));
    }
    assert_eq!(
        coord::breaker::find("m.classified").unwrap().state(),
        BreakerState::Closed,
        "the classifier says not-found is no failure"
    );
}

static COMPOSED_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "m.composed.a", minimum_calls = 2, window = 2, open_for = "60s")]
#[track_performance("m.composed.a")]
fn breaker_first(fail: bool) -> Result<(), ApiError> {
    COMPOSED_RUNS.fetch_add(1, SeqCst);
    if fail { Err(ApiError::Down) } else { Ok(()) }
}

#[track_performance("m.composed.b")]
#[circuit_breaker(name = "m.composed.b", minimum_calls = 2, window = 2, open_for = "60s")]
fn perf_first(fail: bool) -> Result<(), ApiError> {
    if fail { Err(ApiError::Down) } else { Ok(()) }
}

#[test]
fn source_order_does_not_matter_and_perf_sees_every_caller_call() {
    for name in ["m.composed.a", "m.composed.b"] {
        let call = |fail| {
            if name.ends_with('a') {
                breaker_first(fail)
            } else {
                perf_first(fail)
            }
        };
        call(false).unwrap();
        call(true).unwrap_err(); // 1 of 2 failed: opens
        assert!(matches!(call(true), Err(ApiError::Open(_))));
        // Rejected: track_performance (outermost) still sees the caller's call, as a
        // rejection (load shed by the breaker, not a failure of the operation).
        assert_eq!(call(false), Err(ApiError::Open(name.into())));
        let stats = coord::operation(name).unwrap();
        assert_eq!(
            (stats.calls, stats.successes, stats.failures, stats.rejected),
            (4, 1, 1, 2),
            "{name}"
        );
        assert_eq!(
            stats.error_rate, 0.5,
            "{name}: rejections are not in the rate"
        );
        assert_eq!(
            coord::breaker::find(name).unwrap().state(),
            BreakerState::Open
        );
    }
    assert_eq!(
        COMPOSED_RUNS.load(SeqCst),
        2,
        "rejected calls never run the body"
    );
}

#[circuit_breaker(
    name = "m.time",
    window = "10s",
    minimum_calls = 3,
    slow_call = "1s",
    slow_call_rate = 0.9,
    half_open_calls = 1,
    consecutive_failures = 2,
    max_open_for = "2m",
    max_half_open_wait = "5s"
)]
fn every_key(x: u8) -> Result<u8, ApiError> {
    Ok(x)
}

#[test]
fn every_key_reaches_the_config() {
    every_key(1).unwrap();
    let config = coord::breaker::find("m.time").unwrap().config();
    assert_eq!(
        config.window,
        coord::Window::Time(std::time::Duration::from_secs(10))
    );
    assert_eq!(config.slow_call, Some(std::time::Duration::from_secs(1)));
    assert_eq!(config.slow_call_rate, 0.9);
    assert_eq!(config.half_open_calls, 1);
    assert_eq!(config.consecutive_failures, Some(2));
    assert_eq!(
        config.max_open_for,
        Some(std::time::Duration::from_secs(120))
    );
    assert_eq!(
        config.max_half_open_wait,
        Some(std::time::Duration::from_secs(5))
    );
}

struct Repo;

impl Repo {
    // Both attributes on a method: the sibling collected by the first must not leave an
    // unused import or break the impl block.
    #[track_performance("m.repo.load")]
    #[coord::circuit_breaker(name = "m.repo.load")]
    fn load(&self, id: u32) -> Result<u32, ApiError> {
        Ok(id)
    }
}

#[test]
fn both_attributes_on_a_method() {
    assert_eq!(Repo.load(3), Ok(3));
    assert_eq!(coord::operation("m.repo.load").unwrap().calls, 1);
}
