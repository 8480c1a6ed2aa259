//! [`CoordService`]: `poll_ready` reserves the service-wide gates (tower's backpressure),
//! `call` runs the request on the layer stack the attributes use. [`RespondService`] turns its
//! rejections into responses for servers.

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use tower_service::Service;

use super::call::{Plan, call_hedged, call_once, call_retried};
use super::classify::rejection_response;
use super::error::Error;
use super::layer::{NoRetry, Replay, Retrying};
use super::limiters::{Readiness, Reservations};
use super::names::Shared;
use super::observe::Observe;

/// A boxed future of a [`CoordService`]'s answer.
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The service of a [`CoordLayer`](super::CoordLayer) around `S`; `R` says how a retried
/// attempt gets its request. Clones share the layer's registry handles; a clone starts with
/// nothing reserved.
pub struct CoordService<S, R = NoRetry> {
    inner: S,
    shared: Arc<Shared>,
    replay: R,
    ready: Readiness,
}

impl<S: Clone, R: Clone> Clone for CoordService<S, R> {
    fn clone(&self) -> Self {
        Self::new(
            self.inner.clone(),
            Arc::clone(&self.shared),
            self.replay.clone(),
        )
    }
}

impl<S: fmt::Debug, R> fmt::Debug for CoordService<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoordService")
            .field("name", &self.shared.settings.name)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, R> CoordService<S, R> {
    pub(super) fn new(inner: S, shared: Arc<Shared>, replay: R) -> Self {
        // Resolved when the service is made, so that the registries show the layer's gates
        // (with its configuration) before the first request.
        shared.gates();
        Self {
            inner,
            shared,
            replay,
            ready: Readiness::default(),
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Reserves the layer's limiters (see `limiters`), then asks the inner service. A
    /// rejection makes the service ready, `call` answering it.
    fn poll_gates_and_inner<Req>(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>>
    where
        S: Service<Req>,
    {
        let limiters = &self.shared.gates().limiters;
        if ready!(self.ready.poll_reserve(limiters, cx)) {
            return Poll::Ready(Ok(()));
        }
        self.inner.poll_ready(cx)
    }

    /// What one call takes: the service made ready (a clone stays), the reservations, the
    /// request's operation and breaker.
    fn take_call<B>(&mut self, request: &Request<B>) -> (S, Reservations, Plan)
    where
        S: Clone,
    {
        let shared = Arc::clone(&self.shared);
        let operation = shared.operation(request);
        let breaker = shared.breaker(&operation, request);
        let clone = self.inner.clone();
        let inner = mem::replace(&mut self.inner, clone);
        let plan = Plan {
            shared,
            operation,
            breaker,
        };
        (inner, self.ready.take(), plan)
    }
}

impl<S, B, ResB> Service<Request<B>> for CoordService<S, NoRetry>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResB: Send + 'static,
{
    type Response = Response<ResB>;
    type Error = Error<S::Error>;
    type Future = BoxFuture<Result<Response<ResB>, Error<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_gates_and_inner(cx).map_err(Error::Inner)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (inner, ready, plan) = self.take_call(&request);
        let observe = Observe::start(&plan.shared.settings, &plan.operation, &request);
        observed(observe, call_once(inner, ready, plan, request))
    }
}

impl<S, B, ResB, C> Service<Request<B>> for CoordService<S, Retrying<C>>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: fmt::Display + Send + Sync + 'static,
    B: Send + Sync + 'static,
    ResB: Send + 'static,
    C: Replay<B>,
{
    type Response = Response<ResB>;
    type Error = Error<S::Error>;
    type Future = BoxFuture<Result<Response<ResB>, Error<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_gates_and_inner(cx).map_err(Error::Inner)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (inner, ready, plan) = self.take_call(&request);
        let observe = Observe::start(&plan.shared.settings, &plan.operation, &request);
        let replay = self.replay.0.clone();
        match plan.operation.hedge.clone() {
            None => observed(observe, call_retried(inner, ready, plan, replay, request)),
            Some(hedge) => observed(
                observe,
                call_hedged(inner, ready, plan, hedge, replay, request),
            ),
        }
    }
}

/// A call's future, boxed, inside its span and HTTP duration when the layer records them.
fn observed<ResB, E, F>(
    observe: Option<Observe>,
    call: F,
) -> BoxFuture<Result<Response<ResB>, Error<E>>>
where
    F: Future<Output = Result<Response<ResB>, Error<E>>> + Send + 'static,
    ResB: Send + 'static,
    E: Send + 'static,
{
    match observe {
        Some(observe) => Box::pin(observe.around(call)),
        None => Box::pin(call),
    }
}

/// A [`CoordService`] answering rejections and time-outs with responses (503, or 429 for a
/// rate limit, with `Retry-After`); its error is the inner service's. Made by
/// [`CoordLayer::server`](super::CoordLayer::server).
#[derive(Clone, Debug)]
pub struct RespondService<T> {
    inner: T,
}

impl<T> RespondService<T> {
    pub(super) fn new(inner: T) -> Self {
        Self { inner }
    }

    /// The wrapped [`CoordService`].
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T, Req, ResB, E> Service<Req> for RespondService<T>
where
    T: Service<Req, Response = Response<ResB>, Error = Error<E>>,
    T::Future: Unpin,
    ResB: Default,
{
    type Response = Response<ResB>;
    type Error = E;
    type Future = Respond<T::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        match ready!(self.inner.poll_ready(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            // Readiness errors are the inner service's own: the gates never fail `poll_ready`.
            Err(error) => Poll::Ready(rejection_response::<ResB, E>(error).map(drop)),
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        Respond(self.inner.call(request))
    }
}

/// The future of a [`RespondService`].
#[derive(Debug)]
pub struct Respond<F>(F);

impl<F, ResB, E> Future for Respond<F>
where
    F: Future<Output = Result<Response<ResB>, Error<E>>> + Unpin,
    ResB: Default,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match ready!(Pin::new(&mut self.get_mut().0).poll(cx)) {
            Ok(response) => Ok(response),
            Err(error) => rejection_response(error),
        })
    }
}
