//! `coord::otel` through the public API: every family of the Prometheus exposition reaches the
//! application's meter provider with coord's exact counts and buckets, and (when the `rotel`
//! collector is installed: `.ci/observability`) a real OTLP receiver gets them over
//! http/protobuf and gRPC (`otel/rotel.rs`).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use coord::otel::opentelemetry::metrics::MeterProvider as _;
use coord::otel::opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

#[path = "../examples/otel/workload.rs"]
mod workload;

#[path = "../examples/otel/http.rs"]
mod http_workload;

#[path = "../examples/otel/capture.rs"]
mod capture;

use capture::{Capture, attribute_map};

#[path = "otel/rotel.rs"]
mod rotel;

#[path = "support/runtime.rs"]
mod runtime;
use runtime::current_thread;

/// Held from registering a meter to its export by the tests that run the HTTP workload: its
/// durations go to every meter registered at the time, so two runs must not overlap.
static HTTP_WORKLOAD: Mutex<()> = Mutex::new(());

fn http_workload_lock() -> std::sync::MutexGuard<'static, ()> {
    HTTP_WORKLOAD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The workload runs once per process: the registries are process-wide and the expected counts
/// are those of one run.
fn workload_once() {
    static RAN: OnceLock<()> = OnceLock::new();
    RAN.get_or_init(|| current_thread().block_on(workload::run()));
}

fn provider() -> (SdkMeterProvider, Capture) {
    let capture = Capture::default();
    let reader = PeriodicReader::builder(capture.clone())
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_view(coord::otel::view)
        .with_reader(reader)
        .build();
    coord::otel::register(&provider.meter("coord"));
    (provider, capture)
}

/// The OpenTelemetry name of an exposition family (what `coord::otel` documents).
fn otel_name(prometheus: &str) -> &str {
    let name = prometheus.strip_suffix("_total").unwrap_or(prometheus);
    name.strip_suffix("_seconds")
        .or_else(|| name.strip_suffix("_ratio"))
        .unwrap_or(name)
}

#[test]
fn every_family_reaches_the_meter_provider_with_exact_counts() {
    workload_once();
    let (provider, capture) = provider();
    provider.force_flush().unwrap();

    let exposition = coord::report().to_prometheus();
    let families: Vec<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() >= 30, "{exposition}");
    let units: BTreeMap<_, _> = coord::otel::instruments().collect();
    for family in &families {
        let name = otel_name(family);
        let points = capture.points(name);
        assert!(!points.is_empty(), "{family} was not exported as {name}");
        assert_eq!(points[0].unit, units[name], "{name}");
    }
    assert_eq!(families.len(), coord::otel::instruments().count());

    for (name, attributes, value) in workload::EXPECTED {
        assert_eq!(
            capture.point(name, attributes).value,
            *value,
            "{name} {attributes:?}"
        );
    }
    let latency = capture.point(
        "coord_operation_duration",
        &[("operation", "otel.ref.checkout")],
    );
    assert_eq!(latency.unit, "s");
    let bounds: Vec<f64> = coord::perf::EXPORT_BOUNDS
        .iter()
        .map(Duration::as_secs_f64)
        .collect();
    assert_eq!(latency.bounds, bounds);
    let mut want = vec![0u64; bounds.len() + 1];
    for (le, count) in workload::CHECKOUT_BUCKETS {
        want[bounds.iter().position(|b| b == le).unwrap()] = *count;
    }
    assert_eq!(latency.buckets, want);
    assert_eq!(latency.count, workload::CHECKOUT_COUNT);
    assert!(
        (latency.sum - workload::CHECKOUT_SUM).abs() < 1e-12,
        "{}",
        latency.sum
    );
}

/// The tower layer's requests reach OpenTelemetry's HTTP semantic-convention histograms, in
/// seconds with the conventions' attributes and bounds, one count per request.
#[test]
fn the_tower_layer_records_the_http_semantic_convention_durations() {
    let _one_run = http_workload_lock();
    let (provider, capture) = provider();
    current_thread().block_on(http_workload::run());
    provider.force_flush().unwrap();
    for (name, attributes, count) in http_workload::EXPECTED {
        let point = capture.point(name, attributes);
        assert_eq!(point.unit, "s", "{name}");
        assert_eq!(point.count, *count, "{name} {attributes:?}");
        assert_eq!(
            point.bounds,
            [
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
            ]
        );
    }
    for name in [coord::otel::SERVER_DURATION, coord::otel::CLIENT_DURATION] {
        let total: u64 = capture.points(name).iter().map(|p| p.count).sum();
        let want: u64 = http_workload::EXPECTED
            .iter()
            .filter(|(n, _, _)| *n == name)
            .map(|(_, _, c)| c)
            .sum();
        assert_eq!(total, want, "{name}: {:?}", capture.points(name));
    }
}

/// Past the SDK's default 2,000 series per instrument, [`coord::otel::view`] keeps every
/// operation's own series (without it they fold into one `otel.metric.overflow` series).
#[test]
fn the_view_keeps_thousands_of_operations_apart() {
    for i in 0..800 {
        coord::monitor()
            .operation_handle(&format!("otel.test.many.{i:03}"))
            .record(Duration::from_millis(1), coord::perf::Outcome::Success);
    }
    let (provider, capture) = provider();
    provider.force_flush().unwrap();
    let calls = capture.points("coord_operation_calls");
    assert!(calls.len() >= 2_400, "{}", calls.len());
    assert!(
        calls
            .iter()
            .all(|p| !p.attributes.contains_key("otel.metric.overflow")),
        "an overflow series"
    );
    assert_eq!(
        capture
            .point(
                "coord_operation_calls",
                &[("operation", "otel.test.many.799"), ("outcome", "success")]
            )
            .value,
        1.0
    );
    let latency = capture.point(
        "coord_operation_duration",
        &[("operation", "otel.test.many.799")],
    );
    assert_eq!(latency.bounds.len(), coord::perf::EXPORT_BOUNDS.len());
}

#[test]
fn each_collection_adds_only_the_new_calls() {
    let (provider, capture) = provider();
    let op = coord::monitor().operation_handle("otel.test.incremental");
    op.record(Duration::from_millis(7), coord::perf::Outcome::Success);
    provider.force_flush().unwrap();
    op.record(Duration::from_millis(7), coord::perf::Outcome::Success);
    op.record(Duration::from_secs(4000), coord::perf::Outcome::Failure);
    provider.force_flush().unwrap();
    provider.force_flush().unwrap();
    let latency = capture.point(
        "coord_operation_duration",
        &[("operation", "otel.test.incremental")],
    );
    let stats = coord::operation("otel.test.incremental").unwrap();
    assert_eq!(latency.count, 3);
    assert_eq!(latency.buckets[6], 2, "{:?}", latency.buckets); // (5 ms, 10 ms]
    assert_eq!(*latency.buckets.last().unwrap(), 1, "{:?}", latency.buckets); // above 1 h
    let sum = stats.mean.as_secs_f64() * 3.0;
    assert!((latency.sum - sum).abs() < 1e-6, "{} vs {sum}", latency.sum);
    let calls = capture.point(
        "coord_operation_calls",
        &[
            ("operation", "otel.test.incremental"),
            ("outcome", "success"),
        ],
    );
    assert_eq!(calls.value, 2.0);
}
