//! The routes and the checks in front of them (`Host`, bearer token, the reports' budget),
//! shared by the hyper server and the axum router.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame, SizeHint};
use hyper::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderMap, HeaderValue,
    RETRY_AFTER, VARY, WWW_AUTHENTICATE,
};
use hyper::{Method, Response, StatusCode, Uri};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::ServeConfig;
use super::csp;
use crate::contract::exposition::Format;
use crate::perf::SystemHealth;
use crate::status::HealthStatus;

/// The response type of every route.
pub(crate) type Reply = Response<Body>;

/// The dashboard page: self-contained HTML, CSS and JavaScript.
pub(crate) const DASHBOARD: &str = include_str!("dashboard.html");

/// The Prometheus text format's content type.
pub(crate) const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The OpenMetrics text format's content type, for a scraper that asks for it.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether `/metrics` answers OpenMetrics to a request with these `Accept` headers: when
/// `application/openmetrics-text` (any version) is acceptable (q above 0) and no less preferred
/// than the 0.0.4 text (`text/plain`, `text/*` or `*/*`). No header, an unreadable one or one
/// that does not name OpenMetrics gets the 0.0.4 text, as before.
pub(crate) fn wants_openmetrics(headers: &HeaderMap) -> bool {
    let mut openmetrics = 0.0f32;
    let mut plain = 0.0f32;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .map_or(0.0, |q| q.clamp(0.0, 1.0));
            if media.eq_ignore_ascii_case("application/openmetrics-text") {
                openmetrics = openmetrics.max(q);
            } else if ["text/plain", "text/*", "*/*"]
                .iter()
                .any(|m| media.eq_ignore_ascii_case(m))
            {
                plain = plain.max(q);
            }
        }
    }
    openmetrics > 0.0 && openmetrics >= plain
}

/// What replaces each error message when errors are redacted.
pub(crate) const REDACTED: &str = "<redacted>";

/// One of the routes coord serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Dashboard,
    Metrics,
    Report,
    /// `/health` and `/health/ready`: the application is ready for traffic.
    Health,
    /// `/health/live`: the process serves.
    Live,
}

impl Route {
    pub(crate) fn of(path: &str) -> Option<Route> {
        match path {
            "/" => Some(Route::Dashboard),
            "/metrics" => Some(Route::Metrics),
            "/report.json" => Some(Route::Report),
            "/health" | "/health/ready" => Some(Route::Health),
            "/health/live" => Some(Route::Live),
            _ => None,
        }
    }

    /// Whether this is a probe route: answered on the connections kept for probes, without
    /// the bearer token unless the configuration asks for it, and outside the reports' budget.
    pub(crate) fn is_probe(self) -> bool {
        matches!(self, Route::Health | Route::Live)
    }

    /// Whether the answer is a rendering of every registry (memory and time grow with them).
    fn is_report(self) -> bool {
        matches!(self, Route::Metrics | Route::Report)
    }
}

/// The largest frame an answer's body hands hyper at a time. hyper asks for the next frame
/// only once it has written the last one, so with the axum router a body (and the budget slot
/// it holds) lives until all but its last MiB is sent, not only until it is built. 1 MiB
/// rather than less: a 6.4 MB `/metrics` in 64 KiB frames took 1.40 x building it in-process,
/// in 1 MiB frames 1.17 x (coord/benches/http.rs, same run, loaded machine).
const FRAME: usize = 1024 * 1024;

/// The body of every answer: the bytes, and the reports' budget slot it holds until hyper
/// has taken its last frame (or the connection is gone).
#[derive(Debug)]
pub(crate) struct Body {
    data: Bytes,
    slot: Option<OwnedSemaphorePermit>,
}

impl Body {
    fn new(data: Bytes) -> Body {
        Body { data, slot: None }
    }

