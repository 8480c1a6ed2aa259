//! One shared timer for async sleeps that works on any executor, with or without tokio.
//!
//! A single thread, started on the first sleep that has to wait, keeps every pending deadline in
//! an ordered map and wakes each [`Sleep`] when its deadline passes. A sleep registers only when
//! it is first polled and not yet due, and a dropped sleep removes its entry, so a timeout that
//! completes in time leaves nothing behind: no thread per sleep, no growing queue.
//!
//! ```
//! use std::time::Duration;
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::sync::Arc;
//! #     use std::task::{Context, Poll, Wake};
//! #     struct Unpark(std::thread::Thread);
//! #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark(); } }
//! #     let waker = Arc::new(Unpark(std::thread::current())).into();
//! #     let mut cx = Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop {
//! #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
//! #         std::thread::park();
//! #     }
//! # }
//! let start = std::time::Instant::now();
//! block_on(coord::timer::sleep(Duration::from_millis(5)));
//! assert!(start.elapsed() >= Duration::from_millis(5));
//! ```
//!
//! This module is a leaf: it uses nothing else of coord.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Sleeps for `delay` on the shared timer thread.
///
/// A delay so long that its deadline cannot be represented never completes (it saturates to
/// "forever"); it holds no timer entry while it waits.
pub fn sleep(delay: Duration) -> Sleep {
    sleep_until_or_never(Instant::now().checked_add(delay))
}

/// Sleeps until `deadline` on the shared timer thread (completes at once if it has passed).
pub fn sleep_until(deadline: Instant) -> Sleep {
    sleep_until_or_never(Some(deadline))
}

fn sleep_until_or_never(deadline: Option<Instant>) -> Sleep {
    Sleep {
        timer: &GLOBAL,
        deadline,
        key: None,
    }
}

/// The number of sleeps currently waiting on the shared timer (for diagnostics and tests).
pub fn pending() -> usize {
    GLOBAL.lock().entries.len()
}

static GLOBAL: LazyLock<Timer> = LazyLock::new(Timer::default);

/// The future returned by [`sleep`] and [`sleep_until`]. `Send`, `Sync` and `Unpin`; dropping it
/// removes it from the timer.
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    timer: &'static Timer,
    /// `None`: the deadline is beyond what `Instant` can represent, so the sleep never ends.
    deadline: Option<Instant>,
    /// The entry in the timer's map while registered.
    key: Option<Key>,
}

impl Sleep {
    /// When this sleep completes (`None`: never).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            // Never due, so nobody will ever wake us: keep no entry and no waker.
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            self.deregister();
            return Poll::Ready(());
        }
        let timer = self.timer;
        let mut state = timer.lock();
        if let Some(key) = self.key
            && let Some(waker) = state.entries.get_mut(&key)
        {
            if !waker.will_wake(cx.waker()) {
                waker.clone_from(cx.waker());
            }
            return Poll::Pending;
        }
        // Not registered (first poll), or fired by the timer thread just now: (re-)register.
        if !state.thread_started {
            if spawn_thread(timer).is_err() {
                // No thread to wake us (the process is out of threads): completing early beats
                // hanging the caller or panicking in a library. The next sleep tries again.
                return Poll::Ready(());
            }
            state.thread_started = true;
        }
        let key = Key {
            deadline,
            id: state.next_id,
        };
        state.next_id = state.next_id.wrapping_add(1);
        // The thread needs telling only if it would sleep past this deadline: it wakes at the
        // deadline it sleeps until (even one whose entry is gone) and looks again, so a stream
        // of sleeps that each end (a time limit on calls that finish) costs no wake-ups.
        let earliest = state.sleeping_until.is_none_or(|until| deadline < until)
            && state
                .entries
                .first_key_value()
                .is_none_or(|(k, _)| key < *k);
        state.entries.insert(key, cx.waker().clone());
        drop(state);
        self.key = Some(key);
        if earliest {
            timer.changed.notify_one();
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl Sleep {
    fn deregister(&mut self) {
        if let Some(key) = self.key.take() {
            // An earlier deadline removed from the map only makes the thread wake once for
            // nothing, so it is not told.
            self.timer.lock().entries.remove(&key);
        }
    }
}

/// Orders entries by deadline, then by registration (ids are unique among pending entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    deadline: Instant,
    id: u64,
}

#[derive(Default)]
struct Timer {
    state: Mutex<State>,
    /// Signalled when a new earliest deadline is registered.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    entries: BTreeMap<Key, Waker>,
    next_id: u64,
    thread_started: bool,
    /// The deadline the timer thread sleeps until; `None` while it waits for an entry (or has
    /// not slept yet).
    sleeping_until: Option<Instant>,
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is one map operation).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The timer thread: wake whatever is due, then wait for the next deadline or a new
    /// earlier one.
    fn run(&self) {
        let mut due = Vec::new();
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            while let Some(entry) = state.entries.first_entry() {
                if entry.key().deadline > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                // Wake outside the lock: a waker may poll (and lock) right away. A waker that
                // panics must not end the thread every other sleep depends on.
                drop(state);
                for waker in due.drain(..) {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
                }
                state = self.lock();
                continue;
            }
            state = match state.entries.first_key_value() {
                Some((key, _)) => {
                    let wait = key.deadline.saturating_duration_since(now);
                    state.sleeping_until = Some(key.deadline);
                    self.changed
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => {
                    state.sleeping_until = None;
                    self.changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            };
        }
    }
}

