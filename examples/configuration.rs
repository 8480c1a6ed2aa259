//! The guide's "Configuration" step: retry and monitoring settings, here from one YAML file
//! (`examples/coord.yaml`), with the same settings written in code for comparison.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coord::{MonitorConfig, RetryPolicy, retry};

static CALLS: AtomicU32 = AtomicU32::new(0);

/// Takes its settings from the `fast` policy of the configuration file.
#[retry(policy = "fast")]
fn flaky() -> Result<u32, String> {
    let n = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    if n < 3 {
        Err(format!("attempt {n} failed"))
    } else {
        Ok(n)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/coord.yaml");
    let loaded = coord::config::load_file(path)?;
    println!("retry policies:   {:?}", loaded.retry_policies);
    println!("circuit breakers: {:?}", loaded.circuit_breakers);
    println!("rule sets:        {:?}", loaded.rule_sets);
    println!("objectives:       {:?}", loaded.objectives);
    let monitor = coord::monitor().config();
    println!(
        "monitor:          sample every {:?}, keep {} samples",
        monitor.collection_interval, monitor.max_data_points
    );

    // The same as the file's `api` policy and `monitor` section, in code:
    let api =
        RetryPolicy::exponential(3, Duration::from_secs(1), 2.0).max_delay(Duration::from_secs(30));
    println!("api policy in code: {:?}", api.settings());
    coord::monitor().configure(
        MonitorConfig::default()
            .collection_interval(Duration::from_secs(5))
            .max_data_points(1000),
    )?;

    println!(
        "flaky() = {:?} after {} attempts",
        flaky(),
        CALLS.load(Ordering::Relaxed)
    );

    // A mistake in the file is reported with its place and a suggestion.
    if let Err(e) = coord::config::load_str("retry_policies:\n  api:\n    base_dealy: 1s\n") {
        println!("bad file: {e}");
    }
    Ok(())
}
