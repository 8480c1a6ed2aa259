//! [`CoordLayer`]: the builder, its settings and its `tower_layer::Layer` implementations.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use tower_layer::Layer;

use super::classify::DEFAULT_STATUS_RULE;
use super::error::ConfigError;
use super::limiters::{Configured, ReservedConfigs};
use super::names::Shared;
use super::service::{CoordService, RespondService};
use crate::breaker::BreakerConfig;
use crate::hedge::HedgeConfig;
use crate::outcome::StatusRule;
use crate::retry::RetryPolicy;

/// What a [`CoordLayer`] was configured with.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) name: Arc<str>,
    pub(super) per_route: bool,
    pub(super) per_host: bool,
    pub(super) track: bool,
    pub(super) breaker: Option<BreakerConfig>,
    /// The limiters `poll_ready` reserves, set by their builder methods (in their folders).
    pub(super) reserved: ReservedConfigs,
    pub(super) timeout: Option<Duration>,
    pub(super) total_timeout: Option<Duration>,
    pub(super) retry: Option<RetryPolicy>,
    /// `hedge(..)`: races attempts (needs a replayable request, so it comes with `Retrying`).
    pub(super) hedge: Option<HedgeConfig>,
    pub(super) failure: StatusRule,
    /// `span()`: a `tracing` span per request.
    pub(super) span: bool,
    /// Made by `server()`: the server side of the HTTP conventions.
    pub(super) server: bool,
}

/// The request replay of a [`CoordLayer`] without retries: requests are sent once, so they need
/// not be cloneable.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRetry;

/// The retry mode of a [`CoordLayer`] with [`retry`](CoordLayer::retry): `C` makes each
/// attempt's request ([`CloneRequest`] or [`CloneWith`]).
#[derive(Clone, Debug)]
pub struct Retrying<C>(pub(super) C);

/// The request replay of [`CoordLayer::retry`]: every attempt sends a clone of the request
/// (`http::Request<B>` is `Clone` when its body is).
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneRequest;

/// The request replay of [`CoordLayer::retry_with`]: every attempt sends what the function
/// makes of the original request (for bodies that are not `Clone`, such as a buffered body
/// rebuilt from its bytes).
pub struct CloneWith<F>(pub(super) Arc<F>);

impl<F> Clone for CloneWith<F> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<F> fmt::Debug for CloneWith<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CloneWith(..)")
    }
}

/// How an attempt gets its request: implemented by [`CloneRequest`] and [`CloneWith`].
pub trait Replay<B>: Clone + Send + Sync + 'static {
    /// The request of one attempt.
    fn replay(&self, original: &Request<B>) -> Request<B>;
}

impl<B: Clone> Replay<B> for CloneRequest {
    #[inline]
    fn replay(&self, original: &Request<B>) -> Request<B> {
        original.clone()
    }
}

impl<B, F> Replay<B> for CloneWith<F>
where
    F: Fn(&Request<B>) -> Request<B> + Send + Sync + 'static,
{
    #[inline]
    fn replay(&self, original: &Request<B>) -> Request<B> {
        (self.0)(original)
    }
}

/// The answer mode of a client layer: a rejection or time-out is an [`Error`](super::Error).
#[derive(Clone, Copy, Debug, Default)]
pub struct Errors;

/// The answer mode of a server layer ([`CoordLayer::server`]): a rejection or time-out is a
/// response (503, or 429 for a rate limit, with `Retry-After`), and the service's error type is
/// the inner service's (`Infallible` for axum routes).
#[derive(Clone, Copy, Debug, Default)]
pub struct Responses;

/// The tower layer of coord: see the [module docs](super). Built like the attributes are
/// written (`.retry(..)`, `.circuit_breaker(..)`, `.timeout(..)`, ...); cheap to clone (the
/// services of every clone share one set of registry handles).
pub struct CoordLayer<R = NoRetry, M = Errors> {
    settings: Settings,
    shared: Arc<Shared>,
    replay: R,
    mode: PhantomData<fn() -> M>,
}

impl<R: Clone, M> Clone for CoordLayer<R, M> {
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            shared: Arc::clone(&self.shared),
            replay: self.replay.clone(),
            mode: PhantomData,
        }
    }
}

impl<R, M> fmt::Debug for CoordLayer<R, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        let mut d = f.debug_struct("CoordLayer");
        d.field("name", &s.name)
            .field("per_route", &s.per_route)
            .field("per_host", &s.per_host)
            .field("track_performance", &s.track)
            .field("span", &s.span)
            .field("circuit_breaker", &s.breaker);
        s.reserved.debug_fields(&mut d);
        d.field("timeout", &s.timeout)
            .field("total_timeout", &s.total_timeout)
            .field("retry", &s.retry.as_ref().map(RetryPolicy::settings))
            .field("hedge", &s.hedge)
            .finish()
    }
}

