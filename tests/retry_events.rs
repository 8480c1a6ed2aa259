//! `tracing` events of the retry loop: WARN per retry, ERROR when a call gives up (own binary:
//! it installs a global subscriber).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use coord::RetryPolicy;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Default)]
struct Collect {
    events: Mutex<Vec<(Level, String)>>,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for &'static Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((*event.metadata().level(), fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn warn_per_retry_and_error_on_exhaustion() {
    let collect: &'static Collect = Box::leak(Box::default());
    tracing::subscriber::set_global_default(collect).unwrap();

    let policy = RetryPolicy::constant(2, Duration::from_millis(1)).named("ev.fetch");
    let _: Result<(), &str> = policy.call(|| Err("upstream 503"));

    let events = collect.events.lock().unwrap();
    let levels: Vec<Level> = events.iter().map(|(level, _)| *level).collect();
    assert_eq!(levels, [Level::WARN, Level::WARN, Level::ERROR]);
    let (_, first) = &events[0];
    assert!(first.contains("operation=\"ev.fetch\""), "{first}");
    assert!(first.contains("attempt=1"), "{first}");
    assert!(first.contains("delay_ms=1.0"), "{first}");
    assert!(first.contains("error=upstream 503"), "{first}");
    let (_, last) = &events[2];
    assert!(last.contains("reason=\"exhausted\""), "{last}");
    assert!(last.contains("attempts=3"), "{last}");
}
