//! coord's metrics in an OpenTelemetry pipeline (feature `otel`).
//!
//! - [`register`]: into the application's own meter provider (the primary path).
//! - [`init_from_env`]: for applications without one, a meter provider pushing OTLP
//!   (http/protobuf or gRPC) configured by the standard `OTEL_*` variables, with coord's
//!   families registered; its guard flushes and shuts down on drop.

// The OpenTelemetry crates coord is built with, so an application and its tests name the same
// versions of `Meter` and `SdkMeterProvider` as coord does.
pub use opentelemetry;
pub use opentelemetry_sdk;

mod env;
mod exemplars;
mod families;
#[cfg(feature = "tower")]
pub(crate) mod http;
mod instruments;
mod parse;
mod push;

pub use env::{EnvError, EnvErrorKind, OtlpConfig, Protocol};
#[cfg(feature = "tower")]
pub use http::{CLIENT_DURATION, SERVER_DURATION};
pub use instruments::{CARDINALITY_LIMIT, instruments, register, view};
pub use push::{InitError, OtelGuard, init_from_env, init_with};

/// Turns the capture of exemplars on (the default) or off for the whole process. On, every
/// recorded call reads OpenTelemetry's current context (a thread-local, a few nanoseconds) to
/// find a sampled span; an application that neither serves OpenMetrics to a scraper nor pushes
/// over http/protobuf (the only OTLP path that carries exemplars) can save that. Off, no new
/// exemplar is kept; the latest ones stay until replaced.
pub fn set_exemplars(on: bool) {
    crate::perf::set_exemplar_capture(on);
}
