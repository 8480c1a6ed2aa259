//! `coord::otel` through the public API: every family of the Prometheus exposition reaches the
//! application's meter provider with coord's exact counts and buckets, and (when the `rotel`
//! collector is installed: `.ci/observability`) a real OTLP receiver gets them over
//! http/protobuf and gRPC.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use coord::otel::opentelemetry::metrics::MeterProvider as _;
use coord::otel::opentelemetry_sdk::error::OTelSdkResult;
use coord::otel::opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, MetricData, ResourceMetrics,
};
use coord::otel::opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use coord::otel::opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

#[path = "../examples/otel/workload.rs"]
mod workload;

#[path = "../examples/otel/http.rs"]
mod http_workload;

/// Held from registering a meter to its export by the tests that run the HTTP workload: its
/// durations go to every meter registered at the time, so two runs must not overlap.
static HTTP_WORKLOAD: Mutex<()> = Mutex::new(());

fn http_workload_lock() -> std::sync::MutexGuard<'static, ()> {
    HTTP_WORKLOAD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The workload runs once per process: the registries are process-wide and the expected counts
/// are those of one run.
fn workload_once() {
    static RAN: OnceLock<()> = OnceLock::new();
    RAN.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(workload::run());
    });
}

/// One exported data point, flattened.
#[derive(Debug, Clone, Default)]
struct Point {
    unit: String,
    attributes: BTreeMap<String, String>,
    value: f64,
    bounds: Vec<f64>,
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

/// Keeps the points of the latest export, by metric name.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<BTreeMap<String, Vec<Point>>>>);

impl Capture {
    fn points(&self, name: &str) -> Vec<Point> {
        self.0
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    fn point(&self, name: &str, attributes: &[(&str, &str)]) -> Point {
        let want: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.points(name)
            .into_iter()
            .find(|p| p.attributes == want)
            .unwrap_or_else(|| panic!("no {name} {want:?} in {:?}", self.points(name)))
    }
}

fn flatten<T: Copy + Into<f64>>(unit: &str, data: &MetricData<T>) -> Vec<Point> {
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
            .map(|p| point(attributes(&mut p.attributes()), p.value().into()))
            .collect(),
        MetricData::Sum(s) => s
            .data_points()
            .map(|p| point(attributes(&mut p.attributes()), p.value().into()))
            .collect(),
        MetricData::Histogram(h) => h
            .data_points()
            .map(|p| Point {
                bounds: p.bounds().collect(),
                buckets: p.bucket_counts().collect(),
                count: p.count(),
                sum: p.sum().into(),
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
                    AggregatedMetrics::F64(d) => flatten(metric.unit(), d),
                    AggregatedMetrics::U64(d) => {
                        // u64 into f64: exact for the counts of a test.
                        let data: &MetricData<u64> = d;
                        match data {
                            MetricData::Sum(s) => s
                                .data_points()
                                .map(|p| Point {
                                    unit: metric.unit().to_owned(),
                                    attributes: p
                                        .attributes()
                                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                                        .collect(),
                                    value: p.value() as f64,
                                    ..Point::default()
                                })
                                .collect(),
                            _ => Vec::new(),
                        }
                    }
                    AggregatedMetrics::I64(_) => Vec::new(),
                };
                latest.insert(metric.name().to_owned(), points);
            }
        }
        *self.0.lock().unwrap() = latest;
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

// ---- the real receiver: rotel ----

/// `COORD_ROTEL_AGENT`, else `rotel-agent` on the `PATH`.
fn rotel_agent() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("COORD_ROTEL_AGENT").filter(|p| !p.is_empty()) {
        return Some(path.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("rotel-agent"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// The collector, stopped when dropped.
struct Rotel(std::process::Child);

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One data point of rotel's detailed debug log.
#[derive(Debug, Default, Clone)]
struct Logged {
    service: String,
    name: String,
    unit: String,
    attributes: BTreeMap<String, String>,
    value: Option<f64>,
    count: Option<u64>,
    sum: Option<f64>,
    buckets: Vec<u64>,
}

/// Reads the metric data points rotel printed (`--debug-log metrics --debug-log-verbosity
/// detailed`), ANSI colours removed.
fn parse_rotel_log(log: &str) -> Vec<Logged> {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let mut points: Vec<Logged> = Vec::new();
    let (mut service, mut name, mut unit) = (String::new(), String::new(), String::new());
    let mut in_point = false;
    for line in plain.lines() {
        let line = line.trim();
        if line.starts_with("ResourceMetrics #") {
            in_point = false;
        } else if let Some(v) = line.strip_prefix("-> service.name: Str(") {
            service = v.trim_end_matches(')').to_owned();
        } else if line.starts_with("Metric #") {
            in_point = false;
        } else if let Some(v) = line.strip_prefix("-> Name: ") {
            name = v.to_owned();
        } else if let Some(v) = line.strip_prefix("-> Unit: ") {
            unit = v.to_owned();
        } else if line.starts_with("NumberDataPoints #")
            || line.starts_with("HistogramDataPoints #")
        {
            in_point = true;
            points.push(Logged {
                service: service.clone(),
                name: name.clone(),
                unit: unit.clone(),
                ..Logged::default()
            });
        } else if let (true, Some(point)) = (in_point, points.last_mut()) {
            if let Some((key, value)) = line.strip_prefix("-> ").and_then(|l| l.split_once(": ")) {
                // `Str(GET)`, `Int(200)`: the value inside.
                let value = ["Str(", "Int(", "Double(", "Bool("]
                    .iter()
                    .find_map(|kind| value.strip_prefix(kind))
                    .map_or(value, |v| v.strip_suffix(')').unwrap_or(v));
                point.attributes.insert(key.to_owned(), value.to_owned());
            } else if let Some(v) = line.strip_prefix("Value: ") {
                point.value = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("Count: ") {
                point.count = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("Sum: ") {
                point.sum = v.parse().ok();
            } else if let Some((_, c)) = line
                .strip_prefix("Buckets #")
                .and_then(|l| l.split_once(", Count: "))
            {
                point.buckets.push(c.parse().unwrap_or(u64::MAX));
            }
        }
    }
    points
}

/// The trace of the call whose exemplar the rotel test looks for.
const ROTEL_TRACE: u128 = 0x0c00_5d00_e0e1_1a42_0c00_5d00_e0e1_1a42;

/// Pushes the reference workload to a real rotel collector over http/protobuf and gRPC and
/// reads every family, its unit and the workload's exact counts back from rotel's log. Skipped
/// (passes with a message) when rotel is not installed; `.ci/observability` installs it.
#[test]
fn the_rotel_collector_receives_every_family_over_http_and_grpc() {
    let Some(agent) = rotel_agent() else {
        eprintln!(
            "skipped: rotel-agent not found (`pip install rotel`, then put rotel-agent on the PATH \
             or set COORD_ROTEL_AGENT); .ci/observability runs this test for real"
        );
        return;
    };
    workload_once();
    let (http_port, grpc_port) = (free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("coord-otel-rotel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("rotel.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let _rotel = Rotel(
        std::process::Command::new(&agent)
            .args(["start", "--exporter", "blackhole"])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args([
                "--debug-log",
                "metrics",
                "--debug-log-verbosity",
                "detailed",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", agent.display())),
    );
    let listening = |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    for _ in 0..200 {
        if listening(http_port) && listening(grpc_port) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let vars = |protocol: &str, port: u16, service: &str| {
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            ),
            ("OTEL_SERVICE_NAME", service.to_owned()),
        ];
        coord::otel::OtlpConfig::from_vars(|name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.into())
        })
        .unwrap()
    };
    for (protocol, port, service) in [
        ("http/protobuf", http_port, "coord-otel-http"),
        ("grpc", grpc_port, "coord-otel-grpc"),
    ] {
        let _one_run = http_workload_lock();
        let guard = coord::otel::init_with(&vars(protocol, port, service)).unwrap();
        // Recorded as requests end: after the meter exists, before its push.
        current_thread().block_on(http_workload::run());
        // One call in a sampled span, after the push started: its exemplar goes over
        // http/protobuf (gRPC carries none).
        {
            use coord::otel::opentelemetry::trace::{
                SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
            };
            let _sampled = coord::otel::opentelemetry::Context::new()
                .with_remote_span_context(SpanContext::new(
                    TraceId::from(ROTEL_TRACE),
                    SpanId::from(0x0051_7e5a_a11e_d000_u64),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::default(),
                ))
                .attach();
            coord::monitor()
                .operation_handle("otel.rotel.exemplar")
                .record(Duration::from_millis(3), coord::perf::Outcome::Success);
        }
        guard
            .shutdown()
            .unwrap_or_else(|e| panic!("push over {protocol} to rotel failed: {e}"));
    }

    let units: BTreeMap<_, _> = coord::otel::instruments().collect();
    let mut missing = Vec::new();
    for _ in 0..100 {
        let points = parse_rotel_log(&std::fs::read_to_string(&log_path).unwrap_or_default());
        missing.clear();
        for service in ["coord-otel-http", "coord-otel-grpc"] {
            let of = |name: &str| -> Vec<&Logged> {
                points
                    .iter()
                    .filter(|p| p.service == service && p.name == name)
                    .collect()
            };
            for (name, unit) in &units {
                match of(name).first() {
                    Some(p) if p.unit == *unit => {}
                    Some(p) => missing.push(format!("{service}: {name} has unit {}", p.unit)),
                    None => missing.push(format!("{service}: no {name}")),
                }
            }
            for (name, attributes, value) in workload::EXPECTED {
                let want: BTreeMap<String, String> = attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                if !of(name)
                    .iter()
                    .any(|p| p.attributes == want && p.value == Some(*value))
                {
                    missing.push(format!("{service}: {name} {want:?} = {value}"));
                }
            }
            let mut buckets = vec![0u64; coord::perf::EXPORT_BOUNDS.len() + 1];
            for (le, count) in workload::CHECKOUT_BUCKETS {
                let i = coord::perf::EXPORT_BOUNDS
                    .iter()
                    .position(|b| b.as_secs_f64() == *le)
                    .unwrap();
                buckets[i] = *count;
            }
            for (name, attributes, count) in http_workload::EXPECTED {
                let want: BTreeMap<String, String> = attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                if !of(name)
                    .iter()
                    .any(|p| p.attributes == want && p.unit == "s" && p.count == Some(*count))
                {
                    missing.push(format!("{service}: {name} {want:?} count {count}"));
                }
            }
            let histogram = of("coord_operation_duration").into_iter().find(|p| {
                p.attributes.get("operation").map(String::as_str) == Some("otel.ref.checkout")
            });
            match histogram {
                Some(h)
                    if h.buckets == buckets
                        && h.count == Some(workload::CHECKOUT_COUNT)
                        && h.sum
                            .is_some_and(|s| (s - workload::CHECKOUT_SUM).abs() < 1e-9) => {}
                other => missing.push(format!("{service}: checkout histogram {other:?}")),
            }
        }
        // The exemplar's trace id, which reaches rotel only as an exemplar, over http/protobuf.
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if !log.contains(&format!("{ROTEL_TRACE:032x}")) {
            missing.push(format!("the exemplar of trace {ROTEL_TRACE:032x}"));
        }
        if missing.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(missing.is_empty(), "rotel did not log: {missing:#?}");
    eprintln!(
        "rotel received all {} families and the {} HTTP semantic-convention series over \
         http/protobuf and gRPC with the workload's counts",
        units.len(),
        http_workload::EXPECTED.len()
    );
}
