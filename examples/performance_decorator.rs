//! The guide's "Performance Monitoring Decorators": an attribute times every call of a function.

use std::time::Duration;

use coord::track_performance;

struct QueryResult {
    status: &'static str,
}

#[track_performance("database_operation")]
fn database_operation() -> QueryResult {
    std::thread::sleep(Duration::from_millis(50)); // simulate a database round trip
    QueryResult { status: "success" }
}

fn main() {
    for _ in 0..5 {
        let result = database_operation();
        println!("status: {}", result.status);
    }
    let stats = coord::operation("database_operation").expect("recorded by the attribute");
    println!(
        "database_operation: {} calls, mean {:.1?}, p95 {:.1?}, max {:.1?}",
        stats.calls, stats.mean, stats.p95, stats.max
    );
}
