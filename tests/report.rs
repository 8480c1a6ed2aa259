//! The global report: Display, JSON/YAML round-trips and Prometheus exposition.

use std::io::Write;
use std::process::{Command, Stdio};

use coord::track_performance;

#[track_performance("report.fetch")]
fn fetch(ok: bool) -> Result<u8, String> {
    if ok { Ok(1) } else { Err("nope".into()) }
}

#[test]
fn json_round_trips_with_millisecond_durations() {
    #[track_performance("report.json")]
    fn fetch(ok: bool) -> Result<u8, String> {
        if ok { Ok(1) } else { Err("nope".into()) }
    }
    fetch(true).unwrap();
    fetch(false).unwrap_err();
    let json = coord::report().to_json().unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ops = value["performance"]["operations"].as_array().unwrap();
    let op = ops.iter().find(|op| op["name"] == "report.json").unwrap();
    assert_eq!(op["calls"], 2);
    assert_eq!(op["failures"], 1);
    // The failure's message, from the attribute path (issue #22, point 9).
    assert_eq!(op["last_error"], "nope");
    for key in [
        "total_ms", "mean_ms", "min_ms", "max_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
        "p999_ms",
    ] {
        assert!(op[key].is_f64(), "{key} in {op}");
    }
    assert!(op["p50_ms"].as_f64().unwrap() <= op["max_ms"].as_f64().unwrap());
}

#[test]
fn yaml_has_the_same_tree() {
    fetch(true).unwrap();
    let yaml = coord::report().to_yaml().unwrap();
    assert!(yaml.contains("performance:"), "{yaml}");
    assert!(yaml.contains("name: report.fetch"), "{yaml}");
    assert!(yaml.contains("p99_ms:"), "{yaml}");
}

#[test]
fn display_is_an_aligned_table() {
    fetch(true).unwrap();
    let text = coord::report().to_string();
    let header = text
        .lines()
        .find(|l| l.contains("operation") && l.contains("p99"))
        .unwrap();
    let row = text.lines().find(|l| l.contains("report.fetch")).unwrap();
    // Right-aligned columns end at the same place as their headers (in characters: `µs` is
    // two bytes).
    let width = |line: &str| line.trim_end().chars().count();
    assert_eq!(width(header), width(row), "{text}");
}

#[test]
fn hostile_names_stay_on_one_line() {
    #[track_performance("report.evil \"name\"\nwith\\newline")]
    fn evil() {}
    evil();
    let report = coord::report();
    let text = report.to_string();
    assert!(
        text.contains(r#"report.evil "name"\nwith\newline"#),
        "{text}"
    );
    let prom = report.to_prometheus();
    assert!(
        prom.contains(r#"operation="report.evil \"name\"\nwith\\newline""#),
        "{prom}"
    );
    assert!(prom.lines().all(|l| !l.starts_with("with")), "{prom}");
}

/// `promtool check metrics` must accept the exposition without a single warning. CI installs
/// promtool (Debian's `prometheus` package); elsewhere the check is skipped unless `CI` is set.
#[test]
fn prometheus_output_passes_promtool() {
    #[track_performance("report.promtool \"quoted\"\nline\\")]
    fn hostile() -> Result<(), ()> {
        Err(())
    }
    fetch(true).unwrap();
    let _ = hostile();
    coord::monitor().record_system_health();
    let handler = coord::ErrorHandler::new("report.handler \"x\"").retry(
        coord::RetryPolicy::exponential(1, std::time::Duration::ZERO, 1.0),
    );
    let _ = handler.execute(|| Err::<(), _>("always"));
    coord::breaker("report.breaker \"quoted\"").force_open();
    let _ = coord::validator()
        .validate_message_structure(&serde_json::json!({"content": "", "user_id": 7}));
    let report = coord::report();
    assert!(report.validation.total >= 1);
    assert!(report.errors.total_errors >= 2);
    assert!(text_contains_breaker(&report));
    assert!(report.system.is_some());
    let text = report.to_prometheus();
    assert!(text.contains("coord_system_cpu_usage_ratio "), "{text}");
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: promtool not available ({e})");
            return;
        }
        Err(e) => panic!("promtool is required in CI: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );
}

fn text_contains_breaker(report: &coord::Report) -> bool {
    report.to_prometheus().contains(
        r#"coord_circuit_breaker_state{breaker="report.breaker \"quoted\"",state="forced_open"} 1"#,
    ) && report.to_string().contains("forced-open")
}

/// Latency is a Prometheus histogram with fixed 1-2-5 buckets, so fleets can add them up.
#[test]
fn latency_is_a_histogram_with_fixed_buckets() {
    let op = coord::monitor().operation_handle("report.histogram");
    op.record(
        std::time::Duration::from_micros(150),
        coord::perf::Outcome::Success,
    );
    op.record(
        std::time::Duration::from_millis(3),
        coord::perf::Outcome::Success,
    );
    op.record(
        std::time::Duration::from_millis(40),
        coord::perf::Outcome::Failure,
    );
    let text = coord::report().to_prometheus();
    assert!(
        text.contains("# TYPE coord_operation_duration_seconds histogram\n"),
        "{text}"
    );
    let bucket = |le: &str| {
        let prefix = format!(
            "coord_operation_duration_seconds_bucket{{operation=\"report.histogram\",le=\"{le}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no bucket {le} in {text}"))
            .to_string()
    };
    assert_eq!(bucket("0.0001"), "0");
    assert_eq!(bucket("0.0002"), "1");
    assert_eq!(bucket("0.005"), "2");
    assert_eq!(bucket("0.05"), "3");
    assert_eq!(bucket("3600"), "3");
    assert_eq!(bucket("+Inf"), "3");
    assert!(
        text.contains("coord_operation_duration_seconds_count{operation=\"report.histogram\"} 3\n")
    );
    assert!(
        text.contains(
            "coord_operation_duration_seconds_sum{operation=\"report.histogram\"} 0.04315"
        )
    );
    assert!(!text.contains("quantile="), "{text}");
    // The quantiles stay in the other formats.
    let stats = coord::operation("report.histogram").unwrap();
    assert!(stats.p99 >= std::time::Duration::from_millis(38));
    assert_eq!(
        stats.cumulative_buckets().len(),
        coord::perf::EXPORT_BOUNDS.len()
    );
}
