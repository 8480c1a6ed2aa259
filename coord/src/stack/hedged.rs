//! The runs of a hedged stack ([`Hedged`] operation): each attempt of the call (each one the
//! retry loop makes, or the only one) is a race of attempts (see `crate::hedge::layer`). Unlike
//! [`drive_async!`](crate::__drive_async), these are ordinary `async fn`s: a hedged attempt's
//! future owns what it needs (it borrows nothing from the closure that made it), so no
//! higher-ranked borrow stands between the compiler and the `Send` proof.

use std::future::Future;
use std::pin::{Pin, pin};

use super::{Stack, finish};
use crate::hedge::Hedge;
use crate::hedge::layer::{Hedged, Lost};
use crate::layer::{Fallible, GateFor, LimitFor, Off, RecoverAsync, TimerFor};
use crate::retry::layer::{Retrier, Retry};

impl<'h, Out, F> Stack<Out, Hedged<'h, F>> {
    /// A stack around an async operation hedged by `hedge`: `attempt` makes one attempt (a
    /// future owning what it needs), called again for each hedge and each retry.
    #[inline(always)]
    pub fn hedged<Fut>(hedge: &'h Hedge, attempt: F) -> Self
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Out>,
    {
        Self::new(Hedged::new(hedge, attempt))
    }
}

impl<Out, H, P, F, T, G, A> Stack<Out, Hedged<'_, H>, P, F, T, Off, G, A> {
    /// Runs a hedged operation without retries: one race.
    pub async fn run_hedged<Fut, RFut>(self) -> Out
    where
        H: FnMut() -> Fut,
        Fut: Future<Output = Out>,
        Out: Fallible,
        P: TimerFor<Out>,
        F: RecoverAsync<Out, RFut>,
        RFut: Future<Output = Out>,
        T: LimitFor<Out>,
        G: GateFor<Out>,
        A: LimitFor<Out>,
    {
        let (body, (timer, recover, total, _, gates, attempt)) = self.split();
        crate::__chaos_async!(timer, gates, return);
        let started = timer.start();
        let raced = pin!(async {
            match body.race(&gates, &attempt, || true).await {
                Ok(out) | Err(Lost::Failed(out)) => (out, false),
                Err(Lost::Rejected(rejection)) => (gates.reject(rejection), true),
            }
        });
        conclude(&timer, started, total, &recover, raced).await
    }
}

impl<Out, H, P, F, T, X, E, G, A> Stack<Out, Hedged<'_, H>, P, F, T, Retry<'_, X, E>, G, A> {
    /// Runs a hedged operation until a race succeeds or the policy gives up; hedges draw on
    /// the retry budget.
    pub async fn run_hedged<Fut, RFut>(self) -> Out
    where
        H: FnMut() -> Fut,
        Fut: Future<Output = Out>,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: TimerFor<Out>,
        F: RecoverAsync<Out, RFut>,
        RFut: Future<Output = Out>,
        T: LimitFor<Out>,
        G: GateFor<Out>,
        A: LimitFor<Out>,
    {
        let (body, (timer, recover, total, retry, gates, attempt)) = self.split();
        crate::__chaos_async!(timer, gates, return);
        let started = timer.start();
        let retried = pin!(async {
            let mut attempts = retry.start();
            loop {
                let raced = {
                    let attempts = &attempts;
                    body.race(&gates, &attempt, || attempts.may_hedge()).await
                };
                let out = match raced {
                    Ok(out) | Err(Lost::Failed(out)) => out,
                    Err(Lost::Rejected(rejection)) => {
                        break super::rejected(&gates, &mut attempts, rejection);
                    }
                };
                match super::drive::judged(&retry, &mut attempts, out) {
                    Ok(out) => break (out, false),
                    Err(delay) => attempts.sleep_async(delay).await,
                }
            }
        });
        conclude(&timer, started, total, &recover, retried).await
    }
}

/// The call's end: `attempts` (with whether a gate rejected the last one) under the total time
/// limit, then the fallback, then the timer.
async fn conclude<Out, P, F, RFut, T>(
    timer: &P,
    started: P::Started,
    total: T,
    recover: &F,
    attempts: Pin<&mut impl Future<Output = (Out, bool)>>,
) -> Out
where
    P: TimerFor<Out>,
    F: RecoverAsync<Out, RFut>,
    RFut: Future<Output = Out>,
    T: LimitFor<Out>,
{
    let (out, rejected) = match total.within(attempts).await {
        Ok(finished) => finished,
        Err(expired) => (total.expired(expired), false),
    };
    let out = match recover.recover(out) {
        Ok(out) => out,
        Err(recovering) => recovering.await,
    };
    finish(timer, started, &out, rejected);
    out
}
