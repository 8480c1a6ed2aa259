//! What a request shows beyond coord's registries: its `tracing` span
//! ([`CoordLayer::span`](super::CoordLayer::span)), with OpenTelemetry's HTTP span conventions,
//! and, with the `otel` feature and a meter [registered](crate::otel::register), its duration on
//! `http.server.request.duration` or `http.client.request.duration`. A layer with neither
//! takes none of this: [`Observe::start`] is `None` and the call is not wrapped.
//!
//! A fault injected by `coord::chaos` (an error or a response such as a `503`) is recorded here
//! as what the caller sees, unmarked: these are the caller's view, while the operation's own
//! counts keep it apart (see `coord::chaos`).

use std::future::Future;
use std::sync::Arc;

use http::{Method, Request, Response};
use tracing::{Instrument as _, Span};

use super::error::{Error, Refusal};
use super::layer::Settings;
use super::names::Resolved;
use crate::semconv::{self, Ended, ErrorType};

/// One request being observed.
pub(super) struct Observe {
    span: Option<Span>,
    server: bool,
    #[cfg(feature = "otel")]
    metric: Option<Metric>,
}

/// What the duration histogram needs beyond the span's part.
#[cfg(feature = "otel")]
struct Metric {
    started: std::time::Instant,
    method: &'static str,
    scheme: &'static str,
    route: Option<Arc<str>>,
    address: Option<std::sync::Arc<str>>,
    port: Option<u16>,
}

/// `http.request.method`: a standard method, else the conventions' `_OTHER`.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// `server.port` of a client's request: the URI's, else the scheme's default (with a host only).
fn port<B>(request: &Request<B>) -> Option<u16> {
    let uri = request.uri();
    uri.host()?;
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })
}

/// `url.scheme` of a request (a server's request URI has none: `http`).
fn scheme<B>(request: &Request<B>) -> &'static str {
    match request.uri().scheme_str() {
        Some("https") => "https",
        _ => "http",
    }
}

impl Observe {
    /// Starts observing `request` of `operation`, if the layer asks for a span or a meter has
    /// the duration instruments.
    #[inline]
    pub(super) fn start<B>(
        settings: &Settings,
        operation: &Resolved,
        request: &Request<B>,
    ) -> Option<Self> {
        #[cfg(feature = "otel")]
        let timed = crate::otel::http::enabled() && crate::recording::enabled();
        #[cfg(not(feature = "otel"))]
        let timed = false;
        if !settings.span && !timed {
            return None;
        }
        Some(Self::started(settings, operation, request, timed))
    }

    #[cold]
    fn started<B>(
        settings: &Settings,
        operation: &Resolved,
        request: &Request<B>,
        timed: bool,
    ) -> Self {
        let server = settings.server;
        let method = method_name(request.method());
        let route = operation.route.as_ref();
        // A request's span: its side's fields, then those of every request (how it ended, filled
        // in by `around`).
        macro_rules! request_span {
            ($name:literal, $($side:tt)*) => {
                tracing::info_span!(
                    target: "coord::tower",
                    $name,
                    $($side)*
                    "coord.operation" = &*operation.name,
                    "http.response.status_code" = tracing::field::Empty,
                    "otel.status_code" = tracing::field::Empty,
                    "error.type" = tracing::field::Empty,
                    "coord.outcome" = tracing::field::Empty,
                )
            };
        }
        let span = settings.span.then(|| {
            if server {
                let name = tracing::field::display(DisplayName(method, route));
                request_span!(
                    "http.server.request",
                    "otel.name" = name,
                    "otel.kind" = "server",
                    "http.request.method" = method,
                    "http.route" = route.map(|route| &**route),
                    "url.scheme" = scheme(request),
                )
            } else {
                request_span!(
                    "http.client.request",
                    "otel.name" = method,
                    "otel.kind" = "client",
                    "http.request.method" = method,
                    "server.address" = request.uri().host(),
                    "server.port" = port(request),
                )
            }
        });
        #[cfg(feature = "otel")]
        let metric = timed.then(|| Metric {
            started: std::time::Instant::now(),
            method,
            scheme: scheme(request),
            route: route.cloned(),
            address: (!server)
                .then(|| request.uri().host().map(std::sync::Arc::from))
                .flatten(),
            port: (!server).then(|| port(request)).flatten(),
        });
        #[cfg(not(feature = "otel"))]
        let _ = timed;
        Self {
            span,
            server,
            #[cfg(feature = "otel")]
            metric,
        }
    }

