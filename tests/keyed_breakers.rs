//! Keyed breakers: one breaker per key value, capped, least recently used closed ones evicted.

use std::sync::Arc;

use coord::breaker::{KeyedBreakers, keyed};
use coord::{BreakerConfig, BreakerState, CircuitOpen};

#[derive(Debug)]
struct Down;

#[derive(Debug)]
enum Failed {
    #[allow(dead_code)]
    Down(Down),
    Open(#[allow(dead_code)] CircuitOpen),
}

impl From<CircuitOpen> for Failed {
    fn from(open: CircuitOpen) -> Self {
        Failed::Open(open)
    }
}

fn tripping() -> BreakerConfig {
    BreakerConfig::default().minimum_calls(2).window(2)
}

#[test]
fn one_breaker_per_key_named_after_it() {
    let group = keyed("keyed.names", tripping()).unwrap();
    let a = group.get("replica-1");
    let b = group.get("replica-2");
    assert_eq!(a.name(), "keyed.names[replica-1]");
    assert_eq!(b.name(), "keyed.names[replica-2]");
    assert!(Arc::ptr_eq(&a, &group.get("replica-1")));
    assert!(Arc::ptr_eq(&a, &group.get(&String::from("replica-1"))));
    // Integers and other Display + Hash keys.
    assert_eq!(group.get(&7u16).name(), "keyed.names[7]");
    assert_eq!(group.len(), 3);
    // The same group by name.
    assert!(Arc::ptr_eq(
        &group,
        &keyed("keyed.names", tripping()).unwrap()
    ));
}

#[test]
fn a_failing_key_opens_only_its_own_breaker() {
    let group = keyed("keyed.isolation", tripping()).unwrap();
    for _ in 0..2 {
        let _ = group.get("bad").call(|| Err::<(), _>(Failed::Down(Down)));
    }
    assert_eq!(group.get("bad").state(), BreakerState::Open);
    assert_eq!(group.get("good").state(), BreakerState::Closed);
    assert!(matches!(
        group.get("bad").call(|| Ok::<_, Failed>(())),
        Err(Failed::Open(_))
    ));
    let snapshot = group.snapshot();
    assert_eq!(snapshot.open, 1);
    assert_eq!(snapshot.keys, 2);
    // Reported with every breaker.
    assert!(
        coord::breaker::all()
            .iter()
            .any(|b| b.name == "keyed.isolation[bad]" && b.state == BreakerState::Open)
    );
}

#[test]
fn least_recently_used_closed_breakers_are_evicted_never_open_ones() {
    let group = KeyedBreakers::new("keyed.evict", tripping()).unwrap();
    group.set_max_keys(3);
    for _ in 0..2 {
        let _ = group.get("open").call(|| Err::<(), _>(Failed::Down(Down)));
    }
    let _ = group.get("old");
    let _ = group.get("recent");
    let _ = group.get("another"); // evicts "old": the least recently used closed one
    assert_eq!(group.len(), 3);
    assert_eq!(group.evicted(), 1);
    let names: Vec<String> = group
        .breakers()
        .iter()
        .map(|b| b.name().to_string())
        .collect();
    assert!(
        names.contains(&"keyed.evict[open]".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"keyed.evict[old]".to_string()),
        "{names:?}"
    );
    // The open one stays open however many keys come.
    for i in 0..20 {
        let _ = group.get(&i);
    }
    assert_eq!(group.len(), 3);
    assert_eq!(group.get("open").state(), BreakerState::Open);
}

#[test]
fn a_group_full_of_open_breakers_shares_the_overflow_breaker() {
    let group = KeyedBreakers::new("keyed.full", tripping()).unwrap();
    group.set_max_keys(2);
    for key in ["a", "b"] {
        for _ in 0..2 {
            let _ = group.get(key).call(|| Err::<(), _>(Failed::Down(Down)));
        }
    }
    let shared = group.get("c");
    assert_eq!(shared.name(), "keyed.full[coord.overflow]");
    assert_eq!(group.dropped_keys(), 1);
    assert_eq!(group.len(), 2);
}

#[test]
fn long_and_odd_keys_are_bounded_and_distinct() {
    let group = KeyedBreakers::new("keyed.long", tripping()).unwrap();
    let long_a = format!("{}a", "x".repeat(1_000));
    let long_b = format!("{}b", "x".repeat(1_000));
    let a = group.get(&long_a);
    let b = group.get(&long_b);
    assert!(!Arc::ptr_eq(&a, &b));
    assert!(a.name().len() <= "keyed.long[]".len() + coord::breaker::MAX_KEY_TEXT);
    assert!(Arc::ptr_eq(&a, &group.get(&long_a)));
    let empty = group.get("");
    assert_eq!(empty.name(), "keyed.long[]");
    let _ = group.get("é\u{0}\n");
}

#[test]
fn an_invalid_config_is_a_typed_error() {
    assert!(keyed("keyed.invalid", BreakerConfig::default().failure_rate(2.0)).is_err());
}

#[coord::circuit_breaker(name = "keyed.preset", key = host, minimum_calls = 2, window = 2)]
fn preset_site(host: &str) -> Result<(), Failed> {
    let _ = host;
    Ok(())
}

#[test]
fn a_call_site_keeps_the_configuration_of_a_group_that_exists() {
    // Set up by hand first (as a service's start-up code might): the attribute's settings
    // apply only to a group the call site creates, like a plain breaker's call site.
    let preset = BreakerConfig::default().minimum_calls(7).window(9);
    let group = keyed("keyed.preset", preset.clone()).unwrap();
    preset_site("a").unwrap();
    preset_site("b").unwrap();
    assert_eq!(group.config(), preset);
    assert_eq!(group.snapshot().keys, 2);
}
