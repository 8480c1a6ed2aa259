//! The registry's health verdict, recent ring and shard sums, checked.

use super::*;

fn record(severity: Severity, outcome: AttemptOutcome, age: Duration) -> ErrorRecord {
    ErrorRecord {
        operation: "op".into(),
        severity,
        error_type: "E",
        message: String::new(),
        attempt: 1,
        outcome,
        at: SystemTime::now() - age,
    }
}

#[test]
fn health_follows_recent_final_failures() {
    use AttemptOutcome::*;
    let now = Duration::ZERO;
    assert_eq!(health(&[]), HealthStatus::Healthy);
    // Retried attempts are not failures of the call.
    assert_eq!(
        health(&[record(Severity::Critical, Retried, now)]),
        HealthStatus::Healthy
    );
    assert_eq!(
        health(&[record(Severity::High, Exhausted, now)]),
        HealthStatus::Degraded
    );
    assert_eq!(
        health(&vec![record(Severity::Low, Permanent, now); 10]),
        HealthStatus::Degraded
    );
    assert_eq!(
        health(&[
            record(Severity::Low, Exhausted, now),
            record(Severity::Critical, BudgetExhausted, now)
        ]),
        HealthStatus::Unhealthy
    );
    // Old failures no longer count.
    assert_eq!(
        health(&[record(
            Severity::Critical,
            Exhausted,
            Duration::from_secs(600)
        )]),
        HealthStatus::Healthy
    );
}

#[test]
fn recent_list_is_bounded_and_rows_are_summed_over_shards() {
    set_recent_capacity(3);
    for attempt in 1..=10 {
        row("unit.recent").record_failure(
            Severity::Low,
            "E",
            "m",
            attempt,
            AttemptOutcome::Retried,
        );
    }
    let recent: Vec<_> = summary()
        .recent
        .into_iter()
        .filter(|r| r.operation == "unit.recent")
        .collect();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent.last().map(|r| r.attempt), Some(10));
    set_recent_capacity(0);
    assert!(summary().recent.is_empty());
    set_recent_capacity(DEFAULT_RECENT_CAPACITY);

    // In the same test: recording on other threads would push these records out.
    let row = row("unit.sharded");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for attempt in 1..=100 {
                    row.record_failure(
                        Severity::High,
                        "E",
                        "boom",
                        attempt,
                        AttemptOutcome::Exhausted,
                    );
                }
            });
        }
    });
    let summary = summary_of(Some(&row));
    assert_eq!(summary.total_errors, 400);
    assert_eq!(summary.final_failures, 400);
    assert_eq!(summary.by_severity.high, 400);
    assert_eq!(summary.retry.exhausted, 400);
    assert_eq!(summary.by_operation.len(), 1);
    assert_eq!(summary.by_operation[0].last_error.as_deref(), Some("boom"));
    assert!(summary.recent.iter().all(|r| r.operation == "unit.sharded"));
}
