//! The routes as an `axum::Router` (cargo feature `axum`).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{any, get};
use hyper::header::CONTENT_SECURITY_POLICY;

use super::config::ServeConfig;
use super::csp;
use super::routes::{self, Route, Routes};

/// The coord routes (`/`, `/metrics`, `/report.json`, `/health`, `/health/live`,
/// `/health/ready`; see the [module docs](super)) as an `axum::Router`, to merge or nest into a
/// service that runs axum, with the default [`ServeConfig`]: the same as
/// `router_with(ServeConfig::default())`. Like [`serve`](super::serve) it starts the
/// [monitor](crate::monitor) (see [`ServeConfig::start_monitor`]).
///
/// The router is generic over the application's state `S`, so it merges into a
/// `Router<AppState>` as it is (its own routes use no state):
///
/// ```
/// #[derive(Clone)]
/// struct AppState {
///     greeting: &'static str,
/// }
///
/// let app: axum::Router = axum::Router::new()
///     .route(
///         "/hello",
///         axum::routing::get(|axum::extract::State(s): axum::extract::State<AppState>| async move {
///             s.greeting
///         }),
///     )
///     .merge(coord::http::router())
///     .with_state(AppState { greeting: "hello" });
/// # drop(app);
/// ```
///
/// The dashboard fetches `report.json` relative to its own path, so nesting works too:
/// `Router::new().nest("/coord", coord::http::router())` serves it at `/coord`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(ServeConfig::default())
}

/// The coord routes as an `axum::Router`, like [`router`], with the exposure settings of
/// `config`: the bearer token, the `Host` allow-list, error redaction and the budget of
/// `/metrics` and `/report.json` answers (see [`ServeConfig`]).
///
/// A router cannot know the address it is served on, so by default it answers any `Host` and
/// redacts error messages. The time-outs and connection limits of `config` are the server's
/// and do not apply here: set them on the server that runs the service (hyper's
/// `http1::Builder`, tower-http's `TimeoutLayer`, tower's `ConcurrencyLimitLayer`).
///
/// ```
/// let config = coord::http::ServeConfig::default()
///     .bearer_token("s3cret-token")
///     .allowed_hosts(["metrics.internal"]);
/// let app: axum::Router = axum::Router::new().nest("/coord", coord::http::router_with(config));
/// # drop(app);
/// ```
pub fn router_with<S>(config: ServeConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // An entry point: `COORD_CONFIG` applies before the first request is served.
    crate::config::ensure_env_loaded();
    config.start_monitor_if_asked();
    let routes = Arc::new(Routes::new(config.resolve(None)));
    let handler = |route: Route| {
        let routes = Arc::clone(&routes);
        move |request: Request| async move { answer(&routes, route, request).await }
    };
    let mut router = Router::new();
    // Only with a chaos token: a route of the application's own at `/chaos` stays its own.
    if routes.config().chaos_token.is_some() {
        let routes = Arc::clone(&routes);
        router = router.route(
            super::chaos::PATH,
            any(move |request: Request| {
                let routes = Arc::clone(&routes);
                async move { chaos(&routes, request).await }
            }),
        );
    }
    router
        .route("/", get(handler(Route::Dashboard)))
        .route("/metrics", get(handler(Route::Metrics)))
        .route("/report.json", get(handler(Route::Report)))
        .route("/health", get(handler(Route::Health)))
        .route("/health/ready", get(handler(Route::Health)))
        .route("/health/live", get(handler(Route::Live)))
        // The answers axum writes itself (`405`) get the security headers too.
        .layer(axum::middleware::map_response(
            |mut answer: Response| async move {
                if !answer.headers().contains_key(CONTENT_SECURITY_POLICY) {
                    csp::secure(answer.headers_mut(), false);
                }
                answer
            },
        ))
}

async fn answer(routes: &Routes, route: Route, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let view = routes::Request {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
    };
    let answer = match routes.check(&view, Some(route)) {
        Ok(_) => routes.get(route, &parts.headers).await,
        Err(refusal) => refusal.answer(),
    };
    answer.map(axum::body::Body::new)
}

async fn chaos(routes: &Routes, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let view = routes::Request {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
    };
    routes.chaos(&view, body).await.map(axum::body::Body::new)
}
