//! The guide's troubleshooting case "Validation Failures": list the loaded rules, then see
//! exactly which check failed and why.

use serde_json::json;

fn main() {
    println!("Loaded rules: {:?}", coord::rules().names());

    let message_data = json!({
        "content": "",
        "user_id": 42,
        "timestamp": "2024-13-01T00:00:00Z",
        "priority": "urgent",
    });
    let result = coord::validator().validate_message_structure(&message_data);
    println!("Score: {:.1}% (valid: {})", result.score, result.is_valid);
    println!("Validation details:");
    for error in &result.errors {
        println!("  {:<10} {:<10} {}", error.path, error.rule, error.message);
    }
    if let Some(rules) = coord::rules().get("message") {
        println!("\nThe `message` rule set:\n{rules}");
    }
}
