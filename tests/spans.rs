//! `#[track_performance(span)]` and coord's span events, read back through a real
//! `tracing-subscriber` layer (no mock of coord): the span's name and fields, how failures,
//! rejections and cancellations mark it, and the `retry`, `rejected` and `timeout` events in
//! the current span, coord's or the user's. Each test installs its subscriber for its own
//! thread (`with_default`) and runs its async code on a current-thread runtime there.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use coord::track_performance;
use coord::{bulkhead, circuit_breaker, rate_limit, retry, timeout};

#[path = "support/spans.rs"]
mod recorder;

use recorder::{block_on, recording};

mod support;
use support::LayerError;

#[track_performance(name = "spans.sync_ok", span)]
fn sync_ok(x: u32) -> Result<u32, LayerError> {
    Ok(x + 1)
}

#[track_performance(name = "spans.sync_fails", span)]
fn sync_fails() -> Result<u32, LayerError> {
    Err(LayerError::Down)
}

#[test]
fn a_sync_call_runs_in_its_span_named_after_the_operation() {
    let (out, recorded) = recording(|| (sync_ok(1).ok(), sync_fails().is_err()));
    assert_eq!(out, (Some(2), true));
    let ok = recorded.named("spans.sync_ok");
    assert_eq!(ok.level, "INFO");
    assert_eq!(
        ok.fields.get("code.function.name").map(String::as_str),
        Some("spans::sync_ok")
    );
    // A success leaves the status unset.
    assert!(!ok.fields.contains_key("otel.status_code"), "{ok:?}");
    assert!(!ok.fields.contains_key("coord.outcome"), "{ok:?}");

    let failed = recorded.named("spans.sync_fails");
    assert_eq!(failed.fields["otel.status_code"], "ERROR");
    assert_eq!(failed.fields["error.type"], "spans::support::LayerError");
    assert_eq!(failed.fields["coord.outcome"], "failure");
}

#[track_performance(span)]
async fn async_default_name() -> Result<(), LayerError> {
    // The body runs inside the span: an event here is one of its events.
    tracing::info!("inside");
    tokio::task::yield_now().await;
    tracing::info!("still inside");
    Ok(())
}

#[test]
fn an_async_call_is_followed_by_its_span_across_awaits() {
    let (out, recorded) = recording(|| block_on(async_default_name()));
    assert!(out.is_ok());
    let span = recorded.named("spans::async_default_name");
    let messages: Vec<&str> = span.events.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(messages, ["inside", "still inside"]);
}

#[track_performance(name = "spans.never_done", span)]
async fn never_done() -> Result<(), LayerError> {
    std::future::pending::<()>().await;
    Ok(())
}

#[test]
fn a_cancelled_call_is_marked_cancelled() {
    let ((), recorded) = recording(|| {
        block_on(async {
            let timed_out = tokio::time::timeout(Duration::from_millis(1), never_done()).await;
            assert!(timed_out.is_err());
        })
    });
    let span = recorded.named("spans.never_done");
    assert_eq!(span.fields["coord.outcome"], "cancelled");
    assert!(!span.fields.contains_key("otel.status_code"), "{span:?}");
}

struct Store;

impl Store {
    #[track_performance(span)]
    fn load(&self) -> Result<u8, LayerError> {
        Ok(7)
    }
}

#[test]
fn a_method_span_carries_its_runtime_name() {
    let (out, recorded) = recording(|| Store.load().ok());
    assert_eq!(out, Some(7));
    let span = recorded.named("spans::load");
    assert_eq!(span.fields["otel.name"], "spans::Store::load");
    assert_eq!(span.fields["code.function.name"], "spans::Store::load");
}

#[track_performance(name = "spans.retried", span)]
#[retry(max_retries = 2, base_delay = "1ms", multiplier = 1.0, jitter = "none")]
async fn retried(calls: &Mutex<u32>) -> Result<u32, LayerError> {
    let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
    *calls += 1;
    if *calls < 3 {
        Err(LayerError::Down)
    } else {
        Ok(*calls)
    }
}

#[test]
fn each_retry_is_an_event_of_the_span() {
    let calls = Mutex::new(0);
    let (out, recorded) = recording(|| block_on(retried(&calls)));
    assert_eq!(out.ok(), Some(3));
    let span = recorded.named("spans.retried");
    let retries: Vec<_> = span.events.iter().filter(|(m, _)| m == "retry").collect();
    assert_eq!(retries.len(), 2, "{span:?}");
    assert_eq!(retries[0].1["coord.retry.attempt"], "1");
    assert_eq!(retries[1].1["coord.retry.attempt"], "2");
    assert_eq!(retries[0].1["coord.retry.delay_ms"], "1");
    assert_eq!(retries[0].1["coord.operation"], "spans.retried");
    // The call succeeded in the end: no error status.
    assert!(!span.fields.contains_key("otel.status_code"), "{span:?}");
}

