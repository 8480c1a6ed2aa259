//! `coord::otel`: what one collection and export of 1,000 operations costs, and what exporting
//! in a loop does to threads recording at the same time.
//!
//! Baselines in the same run: `baseline_to_prometheus` (the exposition of the same registries,
//! what one `/metrics` scrape builds) and `baseline_no_exporter` (the recorders alone).

use std::hint::black_box;
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use coord::otel::opentelemetry::metrics::MeterProvider as _;
use coord::otel::opentelemetry_sdk::error::OTelSdkResult;
use coord::otel::opentelemetry_sdk::metrics::data::ResourceMetrics;
use coord::otel::opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use coord::otel::opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use coord::perf::Outcome;
use criterion::{Criterion, criterion_group, criterion_main};
use support::recorder_beside_reader;

mod support;

/// An exporter that looks at every data point and sends nothing: the cost measured is coord's
/// collection and the SDK's aggregation, not a network.
struct Discard;

impl PushMetricExporter for Discard {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        black_box(metrics.scope_metrics().flat_map(|s| s.metrics()).count());
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn provider() -> SdkMeterProvider {
    let reader = PeriodicReader::builder(Discard)
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    coord::otel::register(&provider.meter("coord"));
    provider
}

fn export_1000_operations(c: &mut Criterion) {
    support::populate_operations("bench.otel.op");
    let provider = provider();
    // The first collection records the 200,000 calls already made; the cycles measured below
    // are the steady state.
    provider.force_flush().expect("export");
    let ops: Vec<_> = (0..1_000)
        .map(|i| coord::monitor().operation_handle(&format!("bench.otel.op.{i:04}")))
        .collect();
    let mut group = c.benchmark_group("otel/export_1000_operations");
    group.sample_size(20);
    group.bench_function("baseline_to_prometheus", |b| {
        b.iter(|| black_box(coord::report().to_prometheus()))
    });
    group.bench_function("collect_and_export", |b| {
        b.iter(|| provider.force_flush().expect("export"))
    });
    group.bench_function("collect_and_export_1_new_call_each", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for op in &ops {
                    op.record(Duration::from_micros(300), Outcome::Success);
                }
                let start = Instant::now();
                provider.force_flush().expect("export");
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    let _ = provider.shutdown();
}

static SITE: OperationSite = OperationSite::new("bench.otel.recorder");

fn recorders_while_exported(c: &mut Criterion) {
    let provider = provider();
    recorder_beside_reader(
        c,
        "otel/recorder_per_call_cpu",
        &SITE,
        ("baseline_no_exporter", "exported_in_a_loop"),
        || {
            let provider = provider.clone();
            let started = Instant::now();
            move || {
                let _ = provider.force_flush();
                started.elapsed() < Duration::from_secs(120)
            }
        },
    );
    let _ = provider.shutdown();
}

criterion_group!(benches, export_1000_operations, recorders_while_exported);
criterion_main!(benches);
