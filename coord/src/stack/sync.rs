//! The synchronous retry loop: the first attempt inline, every retry in a cold function.

use super::Stack;
use crate::layer::{Fallible, GateFor, Off, Recover, TimerFor};
use std::time::Instant;

use crate::retry::layer::{Judge, JudgeParts, Missed, Retrier, Retry};
use crate::retry::{Attempt, Next, RetryBudget, RetryLoop};

impl<Out, Body, P, F, X, E, G> Stack<Out, Body, P, F, Off, Retry<'_, X, E>, G, Off> {
    /// Runs a synchronous operation until it succeeds or the policy gives up.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnMut() -> Out,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: TimerFor<Out>,
        F: Recover<Out>,
        G: GateFor<Out>,
    {
        let (mut body, (timer, recover, _, retry, gates, _)) = self.split();
        run_layers(&mut body, timer, recover, retry, gates)
    }
}

// The body is a trait object from here on, so that the layers' code is compiled once per
// output type and layer types rather than once per function: with hundreds of retried
// functions in a crate, the per-function copies were most of what a release build optimised
// (`scripts/compile-cost.sh`). The price is one direct and one indirect call per call.
#[inline]
fn run_layers<Out, P, F, X, E, G>(
    body: &mut dyn FnMut() -> Out,
    timer: P,
    recover: F,
    retry: Retry<'_, X, E>,
    gates: G,
) -> Out
where
    X: Retrier,
    Out: Fallible<Err = E>,
    P: TimerFor<Out>,
    F: Recover<Out>,
    G: GateFor<Out>,
{
    if let Some(out) = super::chaos_blocking(&timer, &gates) {
        return out;
    }
    let started = timer.start();
    let (retrier, judge) = retry.into_parts();
    // The first attempt here, with no retry loop in memory; the loop is built in a cold
    // function after a failure or a rejection, so the success path sets up nothing for it.
    let (budget, call_started) = retrier.first();
    let (out, rejected) = match first_attempt(budget, &judge, &gates, body) {
        Ok(finished) => finished,
        Err(missed) => after_first(
            &retrier,
            call_started,
            judge.into_parts(),
            &gates,
            body,
            missed,
        ),
    };
    let out = recover.recover(out);
    super::finish(&timer, started, &out, rejected);
    out
}

/// How a first attempt made without a loop ended, when it did not succeed.
enum First<E, R> {
    /// A gate rejected it.
    Gate(R),
    /// The operation answered a rejection or a failure.
    Missed(Missed<E>),
}

/// The first attempt inside its gates, without a retry loop: the call's outcome, or what the
/// loop takes over.
#[inline(always)]
fn first_attempt<Out, E, G>(
    budget: Option<&RetryBudget>,
    judge: &Judge<'_, E>,
    gates: &G,
    body: &mut dyn FnMut() -> Out,
) -> Result<(Out, bool), First<E, G::Rejection>>
where
    Out: Fallible<Err = E>,
    G: GateFor<Out>,
{
    match super::through(gates, body) {
        Ok(out) => match judge.first(budget, out) {
            Ok(out) => Ok((out, false)),
            Err(missed) => Err(First::Missed(missed)),
        },
        Err(rejection) => Err(First::Gate(rejection)),
    }
}

/// The retry loop, started after a first attempt that did not succeed.
#[cold]
#[inline(never)]
fn after_first<Out, X, E, G>(
    retrier: &X,
    started: Option<Instant>,
    judge: JudgeParts<'_, E>,
    gates: &G,
    body: &mut dyn FnMut() -> Out,
    first: First<E, G::Rejection>,
) -> (Out, bool)
where
    X: Retrier,
    Out: Fallible<Err = E>,
    G: GateFor<Out>,
{
    let judge = Judge::from_parts(judge);
    let mut attempts = retrier.start_at(started);
    match first {
        First::Gate(rejection) => super::rejected(gates, &mut attempts, rejection),
        First::Missed(Missed::Rejected(error)) => {
            attempts.rejected();
            (Out::from_result(Err(error)), false)
        }
        First::Missed(Missed::Failed(failure)) => {
            retry_blocking(attempts, judge, gates, body, failure)
        }
    }
}

// Cold: one indirect call per retry is nothing beside the back-off sleep that precedes it.
// The judge is copied in, not borrowed: a borrow would make the caller build it in memory
// before the first attempt, on the success path, for this function's sake.
#[cold]
#[inline(never)]
fn retry_blocking<Out, E, G>(
    mut attempts: RetryLoop<'_>,
    judge: Judge<'_, E>,
    gates: &G,
    body: &mut dyn FnMut() -> Out,
    mut failure: Attempt<E>,
) -> (Out, bool)
where
    Out: Fallible<Err = E>,
    G: GateFor<Out>,
{
    loop {
        match attempts.failed(failure) {
            Next::Retry(delay) => attempts.sleep(delay),
            Next::Stop(error) => return (Out::from_result(Err(error)), false),
        }
        failure = match attempt(&mut attempts, &judge, gates, body) {
            Ok(finished) => return finished,
            Err(failure) => failure,
        };
    }
}

/// One attempt inside its gates: the call's outcome (with whether a gate rejected it), or the
/// failure for the policy.
#[inline(always)]
fn attempt<Out, Body, E, G>(
    attempts: &mut RetryLoop<'_>,
    judge: &Judge<'_, E>,
    gates: &G,
    body: &mut Body,
) -> Result<(Out, bool), Attempt<E>>
where
    Body: FnMut() -> Out + ?Sized,
    Out: Fallible<Err = E>,
    G: GateFor<Out>,
{
    match super::through(gates, body) {
        Ok(out) => judge.outcome(attempts, out).map(|out| (out, false)),
        Err(rejection) => Ok(super::rejected(gates, attempts, rejection)),
    }
}
