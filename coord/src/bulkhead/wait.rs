//! The waiting side of a bulkhead: the queue of callers waiting for a slot, the sync
//! [`Bulkhead::acquire`] that parks its thread, and the future [`BulkheadAcquire`]. Only a
//! caller that found every slot taken gets here; the lock-free fast path is in the parent.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::{Bulkhead, BulkheadFull, BulkheadPermit};
use crate::clock::saturating_nanos;
use crate::clock::timer;

/// Waiters by ticket: the smallest is woken first. Tickets are taken upwards from the middle of
/// the range for new waiters and downwards for a woken waiter that lost its slot to a barging
/// caller, so it keeps its turn.
pub(super) struct Queue {
    waiters: BTreeMap<u64, Waker>,
    back: u64,
    front: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            waiters: BTreeMap::new(),
            back: 1 << 63,
            front: (1 << 63) - 1,
        }
    }
}

impl Bulkhead {
    /// Takes a slot, parking this thread up to `max_wait` for one (`Duration::MAX`: forever).
    pub fn acquire(&self, max_wait: Duration) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        if self.try_take() {
            return Ok(self.permit());
        }
        if max_wait.is_zero() {
            return Err(self.reject(Duration::ZERO));
        }
        let start = Instant::now();
        let deadline = start.checked_add(max_wait);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut ticket = None;
        loop {
            if self.poll_take(&mut ticket, &waker) {
                self.record_wait(start.elapsed());
                return Ok(self.permit());
            }
            match deadline {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        self.give_up(&mut ticket);
                        let waited = now.saturating_duration_since(start);
                        self.record_wait(waited);
                        return Err(self.reject(waited));
                    }
                    std::thread::park_timeout(deadline.saturating_duration_since(now));
                }
            }
        }
    }

    /// Takes a slot, waiting up to `max_wait` without blocking a thread. Dropping the future
    /// leaves the queue (and passes a wake-up it received on to the next waiter).
    pub fn acquire_async(&self, max_wait: Duration) -> BulkheadAcquire<'_> {
        BulkheadAcquire {
            bulkhead: self,
            max_wait,
            ticket: None,
            wait: None,
        }
    }

    #[cold]
    pub(super) fn wake_one(&self) {
        let mut queue = self.lock();
        self.wake_first(&mut queue);
    }

    /// Wakes and dequeues the first waiter; `false` when nobody waits.
    pub(super) fn wake_first(&self, queue: &mut Queue) -> bool {
        let Some((_, waker)) = queue.waiters.pop_first() else {
            return false;
        };
        self.waiting.store(queue.waiters.len(), SeqCst);
        waker.wake();
        true
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every update of the queue is one map operation, consistent even after a panic.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One attempt of a waiting caller holding `ticket` (its place in the queue, `None` before
    /// the first attempt). Queues it with `waker` unless a slot is free.
    #[cold]
    pub(super) fn poll_take(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        if self.try_take() {
            self.leave(ticket);
            return true;
        }
        let mut queue = self.lock();
        match ticket.map(|t| (t, queue.waiters.get_mut(&t))) {
            Some((_, Some(queued))) => {
                if !queued.will_wake(waker) {
                    queued.clone_from(waker);
                }
            }
            // Woken, but a barging caller took the slot: back in line, first.
            Some((_, None)) => {
                let t = queue.front;
                queue.front -= 1;
                queue.waiters.insert(t, waker.clone());
                *ticket = Some(t);
            }
            None => {
                let t = queue.back;
                queue.back += 1;
                queue.waiters.insert(t, waker.clone());
                *ticket = Some(t);
            }
        }
        self.waiting.store(queue.waiters.len(), SeqCst);
        // Published as waiting: one more try, so a release in between cannot be missed.
        if self.try_take() {
            if let Some(t) = ticket.take() {
                queue.waiters.remove(&t);
            }
            self.waiting.store(queue.waiters.len(), SeqCst);
            return true;
        }
        false
    }

    /// Leaves the queue after taking a slot.
    fn leave(&self, ticket: &mut Option<u64>) {
        if let Some(t) = ticket.take() {
            let mut queue = self.lock();
            queue.waiters.remove(&t);
            self.waiting.store(queue.waiters.len(), SeqCst);
        }
    }

    /// Leaves the queue without a slot (timed out or dropped). A waiter already dequeued was
    /// woken for a slot it will not take: the wake-up goes to the next waiter.
    pub(super) fn give_up(&self, ticket: &mut Option<u64>) {
        if let Some(t) = ticket.take() {
            let mut queue = self.lock();
            if queue.waiters.remove(&t).is_none() {
                self.wake_first(&mut queue);
            }
            self.waiting.store(queue.waiters.len(), SeqCst);
        }
    }

    pub(super) fn record_wait(&self, waited: Duration) {
        self.waits.fetch_add(1, Relaxed);
        let _ = self.wait_nanos.fetch_update(Relaxed, Relaxed, |t| {
            Some(t.saturating_add(saturating_nanos(waited)))
        });
    }
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The future of [`Bulkhead::acquire_async`].
#[must_use = "futures do nothing unless awaited"]
pub struct BulkheadAcquire<'a> {
    bulkhead: &'a Bulkhead,
    max_wait: Duration,
    ticket: Option<u64>,
    /// When the wait started and its timer, from the first attempt that found no free slot.
    wait: Option<(Instant, timer::Sleep)>,
}

impl fmt::Debug for BulkheadAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadAcquire")
            .field("bulkhead", &self.bulkhead.name)
            .field("max_wait", &self.max_wait)
            .field("queued", &self.ticket.is_some())
            .finish()
    }
}

