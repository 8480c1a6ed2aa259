//! A real `tracing-subscriber` layer that keeps every closed span with its fields and the
//! events recorded while it was current, for the span tests (`tests/spans.rs`,
//! `tests/tower_spans.rs`). Each test installs it for its own thread with [`recording`].
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A closed span as the layer saw it.
#[derive(Clone, Debug, Default)]
pub struct SpanRecord {
    pub name: String,
    pub level: String,
    pub fields: BTreeMap<String, String>,
    /// Events recorded while it was current: (message, fields).
    pub events: Vec<(String, BTreeMap<String, String>)>,
}

impl SpanRecord {
    /// The gates that rejected a call in this span, from its `rejected` events, in order:
    /// (`coord.gate`, `coord.gate.name`).
    pub fn rejections(&self) -> Vec<(&str, &str)> {
        self.events
            .iter()
            .filter(|(message, _)| message == "rejected")
            .map(|(_, f)| (f["coord.gate"].as_str(), f["coord.gate.name"].as_str()))
            .collect()
    }
}

#[derive(Clone, Default)]
pub struct Recorded(Arc<Mutex<Vec<SpanRecord>>>);

impl Recorded {
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The closed spans named `name`, in the order they closed.
    pub fn all_named(&self, name: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    pub fn named(&self, name: &str) -> SpanRecord {
        let spans = self.spans();
        let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "one span {name}: {spans:#?}");
        found[0].clone()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Keeps each span's fields and the events in it; hands the span over when it closes.
struct Recorder(Recorded);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record = SpanRecord {
            name: attrs.metadata().name().to_owned(),
            level: attrs.metadata().level().to_string(),
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut record.fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(record);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(record) = span.extensions_mut().get_mut::<SpanRecord>()
        {
            values.record(&mut Fields(&mut record.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        if let Some(span) = ctx.event_span(event)
            && let Some(record) = span.extensions_mut().get_mut::<SpanRecord>()
        {
            record.events.push((message, fields));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(record) = span.extensions_mut().remove::<SpanRecord>()
        {
            self.0
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(record);
        }
    }
}

/// Runs `test` with a recording subscriber on this thread.
pub fn recording<T>(test: impl FnOnce() -> T) -> (T, Recorded) {
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(Recorder(recorded.clone()));
    let out = tracing::subscriber::with_default(subscriber, test);
    (out, recorded)
}

/// Runs `future` to completion on a current-thread runtime with time and I/O.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}
