//! A closed circuit breaker's cost per call: a bare call vs coord vs `failsafe` vs `recloser`,
//! on 1 thread and on 2 threads sharing one breaker.
//!
//! `cargo bench -p coord --bench breaker -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use coord::{BreakerConfig, CircuitBreaker, CircuitOpen};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;

#[derive(Debug)]
struct Failed;

impl From<CircuitOpen> for Failed {
    fn from(_: CircuitOpen) -> Self {
        Failed
    }
}

#[inline(never)]
fn work(x: u64) -> Result<u64, Failed> {
    Ok(black_box(x).wrapping_mul(3))
}

#[coord::circuit_breaker(name = "bench.macro")]
#[inline(never)]
fn work_guarded(x: u64) -> Result<u64, Failed> {
    Ok(black_box(x).wrapping_mul(3))
}

/// A name and a closure making one call through its breaker (the same indirection for all).
type Candidate = (&'static str, Box<dyn Fn(u64) -> bool + Sync>);

fn candidates() -> Vec<Candidate> {
    let coord = CircuitBreaker::new("bench.coord", BreakerConfig::default()).unwrap();
    let failsafe = failsafe::Config::new().build();
    let recloser = recloser::Recloser::custom().build();
    vec![
        ("bare", Box::new(|x| work(x).is_ok())),
        ("coord", Box::new(move |x| coord.call(|| work(x)).is_ok())),
        ("coord_macro", Box::new(|x| work_guarded(x).is_ok())),
        (
            "failsafe",
            Box::new(move |x| failsafe.call(|| work(x)).is_ok()),
        ),
        (
            "recloser",
            Box::new(move |x| recloser.call(|| work(x)).is_ok()),
        ),
    ]
}

fn one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker_closed_call/1_thread");
    for (name, call) in candidates() {
        group.bench_function(name, |b| {
            let mut x = 0u64;
            b.iter(|| {
                x += 1;
                black_box(call(x))
            })
        });
    }
    group.finish();
}

/// Two threads call through one shared breaker; the time reported is per call on each thread.
fn two_threads(c: &mut Criterion) {
    const THREADS: u64 = 2;
    let mut group = c.benchmark_group("breaker_closed_call/2_threads");
    for (name, call) in candidates() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let barrier = Barrier::new(THREADS as usize);
                let elapsed: Vec<Duration> = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..THREADS)
                        .map(|t| {
                            let (call, barrier) = (&call, &barrier);
                            scope.spawn(move || {
                                barrier.wait();
                                let start = Instant::now();
                                for i in 0..iters {
                                    black_box(call(i ^ t));
                                }
                                start.elapsed()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                elapsed.into_iter().max().unwrap_or_default()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_thread, two_threads);
criterion_main!(benches);