impl CoordLayer {
    /// A layer whose operation and mechanisms are named `name`, with no layer configured yet (a
    /// pass-through until a builder method adds one). Rejections are errors: the client side.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        let settings = Settings {
            name: name.into(),
            per_route: false,
            per_host: false,
            track: false,
            breaker: None,
            reserved: ReservedConfigs::default(),
            timeout: None,
            total_timeout: None,
            retry: None,
            hedge: None,
            failure: DEFAULT_STATUS_RULE,
            span: false,
            server: false,
        };
        Self {
            shared: Arc::new(Shared::new(settings.clone())),
            settings,
            replay: NoRetry,
            mode: PhantomData,
        }
    }

    /// A server layer: [`per_route`](Self::per_route) names,
    /// [`rejections_as_responses`](Self::rejections_as_responses), and the crate's
    /// [`StatusRule::DEFAULT`] (a 429 the handler answers is its choice, a success, as for
    /// `#[track_performance]`; only 5xx fail), for axum's `Router::route_layer`.
    pub fn server(name: impl Into<Arc<str>>) -> CoordLayer<NoRetry, Responses> {
        Self::new(name)
            .set(|s| s.server = true)
            .per_route()
            .status_rule(StatusRule::DEFAULT)
            .rejections_as_responses()
    }
}

impl<M> CoordLayer<NoRetry, M> {
    /// Retries failed attempts (an inner error, a failed status, a time-out) as `policy`
    /// allows; each attempt sends a clone of the request (`B: Clone`).
    pub fn retry(self, policy: RetryPolicy) -> CoordLayer<Retrying<CloneRequest>, M> {
        self.with_retry(policy, Retrying(CloneRequest))
    }

    /// [`retry`](Self::retry) with `clone` making each attempt's request from the original
    /// (for bodies that are not `Clone`).
    pub fn retry_with<B, F>(
        self,
        policy: RetryPolicy,
        clone: F,
    ) -> CoordLayer<Retrying<CloneWith<F>>, M>
    where
        F: Fn(&Request<B>) -> Request<B> + Send + Sync + 'static,
    {
        self.with_retry(policy, Retrying(CloneWith(Arc::new(clone))))
    }

    /// Hedges every request as `#[hedge]` does (see [`hedge`](macro@crate::hedge)): after the
    /// delay, another attempt sends a clone of the request (`B: Clone`) through a clone of
    /// the service; the first success answers and the others are dropped. Only for idempotent
    /// requests. Each attempt passes the breaker, rate limit and bulkhead on its own; the
    /// hedge is named after the operation (per route with [`per_route`](Self::per_route)).
    /// To retry as well, call [`retry`](Self::retry) first and this method after it.
    pub fn hedge(mut self, config: HedgeConfig) -> CoordLayer<Retrying<CloneRequest>, M> {
        self.settings.hedge = Some(config);
        self.with_replay(None, Retrying(CloneRequest))
    }

    fn with_retry<R>(self, policy: RetryPolicy, replay: R) -> CoordLayer<R, M> {
        self.with_replay(Some(policy), replay)
    }

    fn with_replay<R>(mut self, policy: Option<RetryPolicy>, replay: R) -> CoordLayer<R, M> {
        self.settings.retry = policy;
        CoordLayer {
            shared: Arc::new(Shared::new(self.settings.clone())),
            settings: self.settings,
            replay,
            mode: PhantomData,
        }
    }
}

impl<C, M> CoordLayer<Retrying<C>, M> {
    /// Hedges every request (see [`CoordLayer::hedge`]), each attempt sending the request this
    /// layer's retries send.
    pub fn hedge(self, config: HedgeConfig) -> Self {
        self.set(|s| s.hedge = Some(config))
    }
}

impl<R, M> CoordLayer<R, M> {
    fn set(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self.shared = Arc::new(Shared::new(self.settings.clone()));
        self
    }

    /// Times every request and records its outcome under the operation's name, as
    /// `#[track_performance]` does.
    pub fn track_performance(self) -> Self {
        self.set(|s| s.track = true)
    }

    /// Joins the layer's operation (and, with [`per_route`](Self::per_route), every route's) to
    /// the objective `objective` (see [`crate::objectives`]), and times the requests as
    /// [`track_performance`](Self::track_performance) does, since an objective counts timed
    /// calls. The join is made now, process-wide, whether the objective is declared yet or not.
    pub fn objective(self, objective: &str) -> Self {
        crate::objective::join_layer(&self.settings.name, objective);
        self.track_performance()
    }

