//! [`CoordService`]: `poll_ready` reserves the service-wide gates (tower's backpressure),
//! `call` runs the request on the layer stack the attributes use. [`RespondService`] turns its
//! rejections into responses for servers.

use crate::retry::RetryBudget;
use std::fmt;
use std::future::{Future, poll_fn};
use std::mem;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{Request, Response};
use tower_service::Service;

use super::classify::{failed_status, rejection_response, retry_after};
use super::error::{Error, Failed};
use super::gate::{Maybe, NotBefore, Reservation, Reserved, RetryAfter};
use super::layer::{NoRetry, Replay, Retrying};
use super::names::{Resolved, Shared};
use super::observe::Observe;
use crate::breaker::CircuitBreaker;
use crate::breaker::layer::BreakerGate;
use crate::bulkhead::layer::BulkheadGate;
use crate::bulkhead::{Bulkhead, BulkheadFull, OwnedBulkheadPermit};
use crate::clock::{Clock, timer};
use crate::compose::retry::bounded_message;
use crate::hedge::Hedge;
use crate::layer::Off;
use crate::outcome::Outcome;
use crate::outcome::StatusRule;
use crate::perf::layer::{DescribeFailure, FailureMessage, TimedSite, Track};
use crate::perf::{Operation, TimedCall};
use crate::rate_limit::layer::RateGate;
use crate::rate_limit::{RateLimited, RateLimiter, SharedAdmit};
use crate::retry::layer::Retrier;
use crate::retry::{RetryLoop, RetryPolicy};
use crate::stack::Stack;
use crate::timeout::layer::TimeLimit;

/// A boxed future of a [`CoordService`]'s answer.
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A bulkhead slot being waited for in `poll_ready`.
type SlotWait =
    Pin<Box<dyn Future<Output = Result<OwnedBulkheadPermit, BulkheadFull>> + Send + Sync>>;

/// What `poll_ready` reserved for the next call (each clone of a service has its own).
#[derive(Default)]
struct Readiness {
    turn: Option<Result<(), RateLimited>>,
    turn_wait: Option<timer::Sleep>,
    /// A shared limiter's answer from Redis, asked off this thread (never blocking the
    /// executor in `poll_ready`).
    turn_shared: Option<Box<SharedAdmit>>,
    slot: Option<Result<OwnedBulkheadPermit, BulkheadFull>>,
    slot_wait: Option<SlotWait>,
}

impl Readiness {
    /// Reserves a rate-limit turn, waiting for it on the limiter's timer.
    fn poll_turn(&mut self, limiter: &RateLimiter, cx: &mut Context<'_>) -> Poll<()> {
        if self.turn_wait.is_none()
            && self.turn_shared.is_none()
            && let Some(admit) = limiter.shared_admit()
        {
            self.turn_shared = Some(Box::new(admit));
        }
        if let Some(admit) = &mut self.turn_shared {
            let turn = ready!(Pin::new(&mut **admit).poll(cx));
            self.turn_shared = None;
            self.turn = Some(turn);
            return Poll::Ready(());
        }
        if self.turn_wait.is_none() {
            match limiter.reserve_turn() {
                Ok(wait) if wait.is_zero() => self.turn = Some(Ok(())),
                Ok(wait) => self.turn_wait = Some(timer::sleep(wait)),
                Err(limited) => self.turn = Some(Err(limited)),
            }
        }
        if let Some(sleep) = &mut self.turn_wait {
            ready!(Pin::new(sleep).poll(cx));
            self.turn_wait = None;
            self.turn = Some(Ok(()));
        }
        Poll::Ready(())
    }

    /// Reserves a bulkhead slot, waiting (in the bulkhead's queue) up to its `max_wait`.
    fn poll_slot(&mut self, bulkhead: &Arc<Bulkhead>, cx: &mut Context<'_>) -> Poll<()> {
        if self.slot_wait.is_none() {
            match bulkhead.take_owned() {
                Some(permit) => self.slot = Some(Ok(permit)),
                // Slow path only: one allocation for a request that waits anyway.
                None => {
                    let wait = Arc::clone(bulkhead).acquire_owned_async(bulkhead.max_wait());
                    self.slot_wait = Some(Box::pin(wait));
                }
            }
        }
        if let Some(wait) = &mut self.slot_wait {
            let slot = ready!(wait.as_mut().poll(cx));
            self.slot_wait = None;
            self.slot = Some(slot);
        }
        Poll::Ready(())
    }

