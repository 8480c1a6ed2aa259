//! What the performance monitor costs: one host sample, one report, one window roll, and what
//! reading reports does to threads that record at the same time.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use coord::perf::Outcome;
use coord::{MonitorConfig, PerformanceMonitor};
use criterion::{Criterion, criterion_group, criterion_main};

/// CPU time of the calling thread (Linux `schedstat`, in ns), or `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    // The kernel folds the running slice into the total only at scheduling events; a yield is
    // one, so the figure read next is current.
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

fn sample(c: &mut Criterion) {
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().max_data_points(100))
        .unwrap_or_default();
    // Prime the probe so the 200 ms first-reading wait is not measured.
    monitor.record_system_health();
    let mut group = c.benchmark_group("monitor/sample");
    // Baseline: the cheapest /proc read a sample is made of.
    group.bench_function("baseline_read_proc_self_stat", |b| {
        b.iter(|| black_box(std::fs::read_to_string("/proc/self/stat").ok()))
    });
    group.bench_function("record_system_health", |b| {
        b.iter(|| black_box(monitor.record_system_health()))
    });
    group.finish();
}

fn report(c: &mut Criterion) {
    let monitor = PerformanceMonitor::new();
    let ops: Vec<_> = (0..20)
        .map(|i| monitor.operation(&format!("bench.report.{i}")))
        .collect();
    for op in &ops {
        for n in 0..1_000u64 {
            op.record(Duration::from_micros(50 + n), Outcome::Success);
        }
    }
    for _ in 0..10 {
        monitor.roll_windows();
    }
    let mut group = c.benchmark_group("monitor/report_20_ops");
    // Baseline: the cumulative stats alone, as before the windows existed.
    group.bench_function("baseline_stats_only", |b| {
        b.iter(|| black_box(ops.iter().map(|op| op.stats()).collect::<Vec<_>>()))
    });
    group.bench_function("performance_report_with_windows", |b| {
        b.iter(|| black_box(monitor.performance_report()))
    });
    group.bench_function("roll_windows", |b| b.iter(|| monitor.roll_windows()));
    group.finish();
}

static SITE: OperationSite = OperationSite::new("bench.recorders");

/// Calls per recorder and measurement at least, so thread start-up and the reader's first
/// report are noise.
const MIN_BATCH: u64 = 200_000;

/// Two threads record `iters` calls each (at least [`MIN_BATCH`], scaled back to `iters`);
/// returns their mean CPU time, or wall time if the platform has no per-thread CPU clock.
/// CPU time, because on a small machine a busy reader also steals the recorders' cores, which
/// says nothing about what it does to their cache lines. `reader` runs until they finish.
fn two_recorders(iters: u64, reader: Option<fn()>) -> Duration {
    let batch = iters.max(MIN_BATCH);
    let spent = two_recorders_exact(batch, reader);
    Duration::from_secs_f64(spent.as_secs_f64() * iters as f64 / batch as f64)
}

fn two_recorders_exact(iters: u64, reader: Option<fn()>) -> Duration {
    let done = Arc::new(AtomicBool::new(false));
    let reader = reader.map(|read| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                read();
            }
        })
    });
    let recorders: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let (wall, cpu) = (Instant::now(), thread_cpu());
                for _ in 0..iters {
                    SITE.start().finish(false);
                }
                match (cpu, thread_cpu()) {
                    (Some(before), Some(after)) => after.saturating_sub(before),
                    _ => wall.elapsed(),
                }
            })
        })
        .collect();
    let total: Duration = recorders
        .into_iter()
        .map(|t| t.join().unwrap_or_default())
        .sum();
    done.store(true, Ordering::Relaxed);
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    total / 2
}

fn read_report_in_a_loop() {
    black_box(coord::monitor().performance_report());
}

fn read_report_every_ms() {
    black_box(coord::monitor().performance_report());
    std::thread::sleep(Duration::from_millis(1));
}

fn recorders(c: &mut Criterion) {
    // Windows on, so reports do their full work.
    coord::monitor().start();
    let mut group = c.benchmark_group("monitor/2_recorders_per_call_cpu");
    group.sample_size(30);
    group.bench_function("baseline_no_reader", |b| {
        b.iter_custom(|iters| two_recorders(iters, None))
    });
    group.bench_function("reader_in_a_tight_loop", |b| {
        b.iter_custom(|iters| two_recorders(iters, Some(read_report_in_a_loop)))
    });
    group.bench_function("reader_every_1ms", |b| {
        b.iter_custom(|iters| two_recorders(iters, Some(read_report_every_ms)))
    });
    group.finish();
    coord::monitor().stop();
}

criterion_group!(benches, sample, report, recorders);
criterion_main!(benches);
