//! An in-memory metric exporter: it stands in for OTLP in the `otel_spans` example and in
//! `tests/otel.rs`, and keeps the data points of the latest export for them to read. Each user
//! takes what it needs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coord::otel::opentelemetry_sdk::error::OTelSdkResult;
use coord::otel::opentelemetry_sdk::metrics::Temporality;
use coord::otel::opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, MetricData, ResourceMetrics,
};
use coord::otel::opentelemetry_sdk::metrics::exporter::PushMetricExporter;

/// A data point's attributes as exported: owned, sorted.
pub fn attribute_map(attributes: &[(&str, &str)]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One exported data point, flattened.
#[derive(Debug, Clone, Default)]
pub struct Point {
    pub unit: String,
    pub attributes: BTreeMap<String, String>,
    pub value: f64,
    pub bounds: Vec<f64>,
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum: f64,
}

/// Keeps the points of the latest export, by metric name.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<BTreeMap<String, Vec<Point>>>>);

impl Capture {
    /// The points of the metric `name` in the latest export.
    pub fn points(&self, name: &str) -> Vec<Point> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// The point of the metric `name` with exactly these attributes; panics without one.
    pub fn point(&self, name: &str, attributes: &[(&str, &str)]) -> Point {
        let want = attribute_map(attributes);
        self.points(name)
            .into_iter()
            .find(|p| p.attributes == want)
            .unwrap_or_else(|| panic!("no {name} {want:?} in {:?}", self.points(name)))
    }
}

/// The points of one metric, values and sums as `f64`.
fn flatten<T: Copy>(unit: &str, data: &MetricData<T>, to_f64: fn(T) -> f64) -> Vec<Point> {
    let attributes = |kvs: &mut dyn Iterator<Item = &coord::otel::opentelemetry::KeyValue>| {
        kvs.map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let point = |attrs, value: f64| Point {
        unit: unit.to_owned(),
        attributes: attrs,
        value,
        ..Point::default()
    };
    match data {
        MetricData::Gauge(g) => g
            .data_points()
            .map(|p| point(attributes(&mut p.attributes()), to_f64(p.value())))
            .collect(),
        MetricData::Sum(s) => s
            .data_points()
            .map(|p| point(attributes(&mut p.attributes()), to_f64(p.value())))
            .collect(),
        MetricData::Histogram(h) => h
            .data_points()
            .map(|p| Point {
                bounds: p.bounds().collect(),
                buckets: p.bucket_counts().collect(),
                count: p.count(),
                sum: to_f64(p.sum()),
                ..point(attributes(&mut p.attributes()), 0.0)
            })
            .collect(),
        MetricData::ExponentialHistogram(_) => Vec::new(),
    }
}

impl PushMetricExporter for Capture {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut latest = BTreeMap::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                let points = match metric.data() {
                    AggregatedMetrics::F64(d) => flatten(metric.unit(), d, |v| v),
                    // u64 into f64: exact for the counts of a test.
                    AggregatedMetrics::U64(d @ MetricData::Sum(_)) => {
                        flatten(metric.unit(), d, |v| v as f64)
                    }
                    AggregatedMetrics::U64(_) | AggregatedMetrics::I64(_) => Vec::new(),
                };
                latest.insert(metric.name().to_owned(), points);
            }
        }
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = latest;
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