    /// The reports' budget slot this answer holds, for a server that can tell when the
    /// answer is sent and releases it then.
    pub(crate) fn take_slot(&mut self) -> Option<OwnedSemaphorePermit> {
        self.slot.take()
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.data.is_empty() {
            self.slot = None;
            return Poll::Ready(None);
        }
        let take = self.data.len().min(FRAME);
        let frame = self.data.split_to(take);
        if self.data.is_empty() {
            self.slot = None;
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// The parts of a request the routes look at.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl Request<'_> {
    /// The host the request names: the absolute target's authority, else the `Host` header.
    pub(super) fn authority(&self) -> Option<&str> {
        match self.uri.authority() {
            Some(authority) => Some(authority.as_str()),
            None => self.headers.get(HOST).and_then(|h| h.to_str().ok()),
        }
    }

    /// The bearer token offered in `Authorization`, if any.
    pub(super) fn bearer(&self) -> Option<&[u8]> {
        let value = self.headers.get(AUTHORIZATION)?.as_bytes();
        let (scheme, token) = value.split_at_checked(7)?;
        scheme
            .eq_ignore_ascii_case(b"bearer ")
            .then(|| token.trim_ascii())
    }
}

/// Why a request was refused before its route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The host it names is not allowed: `421 Misdirected Request`.
    Host,
    /// The bearer token is missing or wrong: `401 Unauthorized`.
    Token,
}

impl Refusal {
    /// The answer, with the security headers.
    pub(crate) fn answer(self) -> Reply {
        let mut answer = match self {
            Refusal::Host => text(
                StatusCode::MISDIRECTED_REQUEST,
                "this server does not answer for the host this request names\n".into(),
            ),
            Refusal::Token => {
                let mut answer = text(
                    StatusCode::UNAUTHORIZED,
                    "this server needs Authorization: Bearer <token>\n".into(),
                );
                answer.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"coord\""),
                );
                answer
            }
        };
        csp::secure(answer.headers_mut(), false);
        answer
    }
}

/// The routes with one configuration (resolved for the address served) and its budget.
#[derive(Debug)]
pub(crate) struct Routes {
    config: ServeConfig,
    reports: Arc<Semaphore>,
}

impl Routes {
    pub(crate) fn new(config: ServeConfig) -> Routes {
        let reports = Arc::new(Semaphore::new(config.max_concurrent_reports));
        Routes { config, reports }
    }

    pub(crate) fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// Answers `request`: `421` for a host not allowed, `401` without the token, `404` for an
    /// unknown path, `405` for a method but `GET` and `HEAD` (hyper leaves out the body of a
    /// `HEAD` answer), `503` past the reports' budget, else the route's answer. Every answer
    /// carries the security headers.
    pub(crate) async fn respond(&self, request: &Request<'_>) -> Reply {
        let path = request.uri.path();
        let mut answer = match self.check(request, Route::of(path)) {
            Ok(Some(route)) if request.method == Method::GET || request.method == Method::HEAD => {
                return self.get(route, request.headers).await;
            }
            Ok(Some(_)) => {
                method_not_allowed(format!("{path} answers GET and HEAD only\n"), "GET, HEAD")
            }
            Ok(None) => text(StatusCode::NOT_FOUND, format!("no route {path}\n")),
            Err(refusal) => return refusal.answer(),
        };
        csp::secure(answer.headers_mut(), false);
        answer
    }

    /// The checks before a route: `Ok(route)` (`None` for an unknown path) when the request
    /// may go on, `Err(refusal)` when it is refused.
    pub(crate) fn check(
        &self,
        request: &Request<'_>,
        route: Option<Route>,
    ) -> Result<Option<Route>, Refusal> {
        if !self.config.hosts.allows(request.authority()) {
            return Err(Refusal::Host);
        }
        let needs_token = match route {
            Some(route) if route.is_probe() => self.config.health_needs_token,
            _ => true,
        };
        if let Some(token) = &self.config.token
            && needs_token
            && !request
                .bearer()
                .is_some_and(|offered| token.matches(offered))
        {
            return Err(Refusal::Token);
        }
        Ok(route)
    }

