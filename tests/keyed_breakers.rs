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

/// Lines of `/metrics` holding `coord_circuit_breaker_state` for `breaker` in `state`.
fn state_series(metrics: &str, breaker: &str, state: &str) -> usize {
    let needle = format!("coord_circuit_breaker_state{{breaker=\"{breaker}\",state=\"{state}\"}}");
    metrics.lines().filter(|l| l.starts_with(&needle)).count()
}

/// `group[prefix#` and 16 lowercase hex digits `]`.
fn is_hashed(name: &str, group_and_prefix: &str) -> bool {
    name.strip_prefix(group_and_prefix)
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|hex| {
            hex.len() == 16
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[test]
fn two_long_keys_sharing_the_cut_prefix_name_two_breakers_and_two_series() {
    let group = keyed("keyed.prefix130", tripping()).unwrap();
    let shared = "p".repeat(coord::breaker::MAX_KEY_TEXT);
    let (key_a, key_b) = (format!("{shared}aa"), format!("{shared}bb"));
    assert_eq!((key_a.len(), key_b.len()), (130, 130));
    let (a, b) = (group.get(&key_a), group.get(&key_b));
    assert!(!Arc::ptr_eq(&a, &b));
    assert_ne!(a.name(), b.name());
    for breaker in [&a, &b] {
        assert!(
            breaker.name().len() <= "keyed.prefix130[]".len() + coord::breaker::MAX_KEY_TEXT,
            "{}",
            breaker.name()
        );
        assert!(
            is_hashed(
                breaker.name(),
                &format!("keyed.prefix130[{}", &shared[..111])
            ),
            "{}",
            breaker.name()
        );
    }
    // The name is stable: the same key finds the same breaker under the same name.
    assert_eq!(group.get(&key_a).name(), a.name());
    let metrics = coord::report().to_prometheus();
    for breaker in [&a, &b] {
        assert_eq!(
            state_series(&metrics, breaker.name(), "closed"),
            1,
            "{}",
            breaker.name()
        );
    }
}

#[test]
fn a_key_named_coord_overflow_never_takes_the_overflow_breakers_name() {
    let group = keyed("keyed.reserved", tripping()).unwrap();
    group.set_max_keys(2);
    let user = group.get("coord.overflow");
    assert_ne!(user.name(), "keyed.reserved[coord.overflow]");
    assert!(
        is_hashed(user.name(), "keyed.reserved[coord.overflow"),
        "{}",
        user.name()
    );
    for key in ["coord.overflow", "other"] {
        for _ in 0..2 {
            let _ = group.get(key).call(|| Err::<(), _>(Failed::Down(Down)));
        }
    }
    let overflow = group.get("third");
    assert_eq!(overflow.name(), "keyed.reserved[coord.overflow]");
    assert!(!Arc::ptr_eq(&user, &overflow));
    let metrics = coord::report().to_prometheus();
    assert_eq!(
        state_series(&metrics, "keyed.reserved[coord.overflow]", "closed"),
        1
    );
    assert_eq!(state_series(&metrics, user.name(), "open"), 1);
}

/// A key whose `Display` shows only part of what tells keys apart.
#[derive(Hash)]
struct Replica {
    host: &'static str,
    port: u16,
}

impl std::fmt::Display for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.host)
    }
}

#[test]
fn unequal_keys_with_equal_text_get_distinct_names() {
    let group = KeyedBreakers::new("keyed.sametext", tripping()).unwrap();
    let first = group.get(&Replica {
        host: "db",
        port: 1,
    });
    let second = group.get(&Replica {
        host: "db",
        port: 2,
    });
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(first.name(), "keyed.sametext[db]");
    assert!(
        is_hashed(second.name(), "keyed.sametext[db"),
        "{}",
        second.name()
    );
}

#[test]
fn an_evicted_keys_name_is_free_again() {
    let group = KeyedBreakers::new("keyed.reuse", tripping()).unwrap();
    group.set_max_keys(1);
    assert_eq!(group.get("a").name(), "keyed.reuse[a]");
    assert_eq!(group.get("b").name(), "keyed.reuse[b]");
    assert_eq!(group.evicted(), 1);
    assert_eq!(group.get("a").name(), "keyed.reuse[a]");
}
