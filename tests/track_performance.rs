//! `#[track_performance]` through the public API, on every kind of function it supports.

use std::future::Future;
use std::time::Duration;

use coord::track_performance;

fn stats(name: &str) -> coord::OperationStats {
    coord::operation(name).unwrap_or_else(|| panic!("operation {name} not registered"))
}

#[track_performance]
fn default_name() -> u32 {
    7
}

#[test]
fn default_name_is_module_path_and_fn_name() {
    assert_eq!(default_name(), 7);
    let s = stats("track_performance::default_name");
    assert_eq!((s.calls, s.successes, s.failures), (1, 1, 0));
}

#[track_performance("tp.positional")]
fn positional() {}

#[track_performance(name = "tp.named")]
fn named() {}

#[test]
fn names_given_positionally_or_by_key() {
    positional();
    named();
    named();
    assert_eq!(stats("tp.positional").calls, 1);
    assert_eq!(stats("tp.named").calls, 2);
}

#[track_performance("tp.result")]
fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
    let value: u32 = input.parse()?;
    if value == 0 {
        return Ok(1);
    }
    Ok(value * 2)
}

#[test]
fn err_counts_as_failure_and_question_mark_and_return_work() {
    assert_eq!(parse("21"), Ok(42));
    assert_eq!(parse("0"), Ok(1));
    assert!(parse("x").is_err());
    let s = stats("tp.result");
    assert_eq!((s.calls, s.successes, s.failures), (3, 2, 1));
    assert!((s.error_rate - 1.0 / 3.0).abs() < 1e-9);
}

#[track_performance("tp.option")]
fn maybe(flag: bool) -> Option<u8> {
    flag.then_some(1)
}

#[test]
fn none_is_not_a_failure() {
    maybe(false);
    maybe(true);
    let s = stats("tp.option");
    assert_eq!((s.successes, s.failures), (2, 0));
}

#[track_performance("tp.sleep")]
fn sleepy() {
    std::thread::sleep(Duration::from_millis(5));
}

#[test]
fn latency_is_measured() {
    sleepy();
    let s = stats("tp.sleep");
    assert!(s.min >= Duration::from_millis(5), "{s:?}");
    assert!(s.p50 >= Duration::from_millis(4), "{s:?}");
    assert!(s.max >= s.min && s.mean >= s.min);
}

#[track_performance("tp.panics")]
fn panics(really: bool) -> u8 {
    if really {
        panic!("boom");
    }
    0
}

#[test]
fn a_panic_is_a_failure_and_propagates_unchanged() {
    let payload = std::panic::catch_unwind(|| panics(true)).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    panics(false);
    let s = stats("tp.panics");
    assert_eq!((s.calls, s.successes, s.failures), (2, 1, 1));
}

struct Counter {
    value: u64,
}

impl Counter {
    #[track_performance("tp.method.ref")]
    fn get(&self) -> u64 {
        self.value
    }

    #[track_performance("tp.method.mut")]
    fn bump(&mut self) -> &mut Self {
        self.value += 1;
        self
    }

    #[track_performance("tp.method.owned")]
    fn into_value(self) -> u64 {
        self.value
    }

    #[track_performance("tp.method.assoc")]
    fn new() -> Self {
        Counter { value: 0 }
    }

    #[track_performance("tp.method.borrowed")]
    fn label(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.value)
    }

    #[track_performance("tp.method.elided")]
    fn as_str(&self) -> &str {
        "counter"
    }
}

#[test]
fn methods_with_every_receiver() {
    let mut c = Counter::new();
    c.bump().bump();
    assert_eq!(c.get(), 2);
    assert_eq!(c.label("n="), "n=2");
    assert_eq!(c.as_str(), "counter");
    assert_eq!(c.into_value(), 2);
    for name in [
        "tp.method.ref",
        "tp.method.owned",
        "tp.method.assoc",
        "tp.method.borrowed",
    ] {
        assert_eq!(stats(name).calls, 1, "{name}");
    }
    assert_eq!(stats("tp.method.mut").calls, 2);
}

#[track_performance("tp.generic")]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    items.iter().copied().fold(None, |best, x| match best {
        Some(b) if b >= x => Some(b),
        _ => Some(x),
    })
}

