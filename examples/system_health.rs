//! The guide's "System Health Monitoring" scenario: start the background monitor, take a sample,
//! read the health assessment, stop.

use std::time::Duration;

use coord::{MonitorConfig, SystemHealth, track_performance};

#[track_performance("checkout.pay")]
fn pay(order: u32) -> Result<(), String> {
    std::thread::sleep(Duration::from_millis(2));
    if order.is_multiple_of(8) {
        Err(format!("card declined for order {order}"))
    } else {
        Ok(())
    }
}

fn monitor_system_health() -> SystemHealth {
    let monitor = coord::monitor();
    monitor
        .configure(
            MonitorConfig::default()
                .collection_interval(Duration::from_millis(500))
                .max_data_points(1000)
                .latency_objective(Duration::from_millis(250)),
        )
        .expect("a valid monitor configuration");

    // Start background monitoring.
    monitor.start();

    // Some traffic for the operation metrics to see.
    for order in 1..=40 {
        let _ = pay(order);
    }

    // Record system health now, then get the assessment.
    monitor.record_system_health();
    let health = monitor.system_health();

    println!("System Health Report");
    println!("Status: {}", health.health_status);
    println!("Performance Score: {:.1}/100", health.performance_score);
    println!("CPU Usage: {:.1}%", health.cpu_usage);
    println!("Memory Usage: {:.1}%", health.memory_usage);
    println!("\nWhat the score is made of (100 minus the penalties):");
    for (input, part) in health.breakdown.iter() {
        println!(
            "  {input:<14} {:>8.3}  -{:>4.1} of {:>2.0} points  {}",
            part.value, part.penalty, part.weight, part.status
        );
    }

    // The operations' last 10 s, rolled by the monitor thread.
    if let Some(window) = coord::operation("checkout.pay").and_then(|op| op.last_10s) {
        println!(
            "checkout.pay, last {:.1?}: {} calls, {:.1}/s, {:.1}% errors, p99 {:.1?}",
            window.span,
            window.calls,
            window.call_rate,
            window.error_rate * 100.0,
            window.p99
        );
    }

    // Stop monitoring.
    monitor.stop();
    health
}

fn main() {
    let health = monitor_system_health();
    println!(
        "\nmonitor active after stop: {}; samples kept: {}; overall: {}",
        coord::monitor().is_active(),
        coord::monitor().history().len(),
        health.health_status
    );
}
