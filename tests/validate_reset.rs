//! `coord::reset()` zeroes the validation report; rule sets stay loaded and cached derived
//! handles keep counting. Its own binary, because reset is process-wide.

use coord::Validate;
use serde_json::json;

#[derive(Validate)]
struct Ticket {
    #[validate(length(min = 1))]
    title: String,
}

#[test]
fn reset_zeroes_the_report_and_keeps_rules() {
    let bad = json!({"content": ""});
    let _ = coord::validator().validate_message_structure(&bad);
    let _ = Ticket {
        title: String::new(),
    }
    .validate();
    let before = coord::validator().validation_report();
    assert_eq!((before.total, before.invalid), (2, 2));
    assert!(!before.top_failures.is_empty());

    coord::reset();
    let after = coord::validator().validation_report();
    assert_eq!((after.total, after.valid, after.invalid), (0, 0, 0));
    assert!(after.top_failures.is_empty() && after.rule_sets.is_empty());
    assert_eq!(after.compliance_score, 100.0);
    assert!(coord::rules().get("message").is_some());
    assert!(coord::rules().get("Ticket").is_some());

    // The derived type's cached handle counts from zero again.
    let _ = Ticket { title: "ok".into() }.validate();
    let again = coord::validator().validation_report();
    let t = again.rule_set("Ticket").unwrap();
    assert_eq!((t.total, t.valid), (1, 1));
}
