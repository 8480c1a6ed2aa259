//! The hedge's place in a function's layer stack (`#[hedge]`, `CoordLayer::hedge`): between
//! the retries and the gates. Each attempt the retry loop makes is a race of attempts; every
//! attempt in it passes the gates on its own (a breaker permit, a bulkhead slot, a rate-limit
//! token: a hedge is a real call downstream) and has its own time limit. The losers are
//! dropped, which releases their permits uncounted. A hedge starts only while the gates may
//! admit (not while the breaker is open) and the retry budget, if any, pays for it.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};

use super::{Hedge, HedgeConfig};
use crate::layer::{Fallible, GateFor, LimitFor, SiteLayer};

/// A `#[hedge]` call site's hedge (`LayerSite<Hedge>`), under the function's operation name
/// unless given its own.
impl SiteLayer for Hedge {
    type Config = fn() -> HedgeConfig;

    fn resolve(name: &'static str, config: &Self::Config) -> Arc<Self> {
        super::registry::for_layer(name, config())
    }
}

/// The operation of a hedged stack: a hedge and what makes one attempt (a closure returning
/// a future that owns what it needs, so that attempts can run side by side).
///
/// The closure sits in a mutex, locked only while it makes an attempt's future: the call's
/// future holds a reference to it across awaits, and through the mutex that reference is
/// `Send` whenever the closure is (the function's by-value parameters need only be `Send`,
/// as without the hedge, not `Sync`).
#[derive(Debug)]
pub struct Hedged<'h, F> {
    pub(crate) hedge: &'h Hedge,
    pub(crate) attempt: Mutex<F>,
}

impl<'h, F> Hedged<'h, F> {
    /// Attempts made by `attempt`, hedged by `hedge`.
    #[inline(always)]
    pub fn new(hedge: &'h Hedge, attempt: F) -> Self {
        Self {
            hedge,
            attempt: Mutex::new(attempt),
        }
    }
}

/// Why a race gave no success: every attempt failed (the last failure's outcome), or the
/// first one was rejected by a gate before it ran.
pub(crate) enum Lost<Out, R> {
    Failed(Out),
    Rejected(R),
}

impl<Out, R> Lost<Out, R> {
    /// A hedge's rejection (a gate filled between its check and its admission) never replaces
    /// an attempt's failure as the race's outcome.
    fn replaces(_kept: &Self, new: &Self) -> bool {
        matches!(new, Lost::Failed(_))
    }
}

impl<F> Hedged<'_, F> {
    /// One race: attempts through `gates` and under `limit`, a hedge started after the delay
    /// while the gates may admit and `may_hedge()` (the retry budget) agrees.
    pub(crate) async fn race<Out, Fut, G, A>(
        &self,
        gates: &G,
        limit: &A,
        may_hedge: impl Fn() -> bool,
    ) -> Result<Out, Lost<Out, G::Rejection>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Out>,
        Out: Fallible,
        G: GateFor<Out>,
        A: LimitFor<Out>,
    {
        // The first attempt is admitted before the race starts: its wait at the gates is not
        // latency for the delay to count, and its rejection ends the call.
        let first = Mutex::new(Some(gates.admit_async().await.map_err(Lost::Rejected)?));
        let attempt = || {
            let admitted = crate::locks::lock(&first).take();
            attempt_once(&self.attempt, gates, limit, admitted)
        };
        self.hedge
            .run_ranked(attempt, || gates.may_admit() && may_hedge(), Lost::replaces)
            .await
    }
}

/// One attempt through the gates and its time limit; a success is `Ok`.
async fn attempt_once<Out, F, Fut, G, A>(
    attempt: &Mutex<F>,
    gates: &G,
    limit: &A,
    admitted: Option<G::Permit>,
) -> Result<Out, Lost<Out, G::Rejection>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Out>,
    Out: Fallible,
    G: GateFor<Out>,
    A: LimitFor<Out>,
{
    let permit = match admitted {
        Some(permit) => permit,
        None => gates.admit_async().await.map_err(Lost::Rejected)?,
    };
    let future = (crate::locks::lock(attempt))();
    let future = pin!(future);
    let out = match limit.within(future).await {
        Ok(out) => out,
        Err(expired) => limit.expired(expired),
    };
    gates.release(permit, &out);
    if out.is_failure() {
        Err(Lost::Failed(out))
    } else {
        Ok(out)
    }
}
