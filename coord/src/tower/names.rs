//! Where a [`CoordLayer`](super::CoordLayer)'s services find their registry entries: resolved
//! once per layer (the service-wide gates) and once per operation name (its timing, breaker,
//! time-out counter and retry recorder), kept by the layer so that a request takes one map read
//! at most. Names are bounded: the layer's, or one per route axum matched.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};

use http::{Method, Request};

use super::layer::Settings;
use super::limiters::Limiters;
use crate::breaker::{self, CircuitBreaker, KeyedBreakers};
use crate::compose::retry::RowRecorder;
use crate::errors::Severity;
use crate::hedge::Hedge;
use crate::locks;
use crate::perf::{self, Operation};
use crate::retry::RetryBudget;
use crate::timeout::counters::{TimeoutCounter, timeout_count};

/// Routes (axum's matched paths, gRPC methods) a layer names operations after; past it (a
/// router of more routes, or gRPC method names made up by clients) a request belongs to the
/// layer's own operation, so no client can make names without bound.
const MAX_CACHED_ROUTES: usize = 1024;

/// The longest gRPC service or method name taken as a route.
const MAX_GRPC_NAME: usize = 128;

/// The standard methods (named as they are) and `OTHER` for the rest, so that request methods
/// cannot make names without bound.
const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE", "OTHER",
];

fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::HEAD => 4,
        Method::OPTIONS => 5,
        Method::PATCH => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ => 9,
    }
}

/// What every service of one layer shares.
pub(super) struct Shared {
    pub(super) settings: Settings,
    gates: OnceLock<ServiceGates>,
    fixed: OnceLock<Arc<Resolved>>,
    routes: RwLock<HashMap<Box<str>, RouteOperations>>,
}

/// The gates `poll_ready` reserves, named after the layer, and the keyed breaker group.
pub(super) struct ServiceGates {
    pub(super) limiters: Limiters,
    pub(super) keyed: Option<Arc<KeyedBreakers>>,
}

/// One operation's registry entries.
pub(super) struct Resolved {
    pub(super) name: Arc<str>,
    pub(super) operation: Option<Arc<Operation>>,
    /// The operation's breaker (not keyed).
    pub(super) breaker: Option<Arc<CircuitBreaker>>,
    pub(super) timeouts: Option<Arc<TimeoutCounter>>,
    pub(super) budget: Option<Arc<RetryBudget>>,
    /// The operation's hedge, named after it.
    pub(super) hedge: Option<Arc<Hedge>>,
    pub(super) recorder: RowRecorder,
    /// The route it is named after (`http.route`), if any.
    pub(super) route: Option<Arc<str>>,
}

type RouteOperations = [OnceLock<Arc<Resolved>>; METHODS.len()];

impl Shared {
    pub(super) fn new(settings: Settings) -> Self {
        Self {
            settings,
            gates: OnceLock::new(),
            fixed: OnceLock::new(),
            routes: RwLock::default(),
        }
    }

    /// The service-wide gates, resolved on first use (the configuration file loaded first).
    #[inline]
    pub(super) fn gates(&self) -> &ServiceGates {
        self.gates.get_or_init(|| {
            crate::config::ensure_env_loaded();
            let s = &self.settings;
            ServiceGates {
                limiters: Limiters::resolve(&s.name, &s.reserved),
                keyed: match (&s.breaker, s.per_host) {
                    (Some(config), true) => {
                        Some(breaker::keyed_for_layer(&s.name, || config.clone()))
                    }
                    _ => None,
                },
            }
        })
    }

    /// The operation a request belongs to.
    #[inline]
    pub(super) fn operation<B>(&self, request: &Request<B>) -> Arc<Resolved> {
        match self.route(request) {
            Some(route) => self.route_operation(route, request.method()),
            None => self.fixed(),
        }
    }

    /// The layer's own operation: without a route, or past the routes a layer names.
    fn fixed(&self) -> Arc<Resolved> {
        Arc::clone(self.fixed.get_or_init(|| {
            crate::config::ensure_env_loaded();
            Arc::new(self.resolve(Arc::clone(&self.settings.name)))
        }))
    }

