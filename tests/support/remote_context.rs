//! An OpenTelemetry context whose span came from another process, for the exemplar tests
//! (feature `otel`). Included with `#[path]`.

use coord::otel::opentelemetry::Context;
use coord::otel::opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

/// A context whose current span is the remote span `span` of trace `trace`, with `flags`.
pub fn remote(trace: u128, span: u64, flags: TraceFlags) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        flags,
        true,
        TraceState::default(),
    ))
}
