//! A synchronous retry about to sleep inside an async runtime says so, once per call site or
//! policy and operation name, with a `tracing` warning naming the operation and the async alternative. Seen
//! through tokio, which coord reaches with its `tokio` or `http` feature (this package's `http`
//! feature turns on the latter).
#![cfg(feature = "http")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coord::{ErrorHandler, FakeClock, RetryPolicy, retry};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Keeps the messages of the `coord::retry` warnings it sees.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

static SPANS: AtomicUsize = AtomicUsize::new(1);

impl Subscriber for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() == Level::WARN
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(SPANS.fetch_add(1, SeqCst) as u64)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        if message.contains("synchronous retry") {
            self.0.lock().unwrap().push(message);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Warnings {
    /// Runs `f` with this subscriber on the thread, inside a current-thread tokio runtime when
    /// `in_runtime`; the warnings seen.
    fn during(in_runtime: bool, f: impl FnOnce()) -> Vec<String> {
        let warnings = Warnings::default();
        tracing::subscriber::with_default(warnings.clone(), || {
            if in_runtime {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .unwrap();
                runtime.block_on(async { f() });
            } else {
                f();
            }
        });
        warnings.0.lock().unwrap().clone()
    }
}

#[retry(max_retries = 2, base_delay = "1ms", jitter = "none")]
fn flaky_lookup() -> Result<(), String> {
    Err("down".to_owned())
}

#[test]
fn a_sync_retry_function_inside_a_runtime_warns_once() {
    let warnings = Warnings::during(true, || {
        for _ in 0..3 {
            assert!(flaky_lookup().is_err());
        }
    });
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let operation = concat!(module_path!(), "::flaky_lookup");
    assert!(warnings[0].contains(operation), "{}", warnings[0]);
    assert!(warnings[0].contains("async fn"), "{}", warnings[0]);
}

#[retry(max_retries = 1, base_delay = "1ms")]
fn flaky_outside() -> Result<(), String> {
    Err("down".to_owned())
}

#[test]
fn outside_a_runtime_nothing_is_said() {
    let warnings = Warnings::during(false, || {
        assert!(flaky_outside().is_err());
    });
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn an_error_handler_warns_once_per_operation() {
    let handler = || {
        ErrorHandler::new("sync_warning.handler")
            .retry(RetryPolicy::constant(1, Duration::from_millis(1)))
    };
    let warnings = Warnings::during(true, || {
        let first = handler();
        for _ in 0..3 {
            let _: Result<(), &str> = first.execute(|| Err("down"));
        }
        // A clone shares the policy, and a handler built per request names the same
        // operation: already told.
        let _: Result<(), &str> = first.clone().execute(|| Err("down"));
        let _: Result<(), &str> = handler().execute(|| Err("down"));
    });
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("sync_warning.handler"));
    assert!(warnings[0].contains("execute_async"));
}

#[test]
fn a_policy_call_warns_once_and_call_async_never() {
    let policy = RetryPolicy::constant(1, Duration::from_millis(1)).named("sync_warning.policy");
    let warnings = Warnings::during(true, || {
        for _ in 0..2 {
            let _: Result<(), &str> = policy.call(|| Err("down"));
        }
    });
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("call_async"));

    let policy = RetryPolicy::constant(1, Duration::from_millis(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let warnings = Warnings::default();
    tracing::subscriber::with_default(warnings.clone(), || {
        runtime.block_on(async {
            let _: Result<(), &str> = policy.call_async(|| async { Err("down") }).await;
        });
    });
    assert!(warnings.0.lock().unwrap().is_empty());
}

#[test]
fn a_fake_clock_blocks_nothing_and_is_not_reported() {
    let policy = RetryPolicy::constant(1, Duration::from_secs(5)).clock(FakeClock::new());
    let warnings = Warnings::during(true, || {
        let _: Result<(), &str> = policy.call(|| Err("down"));
    });
    assert!(warnings.is_empty(), "{warnings:?}");
}
