//! The guide's "Batch Validation": validate many messages, then read the aggregated report.
//!
//! Run with `cargo run --example batch_validation`.

use coord::{ValidationReport, ValidationResult};
use serde_json::{Value, json};

fn validate_multiple_messages(messages: &[Value]) -> (Vec<ValidationResult>, ValidationReport) {
    let results: Vec<ValidationResult> = messages
        .iter()
        .map(|m| coord::validator().validate_message_structure(m))
        .collect();
    let report = coord::validator().validation_report();

    println!("📊 Batch Validation Report");
    println!("Total messages: {}", messages.len());
    println!(
        "Valid messages: {}",
        results.iter().filter(|r| r.is_valid).count()
    );
    println!("Overall compliance: {:.1}%", report.compliance_score);
    (results, report)
}

fn main() {
    coord::reset();
    let messages = vec![
        json!({"content": "Deploy finished", "user_id": "ops", "timestamp": "2024-01-01T12:00:00Z", "priority": "high"}),
        json!({"content": "Lunch?", "user_id": "ada", "timestamp": "2024-01-01T12:05:00+01:00"}),
        json!({"content": "", "user_id": "bob", "timestamp": "2024-01-01T12:10:00Z", "priority": "low"}),
        json!({"content": "Disk full", "timestamp": "2024-02-30T08:00:00Z", "priority": "urgent"}),
        json!({"content": "All good", "user_id": "eve", "priority": "normal"}),
    ];
    let (results, report) = validate_multiple_messages(&messages);

    println!();
    for (id, r) in results.iter().enumerate() {
        println!("message {id}: {r}");
    }
    println!("\n{report}");
    assert_eq!(report.total, 5);
    assert_eq!(report.valid, 3);
}
