//! The routes as an `axum::Router` (cargo feature `axum`).

use axum::Router;
use axum::routing::get;

use super::routes::Route;

/// The coord routes (`/`, `/metrics`, `/report.json`, `/health`; see the
/// [module docs](super)) as an `axum::Router`, to merge or nest into a service that runs axum:
///
/// ```
/// let app: axum::Router = axum::Router::new()
///     .route("/hello", axum::routing::get(|| async { "hello" }))
///     .merge(coord::http::router());
/// # drop(app);
/// ```
///
/// The dashboard fetches `report.json` relative to its own path, so nesting works too:
/// `Router::new().nest("/coord", coord::http::router())` serves it at `/coord`.
pub fn router() -> Router {
    // An entry point: `COORD_CONFIG` applies before the first request is served.
    crate::config::ensure_env_loaded();
    Router::new()
        .route("/", get(|| Route::Dashboard.get()))
        .route("/metrics", get(|| Route::Metrics.get()))
        .route("/report.json", get(|| Route::Report.get()))
        .route("/health", get(|| Route::Health.get()))
}