    /// The answer to a `GET` of `route` (the checks passed), with the security headers;
    /// `headers` are the request's (`/metrics` follows its `Accept`).
    pub(crate) async fn get(&self, route: Route, headers: &HeaderMap) -> Reply {
        let mut answer = if route.is_report() {
            match Arc::clone(&self.reports).try_acquire_owned() {
                Ok(slot) => {
                    let format = if route == Route::Metrics && wants_openmetrics(headers) {
                        Format::OpenMetrics
                    } else {
                        Format::Prometheus
                    };
                    let mut answer = self.render(route, format).await;
                    answer.body_mut().slot = Some(slot);
                    answer
                }
                Err(_) => self.busy("too many reports being built or sent; retry later\n"),
            }
        } else {
            match route {
                Route::Dashboard => reply(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(DASHBOARD.as_bytes()),
                ),
                Route::Live => live(),
                _ => health(crate::compose::health::monitor().system_health()),
            }
        };
        csp::secure(answer.headers_mut(), route == Route::Dashboard);
        answer
    }

    /// `503 Service Unavailable` with `Retry-After` and the security headers.
    pub(crate) fn busy(&self, why: &str) -> Reply {
        let mut answer = text(StatusCode::SERVICE_UNAVAILABLE, why.to_owned());
        answer.headers_mut().insert(
            RETRY_AFTER,
            HeaderValue::from(self.config.retry_after_secs()),
        );
        csp::secure(answer.headers_mut(), false);
        answer
    }

    /// Builds `/metrics` or `/report.json` on a blocking thread: a large registry takes a
    /// while, and the server's own thread must stay free for the probe.
    async fn render(&self, route: Route, format: Format) -> Reply {
        let redact = self.config.redacts();
        let rendered = tokio::task::spawn_blocking(move || {
            let mut report = crate::report::build();
            if route == Route::Metrics {
                return Ok(match format {
                    Format::Prometheus => (METRICS_CONTENT_TYPE, report.to_prometheus()),
                    Format::OpenMetrics => (OPENMETRICS_CONTENT_TYPE, report.to_openmetrics()),
                });
            }
            if redact {
                redact_errors(&mut report);
            }
            report.to_json().map(|json| ("application/json", json))
        })
        .await;
        match rendered {
            Ok(Ok((content_type, body))) => {
                let mut answer = reply(StatusCode::OK, content_type, body.into());
                if route == Route::Metrics {
                    // The format follows Accept: a cache must not serve one for the other.
                    answer
                        .headers_mut()
                        .insert(VARY, HeaderValue::from_static("accept"));
                }
                answer
            }
            Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("building the report failed: {e}\n"),
            ),
        }
    }
}

/// Replaces every error message of `report` with [`REDACTED`]: the operation, type, severity
/// and counts stay.
fn redact_errors(report: &mut crate::report::Report) {
    let redacted = || Some(REDACTED.to_owned());
    for operation in &mut report.performance.operations {
        if operation.last_error.is_some() {
            operation.last_error = redacted();
        }
    }
    for operation in &mut report.errors.by_operation {
        if operation.last_error.is_some() {
            operation.last_error = redacted();
        }
    }
    for record in &mut report.errors.recent {
        record.message = REDACTED.to_owned();
    }
}

