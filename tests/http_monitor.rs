//! Serving is complete by itself: `serve` and `router()` start the monitor unless told not to,
//! so the report's `system` section and the `coord_system_*`, `coord_process_*` and
//! `coord_health_*` families exist without `coord::monitor().start()`. Its own binary: the
//! monitor is process-wide.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod support;
use support::http::request;

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let answer = request(addr, "GET", path);
    (answer.status, answer.body)
}

#[test]
fn serving_starts_the_monitor_unless_told_not_to() {
    let monitor = coord::monitor();
    assert!(!monitor.is_active());

    let quiet = coord::http::ServeConfig::default().start_monitor(false);
    let server = coord::http::serve_with("127.0.0.1:0", quiet).unwrap();
    assert!(!monitor.is_active(), "start_monitor(false) started it");
    // Without a sample the probe does not pass off "CPU 0" as a measurement: it says so.
    let (_, health) = get(server.local_addr(), "/health/ready");
    let json: serde_json::Value = serde_json::from_str(&health).unwrap();
    if json["sampled"] == false {
        assert!(json["breakdown"]["cpu"]["value"].is_null(), "{json}");
        assert_eq!(json["breakdown"]["cpu"]["counts"], false, "{json}");
        let verdict = json["verdict"].as_str().unwrap();
        assert!(verdict.contains("not measured"), "{verdict}");
    }
    server.shutdown();

    let server = coord::http::serve("127.0.0.1:0").unwrap();
    assert!(monitor.is_active(), "serve did not start the monitor");
    let addr = server.local_addr();
    // Generous liveness bound: the first sample comes 200 ms after the probe is primed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let (status, body) = get(addr, "/report.json");
        assert_eq!(status, 200);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        if !json["system"].is_null() || Instant::now() > deadline {
            break json;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let system = &report["system"];
    assert!(system.is_object(), "no system section: {report}");
    assert_eq!(system["sampled"], true, "{system}");
    assert!(system["process_cpu_usage"].is_number(), "{system}");

    let (status, metrics) = get(addr, "/metrics");
    assert_eq!(status, 200);
    for family in [
        "coord_system_cpu_usage_ratio",
        "coord_system_memory_usage_ratio",
        "coord_process_cpu_usage_ratio",
        "coord_process_memory_usage_ratio",
        "coord_health_score",
        "coord_health_status{status=\"healthy\"}",
        "coord_health_penalty{input=\"cpu\"}",
    ] {
        assert!(metrics.contains(family), "{family} missing");
    }
    server.shutdown();
    // The monitor is the process's, not the server's.
    assert!(monitor.is_active());
    monitor.stop();
}
