//! The routes, shared by the hyper server and the axum router.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Response, StatusCode};

use crate::perf::SystemHealth;
use crate::status::HealthStatus;

/// The response type of every route.
pub(crate) type Reply = Response<Full<Bytes>>;

/// The dashboard page: self-contained HTML, CSS and JavaScript.
pub(crate) const DASHBOARD: &str = include_str!("dashboard.html");

/// The Prometheus text format's content type.
pub(crate) const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One of the routes coord serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Dashboard,
    Metrics,
    Report,
    Health,
}

impl Route {
    fn of(path: &str) -> Option<Route> {
        match path {
            "/" => Some(Route::Dashboard),
            "/metrics" => Some(Route::Metrics),
            "/report.json" => Some(Route::Report),
            "/health" => Some(Route::Health),
            _ => None,
        }
    }

    /// The answer to a `GET` of this route.
    pub(crate) async fn get(self) -> Reply {
        match self {
            Route::Dashboard => reply(
                StatusCode::OK,
                "text/html; charset=utf-8",
                Bytes::from_static(DASHBOARD.as_bytes()),
            ),
            Route::Metrics => reply(
                StatusCode::OK,
                METRICS_CONTENT_TYPE,
                crate::report::build().to_prometheus().into(),
            ),
            Route::Report => match crate::report::build().to_json() {
                Ok(json) => reply(StatusCode::OK, "application/json", json.into()),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            },
            Route::Health => health(crate::compose::health::monitor().system_health()),
        }
    }
}

/// Answers `method path`: the route's answer for `GET` and `HEAD` (hyper leaves out the body of
/// a `HEAD` answer), `405` for another method, `404` for an unknown path.
pub(crate) async fn respond(method: &Method, path: &str) -> Reply {
    let Some(route) = Route::of(path) else {
        return text(StatusCode::NOT_FOUND, format!("no route {path}\n"));
    };
    if method != Method::GET && method != Method::HEAD {
        let mut answer = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} answers GET and HEAD only\n"),
        );
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return answer;
    }
    route.get().await
}

/// `system_health()` never waits (it reads the latest sample, or the host at once before the
/// first one), so it runs on the server's own thread.
fn health(health: SystemHealth) -> Reply {
    let status = if health.health_status == HealthStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    match serde_json::to_string(&health) {
        Ok(json) => reply(status, "application/json", json.into()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

fn text(status: StatusCode, body: String) -> Reply {
    reply(status, "text/plain; charset=utf-8", body.into())
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Reply {
    let mut answer = Response::new(Full::new(body));
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

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::of("/"), Some(Route::Dashboard));
        assert_eq!(Route::of("/metrics"), Some(Route::Metrics));
        assert_eq!(Route::of("/report.json"), Some(Route::Report));
        assert_eq!(Route::of("/health"), Some(Route::Health));
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
}
