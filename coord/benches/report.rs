//! `coord::report()` over a large process (1,000 operations, 100 breakers, 100 rule sets), and
//! what building reports in a loop does to threads recording at the same time.
//!
//! Baselines in the same run: `clone_of_report` (a plain copy of the same data: the floor for
//! any snapshot) and `no_reader` (the recorders alone).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use coord::BreakerConfig;
use coord::perf::Outcome;
use criterion::{Criterion, criterion_group, criterion_main};

fn populate() {
    for i in 0..1_000u64 {
        let op = coord::monitor().operation(&format!("bench.op.{i:04}"));
        for n in 0..200u64 {
            let outcome = if n % 17 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            op.record(Duration::from_micros(20 + (n * 37 + i) % 5_000), outcome);
        }
    }
    for i in 0..100 {
        let breaker =
            coord::breaker_with(&format!("bench.breaker.{i:03}"), BreakerConfig::default()).ok();
        if let Some(breaker) = breaker {
            for n in 0..30 {
                let _ = breaker
                    .call(|| if n % 5 == 0 { Err(()) } else { Ok(()) }.map_err(|()| Failure));
            }
        }
    }
    let mut yaml = String::new();
    for i in 0..100 {
        yaml.push_str(&format!(
            "bench_set_{i:03}:\n  required_fields: [name]\n  field_validations:\n    name: {{ type: string, min_length: 2 }}\n    age: {{ type: integer, min: 0, max: 150 }}\n"
        ));
    }
    if coord::rules().load_yaml(&yaml).is_ok() {
        for i in 0..100 {
            if let Some(set) = coord::rules().get(&format!("bench_set_{i:03}")) {
                let ok = serde_json::json!({ "name": "Ada", "age": 36 });
                let bad = serde_json::json!({ "name": "A", "age": 200 });
                let _ = coord::validator().validate_with(&set, &ok);
                let _ = coord::validator().validate_with(&set, &bad);
            }
        }
    }
}

#[derive(Debug)]
struct Failure;

impl From<coord::CircuitOpen> for Failure {
    fn from(_: coord::CircuitOpen) -> Self {
        Failure
    }
}

fn build(c: &mut Criterion) {
    populate();
    let report = coord::report();
    assert!(report.performance.operations.len() >= 1_000);
    let mut group = c.benchmark_group("report/1000_ops_100_breakers_100_rule_sets");
    group.sample_size(20);
    group.bench_function("baseline_clone_of_report", |b| {
        b.iter(|| black_box(report.clone()))
    });
    group.bench_function("build", |b| b.iter(|| black_box(coord::report())));
    group.bench_function("display", |b| b.iter(|| black_box(report.to_string())));
    group.bench_function("to_json", |b| b.iter(|| black_box(report.to_json())));
    group.bench_function("to_prometheus", |b| {
        b.iter(|| black_box(report.to_prometheus()))
    });
    group.finish();
}

static SITE: OperationSite = OperationSite::new("bench.report.recorder");

/// CPU time of the calling thread (Linux `schedstat`), or `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// One recorder thread records `iters` calls while, optionally, another builds reports in a
/// loop; returns the recorder's CPU time (wall time where there is no per-thread CPU clock),
/// so that on a 2-core machine the reader's share of the cores is not counted against it.
fn recorder(iters: u64, with_reader: bool) -> Duration {
    let batch = iters.max(200_000);
    let done = Arc::new(AtomicBool::new(false));
    let reader = with_reader.then(|| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                black_box(coord::report());
            }
        })
    });
    let spent = std::thread::spawn(move || {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        for _ in 0..batch {
            SITE.start().finish(false);
        }
        match (cpu, thread_cpu()) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => wall.elapsed(),
        }
    })
    .join()
    .unwrap_or_default();
    done.store(true, Ordering::Relaxed);
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    Duration::from_secs_f64(spent.as_secs_f64() * iters as f64 / batch as f64)
}

fn recorders(c: &mut Criterion) {
    let mut group = c.benchmark_group("report/recorder_per_call_cpu");
    group.sample_size(20);
    group.bench_function("baseline_no_reader", |b| {
        b.iter_custom(|iters| recorder(iters, false))
    });
    group.bench_function("reports_built_in_a_loop", |b| {
        b.iter_custom(|iters| recorder(iters, true))
    });
    group.finish();
}

criterion_group!(benches, build, recorders);
criterion_main!(benches);
