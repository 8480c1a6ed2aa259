//! Readiness means the application: `/health/ready` (and `/health`) stay 200 while the machine
//! is saturated and while many keyed breakers are open, and answer 503 when the application
//! itself fails (its error rate, its own breakers). `/health/live` answers 200 throughout. Its
//! own binary: health is process-wide.

use std::net::SocketAddr;

use coord::perf::HealthInputs;
use coord::{BreakerConfig, HealthStatus, HealthThresholds, SystemHealth};

mod support;
use support::http::request;

fn get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let answer = request(addr, "GET", path);
    (answer.status, answer.json())
}

/// Asserts `/health/ready` and `/health` answer `want`, and `/health/live` 200; returns the
/// readiness JSON.
fn probe(addr: SocketAddr, want: u16) -> serde_json::Value {
    let (status, ready) = get(addr, "/health/ready");
    assert_eq!(status, want, "{ready:#}");
    assert_eq!(get(addr, "/health").0, want);
    assert_eq!(get(addr, "/health/live").0, 200);
    ready
}

#[test]
fn a_saturated_machine_leaves_the_application_ready() {
    let saturated = HealthInputs::new()
        .host_cpu_usage(100.0)
        .host_memory_usage(98.0)
        .cpu_usage(12.0)
        .memory_usage(3.0);
    let health = SystemHealth::assess(&saturated, &HealthThresholds::default());
    assert_eq!(health.health_status, HealthStatus::Healthy, "{health}");
    assert!(health.is_ready());
    assert_eq!(
        health.cpu_usage, 100.0,
        "the machine's figure is still reported"
    );
    assert!(health.breakdown.iter().all(|(_, c)| c.counts));

    // This process saturating its own cores is the application's problem.
    let busy = SystemHealth::assess(
        &HealthInputs::new().cpu_usage(97.0),
        &HealthThresholds::default(),
    );
    assert!(!busy.is_ready(), "{busy}");
}

#[test]
fn readiness_follows_the_application_not_keyed_breakers() {
    coord::reset();
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    probe(addr, 200);

    // Two per-host groups with every key open: 50 real hosts, and 3 made up by callers.
    let hosts = coord::breaker::keyed("readiness.per_host", BreakerConfig::default()).unwrap();
    let made_up = coord::breaker::keyed("readiness.made_up", BreakerConfig::default()).unwrap();
    for i in 0..50 {
        hosts.get(&format!("host-{i}.internal")).force_open();
    }
    for host in ["a.invalid", "b.invalid", "c.invalid"] {
        made_up.get(host).force_open();
    }
    let ready = probe(addr, 200);
    let breakers = &ready["breakdown"]["open_breakers"];
    assert_eq!(breakers["value"], 2.0, "{ready:#}");
    assert_eq!(breakers["counts"], true);
    assert_ne!(ready["health_status"], "unhealthy");
    assert!(
        breakers["why"]
            .as_str()
            .unwrap()
            .contains("53 open key(s) in 2 keyed group(s)"),
        "{breakers}"
    );

    // The application's own failures make it unready.
    for _ in 0..40 {
        coord::monitor()
            .record_operation("readiness.app")
            .failure(&"downstream said no");
    }
    let ready = probe(addr, 503);
    assert_eq!(ready["breakdown"]["error_rate"]["status"], "unhealthy");
    let verdict = ready["verdict"].as_str().unwrap();
    assert!(verdict.contains("error_rate is unhealthy"), "{verdict}");
    assert!(!verdict.contains("downstream said no"), "no error messages");

    coord::reset();
    probe(addr, 200);

    // So do its own (unkeyed) breakers: three open reach the default threshold.
    for name in ["readiness.db", "readiness.payments", "readiness.search"] {
        coord::breaker(name).force_open();
    }
    let ready = probe(addr, 503);
    assert_eq!(ready["breakdown"]["open_breakers"]["value"], 3.0);
    assert!(
        ready["verdict"]
            .as_str()
            .unwrap()
            .contains("open_breakers is unhealthy"),
        "{ready:#}"
    );
    coord::reset();
    probe(addr, 200);
    server.shutdown();
}
