//! An outage, soaked: two threads call one function through `#[track_performance]`, `#[retry]`
//! and `#[circuit_breaker]` through repeated outages (30 % of the time every attempt fails, 10 %
//! of attempts fail the rest of the time), and a third thread reconfigures the
//! breaker, calls `coord::reset()` and renders every report format. Nothing may panic or
//! deadlock, every snapshot must add up, the half-open limit must hold, and once the chaos stops
//! the counts must match what the callers saw exactly.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use coord::{BreakerConfig, BreakerState, circuit_breaker, retry, track_performance};

mod support;

use support::DbError;

const OPERATION: &str = "soak.checkout";
const BREAKER: &str = "soak.checkout_db";
const CALLS_PER_THREAD: u64 = 200_000;
const EXACT_CALLS_PER_THREAD: u64 = 20_000;
const HALF_OPEN_CALLS: u32 = 2;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Outages come in bursts, as real ones do: 30 % of the 4 ms slots since the start are outages
/// in which every attempt fails (so the breaker opens, probes and closes again); outside them
/// 10 % of attempts fail at random.
fn attempt_fails() -> bool {
    let slot = (EPOCH.elapsed().as_millis() / 4) as u64;
    if slot.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32 & 1023 < 307 {
        return true;
    }
    // fastrand's generator is per thread: no shared counter between the callers.
    fastrand::u8(..100) < 10
}

#[track_performance("soak.checkout")]
#[retry(max_retries = 2, base_delay = "0ms", jitter = "none")]
#[circuit_breaker(
    name = "soak.checkout_db",
    failure_rate = 0.5,
    minimum_calls = 20,
    window = 50,
    open_for = "1ms",
    half_open_calls = 2
)]
fn checkout(order: u64) -> Result<u64, DbError> {
    if attempt_fails() {
        Err(DbError::Down)
    } else {
        Ok(order)
    }
}

/// Runs `calls` calls and returns (successes, failures) as the caller saw them.
fn hammer(seed: u64, calls: u64) -> (u64, u64) {
    fastrand::seed(seed);
    let (mut ok, mut err) = (0, 0);
    for order in 0..calls {
        match checkout(order) {
            Ok(value) => {
                assert_eq!(value, order);
                ok += 1;
            }
            Err(_) => err += 1,
        }
    }
    (ok, err)
}

fn config(failure_rate: f64, open_for: Duration) -> BreakerConfig {
    BreakerConfig::default()
        .failure_rate(failure_rate)
        .minimum_calls(20)
        .window(50)
        .open_for(open_for)
        .half_open_calls(HALF_OPEN_CALLS)
}

/// Checks what must hold in any snapshot, however it interleaves with writers; counts the
/// snapshots that found the breaker not closed.
fn check_consistency(seen_tripped: &AtomicU64) {
    let breaker = coord::breaker(BREAKER);
    let snapshot = breaker.snapshot();
    assert!(
        snapshot.half_open_in_flight <= HALF_OPEN_CALLS,
        "half-open permits exceeded: {snapshot:?}"
    );
    if snapshot.state != BreakerState::Closed || snapshot.rejected > 0 {
        seen_tripped.fetch_add(1, Ordering::Relaxed);
    }
    assert!((0.0..=1.0).contains(&snapshot.failure_rate), "{snapshot:?}");
    if let Some(stats) = coord::operation(OPERATION) {
        assert_eq!(
            stats.calls,
            stats.successes + stats.failures + stats.cancelled + stats.rejected,
            "{stats:?}"
        );
        assert!(stats.min <= stats.max || stats.calls == 0, "{stats:?}");
    }
}

/// One calm round from a reset: two threads' calls, each counted exactly as its caller saw it.
/// Whether the round gave both outcomes.
fn calm_round() -> bool {
    coord::reset();
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [7_u64, 11]
        .into_iter()
        .map(|seed| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                hammer(seed, EXACT_CALLS_PER_THREAD)
            })
        })
        .collect();
    let (mut ok, mut err) = (0, 0);
    for worker in workers {
        let (o, e) = worker.join().expect("a worker panicked");
        ok += o;
        err += e;
    }
    let stats = coord::operation(OPERATION).expect("recorded since the reset");
    assert_eq!(stats.calls, 2 * EXACT_CALLS_PER_THREAD);
    // A call the breaker rejected before any attempt ran is counted apart from failures (one
    // whose failed attempts tripped it stays a failure): together they are the callers' errors.
    assert_eq!(
        (
            stats.successes,
            stats.failures + stats.rejected,
            stats.cancelled
        ),
        (ok, err, 0)
    );
    err > 0 && ok > 0
}

fn soak() {
    let stop = Arc::new(AtomicBool::new(false));
    let seen_tripped = Arc::new(AtomicU64::new(0));
    let chaos = {
        let stop = Arc::clone(&stop);
        let seen_tripped = Arc::clone(&seen_tripped);
        thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(Ordering::Acquire) {
                let open_for = Duration::from_millis(1 + rounds % 3);
                let rate = if rounds.is_multiple_of(2) { 0.5 } else { 0.6 };
                coord::breaker(BREAKER)
                    .configure(config(rate, open_for))
                    .expect("a valid config");
                check_consistency(&seen_tripped);
                let report = coord::report();
                assert!(!report.to_string().is_empty());
                assert!(report.to_json().expect("json").contains(OPERATION) || rounds == 0);
                report.to_yaml().expect("yaml");
                assert!(report.to_prometheus().contains("# TYPE"));
                if rounds % 4 == 3 {
                    coord::reset();
                }
                rounds += 1;
                thread::sleep(Duration::from_millis(2));
            }
            rounds
        })
    };
    let workers: Vec<_> = [0x1234_5678_9abc_def1_u64, 0x0fed_cba9_8765_4321]
        .into_iter()
        .map(|seed| thread::spawn(move || hammer(seed, CALLS_PER_THREAD)))
        .collect();
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
    stop.store(true, Ordering::Release);
    let rounds = chaos.join().expect("the chaos thread panicked");
    assert!(rounds > 0, "the chaos thread never ran");
    assert!(
        seen_tripped.load(Ordering::Relaxed) > 0,
        "the outages never tripped the breaker: the soak tested nothing"
    );

    // Calm: from a reset, every call must be counted exactly as its caller saw it. A round can
    // fall wholly inside an outage (calls the open breaker rejects take nanoseconds), so rounds
    // repeat until one has given both outcomes: the counting is checked in every round.
    let mut calm_rounds = 0;
    while !calm_round() {
        calm_rounds += 1;
        assert!(
            calm_rounds < 20,
            "30 % failing attempts never gave both outcomes in 20 rounds"
        );
    }
    check_consistency(&seen_tripped);
}

#[test]
fn outage_soak_keeps_every_invariant() {
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        soak();
        let _ = done.send(());
    });
    // A deadlock shows up as a timeout here instead of a hung CI job.
    match finished.recv_timeout(Duration::from_secs(240)) {
        Ok(()) => runner.join().expect("soak thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The soak thread ended without reporting: it panicked; surface its message.
            if let Err(panic) = runner.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("soak did not finish in 240 s: deadlock?"),
    }
}
