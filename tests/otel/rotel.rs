//! The real receiver: the reference workload pushed to a `rotel` collector over http/protobuf
//! and gRPC, read back from rotel's detailed debug log. Skipped (passes with a message) when
//! rotel is not installed; `.ci/observability` installs it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{
    attribute_map, current_thread, http_workload, http_workload_lock, workload, workload_once,
};

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
                let want = attribute_map(attributes);
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
                let want = attribute_map(attributes);
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