impl<'a> Future for BulkheadAcquire<'a> {
    type Output = Result<BulkheadPermit<'a>, BulkheadFull>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let bulkhead = self.bulkhead;
        if self.wait.is_none() {
            if bulkhead.try_take() {
                return Poll::Ready(Ok(bulkhead.permit()));
            }
            if self.max_wait.is_zero() {
                return Poll::Ready(Err(bulkhead.reject(Duration::ZERO)));
            }
            self.wait = Some((Instant::now(), timer::sleep(self.max_wait)));
        }
        self.poll_wait(cx)
    }
}

impl<'a> BulkheadAcquire<'a> {
    #[cold]
    fn poll_wait(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<BulkheadPermit<'a>, BulkheadFull>> {
        let Self {
            bulkhead,
            ticket,
            wait,
            ..
        } = self;
        let bulkhead: &'a Bulkhead = bulkhead;
        let Some((start, sleep)) = wait.as_mut() else {
            return Poll::Pending;
        };
        let start = *start;
        if bulkhead.poll_take(ticket, cx.waker()) {
            bulkhead.record_wait(start.elapsed());
            return Poll::Ready(Ok(bulkhead.permit()));
        }
        if Pin::new(sleep).poll(cx).is_ready() {
            bulkhead.give_up(ticket);
            let waited = start.elapsed();
            bulkhead.record_wait(waited);
            return Poll::Ready(Err(bulkhead.reject(waited)));
        }
        Poll::Pending
    }
}

impl Drop for BulkheadAcquire<'_> {
    fn drop(&mut self) {
        self.bulkhead.give_up(&mut self.ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulkhead::BulkheadConfig;

    fn fresh(max: usize) -> Bulkhead {
        Bulkhead::new("test", BulkheadConfig::default().max_concurrent(max)).unwrap()
    }

    #[test]
    fn packed_counts() {
        let b = fresh(3);
        let p1 = b.try_acquire().unwrap();
        let p2 = b.try_acquire().unwrap();
        assert_eq!(b.in_flight(), 2);
        drop(p1);
        let s = b.snapshot();
        assert_eq!((s.in_flight, s.accepted), (1, 2));
        b.reset_counters();
        let s = b.snapshot();
        assert_eq!((s.in_flight, s.accepted), (1, 0));
        drop(p2);
        assert_eq!(b.in_flight(), 0);
    }

    #[test]
    fn woken_waiter_that_gives_up_passes_the_wake_on() {
        let b = fresh(1);
        let held = b.try_acquire().unwrap();
        let noop = Waker::noop();
        let (mut first, mut second) = (None, None);
        assert!(!b.poll_take(&mut first, noop));
        assert!(!b.poll_take(&mut second, noop));
        assert_eq!(b.waiting.load(SeqCst), 2);
        drop(held); // dequeues `first`
        assert_eq!(b.waiting.load(SeqCst), 1);
        b.give_up(&mut first); // dequeues `second` for it
        assert_eq!(b.waiting.load(SeqCst), 0);
        assert!(b.poll_take(&mut second, noop));
        assert_eq!(b.in_flight(), 1);
    }
}
