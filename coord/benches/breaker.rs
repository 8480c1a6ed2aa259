//! A closed circuit breaker's cost per call: a bare call vs coord vs `failsafe` vs `recloser`,
//! on 1 thread and on 2 threads sharing one breaker.
//!
//! The `breaker_failing_call` groups fail every tenth call (coord and `recloser` both with a
//! window of 20 calls, a 50 % failure rate, 3 half-open calls and a 30 s open period, so that
//! neither trips and every call is recorded).
//!
//! `cargo bench -p coord --bench breaker -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use coord::{BreakerConfig, CircuitBreaker};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;
use support::Failed;

mod support;

#[inline(never)]
fn work(x: u64) -> Result<u64, Failed> {
    Ok(black_box(x).wrapping_mul(3))
}

#[coord::circuit_breaker(name = "bench.macro")]
#[inline(never)]
fn work_guarded(x: u64) -> Result<u64, Failed> {
    Ok(black_box(x).wrapping_mul(3))
}

/// Fails every tenth call.
#[inline(never)]
fn work_failing(x: u64) -> Result<u64, Failed> {
    if x.is_multiple_of(10) {
        Err(Failed)
    } else {
        Ok(black_box(x).wrapping_mul(3))
    }
}

/// coord and recloser configured alike, every tenth call failing.
fn failing_candidates() -> Vec<Candidate> {
    let coord = CircuitBreaker::new(
        "bench.coord.failing",
        BreakerConfig::default()
            .failure_rate(0.5)
            .window(20)
            .minimum_calls(20)
            .half_open_calls(3)
            .open_for(Duration::from_secs(30)),
    )
    .unwrap();
    let recloser = recloser::Recloser::custom()
        .error_rate(0.5)
        .closed_len(20)
        .half_open_len(3)
        .open_wait(Duration::from_secs(30))
        .build();
    vec![
        ("bare", Box::new(|x| work_failing(x).is_ok())),
        (
            "coord",
            Box::new(move |x| coord.call(|| work_failing(x)).is_ok()),
        ),
        (
            "recloser",
            Box::new(move |x| recloser.call(|| work_failing(x)).is_ok()),
        ),
    ]
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
    run_one_thread(c, "breaker_closed_call/1_thread", candidates());
}

fn failing_one_thread(c: &mut Criterion) {
    run_one_thread(c, "breaker_failing_call/1_thread", failing_candidates());
}

fn run_one_thread(c: &mut Criterion, group: &str, candidates: Vec<Candidate>) {
    let mut group = c.benchmark_group(group);
    for (name, call) in candidates {
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
    run_two_threads(c, "breaker_closed_call/2_threads", candidates());
}

fn failing_two_threads(c: &mut Criterion) {
    run_two_threads(c, "breaker_failing_call/2_threads", failing_candidates());
}

fn run_two_threads(c: &mut Criterion, group: &str, candidates: Vec<Candidate>) {
    const THREADS: u64 = 2;
    let mut group = c.benchmark_group(group);
    for (name, call) in candidates {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                support::thread_times(THREADS, iters, &call)
                    .into_iter()
                    .max()
                    .unwrap_or_default()
            })
        });
    }
    group.finish();
}

/// A cached keyed-breaker lookup (a known key among 16) vs a plain `RwLock<HashMap>` lookup
/// with the standard hasher plus the `Arc` clone.
fn keyed_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyed_breaker_lookup");
    let keyed = coord::breaker::keyed("bench.keyed", BreakerConfig::default()).unwrap();
    let keys: Vec<String> = (0..16).map(|i| format!("replica-{i}")).collect();
    let map: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<CircuitBreaker>>> =
        Default::default();
    for key in &keys {
        let breaker = keyed.get(key.as_str());
        map.write().unwrap().insert(key.clone(), breaker);
    }
    group.bench_function("coord_keyed_get", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 15;
            black_box(keyed.get(black_box(keys[i].as_str())))
        })
    });
    group.bench_function("rwlock_hashmap_get", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 15;
            black_box(
                map.read()
                    .unwrap()
                    .get(black_box(keys[i].as_str()))
                    .cloned(),
            )
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    keyed_lookup,
    one_thread,
    two_threads,
    failing_one_thread,
    failing_two_threads
);
criterion_main!(benches);
