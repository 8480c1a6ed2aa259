//! One name per function: every layer on a function takes its operation name (the
//! `#[track_performance]` name, else `module::function` / `module::Type::method`) unless its own
//! attribute names it, so the report, the lookups and the configuration file all find the
//! layers of one function under one name.

use coord::{bulkhead, circuit_breaker, rate_limit, retry, timeout, track_performance};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

mod support;
use support::LayerError;

static LOOKUPS: AtomicU32 = AtomicU32::new(0);

/// The issue's function: one operation name, every layer.
#[track_performance("one_name.inventory.lookup")]
#[circuit_breaker(minimum_calls = 100, window = 100)]
#[bulkhead(max_concurrent = 4)]
#[rate_limit(rate = 1000, burst = 1000)]
#[timeout("50ms")]
#[retry(max_retries = 1, base_delay = "1ms")]
async fn lookup(mode: u8) -> Result<u32, LayerError> {
    LOOKUPS.fetch_add(1, SeqCst);
    match mode {
        0 => Ok(7),
        1 => Err(LayerError::Down),
        _ => {
            std::future::pending::<()>().await;
            Ok(0)
        }
    }
}

#[tokio::test]
async fn every_layer_takes_the_operation_name() {
    let name = "one_name.inventory.lookup";
    assert_eq!(lookup(0).await.unwrap(), 7);
    assert!(matches!(lookup(1).await, Err(LayerError::Down)));
    assert!(matches!(lookup(2).await, Err(LayerError::TimedOut(_))));
    // Two attempts for each failing call.
    assert_eq!(LOOKUPS.load(SeqCst), 5);

    let stats = coord::operation(name).expect("the operation");
    assert_eq!((stats.calls, stats.failures), (3, 2));
    let breaker = coord::breakers::find(name).expect("the breaker under the operation's name");
    assert_eq!(breaker.config().minimum_calls, 100);
    let bulkhead = coord::bulkheads::find(name).expect("the bulkhead under the operation's name");
    assert_eq!(bulkhead.max_concurrent(), 4);
    let limiter = coord::rate_limit::find(name).expect("the rate limiter under that name");
    assert_eq!(limiter.config().rate, 1000);
    let budget = coord::retry::budget(name).expect("the retry budget under that name");
    assert!(budget.tokens < budget.config.capacity);
    let errors = coord::errors::operation_errors(name).expect("the error row");
    assert_eq!(errors.retries, 2);

    let report = coord::report();
    let timeouts = report.timeouts.iter().find(|t| t.operation == name);
    assert_eq!(timeouts.map(|t| t.timeouts), Some(2));
    // No layer of this function is left under its default name.
    let default = concat!(module_path!(), "::lookup");
    assert!(coord::breakers::find(default).is_none());
    assert!(coord::bulkheads::find(default).is_none());
    assert!(coord::rate_limit::find(default).is_none());
    assert!(coord::retry::budget(default).is_none());
    assert!(report.timeouts.iter().all(|t| t.operation != default));
}

/// No `#[track_performance]`: the default name is the operation's, for every layer.
#[circuit_breaker]
#[bulkhead(max_concurrent = 3)]
#[rate_limit(rate = 500)]
fn unnamed() -> Result<(), LayerError> {
    Ok(())
}

#[test]
fn without_a_name_every_layer_takes_the_default_one() {
    unnamed().unwrap();
    let name = concat!(module_path!(), "::unnamed");
    assert!(coord::breakers::find(name).is_some());
    assert_eq!(coord::bulkheads::find(name).unwrap().max_concurrent(), 3);
    assert_eq!(coord::rate_limit::find(name).unwrap().config().rate, 500);
}

struct Inventory;

impl Inventory {
    #[circuit_breaker]
    #[bulkhead(max_concurrent = 2)]
    #[retry(max_retries = 1, base_delay = "1ms")]
    fn reserve(&self, fail: bool) -> Result<u32, LayerError> {
        if fail { Err(LayerError::Down) } else { Ok(1) }
    }
}

#[test]
fn a_method_names_every_layer_after_its_type() {
    Inventory.reserve(false).unwrap();
    assert!(Inventory.reserve(true).is_err());
    let name = concat!(module_path!(), "::Inventory::reserve");
    assert!(coord::breakers::find(name).is_some());
    assert_eq!(coord::bulkheads::find(name).unwrap().max_concurrent(), 2);
    assert!(coord::retry::budget(name).is_some());
    assert_eq!(coord::errors::operation_errors(name).unwrap().retries, 1);
}

/// Explicit names on two layers: each keeps its own, the others take the operation's.
#[track_performance("one_name.own.operation")]
#[circuit_breaker(name = "one_name.own.breaker")]
#[bulkhead(name = "one_name.own.bulkhead", max_concurrent = 5)]
#[rate_limit(rate = 300)]
fn own_names() -> Result<(), LayerError> {
    Ok(())
}

#[test]
fn a_layer_given_its_own_name_keeps_it_for_that_layer_only() {
    own_names().unwrap();
    assert!(coord::operation("one_name.own.operation").is_some());
    assert!(coord::breakers::find("one_name.own.breaker").is_some());
    assert!(coord::breakers::find("one_name.own.operation").is_none());
    assert_eq!(
        coord::bulkheads::find("one_name.own.bulkhead")
            .unwrap()
            .max_concurrent(),
        5
    );
    assert!(coord::bulkheads::find("one_name.own.operation").is_none());
    assert_eq!(
        coord::rate_limit::find("one_name.own.operation")
            .unwrap()
            .config()
            .rate,
        300
    );
}

static CONFIGURED: AtomicU32 = AtomicU32::new(0);

#[track_performance("one_name.configured")]
#[circuit_breaker(failure_rate = 0.9)]
#[bulkhead(max_concurrent = 9)]
#[rate_limit(rate = 900)]
#[retry(base_delay = "1ms")]
fn configured() -> Result<(), LayerError> {
    CONFIGURED.fetch_add(1, SeqCst);
    Err(LayerError::Down)
}

#[test]
fn the_configuration_file_finds_every_layer_by_the_operation_name() {
    let loaded = coord::config::load_str(
        r#"
retry_policies:
  one_name.configured: { max_retries: 2, base_delay: 1ms, budget: { capacity: 40 } }
circuit_breakers:
  one_name.configured: { failure_rate: 0.25 }
bulkheads:
  one_name.configured: { max_concurrent: 2 }
rate_limits:
  one_name.configured: { rate: 20 }
"#,
    )
    .unwrap();
    assert_eq!(loaded.bulkheads, ["one_name.configured"]);

    assert!(configured().is_err());
    // The file's policy (2 retries) applies; the attribute's `base_delay` is written on top.
    assert_eq!(CONFIGURED.load(SeqCst), 3);
    let name = "one_name.configured";
    assert_eq!(coord::retry::budget(name).unwrap().config.capacity, 40);
    assert_eq!(
        coord::breakers::find(name).unwrap().config().failure_rate,
        0.25
    );
    assert_eq!(coord::bulkheads::find(name).unwrap().max_concurrent(), 2);
    assert_eq!(coord::rate_limit::find(name).unwrap().config().rate, 20);
}