    /// `true` when a gate rejected the next call already (it needs nothing more).
    fn rejected(&self) -> bool {
        matches!(self.turn, Some(Err(_))) || matches!(self.slot, Some(Err(_)))
    }
}

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

    /// Reserves a rate-limit turn, then a bulkhead slot (a call over the rate never holds a
    /// slot), then asks the inner service. `Pending` wakes on the limiter's timer or a slot's
    /// release; a rejection makes the service ready, `call` answering it.
    fn poll_gates_and_inner<Req>(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>>
    where
        S: Service<Req>,
    {
        let gates = self.shared.gates();
        let ready = &mut self.ready;
        if let Some(limiter) = &gates.rate
            && ready.turn.is_none()
        {
            ready!(ready.poll_turn(limiter, cx));
        }
        if let Some(bulkhead) = &gates.bulkhead
            && ready.slot.is_none()
            && !ready.rejected()
        {
            ready!(ready.poll_slot(bulkhead, cx));
        }
        if ready.rejected() {
            return Poll::Ready(Ok(()));
        }
        self.inner.poll_ready(cx)
    }

    /// What one call takes: the service made ready (a clone stays), the reservation, the
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
        // Only what was reserved goes into the call's future (the waits are over).
        let ready = mem::take(&mut self.ready);
        (inner, (ready.turn, ready.slot), plan)
    }
}

/// What `poll_ready` reserved for one call: a rate-limit turn, a bulkhead slot.
type Reservations = (
    Option<Result<(), RateLimited>>,
    Option<Result<OwnedBulkheadPermit, BulkheadFull>>,
);

/// One call's registry entries.
struct Plan {
    shared: Arc<Shared>,
    operation: Arc<Resolved>,
    breaker: Option<Arc<CircuitBreaker>>,
}

/// The stack's return type: a response, or an attempt's failure.
type Out<ResB, E> = Result<Response<ResB>, Failed<Response<ResB>, E>>;

/// An inner answer as the stack's outcome: a failed status is an `Err` inside the stack (for
/// the breaker, the retries and the timing), a response again outside it.
#[inline]
fn classify<ResB, E>(failure: StatusRule, answer: Result<Response<ResB>, E>) -> Out<ResB, E> {
    match answer {
        Ok(response) => match failed_status(&failure, &response) {
            None => Ok(response),
            Some(status) => Err(Failed::Response(response, status)),
        },
        Err(error) => Err(Failed::Error(Error::Inner(error))),
    }
}

/// A call's outcome for its timing: a failed status or an error fails; a rejection is its own
/// outcome (the stack says so too when a gate rejects).
fn outcome<ResB, E>(out: &Out<ResB, E>) -> Outcome {
    match out {
        Ok(_) => Outcome::Success,
        Err(Failed::Error(error)) if error.is_rejection() => Outcome::Rejected,
        Err(_) => Outcome::Failure,
    }
}

/// What a failed call is remembered by: the failed status, the time-out, or the inner error's
/// type (a service's error type need not be `Display`).
fn failure_message<ResB, E>(out: &Out<ResB, E>) -> FailureMessage<'_> {
    match out {
        Ok(_) => FailureMessage::None,
        Err(Failed::Response(response, status)) => match super::classify::grpc_error(response) {
            Some(name) => FailureMessage::Type(name),
            None => FailureMessage::Status(*status),
        },
        Err(Failed::Error(Error::TimedOut(timed_out))) => FailureMessage::Display(timed_out),
        Err(Failed::Error(Error::Inner(_))) => FailureMessage::Type(std::any::type_name::<E>()),
        Err(Failed::Error(_)) => FailureMessage::None,
    }
}

#[inline]
fn unwrap_out<ResB, E>(out: Out<ResB, E>) -> Result<Response<ResB>, Error<E>> {
    match out {
        Ok(response) | Err(Failed::Response(response, _)) => Ok(response),
        Err(Failed::Error(error)) => Err(error),
    }
}

/// Whether an attempt's failure is worth another attempt (rejections never reach here: the
/// stack makes them permanent).
fn retryable<ResB, E: 'static>(policy: &RetryPolicy, failed: &Failed<Response<ResB>, E>) -> bool {
    match failed {
        Failed::Response(..) | Failed::Error(Error::TimedOut(_)) => true,
        Failed::Error(Error::Inner(error)) => policy.is_retryable(error),
        Failed::Error(_) => false,
    }
}

/// The timing site of an operation.
struct Timed<'a>(&'a Operation);

impl TimedSite for Timed<'_> {
    #[inline(always)]
    fn start(&self) -> TimedCall<'_> {
        self.0.start_timed()
    }

    #[inline]
    fn name(&self) -> &str {
        self.0.name()
    }
}

