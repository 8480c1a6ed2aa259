//! The 100 k-name measurement of the "Limits" section of the README: what 100,000 distinct
//! run-time operation names cost in resident memory, and how long `coord::report()` then takes.
//! Its own binary (RSS is process-wide). Ignored: it prints figures and asserts no timing.
//!
//! ```text
//! cargo test --release -p coord --test limits_measure -- --ignored --nocapture
//! ```

use std::time::Instant;

/// Resident set size in bytes, from `/proc/self/statm` (0 where that file does not exist).
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
#[ignore = "measurement: prints RSS and report time for 100 k distinct names"]
fn hundred_thousand_distinct_operation_names() {
    const NAMES: usize = 100_000;
    // Warm up the registries and the report path so their one-time costs are not counted.
    coord::monitor()
        .record_operation("limits_measure.warmup")
        .success();
    let _ = coord::report();
    let before = rss_bytes();
    let started = Instant::now();
    for i in 0..NAMES {
        coord::monitor()
            .record_operation(&format!("GET /items/{i}"))
            .success();
    }
    let recording = started.elapsed();
    let after = rss_bytes();

    let started = Instant::now();
    let report = coord::report();
    let report_time = started.elapsed();
    let started = Instant::now();
    let prometheus = report.to_prometheus();
    let prometheus_time = started.elapsed();

    println!(
        "100k names: RSS +{:.1} MB, recording {:?}, coord::report() {:?}, to_prometheus() {:?} ({:.1} MB of text), {} operations in the report",
        (after.saturating_sub(before)) as f64 / 1e6,
        recording,
        report_time,
        prometheus_time,
        prometheus.len() as f64 / 1e6,
        report.performance.operations.len(),
    );
}
