//! Objectives as code: declare the service's promises next to the code, and write the
//! Prometheus recording rules and burn-rate alerts that watch them.
//!
//!     cargo run --example objectives > objectives.yml
//!     promtool check rules objectives.yml
//!
//! Then add `objectives.yml` to `rule_files:` of `examples/prometheus/prometheus.yml`. The
//! operations join with `#[track_performance(objective = "shop.checkout")]` (as below) or
//! `CoordLayer::new("api").objective("shop.checkout")`; coord exports which operation joined
//! which objective (`coord_objective_operation_info`), so the rules never list operations and
//! new ones are covered without regenerating the file.

use std::time::Duration;

use coord::{Objective, track_performance};

/// The promises of `examples/serve.rs`'s shop (the same declarations).
fn declare() -> Result<(), coord::ObjectiveError> {
    // 99.9 % of checkouts succeed and 99 % answer within 500 ms, over 30 days.
    Objective::new("shop.checkout")
        .success_rate(0.999)
        .latency_below(Duration::from_millis(500), 0.99)
        .declare()?;
    // 99 % of searches answer within 20 ms, over 7 days.
    Objective::new("shop.search")
        .latency_below(Duration::from_millis(20), 0.99)
        .period(Duration::from_secs(7 * 86_400))
        .declare()
}

#[track_performance(name = "shop.checkout", objective = "shop.checkout")]
fn checkout() -> Result<(), String> {
    Ok(())
}

fn main() -> Result<(), coord::ObjectiveError> {
    declare()?;
    checkout().ok();
    print!("{}", coord::objectives::prometheus_rules());
    // The same objectives, computed in process, on stderr (stdout is the rule file).
    for objective in coord::report().objectives {
        for indicator in &objective.indicators {
            eprintln!(
                "{} {}: target {}, error budget left {:.1} %",
                objective.name,
                indicator.indicator,
                indicator.target,
                indicator.error_budget_remaining * 100.0
            );
        }
    }
    Ok(())
}
