//! The tower layer's requests as OpenTelemetry's HTTP semantic-convention histograms:
//! `http.server.request.duration` (a [`CoordLayer::server`](crate::tower::CoordLayer::server))
//! and `http.client.request.duration` (any other `CoordLayer`), in seconds, with the
//! conventions' attributes and bucket boundaries. Unlike coord's own families, read from the
//! registries at each collection, these are recorded as each request ends: the HTTP status is
//! not in any registry. The Prometheus exposition is unchanged (it has coord's per-route
//! operations).
//!
//! [`register`](super::register) creates them on its meter; a layer records into the instruments
//! of every meter registered (at most [`MAX_METERS`], the latest ones: recording into a provider
//! shut down does nothing), and into none before one is. A request dropped before it ends (its
//! caller gone) has no status and is not counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter};

/// The server side's instrument.
pub const SERVER_DURATION: &str = "http.server.request.duration";
/// The client side's instrument.
pub const CLIENT_DURATION: &str = "http.client.request.duration";

/// The boundaries the conventions advise for both (seconds).
const BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

struct Instruments {
    server: Histogram<f64>,
    client: Histogram<f64>,
}

/// The meters a request records into, at most: past it, the earliest registered is dropped.
const MAX_METERS: usize = 8;

/// Set once a meter has the instruments: until then a request reads one atomic.
static REGISTERED: AtomicBool = AtomicBool::new(false);
static INSTRUMENTS: RwLock<Vec<Arc<Instruments>>> = RwLock::new(Vec::new());

/// Creates both instruments on `meter` (the ones requests record into from now on).
pub(super) fn register(meter: &Meter) {
    let histogram = |name: &'static str, description: &'static str| {
        meter
            .f64_histogram(name)
            .with_description(description)
            .with_unit("s")
            .with_boundaries(BOUNDARIES.to_vec())
            .build()
    };
    let instruments = Instruments {
        server: histogram(SERVER_DURATION, "Duration of HTTP server requests."),
        client: histogram(CLIENT_DURATION, "Duration of HTTP client requests."),
    };
    let mut registered = INSTRUMENTS.write().unwrap_or_else(PoisonError::into_inner);
    if registered.len() >= MAX_METERS {
        registered.remove(0);
    }
    registered.push(Arc::new(instruments));
    REGISTERED.store(true, Ordering::Release);
}

/// Which side of a request a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// `http.server.request.duration`.
    Server,
    /// `http.client.request.duration`.
    Client,
}

/// Whether a request should be timed at all: a meter has the instruments.
#[inline]
pub(crate) fn enabled() -> bool {
    REGISTERED.load(Ordering::Acquire)
}

/// One finished request, as the conventions describe it.
pub(crate) struct Request<'a> {
    /// `http.request.method`: a standard method, or `_OTHER`.
    pub(crate) method: &'static str,
    /// `url.scheme` (server side).
    pub(crate) scheme: &'static str,
    /// `http.route` (server side, when the layer matched one).
    pub(crate) route: Option<&'a Arc<str>>,
    /// `server.address` (client side).
    pub(crate) address: Option<&'a Arc<str>>,
    /// `server.port` (client side).
    pub(crate) port: Option<u16>,
    /// `http.response.status_code`, when there was a response.
    pub(crate) status: Option<u16>,
    /// `error.type`, when the request failed (a type name is static: no copy).
    pub(crate) error: Option<std::borrow::Cow<'static, str>>,
}

/// Records one request's duration on its side's instrument.
pub(crate) fn record(side: Side, took: Duration, request: Request<'_>) {
    let mut attributes = Vec::with_capacity(6);
    attributes.push(KeyValue::new("http.request.method", request.method));
    match side {
        Side::Server => {
            attributes.push(KeyValue::new("url.scheme", request.scheme));
            if let Some(route) = request.route {
                attributes.push(KeyValue::new("http.route", Arc::clone(route)));
            }
        }
        Side::Client => {
            if let Some(address) = request.address {
                attributes.push(KeyValue::new("server.address", Arc::clone(address)));
            }
            if let Some(port) = request.port {
                attributes.push(KeyValue::new("server.port", i64::from(port)));
            }
        }
    }
    if let Some(status) = request.status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    if let Some(error) = request.error {
        attributes.push(KeyValue::new("error.type", error));
    }
    let seconds = took.as_secs_f64();
    for instruments in INSTRUMENTS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        let histogram = match side {
            Side::Server => &instruments.server,
            Side::Client => &instruments.client,
        };
        histogram.record(seconds, &attributes);
    }
}
