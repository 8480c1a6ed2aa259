//! Limits through the public API: registry caps and their overflow entry, names of any length
//! and content, saturating measurements and clocks, and a `system_health()` that never waits.
//! Caps are process-wide, so everything that changes one is in one test.

use std::time::Duration;

use coord::perf::Outcome;
use coord::{FakeClock, RetryPolicy};

/// The caps are process-wide and one test lowers them for a moment: the tests of this binary
/// take turns, so no other test registers a name while a cap is at zero.
static CAPS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    CAPS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn dropped(registry: &str) -> u64 {
    coord::limits::dropped_names()
        .into_iter()
        .find(|(name, _)| *name == registry)
        .map(|(_, count)| count)
        .unwrap()
}

#[test]
fn names_past_a_cap_share_the_overflow_entry_and_are_counted() {
    let _turn = turn();
    // Operations: with a cap of 0 every new name is past it; known names keep working.
    coord::monitor().record_operation("lim.known").success();
    let (cap, before) = (coord::limits::max_operations(), dropped("operations"));
    assert_eq!(cap, coord::limits::DEFAULT_MAX_OPERATIONS);
    coord::limits::set_max_operations(0);
    for i in 0..3 {
        coord::monitor()
            .record_operation(&format!("lim.past_cap.{i}"))
            .success();
    }
    coord::monitor().record_operation("lim.known").success();
    coord::limits::set_max_operations(cap);
    assert!(coord::operation("lim.past_cap.0").is_none());
    assert_eq!(coord::operation("lim.known").unwrap().calls, 2);
    let overflow = coord::operation(coord::limits::OVERFLOW_NAME).unwrap();
    assert!(overflow.calls >= 3, "{overflow:?}");
    assert!(dropped("operations") >= before + 3);

    // Retry budgets, keyed by policy name.
    let budgets_before = dropped("retry_budgets");
    coord::limits::set_max_budgets(0);
    let policy = RetryPolicy::constant(1, Duration::ZERO).named("lim.budget.past_cap");
    let _: Result<(), &str> = policy.call(|| Err("x"));
    coord::limits::set_max_budgets(coord::limits::DEFAULT_MAX_BUDGETS);
    assert!(coord::retry::budget("lim.budget.past_cap").is_none());
    assert!(coord::retry::budget(coord::limits::OVERFLOW_NAME).is_some());
    assert!(dropped("retry_budgets") > budgets_before);

    // The Prometheus family, one sample per capped registry.
    let text = coord::report().to_prometheus();
    assert!(text.contains("# TYPE coord_dropped_names_total counter"));
    for (registry, _) in coord::limits::dropped_names() {
        assert!(
            text.contains(&format!(
                "coord_dropped_names_total{{registry=\"{registry}\"}} "
            )),
            "{registry}"
        );
    }
}

#[test]
fn names_of_any_length_and_content_are_accepted_and_escaped() {
    let _turn = turn();
    let long = format!("lim.long.{}", "x".repeat(1 << 20));
    coord::monitor().record_operation(&long).success();
    let stats = coord::operation(&long).unwrap();
    assert_eq!(stats.name.len(), coord::limits::MAX_NAME_BYTES);
    assert_eq!(stats.name, long[..coord::limits::MAX_NAME_BYTES]);
    // Cut on a character boundary: 'é' is 2 bytes and would straddle the limit.
    let straddling = format!("lim.é.{}é", "y".repeat(coord::limits::MAX_NAME_BYTES - 8));
    coord::monitor().record_operation(&straddling).success();
    let stats = coord::operation(&straddling).unwrap();
    assert!(stats.name.len() < coord::limits::MAX_NAME_BYTES);
    assert!(straddling.starts_with(&stats.name));

    let hostile = "lim.ctl\n\"x\\\u{1b}[31m\u{0}";
    coord::monitor().record_operation(hostile).success();
    assert_eq!(coord::operation(hostile).unwrap().name, hostile);
    let report = coord::report();
    let table = report.to_string();
    assert!(!table.contains('\u{1b}') && !table.contains('\u{0}'));
    let json = report.to_json().unwrap();
    assert!(
        json.contains(r#"lim.ctl\n\"x\\\u001b[31m\u0000"#),
        "control characters are JSON-escaped"
    );
    let prometheus = report.to_prometheus();
    assert!(prometheus.contains(r#"operation="lim.ctl\n\"x\\"#));
    assert!(!prometheus.contains("lim.ctl\n"));
    coord::monitor().record_operation("").success();
    assert!(coord::operation("").is_some());
}

#[test]
fn totals_saturate_instead_of_wrapping() {
    let _turn = turn();
    let op = coord::monitor().operation_handle("lim.saturating");
    op.record(Duration::MAX, Outcome::Success);
    op.record(Duration::MAX, Outcome::Success);
    let stats = coord::operation("lim.saturating").unwrap();
    assert_eq!(stats.calls, 2);
    assert_eq!(stats.total, Duration::from_nanos(u64::MAX));
    assert_eq!(stats.max, Duration::from_nanos(u64::MAX));
    assert!(stats.mean >= Duration::from_nanos(u64::MAX / 2));

    let clock = FakeClock::new();
    let start = clock.now();
    clock.advance(Duration::MAX);
    let far = clock.now();
    clock.advance(Duration::MAX);
    assert_eq!(clock.elapsed(), Duration::from_nanos(u64::MAX));
    assert!(
        clock.now() >= far && far >= start,
        "a saturated fake clock never runs back"
    );
}

#[test]
fn system_health_reads_the_last_sample_and_never_waits_for_one() {
    let _turn = turn();
    let monitor = coord::monitor();
    // First use of the host probe in this process: CPU use cannot be measured for 200 ms, and
    // system_health() does not wait for it (the reading is not kept in the history), and does
    // not pass an unmeasured CPU off as 0 %: it is NaN (`null` in JSON), not counted, and named.
    let first = monitor.system_health();
    if monitor.history().is_empty() {
        assert!(!first.sampled);
        assert!(
            first.cpu_usage.is_nan() && first.process_cpu_usage.is_nan(),
            "not yet measured"
        );
        assert!(!first.breakdown.cpu.counts);
        assert!(first.verdict.contains("not measured"), "{}", first.verdict);
    }
    assert!(first.memory_usage > 0.0);
    // Once a sample exists, it is what system_health() reads.
    let sample = monitor.record_system_health();
    let health = monitor.system_health();
    assert!(health.sampled);
    assert_eq!(health.cpu_usage, sample.cpu_usage);
    assert_eq!(health.memory_usage, sample.memory_usage);
    assert_eq!(health.process_cpu_usage, sample.process_cpu_share());
    assert_eq!(health.process_memory_usage, sample.process_memory_share());
}