/// The answer fault injection makes up for a call of the operation `name` (`coord::chaos`):
/// the inner service's error, from a factory registered with its type `E`, or else a response,
/// from a factory registered with the type `Response<ResB>` (a `503`, say; the layer then
/// answers it as the inner service's response).
fn injected<ResB: 'static, E: 'static>(name: &str) -> Option<Out<ResB, E>> {
    Some(Err(
        match crate::chaos::inject::error_of_either::<E, Response<ResB>>(name)? {
            Ok(error) => Failed::Error(Error::Inner(error)),
            Err(response) => {
                let status = response.status().as_u16();
                Failed::Response(response, status)
            }
        },
    ))
}

/// The retry loop of an operation, recording into its error row.
#[derive(Clone, Copy)]
struct OperationRetrier<'a> {
    policy: &'a RetryPolicy,
    operation: &'a Resolved,
}

impl Retrier for OperationRetrier<'_> {
    #[inline]
    fn first(&self) -> (Option<&RetryBudget>, Option<std::time::Instant>) {
        (self.operation.budget.as_deref(), self.policy.start_time())
    }

    #[inline]
    fn start_at(&self, started: Option<std::time::Instant>) -> RetryLoop<'_> {
        let op = self.operation;
        RetryLoop::recorded(
            self.policy,
            op.budget.as_deref(),
            &op.name,
            &op.recorder,
            started,
        )
    }
}

/// The layers of one call around `$stack` (its body, and its retry place when it has one), in
/// their places of the documented order: timing, total time limit, breaker, rate limit
/// (reserved), bulkhead (reserved), attempt time limit.
macro_rules! layers {
    ($stack:expr, $plan:ident, $timed:ident, $first_gate:expr, $turn:ident, $slot:ident) => {{
        let settings = &$plan.shared.settings;
        let gates = $plan.shared.gates();
        let timeouts = $plan.operation.timeouts.as_deref();
        $stack
            // A rejection (breaker open, bulkhead full, rate limited) is recorded as rejected,
            // neither a success nor a failure, as for the attributes.
            .time(|of| {
                Maybe($timed.as_ref().map(|site| {
                    let describe = DescribeFailure::new(failure_message).injecting(injected);
                    Track::new(site, of, outcome, describe)
                }))
            })
            .total(Maybe(
                settings
                    .total_timeout
                    .map(|limit| TimeLimit::new(limit, timeouts)),
            ))
            .gate($first_gate)
            .gate(Maybe($plan.breaker.as_deref().map(BreakerGate::new)))
            .gate(Maybe(
                gates
                    .rate
                    .as_deref()
                    .map(|limiter| Reserved::new(RateGate::new(limiter), &$turn)),
            ))
            .gate(Maybe(gates.bulkhead.as_deref().map(|bulkhead| {
                Reserved::new(BulkheadGate::new(bulkhead), &$slot)
            })))
            .attempt(Maybe(
                settings
                    .timeout
                    .map(|limit| TimeLimit::new(limit, timeouts)),
            ))
    }};
}

/// A call without retries: the request is sent once, by the service `poll_ready` readied.
async fn call_once<S, B, ResB>(
    mut inner: S,
    (turn, slot): Reservations,
    plan: Plan,
    request: Request<B>,
) -> Result<Response<ResB>, Error<S::Error>>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: 'static,
    ResB: 'static,
{
    let turn: Reservation<(), RateLimited> = Mutex::new(turn);
    let slot: Reservation<OwnedBulkheadPermit, BulkheadFull> = Mutex::new(slot);
    let timed = plan.operation.operation.as_deref().map(Timed);
    let failure = plan.shared.settings.failure;
    let body = pin!(async move { classify(failure, inner.call(request).await) });
    let stack = layers!(Stack::future(body), plan, timed, Off, turn, slot);
    unwrap_out(stack.run_future().await)
}

/// A retried call: every attempt sends `replay`'s copy of the request; the first by the
/// service `poll_ready` readied, the later ones once it is ready again.
async fn call_retried<S, B, ResB, R>(
    mut inner: S,
    (turn, slot): Reservations,
    plan: Plan,
    replay: R,
    request: Request<B>,
) -> Result<Response<ResB>, Error<S::Error>>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: fmt::Display + 'static,
    ResB: 'static,
    R: Replay<B>,
{
    let turn: Reservation<(), RateLimited> = Mutex::new(turn);
    let slot: Reservation<OwnedBulkheadPermit, BulkheadFull> = Mutex::new(slot);
    let timed = plan.operation.operation.as_deref().map(Timed);
    let failure = plan.shared.settings.failure;
    let (policy, retrier) = retrier(&plan);
    let when = |failed: &Failed<Response<ResB>, S::Error>| retryable(policy, failed);
    let not_before = NotBefore::default();
    let clock = policy.clock_ref();
    let longest = policy.settings().max_delay;
    let mut first = true;
    let body = async || {
        if !mem::replace(&mut first, false)
            && let Err(error) = poll_fn(|cx| inner.poll_ready(cx)).await
        {
            return Err(Failed::Error(Error::Inner(error)));
        }
        let out = classify(failure, inner.call(replay.replay(&request)).await);
        hold_back(&not_before, clock, longest, &out);
        out
    };
    let held_back = RetryAfter {
        not_before: &not_before,
        clock,
    };
    let stack = layers!(
        Stack::async_attempts(body),
        plan,
        timed,
        held_back,
        turn,
        slot
    )
    .retry(retrier, &when, |_| {
        bounded_message::<Failed<Response<ResB>, S::Error>>
    });
    unwrap_out(crate::__drive_async!(stack))
}