#[track_performance("tp.generic.result")]
fn convert<T, E>(value: Result<T, E>) -> Result<T, E> {
    value
}

#[test]
fn generic_functions_share_one_entry() {
    assert_eq!(largest(&[1, 5, 3]), Some(5));
    assert_eq!(largest(&[1.5, 0.5]), Some(1.5));
    assert_eq!(stats("tp.generic").calls, 2);
    // The outcome of a generic `Result` is seen through the concrete type at the call site.
    let _ = convert::<u8, ()>(Err(()));
    let _ = convert::<u8, ()>(Ok(1));
    let s = stats("tp.generic.result");
    assert_eq!((s.successes, s.failures), (1, 1));
}

#[track_performance("tp.impl_trait")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|x| x % 2 == 0)
}

#[track_performance("tp.impl_trait.result")]
fn boxed(ok: bool) -> Result<impl std::fmt::Display, String> {
    if ok { Ok(5) } else { Err("no".to_string()) }
}

#[test]
fn impl_trait_returns() {
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert!(boxed(true).is_ok());
    assert!(boxed(false).is_err());
    assert_eq!(stats("tp.impl_trait").calls, 1);
    assert_eq!(stats("tp.impl_trait.result").failures, 1);
}

trait Shape {
    fn area(&self) -> f64;
    fn try_scale(&mut self, factor: f64) -> Result<(), String>;
}

struct Square(f64);

impl Shape for Square {
    #[track_performance("tp.trait.area")]
    fn area(&self) -> f64 {
        self.0 * self.0
    }

    #[track_performance("tp.trait.scale")]
    fn try_scale(&mut self, factor: f64) -> Result<(), String> {
        if factor <= 0.0 {
            return Err(format!("bad factor {factor}"));
        }
        self.0 *= factor;
        Ok(())
    }
}

#[test]
fn functions_inside_trait_impls() {
    let mut s = Square(2.0);
    assert_eq!(s.area(), 4.0);
    assert!(s.try_scale(-1.0).is_err());
    assert!(s.try_scale(2.0).is_ok());
    assert_eq!(stats("tp.trait.area").calls, 1);
    assert_eq!(stats("tp.trait.scale").failures, 1);
}

#[track_performance("tp.async")]
async fn fetch(ok: bool) -> Result<u32, String> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if ok { Ok(1) } else { Err("down".into()) }
}

#[track_performance("tp.async.late_poll")]
async fn polled_late() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[tokio::test]
async fn async_timing_spans_the_whole_future() {
    assert_eq!(fetch(true).await, Ok(1));
    assert!(fetch(false).await.is_err());
    let s = stats("tp.async");
    assert_eq!((s.calls, s.successes, s.failures), (2, 1, 1));
    // The whole future: its 20 ms sleep spans several polls, so per-poll timing would be tiny.
    assert!(s.min >= Duration::from_millis(20), "{s:?}");
}

#[tokio::test]
async fn the_clock_starts_at_the_first_poll() {
    let future = polled_late();
    // Created, then left unpolled for 300 ms: a clock started at creation would see >= 320 ms.
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    future.await;
    let upper = started.elapsed();
    let s = stats("tp.async.late_poll");
    assert!(s.max >= Duration::from_millis(20), "{s:?}");
    assert!(
        s.max <= upper,
        "measured {:?}, but the awaited span was {upper:?}",
        s.max
    );
}

#[track_performance("tp.async.cancel")]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[tokio::test]
async fn a_dropped_future_counts_as_cancelled() {
    let timed_out = tokio::time::timeout(Duration::from_millis(5), never_finishes()).await;
    assert!(timed_out.is_err());
    // A future dropped before its first poll never started: nothing to count.
    drop(never_finishes());
    let s = stats("tp.async.cancel");
    assert_eq!(
        (s.calls, s.cancelled, s.failures, s.successes),
        (1, 1, 0, 0)
    );
}

struct Service;

impl Service {
    #[track_performance("tp.async.method")]
    async fn handle(&self, request: &str) -> usize {
        tokio::task::yield_now().await;
        request.len()
    }
}

