//! Spans and metrics together: `#[track_performance(span)]` and `CoordLayer::span()` make
//! `tracing` spans (with span events for retries), while the tower layer's requests land on
//! OpenTelemetry's `http.server.request.duration` and `http.client.request.duration` in the
//! application's meter provider.
//!
//! `cargo run --features otel --example otel_spans` checks itself: a small `tracing-subscriber`
//! layer stands in for `tracing-opentelemetry` (which a service would install to export the
//! spans; see the README) and collects the spans, a small exporter (`otel/capture.rs`, which the
//! OpenTelemetry tests use too) stands in for OTLP and collects the histograms.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use coord::otel::opentelemetry::metrics::MeterProvider as _;
use coord::otel::opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use coord::{retry, track_performance};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[path = "otel/http.rs"]
mod http_workload;

/// Stands in for an OTLP exporter: keeps the data points of each export.
#[path = "otel/capture.rs"]
mod capture;

static CHARGES: AtomicU32 = AtomicU32::new(0);

/// Fails once, then succeeds: its span holds one `retry` event.
#[track_performance(name = "shop.charge", span)]
#[retry(max_retries = 2, base_delay = "1ms")]
async fn charge(cents: u64) -> Result<u64, std::io::Error> {
    if CHARGES.fetch_add(1, Ordering::Relaxed) == 0 {
        return Err(std::io::Error::other("card network busy"));
    }
    Ok(cents)
}

/// Spans as they close: name, fields, and the messages of their events.
type Spans = Arc<Mutex<Vec<(String, BTreeMap<String, String>, Vec<String>)>>>;

/// Stands in for `tracing-opentelemetry`'s layer: keeps what it would export.
struct KeepSpans(Spans);

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

struct Open(BTreeMap<String, String>, Vec<String>);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for KeepSpans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Open(fields.0, Vec::new()));
        }
    }
    fn on_record(&self, id: &tracing::Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            let mut fields = Fields::default();
            values.record(&mut fields);
            open.0.extend(fields.0);
        }
    }
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(span) = ctx.event_span(event)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            open.1.push(fields.0.remove("message").unwrap_or_default());
        }
    }
    fn on_close(&self, id: tracing::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(Open(fields, events)) = span.extensions_mut().remove::<Open>()
        {
            let mut spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            spans.push((span.name().to_owned(), fields, events));
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans: a service would add `tracing_opentelemetry::layer().with_tracer(tracer)` here.
    let spans = Spans::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(KeepSpans(Arc::clone(&spans))),
    )?;
    // Metrics: the application's provider, coord's families and HTTP histograms registered.
    let exported = capture::Capture::default();
    let provider = SdkMeterProvider::builder()
        .with_view(coord::otel::view)
        .with_reader(PeriodicReader::builder(exported.clone()).build())
        .build();
    coord::otel::register(&provider.meter("coord"));

    assert_eq!(charge(250).await?, 250);
    http_workload::run().await;
    provider.force_flush()?;

    let spans = spans.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let (_, fields, events) = spans
        .iter()
        .find(|(name, ..)| name == "shop.charge")
        .ok_or("no shop.charge span")?;
    // The retry loop's own WARN line is an event of the span too.
    assert!(events.iter().any(|e| e == "retry"), "{fields:?} {events:?}");
    let server: Vec<_> = spans
        .iter()
        .filter(|(name, ..)| name == "http.server.request")
        .collect();
    assert_eq!(server.len(), 4);
    assert_eq!(server[0].1["otel.name"], "GET /items/{id}");
    assert_eq!(server[3].1["otel.status_code"], "ERROR");
    let clients = spans
        .iter()
        .filter(|(name, ..)| name == "http.client.request")
        .count();
    assert_eq!(clients, 3);

    for name in [coord::otel::SERVER_DURATION, coord::otel::CLIENT_DURATION] {
        let want: u64 = http_workload::EXPECTED
            .iter()
            .filter(|(n, ..)| *n == name)
            .map(|(.., count)| count)
            .sum();
        let points = exported.points(name);
        let requests: u64 = points.iter().map(|p| p.count).sum();
        assert_eq!(requests, want, "{name}: {points:?}");
    }
    println!(
        "{} spans (shop.charge with its retry event, {} server and {} client requests); \
         {}: 4 and {}: 3 requests in the meter provider",
        spans.len(),
        server.len(),
        clients,
        coord::otel::SERVER_DURATION,
        coord::otel::CLIENT_DURATION,
    );
    Ok(())
}
