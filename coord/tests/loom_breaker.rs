//! loom model of the breaker's state word: admission races, the half-open permit bound, and
//! the generation rule, explored over every interleaving (within a preemption bound).
//!
//! Run with:
//! `RUSTFLAGS="--cfg coord_loom" cargo test -p coord --test loom_breaker --release`
//!
//! (Not `--cfg loom`: tokio, a dependency here, switches to its own loom internals under that
//! name and stops compiling.) The model includes `src/breaker/machine.rs` verbatim, with loom's atomics behind the
//! `sync` module it imports.
#![cfg(coord_loom)]

mod sync {
    pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
}

#[allow(dead_code)]
#[path = "../src/breaker/machine.rs"]
mod machine;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use machine::{Admission, CLOSED, HALF_OPEN, Machine, OPEN, ProbeOutcome, ProbeRules, Transition};

const OPEN_FOR: u64 = 10;

fn rules(half_open_calls: u32) -> ProbeRules {
    ProbeRules {
        half_open_calls,
        failure_rate: 0.5,
        slow_call_rate: 1.0,
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// An open breaker whose open period is over (time 100 > OPEN_FOR).
fn open_machine() -> Machine {
    let m = Machine::new();
    assert!(m.trip(0, 0, OPEN_FOR).is_some());
    assert_eq!(m.load().kind(), OPEN);
    m
}

/// An [`open_machine`] that admitted its single probe (`half_open_calls = 1`) at time 100,
/// and that probe's generation.
fn with_only_probe(max_half_open_wait: u64) -> (Arc<Machine>, u64) {
    let m = Arc::new(open_machine());
    let Admission::Probe { generation, .. } =
        m.admit(|| 100, 1, max_half_open_wait, |_| OPEN_FOR, OPEN_FOR)
    else {
        panic!("the open period is over")
    };
    (m, generation)
}

/// A loom thread running `f` on its own handle to the machine.
fn spawn_on<T: Send + 'static>(
    m: &Arc<Machine>,
    f: impl FnOnce(&Machine) -> T + Send + 'static,
) -> loom::thread::JoinHandle<T> {
    let m = Arc::clone(m);
    loom::thread::spawn(move || f(&m))
}

/// A thread reporting how the probe of `generation` ended, at time `now`.
fn report_probe(
    m: &Arc<Machine>,
    generation: u64,
    outcome: ProbeOutcome,
    now: u64,
) -> loom::thread::JoinHandle<Option<Transition>> {
    spawn_on(m, move |m| {
        m.finish_probe(generation, outcome, rules(1), || now, |_| OPEN_FOR)
    })
}

/// Three threads race to leave the open state with `half_open_calls = 2`: exactly one flips
/// open → half-open, never more than two probes run at once, exactly two probes run in all,
/// and their successes close the breaker.
#[test]
fn half_open_admits_at_most_half_open_calls() {
    model(|| {
        let m = Arc::new(open_machine());
        let running = Arc::new(AtomicUsize::new(0));
        let probes = Arc::new(AtomicUsize::new(0));
        let flips = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (m, running, probes, flips) = (
                    Arc::clone(&m),
                    Arc::clone(&running),
                    Arc::clone(&probes),
                    Arc::clone(&flips),
                );
                loom::thread::spawn(
                    move || match m.admit(|| 100, 2, 0, |_| OPEN_FOR, OPEN_FOR) {
                        Admission::Probe {
                            generation,
                            opened_half,
                        } => {
                            if opened_half.is_some() {
                                flips.fetch_add(1, SeqCst);
                            }
                            probes.fetch_add(1, SeqCst);
                            assert!(running.fetch_add(1, SeqCst) < 2, "a third probe ran");
                            running.fetch_sub(1, SeqCst);
                            m.finish_probe(
                                generation,
                                ProbeOutcome::Success { slow: false },
                                rules(2),
                                || 100,
                                |_| OPEN_FOR,
                            );
                        }
                        Admission::Pass { .. } => {}
                        Admission::Reject { kind, .. } => assert_eq!(kind, HALF_OPEN),
                    },
                )
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            flips.load(SeqCst),
            1,
            "exactly one thread flips open → half-open"
        );
        assert_eq!(probes.load(SeqCst), 2);
        assert_eq!(m.load().kind(), CLOSED);
        // closed → open → half-open → closed
        assert_eq!(m.transitions(), 3);
    });
}

