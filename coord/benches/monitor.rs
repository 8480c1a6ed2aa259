//! What the performance monitor costs: one host sample, one report, one window roll, and what
//! reading reports does to threads that record at the same time.

use std::hint::black_box;
use std::time::Duration;

use coord::__private::OperationSite;
use coord::perf::Outcome;
use coord::{MonitorConfig, PerformanceMonitor};
use criterion::{Criterion, criterion_group, criterion_main};
use support::recorder_cpu_while;

mod support;

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
        .map(|i| monitor.operation_handle(&format!("bench.report.{i}")))
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

fn read_report_in_a_loop() -> bool {
    black_box(coord::monitor().performance_report());
    true
}

fn read_report_every_ms() -> bool {
    black_box(coord::monitor().performance_report());
    std::thread::sleep(Duration::from_millis(1));
    true
}

/// Two threads record `iters` calls each while `reader` (if any) runs; their mean CPU time.
fn two_recorders(iters: u64, reader: Option<fn() -> bool>) -> Duration {
    recorder_cpu_while(iters, 2, &SITE, reader)
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
