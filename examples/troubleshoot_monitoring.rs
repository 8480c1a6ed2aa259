//! The guide's troubleshooting case "Performance Monitoring Not Working": check whether the
//! monitor runs, start it if not, and confirm samples arrive.

use std::time::Duration;

use coord::MonitorConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let monitor = coord::monitor();
    monitor.configure(MonitorConfig::default().collection_interval(Duration::from_millis(250)))?;

    let is_active = monitor.is_active();
    println!("Monitoring active: {is_active}");
    if !is_active {
        monitor.start();
        println!("Started monitoring; active now: {}", monitor.is_active());
    }

    // The first CPU reading needs two measurements 200 ms apart; wait for a couple of ticks.
    std::thread::sleep(Duration::from_millis(700));
    let samples = monitor.history();
    println!("Samples collected: {}", samples.len());
    if let Some(last) = samples.last() {
        println!(
            "Latest: cpu {:.1}%, memory {:.1}%",
            last.cpu_usage, last.memory_usage
        );
    }
    monitor.stop();
    println!("Monitoring active after stop: {}", monitor.is_active());
    Ok(())
}
