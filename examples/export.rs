//! The global report for tools: Prometheus text exposition, JSON and YAML.
//!
//! Run with `cargo run --example export -- prometheus` (or `json`, `yaml`).

use coord::track_performance;

#[track_performance("checkout.pay")]
fn pay(amount: u32) -> Result<u32, String> {
    if amount > 500 {
        Err(format!("amount {amount} over limit"))
    } else {
        Ok(amount)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for amount in [20, 80, 700, 120] {
        let _ = pay(amount);
    }
    let _ = coord::validator().validate_message_structure(&serde_json::json!({
        "content": "hi", "user_id": "u1", "priority": "high"
    }));
    coord::breaker("payments_db");

    let report = coord::report();
    match std::env::args().nth(1).as_deref() {
        Some("json") => println!("{}", report.to_json()?),
        Some("yaml") => println!("{}", report.to_yaml()?),
        _ => print!("{}", report.to_prometheus()),
    }
    Ok(())
}
