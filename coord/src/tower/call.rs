//! One call of a [`CoordService`](super::CoordService) on the layer stack the attributes use:
//! the request sent once, retried, or hedged, inside the layers the builder configured.

use std::fmt;
use std::future::poll_fn;
use std::mem;
use std::pin::pin;
use std::sync::Arc;

use http::{Request, Response};
use tower_service::Service;

use super::classify::{Counted, failed_status, retry_after};
use super::error::{Error, Failed};
use super::gate::{Maybe, NotBefore, RetryAfter};
use super::layer::Replay;
use super::limiters::Reservations;
use super::names::{Resolved, Shared};
use crate::breaker::CircuitBreaker;
use crate::breaker::layer::BreakerGate;
use crate::compose::retry::bounded_message;
use crate::layer::Off;
use crate::outcome::Outcome;
use crate::outcome::StatusRule;
use crate::perf::layer::{DescribeFailure, FailureMessage, TimedSite, Track};
use crate::perf::{Operation, TimedCall};
use crate::retry::layer::Retrier;
use crate::retry::{RetryBudget, RetryLoop, RetryPolicy};
use crate::stack::Stack;
use crate::timeout::layer::TimeLimit;

/// One call's registry entries.
pub(super) struct Plan {
    pub(super) shared: Arc<Shared>,
    pub(super) operation: Arc<Resolved>,
    pub(super) breaker: Option<Arc<CircuitBreaker>>,
}

impl Plan {
    /// The operation's timing site, when the layer times its requests.
    fn timed(&self) -> Option<Timed<'_>> {
        self.operation.operation.as_deref().map(Timed)
    }
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
        Err(Failed::Response(_, counted)) => match counted.grpc_error() {
            Some(name) => FailureMessage::Type(name),
            None => FailureMessage::Status(counted.status),
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
                // Counted by its own status (an injected response is no gRPC answer's
                // equivalent), remembered by the gRPC error it carries, if any.
                let counted = Counted::own_status(&response);
                Failed::Response(response, counted)
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

/// What the attempts of a retried or hedged call share: the retry policy (a layer that only
/// hedges has none: it retries nothing), its loop, and the time a failed response's
/// `Retry-After` holds the next attempt back to.
struct Retries<'p> {
    policy: &'p RetryPolicy,
    retrier: OperationRetrier<'p>,
    not_before: NotBefore,
}

impl<'p> Retries<'p> {
    fn new(plan: &'p Plan) -> Self {
        let policy = (plan.shared.settings.retry.as_ref()).unwrap_or_else(|| no_retry());
        let retrier = OperationRetrier {
            policy,
            operation: &plan.operation,
        };
        Self {
            policy,
            retrier,
            not_before: NotBefore::default(),
        }
    }

    /// An attempt's answer as the stack's outcome (see [`classify`]); a failed response's
    /// `Retry-After` holds the next attempt back.
    #[inline]
    fn answer<ResB, E>(
        &self,
        failure: StatusRule,
        answer: Result<Response<ResB>, E>,
    ) -> Out<ResB, E> {
        let out = classify(failure, answer);
        self.hold_back(&out);
        out
    }

    /// Whether an attempt's failure is worth another attempt, by the policy.
    fn when<ResB, E: 'static>(&self) -> impl Fn(&Failed<Response<ResB>, E>) -> bool + '_ {
        |failed| retryable(self.policy, failed)
    }

    /// The gate outside the others: an attempt after a `Retry-After` waits for its time.
    fn held_back(&self) -> RetryAfter<'_> {
        RetryAfter {
            not_before: &self.not_before,
            clock: self.policy.clock_ref(),
        }
    }

    /// A failed response's `Retry-After` holds the next attempt back, at most the policy's
    /// longest back-off.
    fn hold_back<ResB, E>(&self, out: &Out<ResB, E>) {
        if let Err(Failed::Response(response, _)) = out
            && let Some(wait) = retry_after(response)
            && let Some(at) = (self.policy.clock_ref().now())
                .checked_add(wait.min(self.policy.settings().max_delay))
        {
            self.not_before.set(at);
        }
    }
}

/// `service` made ready again for an attempt after the first (which the service's `poll_ready`
/// readied); its error is the attempt's failure.
fn ready_again<S, B, ResB>(
    service: &mut S,
) -> impl Future<Output = Result<(), Failed<Response<ResB>, S::Error>>>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    poll_fn(|cx| {
        service
            .poll_ready(cx)
            .map_err(|error| Failed::Error(Error::Inner(error)))
    })
}