#[track_performance(name = "spans.guarded", span)]
#[circuit_breaker(
    name = "spans.guarded_breaker",
    failure_rate = 0.5,
    minimum_calls = 1,
    open_for = "60s"
)]
fn guarded(fail: bool) -> Result<(), LayerError> {
    if fail { Err(LayerError::Down) } else { Ok(()) }
}

#[test]
fn a_breaker_rejection_marks_the_span_and_is_an_event() {
    let (out, recorded) = recording(|| {
        let first = guarded(true);
        let second = guarded(false);
        (first.is_err(), matches!(second, Err(LayerError::Open(_))))
    });
    assert_eq!(out, (true, true));
    let spans: Vec<_> = recorded
        .spans()
        .into_iter()
        .filter(|s| s.name == "spans.guarded")
        .collect();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].fields["coord.outcome"], "failure");
    let rejected = &spans[1];
    assert_eq!(rejected.fields["coord.outcome"], "rejected");
    assert_eq!(rejected.fields["otel.status_code"], "ERROR");
    assert_eq!(
        rejected.rejections(),
        [("circuit_breaker", "spans.guarded_breaker")],
        "{rejected:?}"
    );
}

#[bulkhead(name = "spans.one_at_a_time", max_concurrent = 1, max_wait = "0ms")]
async fn one_at_a_time(hold: bool) -> Result<(), LayerError> {
    if hold {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Declares `$fn`, limited by the rate limiter `$name` to one call an hour and rejecting at once
/// past it: the second call is always a rejection.
macro_rules! one_call_an_hour {
    ($fn:ident, $name:literal) => {
        #[rate_limit(name = $name, rate = 1, per = "1h", burst = 1, max_wait = "0ms")]
        fn $fn() -> Result<(), LayerError> {
            Ok(())
        }
    };
}

one_call_an_hour!(limited, "spans.limited");

#[test]
fn gate_rejections_are_events_of_the_users_own_span() {
    let ((), recorded) = recording(|| {
        let span = tracing::info_span!("user.request");
        let _entered = span.enter();
        assert!(limited().is_ok());
        assert!(matches!(limited(), Err(LayerError::Limited(_))));
        drop(_entered);
        block_on(
            async {
                let (held, shed) = tokio::join!(one_at_a_time(true), async {
                    tokio::task::yield_now().await;
                    one_at_a_time(false).await
                });
                assert!(held.is_ok());
                assert!(matches!(shed, Err(LayerError::Full(_))));
            }
            .instrument_in(span),
        );
    });
    let span = recorded.named("user.request");
    assert_eq!(
        span.rejections(),
        [
            ("rate_limit", "spans.limited"),
            ("bulkhead", "spans.one_at_a_time")
        ]
    );
}

/// `Instrument::instrument`, named apart so that the test reads as what it checks.
trait InstrumentIn: Future + Sized {
    fn instrument_in(self, span: tracing::Span) -> tracing::instrument::Instrumented<Self> {
        tracing::Instrument::instrument(self, span)
    }
}

impl<F: Future> InstrumentIn for F {}

#[track_performance(name = "spans.slow", span)]
#[timeout("5ms")]
async fn slow() -> Result<(), LayerError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[test]
fn a_timeout_is_an_event_and_fails_the_span() {
    let (out, recorded) = recording(|| block_on(slow()));
    assert!(matches!(out, Err(LayerError::TimedOut(_))));
    let span = recorded.named("spans.slow");
    assert_eq!(span.fields["coord.outcome"], "failure");
    let timeouts: Vec<_> = span.events.iter().filter(|(m, _)| m == "timeout").collect();
    assert_eq!(timeouts.len(), 1, "{span:?}");
    assert_eq!(timeouts[0].1["coord.timeout.limit_ms"], "5");
}

#[test]
fn no_span_without_the_key() {
    let (out, recorded) = recording(|| {
        let first = limited_outside();
        (
            first.is_ok(),
            matches!(limited_outside(), Err(LayerError::Limited(_))),
            plain().is_ok(),
        )
    });
    assert_eq!(out, (true, true, true));
    assert!(recorded.spans().is_empty(), "{:?}", recorded.spans());
}

one_call_an_hour!(limited_outside, "spans.limited_outside");

#[track_performance(name = "spans.plain")]
fn plain() -> Result<(), LayerError> {
    Ok(())
}

struct Client {
    calls: u32,
}

impl Client {
    /// Every layer with a span, on a `&mut self` method: the future stays `Send`.
    #[track_performance(span)]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "spans.client")]
    #[timeout(total = "1s")]
    async fn fetch(&mut self) -> Result<u32, LayerError> {
        self.calls += 1;
        tokio::task::yield_now().await;
        Ok(self.calls)
    }
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn a_spanned_method_with_every_layer_is_send_and_runs_in_its_span() {
    let mut client = Client { calls: 0 };
    let (out, recorded) = recording(|| {
        let call = client.fetch();
        assert_send(&call);
        block_on(call)
    });
    assert_eq!(out.ok(), Some(1));
    let span = recorded.named("spans::fetch");
    assert_eq!(span.fields["otel.name"], "spans::Client::fetch");
}