fn spawn_thread(timer: &'static Timer) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("coord-timer".into())
        .spawn(move || timer.run())
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// A private timer per test, so counts are not disturbed by other tests.
    fn private_timer() -> &'static Timer {
        Box::leak(Box::default())
    }

    fn sleep_on(timer: &'static Timer, delay: Duration) -> Sleep {
        Sleep {
            timer,
            deadline: Instant::now().checked_add(delay),
            key: None,
        }
    }

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    /// Counts wakes, to see which sleeps the timer woke.
    #[derive(Default)]
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn many_concurrent_sleeps_complete_on_one_thread() {
        let timer = private_timer();
        // One future polling 500 sleeps with staggered deadlines, all on this thread.
        let mut sleeps: Vec<Sleep> = (0..500)
            .map(|i| sleep_on(timer, Duration::from_micros(200 * (i % 25))))
            .collect();
        let start = Instant::now();
        block_on(std::future::poll_fn(|cx| {
            sleeps.retain_mut(|s| Pin::new(s).poll(cx).is_pending());
            if sleeps.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        assert!(start.elapsed() >= Duration::from_micros(200 * 24));
        assert_eq!(timer.lock().entries.len(), 0);
    }

    #[test]
    fn sleeps_after_dropped_ones_fire_whether_or_not_the_thread_is_told() {
        let timer = private_timer();
        let waker = Waker::from(Arc::new(Count::default()));
        let mut cx = Context::from_waker(&waker);
        // The thread sleeps until a deadline whose sleep is then dropped (a call that finished
        // within its time limit).
        let mut gone = sleep_on(timer, Duration::from_millis(30));
        assert!(Pin::new(&mut gone).poll(&mut cx).is_pending());
        while timer.lock().sleeping_until.is_none() {
            std::thread::yield_now();
        }
        drop(gone);
        // A later deadline: the thread is not told, wakes at the old one and sleeps again.
        let start = Instant::now();
        block_on(sleep_on(timer, Duration::from_millis(60)));
        assert!(start.elapsed() >= Duration::from_millis(60));
        // An earlier deadline than the one it sleeps until: it is told.
        let mut long = sleep_on(timer, Duration::from_secs(600));
        assert!(Pin::new(&mut long).poll(&mut cx).is_pending());
        let start = Instant::now();
        block_on(sleep_on(timer, Duration::from_millis(5)));
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the earlier sleep fired"
        );
    }

    #[test]
    fn sleeps_from_many_threads() {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let delay = Duration::from_millis(1 + i % 3);
                    block_on(sleep(delay));
                    assert!(start.elapsed() >= delay);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn dropped_sleep_removes_its_entry() {
        let timer = private_timer();
        let counter = Arc::new(Count::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut long = sleep_on(timer, Duration::from_secs(3600));
        assert!(Pin::new(&mut long).poll(&mut cx).is_pending());
        assert_eq!(timer.lock().entries.len(), 1);
        drop(long);
        assert_eq!(timer.lock().entries.len(), 0);
        // Polling again with the same waker does not add a second entry.
        let mut s = sleep_on(timer, Duration::from_secs(3600));
        assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
        assert_eq!(timer.lock().entries.len(), 1);
    }

    #[test]
    fn wakes_in_deadline_order() {
        let timer = private_timer();
        let order = Arc::new(Mutex::new(Vec::new()));
        struct Push(usize, Arc<Mutex<Vec<usize>>>);
        impl Wake for Push {
            fn wake(self: Arc<Self>) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        // Registered in reverse order of deadline. The deadlines are fixed before the first
        // registration, far enough ahead that a loaded machine registers them all in time: a
        // delay read at each registration could reorder them.
        let start = Instant::now() + Duration::from_millis(200);
        let mut sleeps: Vec<Sleep> = (0..5)
            .rev()
            .map(|i| {
                let mut s = Sleep {
                    timer,
                    deadline: Some(start + Duration::from_millis(10 * i as u64)),
                    key: None,
                };
                let waker = Waker::from(Arc::new(Push(i, Arc::clone(&order))));
                assert!(
                    Pin::new(&mut s)
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                );
                s
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(5);
        while order.lock().unwrap().len() < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        for s in &mut sleeps {
            assert!(s.is_elapsed());
        }
    }

    #[test]
    fn far_deadlines_saturate_without_entries() {
        let timer = private_timer();
        let mut forever = Sleep {
            timer,
            deadline: Instant::now().checked_add(Duration::MAX),
            key: None,
        };
        let counter = Arc::new(Count::default());
        let waker = Waker::from(counter);
        assert!(
            Pin::new(&mut forever)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(forever.deadline(), None);
        assert_eq!(timer.lock().entries.len(), 0);
        // A large but representable deadline registers and waits; the thread must not panic.
        let mut long = sleep_on(timer, Duration::from_secs(u64::MAX / 4));
        let _ = Pin::new(&mut long).poll(&mut Context::from_waker(&Waker::noop().clone()));
        let mut short = sleep_on(timer, Duration::from_millis(1));
        block_on(&mut short);
    }

    #[test]
    fn a_panicking_waker_does_not_stop_the_timer() {
        struct Panics;
        impl Wake for Panics {
            fn wake(self: Arc<Self>) {
                panic!("a broken executor");
            }
        }
        let timer = private_timer();
        let waker = Waker::from(Arc::new(Panics));
        let mut broken = sleep_on(timer, Duration::from_millis(1));
        assert!(
            Pin::new(&mut broken)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        block_on(sleep_on(timer, Duration::from_millis(5)));
    }

    #[test]
    fn zero_and_past_deadlines_are_ready_at_once() {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            Pin::new(&mut sleep(Duration::ZERO))
                .poll(&mut cx)
                .is_ready()
        );
        let past = Instant::now();
        assert!(Pin::new(&mut sleep_until(past)).poll(&mut cx).is_ready());
    }

    #[test]
    fn sleep_is_send_and_sync() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Sleep>();
    }
}
