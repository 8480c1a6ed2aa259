//! The breaker registry: every named breaker, created on first use and never removed (up to a
//! cap), and the configurations a configuration file gave them.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use super::CircuitBreaker;
use super::config::{BreakerConfig, BreakerConfigError};
use super::state::BreakerSnapshot;
use crate::capped::{Capped, Configurable};
use crate::clock::Clock;

/// Default cap on distinct breaker names in the registry.
pub const DEFAULT_MAX_BREAKERS: usize = 10_000;

/// The name of the one breaker every name past the cap shares.
pub const OVERFLOW_NAME: &str = crate::capped::OVERFLOW_NAME;

/// Every registered breaker. Entries are never removed, so handles cached by call sites stay
/// valid; [`reset_all`] clears them instead. Past [`max_breakers`] names, new names share the
/// overflow breaker and are counted in [`dropped_names`].
static BREAKERS: LazyLock<Capped<CircuitBreaker>> =
    LazyLock::new(|| Capped::new("circuit breaker", DEFAULT_MAX_BREAKERS));

impl Configurable for CircuitBreaker {
    type Config = BreakerConfig;
    type Error = BreakerConfigError;

    fn validate(config: &BreakerConfig) -> Result<(), BreakerConfigError> {
        config.validate()
    }

    fn make(name: Arc<str>, config: BreakerConfig) -> Self {
        CircuitBreaker::unchecked(name, config, Clock::system())
    }

    fn configure(&self, config: BreakerConfig) -> Result<(), BreakerConfigError> {
        CircuitBreaker::configure(self, config)
    }
}

/// The breaker called `name`, created with [`BreakerConfig::default`] on first use.
pub(crate) fn breaker(name: &str) -> Arc<CircuitBreaker> {
    BREAKERS.get(name)
}

/// The breaker called `name` with `config`, replacing the configuration of an existing one
/// (an equal configuration changes nothing). A name past the cap gets the overflow breaker,
/// which keeps its own configuration.
pub(crate) fn breaker_with(
    name: &str,
    config: BreakerConfig,
) -> Result<Arc<CircuitBreaker>, BreakerConfigError> {
    BREAKERS.get_with(name, config)
}

/// The registry's cap on distinct breaker names.
pub fn max_breakers() -> usize {
    BREAKERS.cap()
}

/// Sets the registry's cap on distinct breaker names. Names already registered stay; a lower
/// cap only stops new ones.
pub fn set_max_breakers(cap: usize) {
    BREAKERS.set_cap(cap);
}

/// How many lookups of a new name found the registry full and got the overflow breaker.
pub fn dropped_names() -> u64 {
    BREAKERS.dropped()
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

/// The breaker of a layer (a `#[circuit_breaker]` call site, a tower layer's operation): a
/// configuration file's entry wins; an existing breaker keeps its configuration; otherwise
/// `config()` configures it. A configuration the registry refuses (one the macro could not
/// check, or a tower layer's) is reported as a `tracing` error and the defaults are used, as
/// for the other layers' registries.
pub(crate) fn for_layer(name: &str, config: impl FnOnce() -> BreakerConfig) -> Arc<CircuitBreaker> {
    if let Some(from_file) = file_config(name) {
        return breaker_with(name, from_file).unwrap_or_else(|_| breaker(name));
    }
    if let Some(existing) = find(name) {
        return existing;
    }
    breaker_with(name, config()).unwrap_or_else(|error| {
        ignored(name, &error);
        breaker(name)
    })
}

/// Reports a layer's configuration that the registry refused, like `Capped::for_layer`.
pub(crate) fn ignored(name: &str, error: &BreakerConfigError) {
    tracing::error!(target: "coord::config", registry = "circuit breaker", name, %error, "invalid circuit breaker configuration ignored");
}

/// The breaker called `name`, if it has been created. A registry read: it does not load
/// `COORD_CONFIG` (the doors, [`crate::breaker()`] and the macros' call sites, do).
pub fn find(name: &str) -> Option<Arc<CircuitBreaker>> {
    BREAKERS.find(name)
}

/// A snapshot of every registered breaker, sorted by name, the overflow breaker last, then the
/// breakers of every keyed group ([`crate::breakers::keyed`]).
pub fn all() -> Vec<BreakerSnapshot> {
    let mut snapshots: Vec<_> = BREAKERS.all().iter().map(|b| b.snapshot()).collect();
    snapshots.extend(super::keyed::snapshots());
    snapshots
}

/// How many registered breakers are not letting calls through freely: open, half-open or
/// forced open. Cheap (one atomic load per breaker); meant for health scores.
pub fn open_count() -> usize {
    open_unkeyed() + super::keyed::open_count()
}

/// How many registered breakers outside keyed groups are open, half-open or forced open.
pub(crate) fn open_unkeyed() -> usize {
    BREAKERS.all().iter().filter(|b| b.is_tripped()).count()
}

/// Closes every registered breaker and zeroes its counters. Configurations, and the file's
/// precedence over call-site keys, stay (DESIGN principle 6).
pub(crate) fn reset_all() {
    BREAKERS.reset_all(CircuitBreaker::clear);
    super::keyed::reset_all();
}
