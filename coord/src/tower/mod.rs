//! coord as tower middleware: [`CoordLayer`] puts the attributes' layers (timing, time limits,
//! retries, circuit breaker, rate limit, bulkhead) around any tower [`Service`] of HTTP
//! requests: axum and tonic servers, hyper clients. It builds the same layer stack the
//! attributes build, in the same order, on the same registries: what it records shows in
//! [`coord::report()`](crate::report), `/metrics`, the dashboard and the alert rules exactly as
//! attribute-wrapped functions do.
//!
//! ```
//! use std::time::Duration;
//! use coord::tower::CoordLayer;
//! use coord::{BreakerConfig, BulkheadConfig, RetryPolicy};
//!
//! // A client: per-host breakers, retries of 5xx/429 and transport errors, 2 s per attempt.
//! let client_layer = CoordLayer::new("docs.payments")
//!     .track_performance()
//!     .retry(RetryPolicy::exponential(2, Duration::from_millis(50), 2.0))
//!     .circuit_breaker(BreakerConfig::default())
//!     .breaker_per_host()
//!     .timeout(Duration::from_secs(2));
//! assert!(client_layer.validate().is_ok());
//!
//! // A server (axum's `Router::route_layer`): one operation per route, rejections answered
//! // with 503 or 429 and `Retry-After`.
//! let server_layer = CoordLayer::server("docs.api")
//!     .track_performance()
//!     .bulkhead(BulkheadConfig::default().max_concurrent(64));
//! # let _ = (client_layer, server_layer);
//! ```
//!
//! # The order
//!
//! The layers compose in the attributes' one order, whatever order the builder methods are
//! called in: `track_performance → total_timeout → retry → circuit_breaker → rate_limit →
//! bulkhead → timeout → the inner service`. A rejection (breaker open, bulkhead full, rate
//! limited) is never retried; a per-attempt time-out and a failed response are, and count as
//! failures for the breaker.
//!
//! # Backpressure
//!
//! `poll_ready` reserves what the request's first attempt needs from the service-wide gates: a
//! rate-limit turn, then a bulkhead slot, answering `Pending` while it waits for them (woken by
//! the limiter's timer or the slot's release, never by spinning), up to each one's `max_wait`;
//! past it, the service becomes ready with the rejection, which `call` returns without calling
//! the inner service. Then it asks the inner service. A reserved slot is released when the
//! request ends, when its future is dropped, or when the service is dropped unused; a reserved
//! turn is spent. Retries admit their attempts through the same gates, as the attributes do.
//! Because `poll_ready` runs before the request is known, the rate limiter and the bulkhead are
//! the layer's own (named after it), and are reserved before the breaker sees the request.
//!
//! # Names
//!
//! Everything is named after the layer (`CoordLayer::new(name)`), except two bounded choices:
//! [`per_route`](CoordLayer::per_route) names the operation (timing, retries, time-outs, its
//! breaker) after axum's `MatchedPath` (`"api GET /users/{id}"`), never the raw URI; and
//! [`breaker_per_host`](CoordLayer::breaker_per_host) keys the breaker by the request's host, as
//! keyed breakers do. Every name goes through the registries' caps.
//!
//! # Outcomes
//!
//! A response whose status the [`StatusRule`](crate::StatusRule) makes a failure (default:
//! [`DEFAULT_STATUS_RULE`], 5xx and 429; with [`CoordLayer::server`], the crate's
//! `StatusRule::DEFAULT`, 5xx only) is a failure for the breaker, the retries and the error
//! rate; other statuses, 4xx included, are successes.
//! After the last attempt the response itself is returned. A failed response's `Retry-After`
//! (in seconds) holds the next attempt back until the time it names, at most the retry policy's
//! `max_delay` after the response (the back-off already slept counts). On the client side a rejection is
//! an [`Error`]; with [`CoordLayer::server`] (or
//! [`rejections_as_responses`](CoordLayer::rejections_as_responses)) it is a response: 503 for
//! an open breaker, a full bulkhead or a time-out, 429 for a rate limit, with `Retry-After`.
//!
//! # Spans and OpenTelemetry
//!
//! [`CoordLayer::span`] runs every request in a `tracing` span with OpenTelemetry's HTTP span
//! conventions (server or client side); retries, rejections and time-outs are events of it.
//! With the `otel` feature, once [`coord::otel::register`](crate::otel::register) has a meter,
//! every layer records its requests on `http.server.request.duration`
//! ([`CoordLayer::server`]) or `http.client.request.duration`, whether or not it has a span.

mod call;
mod classify;
mod error;
mod gate;
mod layer;
mod limiters;
mod names;
mod observe;
mod service;

pub use classify::DEFAULT_STATUS_RULE;
pub use error::{ConfigError, Error};
pub(crate) use gate::Finish;
pub use layer::{
    CloneRequest, CloneWith, CoordLayer, Errors, NoRetry, Replay, Responses, Retrying,
};
pub(crate) use limiters::{Reservable, ReservableFor};
pub use service::{CoordService, Respond, RespondService};

#[doc(no_inline)]
pub use tower_service::Service;
