//! The breaker registry: every named breaker, created on first use and never removed, and the
//! configurations a configuration file gave them.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use super::CircuitBreaker;
use super::config::{BreakerConfig, BreakerConfigError};
use super::machine::{FORCED_OPEN, HALF_OPEN, OPEN};
use super::state::BreakerSnapshot;
use crate::clock::Clock;

/// Every registered breaker. Entries are never removed, so handles cached by call sites stay
/// valid; [`reset_all`] clears them instead.
static BREAKERS: LazyLock<RwLock<HashMap<Arc<str>, Arc<CircuitBreaker>>>> =
    LazyLock::new(Default::default);

/// The breaker called `name`, created with [`BreakerConfig::default`] on first use.
pub(crate) fn breaker(name: &str) -> Arc<CircuitBreaker> {
    if let Some(found) = find(name) {
        return found;
    }
    let mut map = crate::locks::write(&BREAKERS);
    let entry = map.entry(Arc::from(name)).or_insert_with_key(|key| {
        Arc::new(CircuitBreaker::unchecked(
            Arc::clone(key),
            BreakerConfig::default(),
            Clock::system(),
        ))
    });
    Arc::clone(entry)
}

/// The breaker called `name` with `config`, replacing the configuration of an existing one.
pub(crate) fn breaker_with(
    name: &str,
    config: BreakerConfig,
) -> Result<Arc<CircuitBreaker>, BreakerConfigError> {
    config.validate()?;
    if let Some(found) = find(name) {
        found.configure(config)?;
        return Ok(found);
    }
    let mut map = crate::locks::write(&BREAKERS);
    if let Some(found) = map.get(name) {
        let found = Arc::clone(found);
        drop(map);
        found.configure(config)?;
        return Ok(found);
    }
    let name: Arc<str> = Arc::from(name);
    let created = Arc::new(CircuitBreaker::unchecked(
        Arc::clone(&name),
        config,
        Clock::system(),
    ));
    map.insert(name, Arc::clone(&created));
    Ok(created)
}

/// Configurations from a configuration file (`crate::config`), by breaker name. A call
/// site's own configuration never replaces one of these.
static FROM_FILE: LazyLock<RwLock<HashMap<Arc<str>, BreakerConfig>>> =
    LazyLock::new(Default::default);

/// Configures breaker `name` from a configuration file: applied now if the breaker exists, on
/// creation otherwise, and kept over the keys of a `#[circuit_breaker]` call site.
pub(crate) fn configure_from_file(
    name: &str,
    config: BreakerConfig,
) -> Result<Arc<CircuitBreaker>, BreakerConfigError> {
    let breaker = breaker_with(name, config.clone())?;
    crate::locks::write(&FROM_FILE).insert(Arc::from(name), config);
    Ok(breaker)
}

pub(crate) fn file_config(name: &str) -> Option<BreakerConfig> {
    crate::locks::read(&FROM_FILE).get(name).cloned()
}

/// The breaker called `name`, if it has been created. A registry read: it does not load
/// `COORD_CONFIG` (the doors, [`crate::breaker()`] and the macros' call sites, do).
pub fn find(name: &str) -> Option<Arc<CircuitBreaker>> {
    crate::locks::read(&BREAKERS).get(name).cloned()
}

/// A snapshot of every registered breaker, sorted by name.
pub fn all() -> Vec<BreakerSnapshot> {
    let mut snapshots: Vec<_> = crate::locks::read(&BREAKERS)
        .values()
        .map(|b| b.snapshot())
        .collect();
    snapshots.sort_by(|a, b| a.name.cmp(&b.name));
    snapshots
}

/// How many registered breakers are not letting calls through freely: open, half-open or
/// forced open. Cheap (one atomic load per breaker); meant for health scores.
pub fn open_count() -> usize {
    crate::locks::read(&BREAKERS)
        .values()
        .filter(|b| matches!(b.kind(), OPEN | HALF_OPEN | FORCED_OPEN))
        .count()
}

/// Closes every registered breaker and zeroes its counters. Configurations, and the file's
/// precedence over call-site keys, stay (DESIGN principle 6).
pub(crate) fn reset_all() {
    for b in crate::locks::read(&BREAKERS).values() {
        b.clear();
    }
}