/// `system_health()` never waits (it reads the latest sample, or the host at once before the
/// first one), so it runs on the server's own thread.
fn health(health: SystemHealth) -> Reply {
    // Off unless `coord::objectives::set_readiness(true)`: an objective burning its budget fast.
    let burning = crate::compose::objectives::not_ready();
    let status = if health.health_status == HealthStatus::Unhealthy || burning.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = serde_json::to_value(&health).map(|mut body| {
        // The 503's reason, beside a host that may well be healthy.
        if let (Some(names), Some(fields)) = (burning, body.as_object_mut()) {
            fields.insert("burning_objectives".to_owned(), names.into());
        }
        body
    });
    match body.and_then(|body| serde_json::to_string(&body)) {
        Ok(json) => reply(status, "application/json", json.into()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// The liveness answer: the process is serving requests, whatever the application's state. It
/// looks at nothing else, so an orchestrator restarts the process only when it stops answering.
fn live() -> Reply {
    reply(
        StatusCode::OK,
        "application/json",
        Bytes::from_static(b"{\"status\":\"live\"}"),
    )
}

pub(super) fn text(status: StatusCode, body: String) -> Reply {
    reply(status, "text/plain; charset=utf-8", body.into())
}

/// `405 Method Not Allowed`, saying why in `body`, with the methods the route answers in `Allow`.
pub(super) fn method_not_allowed(body: String, allow: &'static str) -> Reply {
    let mut answer = text(StatusCode::METHOD_NOT_ALLOWED, body);
    answer
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    answer
}

pub(super) fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Reply {
    let mut answer = Response::new(Body::new(body));
    *answer.status_mut() = status;
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Every answer is live data; a cached one would be wrong.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        wants_openmetrics(&headers)
    }

    #[test]
    fn openmetrics_only_when_asked_for_and_preferred() {
        // What Prometheus 2.x sends by default.
        assert!(accept(&[
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ]));
        assert!(accept(&["application/openmetrics-text"]));
        assert!(accept(&["Application/OpenMetrics-Text; version=0.0.1"]));
        assert!(accept(&[
            "text/plain;q=0.5",
            "application/openmetrics-text;q=0.6"
        ]));
        // Equal preference: the more specific format.
        assert!(accept(&["application/openmetrics-text, text/plain"]));

        assert!(!accept(&[]));
        assert!(!accept(&["*/*"]));
        assert!(!accept(&["text/plain;version=0.0.4"]));
        assert!(!accept(&["application/openmetrics-text;q=0"]));
        assert!(!accept(&[
            "application/openmetrics-text;q=0.3, text/plain;q=0.9"
        ]));
        assert!(!accept(&["application/openmetrics-text;q=nonsense"]));
        assert!(!accept(&["application/json"]));
    }

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::of("/"), Some(Route::Dashboard));
        assert_eq!(Route::of("/metrics"), Some(Route::Metrics));
        assert_eq!(Route::of("/report.json"), Some(Route::Report));
        assert_eq!(Route::of("/health"), Some(Route::Health));
        assert_eq!(Route::of("/health/ready"), Some(Route::Health));
        assert_eq!(Route::of("/health/live"), Some(Route::Live));
        assert!(Route::Live.is_probe() && Route::Health.is_probe());
        assert_eq!(Route::of("/health/"), None);
        assert_eq!(Route::of("/metrics/"), None);
        assert_eq!(Route::of(""), None);
    }

    #[test]
    fn the_dashboard_loads_nothing_from_elsewhere() {
        assert!(DASHBOARD.starts_with("<!doctype html>"));
        for outside in ["http://", "https://", "//cdn", "<link", "src="] {
            assert!(!DASHBOARD.contains(outside), "{outside}");
        }
    }

    #[test]
    fn the_dashboard_says_when_an_open_breaker_probes_and_what_the_cards_add() {
        // An idle open breaker whose open time is over read "in 0.0 µs" for ever.
        assert!(DASHBOARD.contains(r#"return "on next call";"#));
        assert!(!DASHBOARD.contains(r#""in " + ms(b.next_probe_in_ms)"#));
        // coord cannot tell a nested call from a top-level one: the cards say what they add.
        assert_eq!(DASHBOARD.matches("nested counted at each level").count(), 2);
        assert!(DASHBOARD.contains("failed ÷ completed tracked calls, all levels"));
        // Unmeasured inputs are shown as such, not as 0.
        assert!(DASHBOARD.contains("not measured"));
    }

    fn bearer(value: &'static str) -> Option<Vec<u8>> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        let uri = Uri::from_static("/");
        let request = Request {
            method: &Method::GET,
            uri: &uri,
            headers: &headers,
        };
        request.bearer().map(<[u8]>::to_vec)
    }

    #[test]
    fn bearer_tokens_are_read_from_authorization() {
        assert_eq!(bearer("Bearer abc"), Some(b"abc".to_vec()));
        assert_eq!(bearer("bearer  abc "), Some(b"abc".to_vec()));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