    /// The route axum matched, when the layer names operations per route.
    #[inline]
    fn route<'r, B>(&self, request: &'r Request<B>) -> Option<&'r str> {
        if !self.settings.per_route {
            return None;
        }
        // A gRPC server (tonic) matches one wildcard route per service: the method is in the
        // path. Only there (or with no matched route): a client's `content-type` must not turn
        // an ordinary route's raw paths into names.
        match matched_path(request) {
            Some(route) if !route.contains("{*") => Some(route),
            matched => grpc_method(request).or(matched),
        }
    }

    fn route_operation(&self, route: &str, method: &Method) -> Arc<Resolved> {
        let index = method_index(method);
        {
            let routes = locks::read(&self.routes);
            match routes.get(route) {
                Some(methods) => {
                    if let Some(found) = methods[index].get() {
                        return Arc::clone(found);
                    }
                }
                // Full: decided under the read lock, so that names made up past the cap do not
                // queue every request on the write lock.
                None if routes.len() >= MAX_CACHED_ROUTES => {
                    drop(routes);
                    return self.fixed();
                }
                None => {}
            }
        }
        self.resolve_route(route, index)
    }

    #[cold]
    fn resolve_route(&self, route: &str, index: usize) -> Arc<Resolved> {
        crate::config::ensure_env_loaded();
        let make = || {
            let mut name = String::with_capacity(self.settings.name.len() + route.len() + 9);
            let _ = write!(name, "{} {} {route}", self.settings.name, METHODS[index]);
            let mut resolved = self.resolve(Arc::from(name));
            resolved.route = Some(Arc::from(route));
            Arc::new(resolved)
        };
        let mut routes = locks::write(&self.routes);
        if !routes.contains_key(route) && routes.len() >= MAX_CACHED_ROUTES {
            drop(routes);
            return self.fixed();
        }
        let methods = routes.entry(Box::from(route)).or_default();
        Arc::clone(methods[index].get_or_init(make))
    }

    /// The registry entries of the operation `name`.
    fn resolve(&self, name: Arc<str>) -> Resolved {
        let s = &self.settings;
        Resolved {
            operation: s.track.then(|| perf::resolve(&name)),
            breaker: match (&s.breaker, s.per_host) {
                (Some(config), false) => Some(breaker::for_layer(&name, || config.clone())),
                _ => None,
            },
            timeouts: (s.timeout.is_some() || s.total_timeout.is_some())
                .then(|| timeout_count(&name)),
            // One budget per policy, bound to the layer's name (or the policy's own).
            budget: s
                .retry
                .as_ref()
                .and_then(|policy| policy.bound_budget(&s.name).cloned()),
            hedge: s
                .hedge
                .map(|config| crate::hedge::registry::for_layer(&name, config)),
            recorder: RowRecorder::new(Severity::Medium),
            route: None,
            name,
        }
    }

    /// The breaker of a request: its host's in a keyed group, else its operation's.
    #[inline]
    pub(super) fn breaker<B>(
        &self,
        operation: &Resolved,
        request: &Request<B>,
    ) -> Option<Arc<CircuitBreaker>> {
        match &self.gates().keyed {
            Some(group) => Some(group.get(host(request))),
            None => operation.breaker.clone(),
        }
    }
}

/// `host[:port]` of a request: its URI's authority (a client's request), else its `Host`
/// header (a server's), else `unknown`.
fn host<B>(request: &Request<B>) -> &str {
    request
        .uri()
        .authority()
        .map(|authority| authority.as_str())
        .or_else(|| {
            request
                .headers()
                .get(http::header::HOST)
                .and_then(|host| host.to_str().ok())
        })
        .unwrap_or("unknown")
}

#[cfg(feature = "axum")]
fn matched_path<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "axum"))]
fn matched_path<B>(_: &Request<B>) -> Option<&str> {
    None
}

/// The path of a gRPC call (`content-type: application/grpc…`, path `/package.Service/Method`),
/// which names its method: `None` for anything else, or for names that are not identifiers.
fn grpc_method<B>(request: &Request<B>) -> Option<&str> {
    let content_type = request.headers().get(http::header::CONTENT_TYPE)?;
    if !content_type.as_bytes().starts_with(b"application/grpc") {
        return None;
    }
    let path = request.uri().path();
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let identifier = |name: &str| {
        !name.is_empty()
            && name.len() <= MAX_GRPC_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    (identifier(service) && identifier(method)).then_some(path)
}
