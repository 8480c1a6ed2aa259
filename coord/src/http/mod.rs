//! Serving coord over HTTP (cargo feature `http`): Prometheus metrics, the JSON report, a
//! readiness probe and a live dashboard.
//!
//! | route | answer |
//! |---|---|
//! | `GET /metrics` | [`Report::to_prometheus`](crate::Report::to_prometheus), `text/plain; version=0.0.4; charset=utf-8`; to `Accept: application/openmetrics-text` (preferred over `text/plain`), [`Report::to_openmetrics`](crate::Report::to_openmetrics), `application/openmetrics-text; version=1.0.0; charset=utf-8` (with exemplars under feature `otel`) |
//! | `GET /report.json` | [`Report::to_json`](crate::Report::to_json), `application/json` |
//! | `GET /health/ready` | readiness: the [system health](crate::PerformanceMonitor::system_health) as JSON, `200` unless the status is unhealthy, then `503`; the JSON says which inputs count and why |
//! | `GET /health` | the same as `/health/ready` |
//! | `GET /health/live` | liveness: `200` with `{"status":"live"}` whenever the server answers at all |
//! | `GET /` | the live dashboard: one HTML page without external assets that polls `report.json` |
//! | `GET`, `POST`, `DELETE /chaos` | fault injection ([`coord::chaos`](crate::chaos)): only with a [chaos token](ServeConfig::chaos_token), and only to it; `404` otherwise |
//!
//! The probes (`/health`, `/health/ready`, `/health/live`) answer without the bearer token
//! unless asked, on the connections kept for them, outside the reports' budget. Readiness
//! judges the application (its error rate, latency, breakers, and this process's CPU and
//! memory), never the machine's figures, which it reports for information only.
//!
//! [`serve`] and `router()` start the process-wide [monitor](crate::monitor), so the report's
//! `system` section and the health's CPU and memory figures exist without further setup
//! ([`ServeConfig::start_monitor`]`(false)` leaves that to the program).
//!
//! `HEAD` is answered like `GET` without a body; other methods get `405`, other paths `404`.
//! [`serve`] runs the routes on a thread and a tokio runtime of its own, so it works the same from
//! a plain `main` and from inside an async program. With the `axum` feature, `router()` offers
//! the same routes as an `axum::Router` to mount in a service that already runs axum.
//!
//! [`serve_with`] and `router_with` take a [`ServeConfig`]: the server's limits (time-outs per
//! request, for the first request head and between keep-alive requests; caps on connections,
//! requests per connection, pipelined requests and reports in flight, with connections kept
//! for the probe and a fast `503` past them) and who may read the answers (a bearer token, a
//! `Host` allow-list, redacted error messages). Every answer carries `X-Content-Type-Options:
//! nosniff` and a Content-Security-Policy with `frame-ancestors 'none'`.
//!
//! ```
//! let server = coord::http::serve("127.0.0.1:0")?;
//! println!("dashboard at http://{}/", server.local_addr());
//! server.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```

#[cfg(feature = "axum")]
mod axum_router;
mod chaos;
mod config;
mod csp;
mod routes;
mod server;

#[cfg(feature = "axum")]
pub use axum_router::{router, router_with};
pub use config::ServeConfig;
pub use server::{Server, serve, serve_with};