    /// `call` inside the span, then the span and the histogram told how it ended.
    pub(super) async fn around<F, ResB, E>(self, call: F) -> Result<Response<ResB>, Error<E>>
    where
        F: Future<Output = Result<Response<ResB>, Error<E>>>,
    {
        let mut open = Open(self.span.as_ref());
        let answer = call
            .instrument(self.span.clone().unwrap_or_else(Span::none))
            .await;
        open.0 = None;
        let (status, ended) = self.ended(&answer);
        if let Some(span) = &self.span {
            if let Some(status) = status {
                span.record("http.response.status_code", status);
            }
            if let Some(ended) = ended {
                semconv::finish(span, ended);
            }
        }
        #[cfg(feature = "otel")]
        if let Some(metric) = &self.metric {
            self.record(metric, status, ended);
        }
        answer
    }

    /// The status the caller sees (a server's rejection is answered 503 or 429) and how the
    /// request ended, when it did not simply succeed: by the conventions a server's 5xx and a
    /// client's 4xx or 5xx are errors.
    fn ended<ResB, E>(
        &self,
        answer: &Result<Response<ResB>, Error<E>>,
    ) -> (Option<u16>, Option<Ended>) {
        let failed_at = if self.server { 500 } else { 400 };
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                // A gRPC error travels in a 200's `grpc-status`: judged as its HTTP equivalent.
                let counted = super::classify::counted(response);
                let error = match counted.grpc_error() {
                    Some(name) => ErrorType::Name(name),
                    None => ErrorType::Status(counted.status),
                };
                let ended = (counted.status >= failed_at).then_some(Ended::Failure(error));
                (Some(status), ended)
            }
            Err(error) => {
                // Only the inner service's own error has no refusal.
                let Some(Refusal { status, name, .. }) = error.refusal() else {
                    return (
                        None,
                        Some(Ended::Failure(ErrorType::Name(std::any::type_name::<E>()))),
                    );
                };
                // A server answers with the status (a 429 is no error of the server's, as for
                // any 4xx it answers); a client's caller gets the error.
                let (status, error_type) = if self.server {
                    let status = status.as_u16();
                    (
                        Some(status),
                        (status >= failed_at).then_some(ErrorType::Status(status)),
                    )
                } else {
                    (None, Some(ErrorType::Name(name)))
                };
                let ended = match error_type {
                    Some(error_type) if !error.is_rejection() => Ended::Failure(error_type),
                    error_type => Ended::Rejected(error_type),
                };
                (status, Some(ended))
            }
        }
    }

    #[cfg(feature = "otel")]
    #[inline(never)]
    fn record(&self, metric: &Metric, status: Option<u16>, ended: Option<Ended>) {
        use crate::otel::http::{Side, record};
        let error = match ended {
            Some(Ended::Failure(error) | Ended::Rejected(Some(error))) => Some(error),
            _ => None,
        };
        // A type name or a gRPC code's is static: no copy; a status is formatted once.
        let error = error.map(|error| match error {
            ErrorType::Name(name) => std::borrow::Cow::Borrowed(name),
            ErrorType::Status(status) => std::borrow::Cow::Owned(status.to_string()),
            ErrorType::Other => std::borrow::Cow::Borrowed("_OTHER"),
        });
        let side = if self.server {
            Side::Server
        } else {
            Side::Client
        };
        record(
            side,
            metric.started.elapsed(),
            crate::otel::http::Request {
                method: metric.method,
                scheme: metric.scheme,
                route: metric.route.as_ref(),
                address: metric.address.as_ref(),
                port: metric.port,
                status,
                error,
            },
        );
    }
}

/// The conventions' span name: `{method} {route}`, or the method alone.
struct DisplayName<'a>(&'static str, Option<&'a Arc<str>>);

impl std::fmt::Display for DisplayName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(route) => write!(f, "{} {route}", self.0),
            None => f.write_str(self.0),
        }
    }
}

/// A request's span until it ends: marked cancelled if the request's future is dropped first.
struct Open<'s>(Option<&'s Span>);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if let Some(span) = self.0 {
            semconv::finish(span, Ended::Cancelled);
        }
    }
}