/// The policy of a layer without one: it only hedges.
fn no_retry() -> &'static RetryPolicy {
    static NO_RETRY: std::sync::OnceLock<RetryPolicy> = std::sync::OnceLock::new();
    NO_RETRY.get_or_init(RetryPolicy::no_retry)
}

/// The layers of one call around `$stack` (its body, and its retry place when it has one), in
/// their places of the documented order: timing, total time limit, breaker, rate limit
/// (reserved), bulkhead (reserved), attempt time limit.
macro_rules! layers {
    ($stack:expr, $plan:ident, $timed:ident, $first_gate:expr, $reserved:ident) => {{
        let settings = &$plan.shared.settings;
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
            .gate($plan.shared.gates().limiters.gates(&$reserved))
            .attempt(Maybe(
                settings
                    .timeout
                    .map(|limit| TimeLimit::new(limit, timeouts)),
            ))
    }};
}

/// A call without retries: the request is sent once, by the service `poll_ready` readied.
pub(super) async fn call_once<S, B, ResB>(
    mut inner: S,
    reserved: Reservations,
    plan: Plan,
    request: Request<B>,
) -> Result<Response<ResB>, Error<S::Error>>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: 'static,
    ResB: 'static,
{
    let timed = plan.timed();
    let failure = plan.shared.settings.failure;
    let body = pin!(async move { classify(failure, inner.call(request).await) });
    let stack = layers!(Stack::future(body), plan, timed, Off, reserved);
    unwrap_out(stack.run_future().await)
}

/// A retried call: every attempt sends `replay`'s copy of the request, the first by the
/// service `poll_ready` readied, the later ones once it is ready again. (A hedged call is
/// [`call_hedged`]: its own future, so that an unhedged call's boxed future does not carry the
/// race's state.)
pub(super) async fn call_retried<S, B, ResB, R>(
    mut inner: S,
    reserved: Reservations,
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
    let timed = plan.timed();
    let failure = plan.shared.settings.failure;
    let retries = Retries::new(&plan);
    let when = retries.when();
    let held_back = retries.held_back();
    let mut first = true;
    let body = async || {
        if !mem::replace(&mut first, false) {
            ready_again(&mut inner).await?;
        }
        retries.answer(failure, inner.call(replay.replay(&request)).await)
    };
    let stack = layers!(
        Stack::async_attempts(body),
        plan,
        timed,
        held_back,
        reserved
    )
    .retry(retries.retrier, &when, describe);
    unwrap_out(crate::__drive_async!(stack))
}

/// A hedged call (and retried, when the layer retries): every attempt of a race sends its own
/// copy of the request through its own clone of the service, the first through the one
/// `poll_ready` readied.
pub(super) async fn call_hedged<S, B, ResB, R>(
    inner: S,
    reserved: Reservations,
    plan: Plan,
    hedge: Arc<crate::hedge::Hedge>,
    replay: R,
    request: Request<B>,
) -> Result<Response<ResB>, Error<S::Error>>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: fmt::Display + 'static,
    ResB: 'static,
    R: Replay<B>,
{
    let timed = plan.timed();
    let failure = plan.shared.settings.failure;
    let retries = Retries::new(&plan);
    let when = retries.when();
    let held_back = retries.held_back();
    // The services are owned by the closure (the stack keeps it in a mutex), so that the call's
    // future is `Send` whenever the service is, `Sync` or not; each attempt's future owns its
    // service and request and borrows only what outlives the call.
    let template = inner.clone();
    let mut readied = Some(inner);
    let retries_ref = &retries;
    let body = move || {
        let fresh = readied.is_none();
        let mut service = readied.take().unwrap_or_else(|| template.clone());
        let request = replay.replay(&request);
        async move {
            if fresh {
                ready_again(&mut service).await?;
            }
            retries_ref.answer(failure, service.call(request).await)
        }
    };
    let stack = layers!(
        Stack::hedged(&hedge, body),
        plan,
        timed,
        held_back,
        reserved
    );
    // A layer that only hedges has no retry loop: none to record its failures as retries
    // given up (as an unhedged call records none).
    let out = match plan.shared.settings.retry {
        None => stack.run_hedged().await,
        Some(_) => {
            (stack.retry(retries.retrier, &when, describe))
                .run_hedged()
                .await
        }
    };
    unwrap_out(out)
}

/// How a retried call's failure is described in the error report: bounded text.
fn describe<ResB, E: fmt::Display>(
    _: crate::retry::layer::Describe<Failed<Response<ResB>, E>>,
) -> fn(&Failed<Response<ResB>, E>) -> String {
    bounded_message
}