/// A hedged call (retried too when the layer retries): every attempt, hedges included, sends
/// `replay`'s copy of the request through its own clone of the service; the first attempt
/// through the one `poll_ready` readied, the others once theirs is ready.
async fn call_hedged<S, B, ResB, R>(
    inner: S,
    (turn, slot): Reservations,
    plan: Plan,
    replay: R,
    request: Request<B>,
    hedge: Arc<Hedge>,
) -> Result<Response<ResB>, Error<S::Error>>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: fmt::Display + 'static,
    ResB: 'static,
    R: Replay<B>,
{
    let turn: Reservation<(), RateLimited> = Mutex::new(turn);
    let slot: Reservation<OwnedBulkheadPermit, BulkheadFull> = Mutex::new(slot);
    let timed = plan.operation.operation.as_deref().map(Timed);
    let failure = plan.shared.settings.failure;
    let (policy, retrier) = retrier(&plan);
    let when = |failed: &Failed<Response<ResB>, S::Error>| retryable(policy, failed);
    let not_before = NotBefore::default();
    let clock = policy.clock_ref();
    let longest = policy.settings().max_delay;
    // The services are owned by the closure (the stack keeps it in a mutex), so that the call's
    // future is `Send` whenever the service is, `Sync` or not; each attempt's future owns its
    // service and request and borrows only what outlives the call.
    let template = inner.clone();
    let mut readied = Some(inner);
    let not_before_ref = &not_before;
    let body = move || {
        let fresh = readied.is_none();
        let mut service = readied.take().unwrap_or_else(|| template.clone());
        let request = replay.replay(&request);
        async move {
            if fresh && let Err(error) = poll_fn(|cx| service.poll_ready(cx)).await {
                return Err(Failed::Error(Error::Inner(error)));
            }
            let out = classify(failure, service.call(request).await);
            hold_back(not_before_ref, clock, longest, &out);
            out
        }
    };
    let held_back = RetryAfter {
        not_before: &not_before,
        clock,
    };
    let stack = layers!(
        Stack::hedged(&hedge, body),
        plan,
        timed,
        held_back,
        turn,
        slot
    );
    // A layer that only hedges has no retry loop: none to record its failures as retries
    // given up (as an unhedged call records none).
    let out = match plan.shared.settings.retry {
        None => stack.run_hedged().await,
        Some(_) => {
            stack
                .retry(retrier, &when, |_| {
                    bounded_message::<Failed<Response<ResB>, S::Error>>
                })
                .run_hedged()
                .await
        }
    };
    unwrap_out(out)
}

/// The retry policy of a call (a layer that only hedges has none: it retries nothing) and its
/// retry loop.
fn retrier(plan: &Plan) -> (&RetryPolicy, OperationRetrier<'_>) {
    let policy = plan
        .shared
        .settings
        .retry
        .as_ref()
        .unwrap_or_else(|| no_retry());
    let retrier = OperationRetrier {
        policy,
        operation: &plan.operation,
    };
    (policy, retrier)
}

/// A failed response's `Retry-After` holds the next attempt back (at most the policy's longest
/// back-off), through the gate outside the others.
fn hold_back<ResB, E>(
    not_before: &NotBefore,
    clock: &Clock,
    longest: Duration,
    out: &Out<ResB, E>,
) {
    if let Err(Failed::Response(response, _)) = out
        && let Some(wait) = retry_after(response)
        && let Some(at) = clock.now().checked_add(wait.min(longest))
    {
        not_before.set(at);
    }
}

/// The policy of a layer without one: it only hedges.
fn no_retry() -> &'static RetryPolicy {
    static NO_RETRY: std::sync::OnceLock<RetryPolicy> = std::sync::OnceLock::new();
    NO_RETRY.get_or_init(RetryPolicy::no_retry)
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
            Some(hedge) => observed(
                observe,
                call_hedged(inner, ready, plan, replay, request, hedge),
            ),
            None => observed(observe, call_retried(inner, ready, plan, replay, request)),
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