    /// Runs every request in a `tracing` span at INFO following OpenTelemetry's HTTP span
    /// conventions: `otel.kind` `server` (for [`server`](CoordLayer::server)) or `client`,
    /// `otel.name` (`GET /users/{id}` on a server that matched a route, the method otherwise),
    /// `http.request.method`, `http.route` and `url.scheme` (server), `server.address` and `server.port` (client),
    /// `http.response.status_code`, and `coord.operation`. A server's 5xx, a client's 4xx or
    /// 5xx and an error set `otel.status_code = "ERROR"` and `error.type` (the status, or the
    /// error's type); a rejection is marked `coord.outcome = "rejected"`, a dropped request
    /// `coord.outcome = "cancelled"`. Retries, rejections and time-outs are events of the
    /// span. The span's static name is `http.server.request` or `http.client.request`
    /// (`tracing-opentelemetry` names the OpenTelemetry span after `otel.name`).
    pub fn span(self) -> Self {
        self.set(|s| s.span = true)
    }

    /// Guards every attempt with the circuit breaker named after the operation, as
    /// `#[circuit_breaker]` does. A breaker that exists already (from a configuration file, or
    /// another user of the name) keeps its configuration, as at an attribute's call site.
    pub fn circuit_breaker(self, config: BreakerConfig) -> Self {
        self.set(|s| s.breaker = Some(config))
    }

    /// Keys the circuit breaker by the request's host (`host:port` of the URI, or its `Host`
    /// header): a keyed breaker group named after the layer, as
    /// `#[circuit_breaker(key = host)]`. Needs [`circuit_breaker`](Self::circuit_breaker).
    pub fn breaker_per_host(self) -> Self {
        self.set(|s| s.per_host = true)
    }

    /// Ends every attempt after `limit` (the inner future is dropped): a failure for the
    /// breaker, retryable, counted in the report's time-outs.
    pub fn timeout(self, limit: Duration) -> Self {
        self.set(|s| s.timeout = Some(limit))
    }

    /// Ends the whole request, retries and back-off sleeps included, after `limit`.
    pub fn total_timeout(self, limit: Duration) -> Self {
        self.set(|s| s.total_timeout = Some(limit))
    }

    /// Configures the limiter `L`, one of those `poll_ready` reserves: what its builder method
    /// (`CoordLayer::bulkhead`, in its folder's `tower.rs`) does.
    pub(crate) fn reserve<L: Configured>(self, config: L::Config) -> Self {
        self.set(|s| *L::config(&mut s.reserved) = Some(config))
    }

    /// Names the operation after the route axum matched (`"{name} {METHOD} {route}"`, e.g.
    /// `"api GET /users/{id}"`), read from axum's `MatchedPath`, which `Router::route_layer`
    /// provides: one series per route whatever the path parameters. Methods outside the
    /// standard nine are named `OTHER`. A gRPC call (tonic: `content-type: application/grpc`)
    /// is named after its method instead (`"{name} POST /package.Service/Method"`), since a
    /// gRPC server matches one route per service. At most 1,024 routes per layer: past them,
    /// and without the `axum` feature or a matched route, the operation keeps the layer's name.
    pub fn per_route(self) -> Self {
        self.set(|s| s.per_route = true)
    }

    /// Which response statuses are failures, by the crate's [`StatusRule`] (default:
    /// [`DEFAULT_STATUS_RULE`](super::DEFAULT_STATUS_RULE), 5xx and 429); a status the rule
    /// gives any other outcome counts as a success.
    pub fn status_rule(self, rule: StatusRule) -> Self {
        self.set(|s| s.failure = rule)
    }

    /// Answers rejections and time-outs with a response instead of an error (the server side).
    pub fn rejections_as_responses(self) -> CoordLayer<R, Responses> {
        CoordLayer {
            settings: self.settings,
            shared: self.shared,
            replay: self.replay,
            mode: PhantomData,
        }
    }

    /// The name the layer's operation and mechanisms are registered under.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Checks every configuration given to the builder. An invalid one is otherwise reported
    /// as a `tracing` error when the layer first runs, and the mechanism keeps the registry's
    /// configuration (the defaults for a new one).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.settings;
        if let Some(config) = &s.breaker {
            config.validate().map_err(ConfigError::Breaker)?;
        }
        s.reserved.validate()?;
        if let Some(config) = &s.hedge {
            config.validate().map_err(ConfigError::Hedge)?;
        }
        if s.timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout("timeout"));
        }
        if s.total_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout("total_timeout"));
        }
        Ok(())
    }
}

impl<S, R: Clone> Layer<S> for CoordLayer<R, Errors> {
    type Service = CoordService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        CoordService::new(inner, Arc::clone(&self.shared), self.replay.clone())
    }
}

impl<S, R: Clone> Layer<S> for CoordLayer<R, Responses> {
    type Service = RespondService<CoordService<S, R>>;

    fn layer(&self, inner: S) -> Self::Service {
        RespondService::new(CoordService::new(
            inner,
            Arc::clone(&self.shared),
            self.replay.clone(),
        ))
    }
}
