//! `coord::timeout` through the public API, on a tiny executor and on tokio runtimes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use coord::TimedOut;

mod common;
use common::block_on;

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Pending on its first poll, ready on the next (after waking itself).
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

#[test]
fn a_slow_future_is_dropped_at_the_limit() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let start = Instant::now();
    let result = block_on(coord::timeout(Duration::from_millis(10), async move {
        let _guard = guard;
        std::future::pending::<u32>().await
    }));
    let timed_out: TimedOut = result.unwrap_err();
    assert_eq!(timed_out.limit(), Duration::from_millis(10));
    assert!(timed_out.elapsed() >= Duration::from_millis(10));
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert!(dropped.load(Ordering::SeqCst));
    assert!(timed_out.to_string().starts_with("timed out after"));
}

#[test]
fn a_fast_future_keeps_its_output_and_leaves_no_timer_entry() {
    for i in 0..1_000 {
        let r = block_on(coord::timeout(Duration::from_secs(3600), async move {
            yield_once().await;
            i
        }));
        assert_eq!(r, Ok(i));
    }
    // 1,000 registered entries were removed when their futures completed (other tests of
    // this binary may hold a few).
    assert!(coord::timer::pending() < 10);
}

#[test]
fn a_shared_deadline_covers_several_steps() {
    let deadline = Instant::now() + Duration::from_millis(20);
    let steps = async {
        for _ in 0..100 {
            coord::timer::sleep(Duration::from_millis(1)).await;
        }
    };
    let timed_out = block_on(coord::timeout_at(deadline, steps)).unwrap_err();
    assert!(timed_out.elapsed() >= Duration::from_millis(19));
    assert!(block_on(coord::timeout_at(Instant::now(), async { 5 })).is_ok());
}

#[test]
fn huge_limits_never_fire_and_never_panic() {
    assert_eq!(
        block_on(coord::timeout(Duration::MAX, yield_once())),
        Ok(())
    );
}

#[test]
fn works_on_tokio_runtimes_with_and_without_a_time_driver() {
    let without_time = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = without_time.block_on(coord::timeout(
        Duration::from_millis(5),
        std::future::pending::<()>(),
    ));
    assert!(r.is_err());

    let with_time = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let r = with_time.block_on(async {
        let task = tokio::spawn(coord::timeout(Duration::from_secs(5), async {
            tokio::time::sleep(Duration::from_millis(2)).await;
            7
        }));
        task.await.unwrap()
    });
    assert_eq!(r, Ok(7));
    let r = with_time.block_on(async {
        coord::timeout(
            Duration::from_millis(2),
            tokio::time::sleep(Duration::from_secs(5)),
        )
        .await
    });
    assert!(r.is_err());
}
