//! coord's `tracing` spans and span events: every field name they carry, in one place, following
//! OpenTelemetry's semantic conventions where one exists (`otel.status_code`, `error.type`,
//! `code.function.name`, `http.*`), `coord.*` where none does. A leaf: it imports nothing of
//! coord.
//!
//! The span of `#[track_performance(span)]` is made in the expansion (a span's name must be a
//! constant there), the tower layer's in `tower/`; both declare the fields [`finish`] fills in
//! as `Empty`. The events go to the *current* span, whoever made it, and only when there is one:
//! outside any span they would repeat the retry loop's own `WARN` line. Every function here is
//! `#[cold]`: it runs only on a failure, a retry, a rejection or a time-out, never on the success
//! path.

use std::time::Duration;

use tracing::Span;

/// The target of coord's span events: filter it to keep or drop them.
pub const TARGET: &str = "coord::span";

/// What a failed call's `error.type` says: low cardinality, as the conventions ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// The error's type name (`std::any::type_name` of a `Result`'s `E`).
    Name(&'static str),
    /// An HTTP response's status (`"503"`).
    Status(u16),
    /// Nothing better is known: the conventions' `_OTHER`.
    Other,
}

/// How a call ended, as a span shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It failed: `otel.status_code = "ERROR"`, `error.type`, `coord.outcome = "failure"`.
    Failure(ErrorType),
    /// A gate rejected it, marked `coord.outcome = "rejected"` (load shed, not counted in
    /// coord's error rate); with an error type, an error for the caller too
    /// (`otel.status_code = "ERROR"`, `error.type`). A server's 429 has none: the conventions
    /// count a server's 4xx as no error of the server's.
    Rejected(Option<ErrorType>),
    /// Its future was dropped before it finished: `coord.outcome = "cancelled"`, status unset.
    Cancelled,
}

/// Marks `span` with how its call ended (a success leaves it as it is: OpenTelemetry's status
/// `Unset` is a success).
#[cold]
#[inline(never)]
pub fn finish(span: &Span, ended: Ended) {
    let (outcome, error) = match ended {
        Ended::Failure(error) => ("failure", Some(error)),
        Ended::Rejected(error) => ("rejected", error),
        Ended::Cancelled => ("cancelled", None),
    };
    span.record("coord.outcome", outcome);
    if let Some(error) = error {
        span.record("otel.status_code", "ERROR");
        match error {
            ErrorType::Name(name) => span.record("error.type", name),
            ErrorType::Status(status) => span.record("error.type", tracing::field::display(status)),
            ErrorType::Other => span.record("error.type", "_OTHER"),
        };
    }
}

/// Event `$name` at `$level` with `$fields`, only when a span is current (a disabled one, or
/// none, is not); the fields are evaluated only then.
macro_rules! span_event {
    ($level:ident, $name:literal, $($fields:tt)*) => {
        if !Span::current().is_disabled() {
            tracing::event!(target: TARGET, tracing::Level::$level, $($fields)* $name);
        }
    };
}

/// A duration in whole milliseconds, saturated.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An attempt failed and another follows after `delay`: event `retry` with
/// `coord.retry.attempt` (the attempt that failed, from 1) and `coord.retry.delay_ms`.
#[cold]
#[inline(never)]
pub fn retry(operation: &str, attempt: u32, delay: Duration) {
    span_event!(
        INFO,
        "retry",
        "coord.operation" = operation,
        "coord.retry.attempt" = attempt,
        "coord.retry.delay_ms" = millis(delay),
    );
}

/// A gate rejected an attempt: event `rejected` with `coord.gate` (the gate's kind, which its
/// layer gives: `circuit_breaker`, `bulkhead`, `rate_limit`) and `coord.gate.name` (the
/// breaker's, bulkhead's or limiter's name); a rejection made up by fault injection
/// (`coord::chaos`) is marked `coord.chaos.injected = true`.
#[cold]
#[inline(never)]
pub fn rejected(gate: &'static str, name: &str, injected: bool) {
    // DEBUG, not INFO: under load shedding every rejected call has one, and an INFO line per
    // shed request would flood the logs exactly when the service is overloaded. The span
    // itself is marked `coord.outcome = "rejected"` whatever the level.
    span_event!(
        DEBUG,
        "rejected",
        "coord.gate" = gate,
        "coord.gate.name" = name,
        // Absent (not `false`) on a real rejection: `None` records nothing.
        "coord.chaos.injected" = injected.then_some(true),
    );
}

/// A time limit expired: event `timeout` with `coord.timeout.limit_ms`.
#[cold]
#[inline(never)]
pub fn timeout(limit: Duration) {
    span_event!(INFO, "timeout", "coord.timeout.limit_ms" = millis(limit),);
}
