//! Objectives: declaring (code, file, attribute, tower layer), the in-process numbers over the
//! windows, the report's four formats, the rules (and `promtool` on them when it is installed).

use std::time::Duration;

use coord::objectives::{Indicator, ObjectiveError};
use coord::{Objective, track_performance};

#[macro_use]
#[path = "support/rows.rs"]
mod rows;

#[track_performance(name = "objectives_test.attr.pay", objective = "objectives_test.attr")]
fn pay(fail: bool) -> Result<(), String> {
    if fail { Err("declined".into()) } else { Ok(()) }
}

#[test]
fn an_attribute_joins_its_objective_and_the_report_counts_it() {
    Objective::new("objectives_test.attr")
        .success_rate(0.9)
        .latency_below(Duration::from_secs(1), 0.99)
        .declare()
        .unwrap();
    for i in 0..10 {
        let _ = pay(i == 0);
    }
    let report = coord::report();
    let objective = row!(report.objectives, "objectives_test.attr");
    assert_eq!(objective.operations, ["objectives_test.attr.pay"]);
    let success = objective.indicator(Indicator::Success).unwrap();
    let period = success.windows.last().unwrap();
    assert_eq!((period.good, period.valid), (9, 10));
    assert_eq!(period.compliance, Some(0.9));
    let latency = objective.indicator(Indicator::Latency).unwrap();
    let period = latency.windows.last().unwrap();
    assert_eq!((period.good, period.valid), (10, 10));
    // 1 bad of 10 with a 10 % budget: the budget is exactly spent.
    assert!(
        success.error_budget_remaining.abs() < 1e-9,
        "{}",
        success.error_budget_remaining
    );
    let text = report.to_string();
    assert!(text.contains("Objectives"), "{text}");
    let prom = report.to_prometheus();
    assert!(
        prom.contains(r#"coord_objective_operation_info{objective="objectives_test.attr",operation="objectives_test.attr.pay"} 1"#),
        "{prom}"
    );
    assert!(prom.contains("# TYPE coord_objective_burn_rate gauge"));
    assert_eq!(prom.matches("# TYPE coord_objective_burn_rate ").count(), 1);
    let json = report.to_json().unwrap();
    assert!(json.contains("\"error_budget_remaining\""), "{json}");
    let yaml = report.to_yaml().unwrap();
    assert!(yaml.contains("objectives:"), "{yaml}");
}

#[test]
fn the_builder_refuses_each_kind_with_a_typed_error() {
    let declare = |o: Objective| o.declare().unwrap_err();
    assert!(matches!(
        declare(Objective::new("")),
        ObjectiveError::Name { .. }
    ));
    assert!(matches!(
        declare(Objective::new("objectives_test.none")),
        ObjectiveError::NoTarget
    ));
    assert!(matches!(
        declare(Objective::new("objectives_test.t").success_rate(1.5)),
        ObjectiveError::Target {
            indicator: Indicator::Success,
            ..
        }
    ));
    let err = declare(
        Objective::new("objectives_test.l").latency_below(Duration::from_millis(300), 0.99),
    );
    assert!(matches!(err, ObjectiveError::Threshold { .. }));
    assert!(err.to_string().contains("200ms and 500ms"), "{err}");
    assert!(matches!(
        declare(
            Objective::new("objectives_test.p")
                .success_rate(0.99)
                .period(Duration::from_secs(3600))
        ),
        ObjectiveError::Period { .. }
    ));
}

#[cfg(feature = "tower")]
#[test]
fn a_tower_layer_joins_its_operation_and_its_routes() {
    let layer =
        coord::tower::CoordLayer::new("objectives_test.api").objective("objectives_test.layer");
    assert_eq!(layer.name(), "objectives_test.api");
    Objective::new("objectives_test.layer")
        .success_rate(0.99)
        .declare()
        .unwrap();
    for name in [
        "objectives_test.api",
        "objectives_test.api GET /users/{id}",
        "objectives_test.apix",
    ] {
        coord::monitor().record_operation(name).success();
    }
    let report = coord::report();
    let objective = row!(report.objectives, "objectives_test.layer");
    assert_eq!(
        objective.operations,
        ["objectives_test.api", "objectives_test.api GET /users/{id}"]
    );
}

#[test]
fn rules_group_and_label_each_objective() {
    Objective::new("objectives_test.rules")
        .latency_below(Duration::from_secs(1), 0.95)
        .period(Duration::from_secs(7 * 86_400))
        .declare()
        .unwrap();
    let rules = coord::objectives::prometheus_rules();
    assert!(
        rules.contains("  - name: coord_objective_objectives_test_rules\n"),
        "{rules}"
    );
    // A 7-day period keeps the windows and the budget shares: 2 % in 1 h is 3.36x, 5 % in 6 h
    // 1.4x, and 10 % in 3 days would be 0.23x, raised to 1x.
    for factor in [
        "(3.36 * (1 - 0.95))",
        "(1.4 * (1 - 0.95))",
        "(1 * (1 - 0.95))",
    ] {
        assert!(rules.contains(factor), "{factor} in {rules}");
    }
    assert!(
        rules.contains(r#"coord_operation_duration_seconds_bucket{le=~\"1|1\\\\.0\"}"#),
        "{rules}"
    );
    assert!(
        rules.contains("record: coord_objective:error_ratio:rate7d"),
        "{rules}"
    );
}