#[tokio::test]
async fn async_methods_with_borrowed_arguments() {
    assert_eq!(Service.handle("abc").await, 3);
    assert_eq!(stats("tp.async.method").calls, 1);
}

fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

#[track_performance("tp.async.send")]
async fn sendable() -> u8 {
    tokio::task::yield_now().await;
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instrumented_futures_stay_send() {
    let handle = tokio::spawn(assert_send(sendable()));
    assert_eq!(handle.await.unwrap(), 1);
}

#[track_performance("tp.tokio_test")]
#[tokio::test]
async fn works_above_tokio_test() {
    tokio::task::yield_now().await;
}

#[tokio::test]
#[track_performance("tp.tokio_test.below")]
async fn works_below_tokio_test() {
    tokio::task::yield_now().await;
}

#[test]
fn same_name_call_sites_share_one_entry() {
    #[track_performance("tp.shared")]
    fn a() {}
    #[track_performance("tp.shared")]
    fn b() {}
    a();
    b();
    b();
    assert_eq!(stats("tp.shared").calls, 3);
}

#[test]
fn manual_guards() {
    let monitor = coord::monitor();
    monitor.record_operation("tp.guard").success();
    monitor.record_operation("tp.guard").failure(&"disk full");
    drop(monitor.record_operation("tp.guard"));
    let _ = std::panic::catch_unwind(|| {
        let _guard = coord::monitor().record_operation("tp.guard");
        panic!("inside a guarded section");
    });
    let s = stats("tp.guard");
    assert_eq!((s.calls, s.successes, s.failures), (4, 2, 2));
    assert_eq!(s.last_error.as_deref(), Some("disk full"));
    let report = monitor.performance_report();
    assert_eq!(report.find("tp.guard").map(|op| op.calls), Some(4));
}

#[test]
fn long_error_messages_are_truncated() {
    let long = "é".repeat(300);
    coord::monitor()
        .record_operation("tp.long_error")
        .failure(&long);
    let kept = stats("tp.long_error").last_error.unwrap();
    assert!(kept.len() <= 256 && long.starts_with(&kept));
}

#[test]
fn unknown_operations_are_none() {
    assert!(coord::operation("tp.never.used").is_none());
}

#[test]
fn stress_two_threads_count_exactly() {
    #[track_performance("tp.stress")]
    fn work(i: u64) -> Result<u64, u64> {
        if i.is_multiple_of(4) { Err(i) } else { Ok(i) }
    }
    const PER_THREAD: u64 = 1_000_000;
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for i in 0..PER_THREAD {
                    let _ = std::hint::black_box(work(std::hint::black_box(i)));
                }
            });
        }
    });
    let s = stats("tp.stress");
    assert_eq!(s.calls, 2 * PER_THREAD);
    assert_eq!(s.failures, 2 * PER_THREAD / 4);
    assert_eq!(s.successes, 2 * PER_THREAD * 3 / 4);
    let op = coord::monitor().operation_handle("tp.stress");
    assert_eq!(op.histogram().count(), 2 * PER_THREAD);
}

#[test]
fn memory_per_operation_is_bounded_and_flat() {
    let op = coord::monitor().operation_handle("tp.memory");
    let unused = op.memory_footprint();
    assert!(unused <= 2 * 1024, "{unused} bytes before the first call");
    let record_all = || {
        for i in 0..100_000u64 {
            op.record(
                Duration::from_nanos(i * 7919 % 10_000_000),
                coord::perf::Outcome::Success,
            );
        }
    };
    // Histogram chunks are allocated as values first reach their power of two, then stay.
    record_all();
    let used = op.memory_footprint();
    assert!(used <= 16 * 1024, "{used} bytes");
    record_all();
    assert_eq!(op.memory_footprint(), used);
}

#[tokio::main(flavor = "current_thread")]
#[track_performance("tp.tokio_main")]
async fn entry_point() -> Result<u8, String> {
    tokio::task::yield_now().await;
    Ok(3)
}

#[test]
fn works_with_tokio_main() {
    assert_eq!(entry_point(), Ok(3));
    assert_eq!(stats("tp.tokio_main").successes, 1);
}
