//! The synchronous retry loop: the first attempt inline, every retry in a cold function.

use super::admit::{admit_blocking, release};
use super::{
    BulkheadSlot, Driver, Fallible, Guard, Off, Pipeline, RateSlot, Recover, Retrier, Retry,
    Tracker,
};
use crate::retry::{Attempt, Next, RetryLoop};

impl<Out, Body, P, X, B, F, L, H, E> Pipeline<Out, Body, P, Retry<'_, X, E>, B, F, Off, L, H, Off> {
    /// Runs a synchronous operation until it succeeds or the policy gives up.
    #[inline(always)]
    pub fn run(self) -> Out
    where
        Body: FnMut() -> Out,
        X: Retrier,
        Out: Fallible<Err = E>,
        P: Tracker<Out>,
        B: Guard<Out>,
        F: Recover<Out>,
        L: RateSlot<Out>,
        H: BulkheadSlot<Out>,
    {
        let Self { mut body, layers } = self;
        // Moved out of the layers, not borrowed: the success path keeps them in registers.
        let Driver {
            perf,
            retry,
            breaker,
            fallback,
            limit,
            bulkhead,
            ..
        } = layers;
        let call = perf.start();
        let mut attempts = retry.retrier.start();
        // The first attempt inline; everything after a failure in a cold function, so the
        // success path sets up nothing for the retries.
        let failure = match admit_blocking(&breaker, &limit, &bulkhead) {
            Ok(held) => {
                let out = body();
                release(&breaker, held, &out);
                match out.into_result() {
                    Ok(value) => {
                        attempts.succeeded();
                        let out = fallback.recover(Out::from_result(Ok(value)));
                        perf.finish(call, &out);
                        return out;
                    }
                    Err(error) => retry.classify(error),
                }
            }
            Err(rejected) => match retry.rejected(rejected) {
                Ok(out) => {
                    let out = fallback.recover(out);
                    perf.finish(call, &out);
                    return out;
                }
                Err(failure) => failure,
            },
        };
        let gates = (&breaker, &limit, &bulkhead);
        let out = Self::retry_blocking(attempts, &retry, gates, &mut body, failure);
        let out = fallback.recover(out);
        perf.finish(call, &out);
        out
    }
}

// The retry loop's steps, under the bounds every step needs.
impl<Out, Body, P, X, B, F, L, H, E> Pipeline<Out, Body, P, Retry<'_, X, E>, B, F, Off, L, H, Off>
where
    Body: FnMut() -> Out,
    Out: Fallible<Err = E>,
    B: Guard<Out>,
    L: RateSlot<Out>,
    H: BulkheadSlot<Out>,
{
    #[cold]
    #[inline(never)]
    fn retry_blocking(
        mut attempts: RetryLoop<'_>,
        retry: &Retry<'_, X, E>,
        gates: (&B, &L, &H),
        body: &mut Body,
        mut failure: Attempt<E>,
    ) -> Out {
        loop {
            match attempts.failed(failure) {
                Next::Retry(delay) => attempts.sleep(delay),
                Next::Stop(error) => return Out::from_result(Err(error)),
            }
            failure = match Self::attempt(&mut attempts, retry, gates, body) {
                Ok(out) => return out,
                Err(failure) => failure,
            };
        }
    }

    /// One attempt inside its permits: the call's outcome, or the failure for the policy.
    #[inline(always)]
    fn attempt(
        attempts: &mut RetryLoop<'_>,
        retry: &Retry<'_, X, E>,
        (breaker, limit, bulkhead): (&B, &L, &H),
        body: &mut Body,
    ) -> Result<Out, Attempt<E>> {
        match admit_blocking(breaker, limit, bulkhead) {
            Ok(held) => {
                let out = body();
                retry.settle(attempts, breaker, held, out)
            }
            Err(rejected) => retry.rejected(rejected),
        }
    }
}
