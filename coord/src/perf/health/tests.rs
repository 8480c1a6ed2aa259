//! The health score's unit tests.

use super::*;

fn t() -> HealthThresholds {
    HealthThresholds::default()
}

#[test]
fn a_quiet_system_scores_100() {
    let h = SystemHealth::assess(&HealthInputs::new(), &t());
    assert_eq!(h.performance_score, 100.0);
    assert_eq!(h.health_status, HealthStatus::Healthy);
}

#[test]
fn everything_at_its_worst_scores_0() {
    let inputs = HealthInputs::new()
        .cpu_usage(100.0)
        .memory_usage(100.0)
        .error_rate(1.0)
        .p99_latency(Duration::from_secs(10))
        .open_breakers(5);
    let h = SystemHealth::assess(&inputs, &t());
    assert_eq!(h.performance_score, 0.0);
    assert_eq!(h.health_status, HealthStatus::Unhealthy);
}

#[test]
fn penalties_start_at_half_the_degraded_threshold() {
    let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(35.0), &t());
    assert_eq!(h.breakdown.cpu.penalty, 0.0);
    let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(62.5), &t());
    assert!((h.breakdown.cpu.penalty - 10.0).abs() < 1e-9);
    assert_eq!(h.health_status, HealthStatus::Healthy);
}

#[test]
fn one_open_breaker_degrades() {
    let h = SystemHealth::assess(&HealthInputs::new().open_breakers(1), &t());
    assert_eq!(h.health_status, HealthStatus::Degraded);
    assert!(h.performance_score < 100.0);
}

#[test]
fn latency_is_judged_against_the_objective() {
    let at = SystemHealth::assess(
        &HealthInputs::new().p99_latency(Duration::from_millis(500)),
        &t(),
    );
    assert_eq!(at.breakdown.latency.status, HealthStatus::Healthy);
    let over = SystemHealth::assess(
        &HealthInputs::new().p99_latency(Duration::from_millis(501)),
        &t(),
    );
    assert_eq!(over.breakdown.latency.status, HealthStatus::Degraded);
    let far = SystemHealth::assess(
        &HealthInputs::new().p99_latency(Duration::from_secs(2)),
        &t(),
    );
    assert_eq!(far.breakdown.latency.status, HealthStatus::Unhealthy);
    assert_eq!(far.breakdown.latency.penalty, 20.0);
}

#[test]
fn unmeasured_inputs_do_not_count_and_say_so() {
    let h = SystemHealth::assess(&HealthInputs::new().cpu_usage(f64::NAN), &t());
    assert_eq!(h.performance_score, 100.0);
    assert_eq!(h.health_status, HealthStatus::Healthy);
    assert!(!h.sampled);
    assert!(!h.breakdown.cpu.counts);
    assert!(
        h.verdict.contains("not measured, so not counted: cpu"),
        "{}",
        h.verdict
    );
    let json = serde_json::to_value(&h).unwrap();
    assert!(json["breakdown"]["cpu"]["value"].is_null(), "{json}");
    assert!(json["process_cpu_usage"].is_null(), "{json}");
}

#[test]
fn a_saturated_machine_does_not_count() {
    let inputs = HealthInputs::new()
        .host_cpu_usage(100.0)
        .host_memory_usage(99.0)
        .cpu_usage(5.0);
    let h = SystemHealth::assess(&inputs, &t());
    assert_eq!(h.health_status, HealthStatus::Healthy);
    assert!(h.is_ready());
    assert_eq!(h.performance_score, 100.0);
    assert_eq!((h.cpu_usage, h.process_cpu_usage), (100.0, 5.0));
    assert!(h.verdict.contains("information only"), "{}", h.verdict);
}

#[test]
fn a_keyed_group_weighs_one_breaker_at_most() {
    let many = HealthInputs::new().keyed_group(50, 50).keyed_group(3, 3);
    let h = SystemHealth::assess(&many, &t());
    assert_eq!(h.breakdown.open_breakers.value, 2.0);
    assert!(h.is_ready(), "{}", h.verdict);
    let few = SystemHealth::assess(&HealthInputs::new().keyed_group(3, 1000), &t());
    assert!((few.breakdown.open_breakers.value - 0.003).abs() < 1e-12);
    assert_eq!(few.health_status, HealthStatus::Degraded);
    let own = SystemHealth::assess(&HealthInputs::new().open_breakers(3), &t());
    assert!(!own.is_ready());
    assert!(
        own.verdict
            .starts_with("unhealthy: open_breakers is unhealthy"),
        "{}",
        own.verdict
    );
}

#[test]
fn the_verdict_names_the_inputs_that_made_it() {
    let h = SystemHealth::assess(&HealthInputs::new().error_rate(0.5), &t());
    assert_eq!(h.health_status, HealthStatus::Unhealthy);
    assert!(
        h.verdict
            .contains("error_rate is unhealthy (50.0 % of completed calls failed"),
        "{}",
        h.verdict
    );
    let calm = SystemHealth::assess(&HealthInputs::new(), &t());
    assert!(
        calm.verdict.starts_with("healthy: every input that counts"),
        "{}",
        calm.verdict
    );
}

#[test]
fn nonsense_thresholds_are_named() {
    assert_eq!(t().invalid(), None);
    assert_eq!(t().cpu(95.0, 90.0).invalid(), Some("cpu"));
    assert_eq!(t().memory(f64::NAN, 90.0).invalid(), Some("memory"));
    assert_eq!(t().error_rate(0.1, 1.5).invalid(), Some("error_rate"));
    assert_eq!(
        t().latency_objective(Duration::ZERO).invalid(),
        Some("latency_objective")
    );
    assert_eq!(
        t().open_breakers_unhealthy(0).invalid(),
        Some("open_breakers_unhealthy")
    );
}
