//! The guide's "API Endpoint Performance Tracking": time a request handler by hand with an
//! operation guard, recording success or failure, then read the performance report.

use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("unknown action `{0}`")]
    UnknownAction(String),
}

fn process_request(request: &Value) -> Result<Value, ApiError> {
    std::thread::sleep(Duration::from_millis(3)); // simulate work
    match request["action"].as_str() {
        Some("create_user") => Ok(json!({ "status": "created", "name": request["data"]["name"] })),
        other => Err(ApiError::UnknownAction(
            other.unwrap_or("<none>").to_string(),
        )),
    }
}

fn api_endpoint_handler(request: &Value) -> Result<Value, ApiError> {
    let guard = coord::monitor().record_operation("api_request");
    match process_request(request) {
        Ok(result) => {
            guard.success();
            Ok(result)
        }
        Err(error) => {
            guard.failure(&error);
            Err(error)
        }
    }
}

fn main() {
    let monitor = coord::monitor();
    monitor.start();

    let requests = [
        json!({ "action": "create_user", "data": { "name": "John" } }),
        json!({ "action": "create_user", "data": { "name": "Jane" } }),
        json!({ "action": "delete_everything" }),
    ];
    for request in &requests {
        match api_endpoint_handler(request) {
            Ok(response) => println!("API response: {response}"),
            Err(error) => println!("API error: {error}"),
        }
    }

    let report = monitor.performance_report();
    if let Some(stats) = report.find("api_request") {
        println!(
            "Performance: {:.2} ms avg over {} requests ({} failed, last error: {})",
            stats.mean.as_secs_f64() * 1e3,
            stats.calls,
            stats.failures,
            stats.last_error.as_deref().unwrap_or("none"),
        );
    }
    monitor.stop();
}
