//! An async admission: the round trip made on the backend's helper thread, awaited on coord's
//! timer.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::super::RateLimited;
use super::{Backend, Failure, Grant, Shared, Verdict};

use crate::clock::timer;

/// Where an async caller's round trip, made on the backend's helper thread, is answered.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
enum SlotState {
    #[default]
    Waiting,
    Parked(Waker),
    Answered(Result<Grant, Failure>),
    /// The caller stopped waiting (its deadline passed or it was dropped).
    Abandoned,
}

impl Slot {
    /// Whether the caller still waits (the helper thread skips abandoned round trips).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn wanted(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(PoisonError::into_inner),
            SlotState::Abandoned
        )
    }

    /// Gives the caller its answer.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn answer(&self, answer: Result<Grant, Failure>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *state, SlotState::Answered(answer)) {
            SlotState::Parked(waker) => {
                drop(state);
                waker.wake();
            }
            SlotState::Abandoned => *state = SlotState::Abandoned,
            SlotState::Waiting | SlotState::Answered(_) => {}
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Option<Result<Grant, Failure>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::take(&mut *state) {
            SlotState::Answered(answer) => {
                *state = SlotState::Abandoned;
                Some(answer)
            }
            SlotState::Abandoned => {
                *state = SlotState::Abandoned;
                None
            }
            SlotState::Waiting | SlotState::Parked(_) => {
                *state = SlotState::Parked(cx.waker().clone());
                None
            }
        }
    }

    fn abandon(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = SlotState::Abandoned;
    }
}

/// The admission future of a shared limiter for an async caller.
pub struct SharedAdmit {
    shared: Arc<Shared>,
    max_wait: u64,
    state: AdmitState,
}

enum AdmitState {
    /// Waiting for the helper thread's answer, or for the deadline.
    Asking {
        slot: Arc<Slot>,
        started: Instant,
        deadline: timer::Sleep,
    },
    /// Admitted; waiting for the reserved turn.
    Turn(timer::Sleep),
    Done(Option<Result<(), RateLimited>>),
}

impl fmt::Debug for SharedAdmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedAdmit")
            .field("limiter", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl SharedAdmit {
    /// Starts deciding a call that may wait up to `max_wait` ns.
    pub(crate) fn new(shared: Arc<Shared>, max_wait: u64) -> Self {
        let state = if shared.take_held() {
            AdmitState::Done(Some(Ok(())))
        } else {
            match shared.begin().map(Arc::clone) {
                Some(backend) => {
                    let started = Instant::now();
                    match spawn_ask(&shared, &backend, max_wait, started) {
                        Some(slot) => AdmitState::Asking {
                            slot,
                            started,
                            // A little past the helper's own deadline: its answer (a time-out
                            // included) normally comes first.
                            deadline: timer::sleep(
                                shared.config.timeout.saturating_add(ASYNC_SLACK),
                            ),
                        },
                        None => {
                            let verdict = shared.finish(
                                Err(Failure::Error("no helper thread".into())),
                                started,
                                max_wait,
                            );
                            settle(&shared, verdict)
                        }
                    }
                }
                None => {
                    let verdict = shared.fall_back(max_wait);
                    settle(&shared, verdict)
                }
            }
        };
        Self {
            shared,
            max_wait,
            state,
        }
    }
}

/// How long past the timeout an async caller waits for the helper thread's own time-out.
const ASYNC_SLACK: Duration = Duration::from_millis(1);

#[cfg(feature = "redis")]
fn spawn_ask(
    shared: &Arc<Shared>,
    backend: &Arc<Backend>,
    max_wait: u64,
    started: Instant,
) -> Option<Arc<Slot>> {
    let slot = Arc::new(Slot::default());
    let job_slot = Arc::clone(&slot);
    let job_shared = Arc::clone(shared);
    let job_backend = Arc::clone(backend);
    backend
        .spawn(Box::new(move || {
            if job_slot.wanted() {
                let answer = job_backend.eval(&job_shared.ask(max_wait, started));
                job_slot.answer(answer);
            }
        }))
        .then_some(slot)
}

#[cfg(not(feature = "redis"))]
fn spawn_ask(_: &Arc<Shared>, backend: &Arc<Backend>, _: u64, _: Instant) -> Option<Arc<Slot>> {
    match **backend {}
}

/// The state after a verdict: done, or waiting for the reserved turn.
fn settle(shared: &Shared, verdict: Verdict) -> AdmitState {
    match verdict {
        Ok(0) => AdmitState::Done(Some(Ok(()))),
        Ok(wait) => AdmitState::Turn(timer::sleep(shared.record_wait(wait))),
        Err(retry_after) => AdmitState::Done(Some(Err(shared.reject(retry_after)))),
    }
}

impl Future for SharedAdmit {
    type Output = Result<(), RateLimited>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                AdmitState::Asking {
                    slot,
                    started,
                    deadline,
                } => {
                    let answer = match slot.poll(cx) {
                        Some(answer) => answer,
                        None => {
                            if std::pin::Pin::new(deadline).poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            slot.abandon();
                            Err(Failure::Timeout)
                        }
                    };
                    let verdict = this.shared.finish(answer, *started, this.max_wait);
                    this.state = settle(&this.shared, verdict);
                }
                AdmitState::Turn(sleep) => {
                    std::task::ready!(std::pin::Pin::new(sleep).poll(cx));
                    this.state = AdmitState::Done(Some(Ok(())));
                }
                // Polled again after completion: admitted (the turn was taken).
                AdmitState::Done(done) => return Poll::Ready(done.take().unwrap_or(Ok(()))),
            }
        }
    }
}

impl Drop for SharedAdmit {
    fn drop(&mut self) {
        if let AdmitState::Asking { slot, .. } = &self.state {
            slot.abandon();
        }
    }
}
