//! The guide's "Validating User Input": check a message's structure before processing it.
//!
//! Run with `cargo run --example validate_message`.

use serde_json::{Value, json};

/// Builds the message from raw user input and validates it with the built-in `message` rules.
fn validate_user_message(user_input: &Value) -> bool {
    let message_data = json!({
        "content": user_input.get("message").cloned().unwrap_or(json!("")),
        "user_id": user_input.get("user_id"),
        "timestamp": user_input.get("timestamp"),
        "priority": user_input.get("priority").cloned().unwrap_or(json!("normal")),
    });

    let result = coord::validator().validate_message_structure(&message_data);
    if !result.is_valid {
        println!("❌ Validation failed: {:.1}%", result.score);
        for error in &result.errors {
            println!("   {error}");
        }
        return false;
    }
    println!("✅ Validation passed: {:.1}%", result.score);
    true
}

fn main() {
    let user_input = json!({
        "message": "Hello, world!",
        "user_id": "user_123",
        "timestamp": "2024-01-01T12:00:00Z",
        "priority": "high",
    });
    assert!(validate_user_message(&user_input));

    let bad_input = json!({
        "message": "",
        "timestamp": "yesterday",
        "priority": "urgent",
    });
    assert!(!validate_user_message(&bad_input));

    println!(
        "\nThe rules behind it:\n{}",
        coord::rules().get("message").expect("built in")
    );
}
