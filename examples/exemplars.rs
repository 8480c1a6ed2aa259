//! Exemplars: a latency bucket of `/metrics` that leads to the trace of a call that landed in
//! it. Calls run inside `tracing` spans that `tracing-opentelemetry` turns into sampled
//! OpenTelemetry spans; coord keeps, per bucket, the latest such call's trace id and span id and
//! serves them as OpenMetrics exemplars to a scraper that asks for OpenMetrics.
//!
//! `cargo run --features otel --example exemplars` checks itself: it fetches `/metrics` with
//! and without `Accept: application/openmetrics-text` and checks the exemplars against the
//! spans it ran. `-- --for 30 --addr 127.0.0.1:0` then serves 30 seconds, for a Prometheus
//! started with `--enable-feature=exemplar-storage` (`.ci/observability` checks what
//! Prometheus's `/api/v1/query_exemplars` returns against the `exemplar ...` lines printed).

use std::io::{Read, Write};
use std::time::Duration;

use coord::otel::opentelemetry::Context;
use coord::otel::opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use coord::otel::opentelemetry_sdk::trace::SdkTracerProvider;
use coord::perf::Outcome;
use coord::track_performance;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// The operation whose latencies are recorded exactly, so its buckets are known in advance.
const REFERENCE: &str = "exemplars.reference";

/// A call timed by `#[track_performance]`; its exemplars lead to the spans it ran in too.
#[track_performance("exemplars.lookup")]
fn lookup(key: u64) -> Result<u64, std::io::Error> {
    Ok(key.wrapping_mul(31))
}

/// The trace id and span id of the `tracing` span, as the OpenTelemetry layer assigned them.
fn ids(span: &tracing::Span) -> (String, String) {
    let context = span.context();
    let span = context.span();
    let ids = span.span_context();
    (ids.trace_id().to_string(), ids.span_id().to_string())
}

/// One exemplar the scrape must show: `le` of its bucket and the span's ids.
struct Expected {
    le: &'static str,
    trace_id: String,
    span_id: String,
}

/// Runs the reference workload; returns the exemplar each reference bucket must hold, and the
/// trace ids that must appear nowhere.
fn workload() -> (Vec<Expected>, Vec<String>) {
    let reference = coord::monitor().operation_handle(REFERENCE);
    let mut expected = Vec::new();
    // Per bucket, five calls in five traces: the last one is the bucket's exemplar.
    for (le, latency) in [("0.005", 3), ("0.05", 30)] {
        let mut last = None;
        for request in 0..5 {
            let span = tracing::info_span!("checkout", request);
            let _entered = span.enter();
            reference.record(Duration::from_millis(latency), Outcome::Success);
            lookup(request).ok();
            last = Some(ids(&span));
        }
        if let Some((trace_id, span_id)) = last {
            expected.push(Expected {
                le,
                trace_id,
                span_id,
            });
        }
    }
    // A call in an unsampled trace (a caller's `traceparent` with the sampled flag off) and
    // one outside any span leave the exemplars as they are.
    let unsampled = TraceId::from(0x0dd0_0dd0_0dd0_0dd0_0dd0_0dd0_0dd0_0dd0u128);
    {
        let _attached = Context::new()
            .with_remote_span_context(SpanContext::new(
                unsampled,
                SpanId::from(0x0dd0_0dd0_0dd0_0dd0u64),
                TraceFlags::default(),
                true,
                TraceState::default(),
            ))
            .attach();
        reference.record(Duration::from_millis(3), Outcome::Success);
    }
    reference.record(Duration::from_millis(30), Outcome::Success);
    (expected, vec![unsampled.to_string()])
}

/// `GET /metrics` with `accept` (if any); returns the content type and the body.
fn metrics(addr: std::net::SocketAddr, accept: Option<&str>) -> std::io::Result<(String, String)> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_owned();
    Ok((content_type, body.to_owned()))
}

/// Checks both formats of `/metrics` against the workload.
fn check(
    addr: std::net::SocketAddr,
    expected: &[Expected],
    absent: &[String],
) -> Result<(), String> {
    let (content_type, om) =
        metrics(addr, Some("application/openmetrics-text")).map_err(|e| e.to_string())?;
    if content_type != "application/openmetrics-text; version=1.0.0; charset=utf-8" {
        return Err(format!("OpenMetrics asked, {content_type} answered"));
    }
    if !om.ends_with("# EOF\n") {
        return Err("the OpenMetrics answer does not end with # EOF".into());
    }
    for e in expected {
        let line = format!(
            "coord_operation_duration_seconds_bucket{{operation=\"{REFERENCE}\",le=\"{}\"}}",
            e.le
        );
        let found = om
            .lines()
            .find(|l| l.starts_with(&line))
            .ok_or_else(|| format!("no line {line}"))?;
        let exemplar = format!(
            "# {{trace_id=\"{}\",span_id=\"{}\"}} ",
            e.trace_id, e.span_id
        );
        if !found.contains(&exemplar) {
            return Err(format!("{found}: want the exemplar {exemplar}"));
        }
    }
    if let Some(id) = absent.iter().find(|id| om.contains(id.as_str())) {
        return Err(format!("the unsampled trace {id} left an exemplar"));
    }
    let (content_type, text) = metrics(addr, None).map_err(|e| e.to_string())?;
    if !content_type.starts_with("text/plain; version=0.0.4") || text.contains("trace_id") {
        return Err(format!(
            "without Accept: {content_type}, with exemplars: {}",
            text.contains("trace_id")
        ));
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut serve_for) = ("127.0.0.1:0".to_owned(), 0.0f64);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--for", Some(value)) => serve_for = value.parse()?,
            (other, _) => {
                return Err(format!(
                    "unknown argument {other}; usage: exemplars [--addr IP:PORT] [--for SECONDS]"
                )
                .into());
            }
        }
    }

    // The application's tracing setup: an OpenTelemetry tracer (sampling every trace, the
    // SDK's default) behind `tracing`. coord needs nothing from it.
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("exemplars-example")));
    tracing::subscriber::set_global_default(subscriber)?;

    let (expected, absent) = workload();
    let server = coord::http::serve(addr.as_str())?;
    check(server.local_addr(), &expected, &absent)?;
    println!("coord metrics: {}metrics", server.url());
    for e in &expected {
        println!(
            "exemplar operation={REFERENCE} le={} trace_id={} span_id={}",
            e.le, e.trace_id, e.span_id
        );
    }
    for id in &absent {
        println!("absent trace_id={id}");
    }
    println!("exemplars checked: OpenMetrics with the spans' ids, 0.0.4 without");
    std::thread::sleep(Duration::from_secs_f64(serve_for.clamp(0.0, 600.0)));
    server.shutdown();
    Ok(())
}
