//! An async admission: the round trip made on the backend's helper thread, awaited on coord's
//! timer.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::super::RateLimited;
use super::{Backend, Failure, Grant, Shared, Verdict};

use crate::clock::timer;

/// Where a caller's round trip, made on a helper thread, is answered: polled by an async
/// caller, waited on by a sync one.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    answered: Condvar,
}

#[derive(Default)]
struct SlotState {
    answer: Option<Result<Grant, Failure>>,
    waker: Option<Waker>,
    /// A helper thread took the round trip (it was no longer queued).
    started: bool,
    /// The caller stopped waiting (its deadline passed, it was dropped or answered).
    abandoned: bool,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the caller still waits, marking the round trip as started (the helper thread
    /// skips abandoned ones).
    pub(crate) fn start(&self) -> bool {
        let mut state = self.lock();
        state.started = !state.abandoned;
        state.started
    }

    /// Gives the caller its answer.
    pub(crate) fn answer(&self, answer: Result<Grant, Failure>) {
        let mut state = self.lock();
        if state.abandoned {
            return;
        }
        state.answer = Some(answer);
        let waker = state.waker.take();
        drop(state);
        self.answered.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Option<Result<Grant, Failure>> {
        let mut state = self.lock();
        if let Some(answer) = state.answer.take() {
            state.abandoned = true;
            return Some(answer);
        }
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        None
    }

    /// Stops waiting: the answer if it just came; else a time-out if Redis had the round trip,
    /// or, if it was still queued, not Redis's failure.
    fn give_up(&self) -> Result<Grant, Failure> {
        let mut state = self.lock();
        state.abandoned = true;
        state.waker = None;
        match state.answer.take() {
            Some(answer) => answer,
            None if state.started => Err(Failure::Timeout),
            None => Err(Failure::NotAsked("queued past the timeout")),
        }
    }

    /// Blocks this thread until the answer or `deadline`.
    pub(crate) fn wait(&self, deadline: Instant) -> Result<Grant, Failure> {
        let mut state = self.lock();
        loop {
            if let Some(answer) = state.answer.take() {
                state.abandoned = true;
                return answer;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                drop(state);
                return self.give_up();
            };
            state = self
                .answered
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
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
            match shared
                .begin()
                .map(|(backend, probe)| (Arc::clone(backend), probe))
            {
                Some((backend, probe)) => {
                    let started = Instant::now();
                    match spawn_ask(&shared, &backend, max_wait, started, probe) {
                        Ok(slot) => AdmitState::Asking {
                            slot,
                            // A little past the helper's own deadline: its answer (a time-out
                            // included) normally comes first.
                            deadline: timer::sleep(
                                shared.config.timeout.saturating_add(ASYNC_SLACK),
                            ),
                        },
                        Err(failure) => {
                            let verdict = shared.finish(Err(failure), max_wait);
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

/// Queues the round trip of a call started at `started` on a helper thread of `backend`; else
/// why it was not sent.
pub(super) fn spawn_ask(
    shared: &Arc<Shared>,
    backend: &Arc<Backend>,
    max_wait: u64,
    started: Instant,
    probe: bool,
) -> Result<Arc<Slot>, Failure> {
    let slot = Arc::new(Slot::default());
    let job_slot = Arc::clone(&slot);
    let job_shared = Arc::clone(shared);
    let job_backend = Arc::clone(backend);
    backend
        .spawn(Box::new(move || {
            if job_slot.start() {
                let answer = job_backend.eval(&job_shared.ask(max_wait, started, probe), true);
                job_slot.answer(answer);
            }
        }))
        .map(|()| slot)
        .map_err(Failure::NotAsked)
}

/// The state after a verdict: done, or waiting for the reserved turn.
fn settle(shared: &Shared, verdict: Verdict) -> AdmitState {
    match verdict {
        Ok(0) => AdmitState::Done(Some(Ok(()))),
        Ok(wait) => AdmitState::Turn(timer::sleep(shared.record_wait(wait))),
        Err(refusal) => AdmitState::Done(Some(Err(shared.reject(refusal)))),
    }
}

impl Future for SharedAdmit {
    type Output = Result<(), RateLimited>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                AdmitState::Asking { slot, deadline } => {
                    let answer = match slot.poll(cx) {
                        Some(answer) => answer,
                        None => {
                            if std::pin::Pin::new(deadline).poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            slot.give_up()
                        }
                    };
                    let verdict = this.shared.finish(answer, this.max_wait);
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
            let _ = slot.give_up();
        }
    }
}