/// A probe's late failure races a reset: whichever lands first, the breaker ends closed; the
/// failure can never reopen the breaker after the reset.
#[test]
fn late_probe_result_never_flips_the_new_state() {
    model(|| {
        let (m, generation) = with_only_probe(0);
        let prober = report_probe(&m, generation, ProbeOutcome::Failure { slow: false }, 100);
        let resetter = spawn_on(&m, |m| m.force(CLOSED));
        let reopened: Option<Transition> = prober.join().unwrap();
        let reset = resetter.join().unwrap();
        assert!(reset.is_some());
        assert_eq!(m.load().kind(), CLOSED);
        if let Some(t) = reopened {
            assert_eq!((t.from, t.to), (HALF_OPEN, OPEN));
        }
    });
}

/// Two closed-state failures trip the same generation at once: one transition, one open.
#[test]
fn concurrent_trips_transition_once() {
    model(|| {
        let m = Arc::new(Machine::new());
        let threads: Vec<_> = (0..2)
            .map(|_| spawn_on(&m, |m| m.trip(0, 5, OPEN_FOR).is_some()))
            .collect();
        let tripped = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(tripped, 1);
        assert_eq!(m.load().kind(), OPEN);
        assert_eq!(m.load().generation(), 1);
        assert_eq!(m.transitions(), 1);
        assert_eq!(m.open_until(), 5 + OPEN_FOR);
    });
}

/// A probe that never answers: after `max_half_open_wait` the next caller reopens the breaker,
/// and the hung probe's late success changes nothing.
#[test]
fn expired_probe_reopens_and_its_late_success_is_ignored() {
    model(|| {
        let (m, generation) = with_only_probe(50);
        let late = report_probe(&m, generation, ProbeOutcome::Success { slow: false }, 200);
        let caller = spawn_on(&m, |m| m.admit(|| 200, 1, 50, |_| OPEN_FOR, OPEN_FOR));
        let closed = late.join().unwrap();
        let admission = caller.join().unwrap();
        match (closed, admission) {
            // The probe answered in time: closed, and the caller passes (or passed).
            (Some(t), Admission::Pass { .. }) => assert_eq!(t.to, CLOSED),
            // The caller expired the probe first: open, and the late success was ignored.
            (None, Admission::Reject { kind, expired, .. }) => {
                assert_eq!(kind, OPEN);
                assert!(expired.is_some());
                assert_eq!(m.load().kind(), OPEN);
            }
            // The caller came first but the probe closed before its CAS: it passes.
            (Some(t), other) => panic!("closed by {t:?} but the caller got {other:?}"),
            (None, other) => panic!("probe ignored but the caller got {other:?}"),
        }
    });
}

/// Two trips of one generation at different times: only the winner writes the deadline.
#[test]
fn only_the_trip_winner_writes_open_until() {
    model(|| {
        let m = Arc::new(Machine::new());
        let threads: Vec<_> = [5u64, 50]
            .into_iter()
            .map(|now| spawn_on(&m, move |m| m.trip(0, now, OPEN_FOR).map(|_| now)))
            .collect();
        let winners: Vec<u64> = threads
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1);
        assert_eq!(m.open_until(), winners[0] + OPEN_FOR);
    });
}

/// A caller racing a trip never leaves the new open state early on the previous open
/// period's (long past) deadline.
#[test]
fn admission_never_reads_a_stale_deadline() {
    model(|| {
        let m = Machine::new();
        assert!(m.trip(0, 0, OPEN_FOR).is_some()); // open until 10, generation 1
        assert!(m.force(CLOSED).is_some()); // generation 2
        let m = Arc::new(m);
        let tripper = spawn_on(&m, |m| m.trip(2, 100, OPEN_FOR));
        let admission = m.admit(|| 105, 1, 0, |_| OPEN_FOR, OPEN_FOR);
        tripper.join().unwrap();
        assert!(
            !matches!(admission, Admission::Probe { .. }),
            "{admission:?}"
        );
    });
}
