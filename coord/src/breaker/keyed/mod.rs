//! Keyed breakers: one breaker per key value (typically per downstream host) under one group
//! name, created on first use with the group's configuration, capped, and reported as a group.
//!
//! ```
//! use coord::BreakerConfig;
//! let db = coord::breaker::keyed("docs.keyed.db", BreakerConfig::default()).unwrap();
//! let replica = db.get("replica-2");
//! assert_eq!(replica.name(), "docs.keyed.db[replica-2]");
//! assert!(std::sync::Arc::ptr_eq(&replica, &db.get("replica-2")));
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use super::machine::CLOSED;
use super::{BreakerConfig, BreakerConfigError, BreakerSnapshot, CircuitBreaker};
use crate::capped::{Capped, Configurable};
use crate::clock::Clock;

/// Default cap on the keys of one group ([`KeyedBreakers::set_max_keys`]).
pub const DEFAULT_MAX_KEYS: usize = 1_000;
/// Default cap on the number of keyed groups.
pub const DEFAULT_MAX_GROUPS: usize = 10_000;
/// Most bytes of key text in a breaker's name. A longer key keeps its first bytes (cut at a
/// character boundary) and, after `#`, 16 hex digits of a stable hash of its whole text, so
/// two long keys sharing a prefix still name two breakers.
pub const MAX_KEY_TEXT: usize = 128;
/// The key of the breaker shared by keys that found a group full of breakers that are not
/// closed (which are never evicted).
pub const OVERFLOW_KEY: &str = "coord.overflow";

mod key;

use key::{Identity, KeyHasher, KeyText};

const SHARDS: usize = 16;

type Shard = HashMap<u64, Vec<Arc<Member>>, BuildHasherDefault<Identity>>;

struct Member {
    /// The second hash lane of the key.
    check: u64,
    breaker: Arc<CircuitBreaker>,
    /// The group's use counter when last looked up (for least-recently-used eviction).
    last_used: AtomicU64,
}

/// A group of breakers, one per key value, named `group[key]`; see [`keyed`].
///
/// Each key's breaker is created on first use with the group's configuration. The group holds
/// at most [`max_keys`](Self::max_keys) keys: a new key past the cap evicts the least recently
/// used *closed* breaker (never an open, half-open or forced-open one); when every breaker is
/// not closed, the new key shares the group's overflow breaker `group[coord.overflow]` and is
/// counted in [`dropped_keys`](Self::dropped_keys).
///
/// A key is identified by its `Hash` (two independently seeded 64-bit lanes, so a lookup never
/// formats the key); its `Display` text names the breaker, and no two breakers of a group share
/// a name (so no two share a `/metrics` series): a key whose text is longer than
/// [`MAX_KEY_TEXT`] bytes, is [`OVERFLOW_KEY`] or renders a name another key's breaker already
/// has is named `prefix#` and a 16-hex-digit stable hash of its whole text instead.
pub struct KeyedBreakers {
    name: Arc<str>,
    config: RwLock<BreakerConfig>,
    seed: (u64, u64),
    shards: [RwLock<Shard>; SHARDS],
    keys: AtomicUsize,
    max_keys: AtomicUsize,
    /// Bumped on every new key; members remember it when used.
    uses: AtomicU64,
    evicted: AtomicU64,
    dropped: AtomicU64,
    overflow: std::sync::OnceLock<Arc<CircuitBreaker>>,
    /// The names of the members' breakers, to keep them unique (taken after a shard's lock).
    names: Mutex<HashSet<Arc<str>>>,
}

named_debug!(KeyedBreakers { keys: len() });

/// A keyed group's numbers, for reports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct KeyedSnapshot {
    /// The group's name.
    pub name: String,
    /// Keys with a breaker now.
    pub keys: usize,
    /// The cap on keys.
    pub max_keys: usize,
    /// Of them, breakers not closed (open, half-open or forced open).
    pub open: usize,
    /// Closed breakers evicted to make room for new keys.
    pub evicted: u64,
    /// New keys that found the group full of breakers that are not closed and shared the
    /// overflow breaker.
    pub dropped_keys: u64,
    /// Every key's breaker, sorted by name.
    pub breakers: Vec<BreakerSnapshot>,
}

impl KeyedBreakers {
    /// A group not in the registry (reports do not list it).
    pub fn new(name: &str, config: BreakerConfig) -> Result<Self, BreakerConfigError> {
        config.validate()?;
        Ok(Self::unchecked(Arc::from(name), config))
    }

    pub(crate) fn unchecked(name: Arc<str>, config: BreakerConfig) -> Self {
        let entropy = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (Arc::as_ptr(&name).cast::<u8>() as usize as u64);
        let seed = (
            crate::rng::splitmix(entropy),
            crate::rng::splitmix(entropy ^ 0x6a09_e667_f3bc_c908),
        );
        Self {
            name,
            config: RwLock::new(config),
            seed,
            shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
            keys: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(DEFAULT_MAX_KEYS),
            uses: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            overflow: std::sync::OnceLock::new(),
            names: Mutex::new(HashSet::new()),
        }
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration new keys' breakers get.
    pub fn config(&self) -> BreakerConfig {
        crate::locks::read(&self.config).clone()
    }

    /// Replaces the configuration of the group: new keys get it, and every existing key's
    /// breaker is reconfigured (an equal configuration changes nothing).
    pub fn configure(&self, config: BreakerConfig) -> Result<(), BreakerConfigError> {
        config.validate()?;
        {
            let mut current = crate::locks::write(&self.config);
            if *current == config {
                return Ok(());
            }
            *current = config.clone();
        }
        for breaker in self.breakers() {
            breaker.configure(config.clone())?;
        }
        Ok(())
    }

    /// The cap on keys.
    pub fn max_keys(&self) -> usize {
        self.max_keys.load(Relaxed)
    }

    /// Sets the cap on keys (at least 1). Keys already present stay; a lower cap applies as new
    /// keys arrive.
    pub fn set_max_keys(&self, cap: usize) {
        self.max_keys.store(cap.max(1), Relaxed);
    }

    /// Keys with a breaker now.
    pub fn len(&self) -> usize {
        self.keys.load(Relaxed)
    }

    /// `true` before the first key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closed breakers evicted to make room for new keys so far.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Relaxed)
    }

    /// New keys that shared the overflow breaker so far.
    pub fn dropped_keys(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    #[inline]
    fn hash<K: Hash + ?Sized>(&self, key: &K) -> (u64, u64) {
        let mut hasher = KeyHasher(self.seed.0, self.seed.1);
        key.hash(&mut hasher);
        (hasher.finish(), hasher.check())
    }

    /// The breaker of `key` (named `group[key]`), created with the group's configuration on
    /// first use. A known key is one hash and one shard read lock; the key is formatted only
    /// when its breaker is created.
    #[inline]
    pub fn get<K: Hash + fmt::Display + ?Sized>(&self, key: &K) -> Arc<CircuitBreaker> {
        let (hash, check) = self.hash(key);
        let shard = &self.shards[(hash as usize) % SHARDS];
        {
            let members = crate::locks::read(shard);
            if let Some(found) = members.get(&hash) {
                for member in found {
                    if member.check == check {
                        let now = self.uses.load(Relaxed);
                        if member.last_used.load(Relaxed) != now {
                            member.last_used.store(now, Relaxed);
                        }
                        return Arc::clone(&member.breaker);
                    }
                }
            }
        }
        self.insert(hash, check, key)
    }

    #[cold]
    fn insert<K: fmt::Display + ?Sized>(
        &self,
        hash: u64,
        check: u64,
        key: &K,
    ) -> Arc<CircuitBreaker> {
        let mut text = KeyText::default();
        let _ = write!(text, "{key}");
        let index = (hash as usize) % SHARDS;
        {
            let members = crate::locks::read(&self.shards[index]);
            if let Some(found) = members
                .get(&hash)
                .and_then(|found| found.iter().find(|m| m.check == check))
            {
                return Arc::clone(&found.breaker);
            }
        }
        if self.keys.load(Relaxed) >= self.max_keys() && !self.evict_one() {
            self.dropped.fetch_add(1, Relaxed);
            return Arc::clone(self.overflow.get_or_init(|| {
                Arc::new(CircuitBreaker::unchecked(
                    Arc::from(format!("{}[{OVERFLOW_KEY}]", self.name)),
                    self.config(),
                    Clock::system(),
                ))
            }));
        }
        let mut members = crate::locks::write(&self.shards[index]);
        let bucket = members.entry(hash).or_default();
        if let Some(found) = bucket.iter().find(|m| m.check == check) {
            return Arc::clone(&found.breaker);
        }
        let use_count = self.uses.fetch_add(1, Relaxed) + 1;
        let breaker = Arc::new(CircuitBreaker::unchecked(
            self.unique_name(&text),
            self.config(),
            Clock::system(),
        ));
        bucket.push(Arc::new(Member {
            check,
            breaker: Arc::clone(&breaker),
            last_used: AtomicU64::new(use_count),
        }));
        self.keys.fetch_add(1, Relaxed);
        breaker
    }

    /// A name for a new key's breaker that no member's breaker and the overflow breaker have:
    /// `group[text]` when the text is whole and not reserved, else the first free hashed form.
    fn unique_name(&self, text: &KeyText) -> Arc<str> {
        let mut names = crate::locks::lock(&self.names);
        if text.whole && text.text != OVERFLOW_KEY {
            let name = Arc::<str>::from(format!("{}[{}]", self.name, text.text));
            if names.insert(Arc::clone(&name)) {
                return name;
            }
        }
        // Hashed forms end in `#` and hex digits, never `coord.overflow`. A clash with a
        // member (equal `Display` texts of unequal keys, or a 64-bit hash collision) moves on
        // to the next form, so this ends at the first free one.
        let mut attempt = 0u64;
        loop {
            let name = Arc::<str>::from(format!("{}[{}]", self.name, text.hashed(attempt)));
            if names.insert(Arc::clone(&name)) {
                return name;
            }
            attempt = attempt.wrapping_add(1);
        }
    }

    /// Removes the least recently used closed breaker; `false` when none is closed.
    fn evict_one(&self) -> bool {
        let mut oldest: Option<(u64, usize, u64, Arc<Member>)> = None;
        for (index, shard) in self.shards.iter().enumerate() {
            for (hash, bucket) in crate::locks::read(shard).iter() {
                for member in bucket {
                    if member.breaker.kind() != CLOSED {
                        continue;
                    }
                    let used = member.last_used.load(Relaxed);
                    if oldest.as_ref().is_none_or(|o| used < o.0) {
                        oldest = Some((used, index, *hash, Arc::clone(member)));
                    }
                }
            }
        }
        let Some((_, index, hash, victim)) = oldest else {
            return false;
        };
        let mut members = crate::locks::write(&self.shards[index]);
        if let Some(bucket) = members.get_mut(&hash) {
            let before = bucket.len();
            bucket.retain(|m| !Arc::ptr_eq(m, &victim));
            if bucket.len() < before {
                if bucket.is_empty() {
                    members.remove(&hash);
                }
                self.keys.fetch_sub(1, Relaxed);
                self.evicted.fetch_add(1, Relaxed);
                crate::locks::lock(&self.names).remove(victim.breaker.name());
            }
        }
        true
    }

    /// Every key's breaker, the overflow breaker last.
    pub fn breakers(&self) -> Vec<Arc<CircuitBreaker>> {
        let mut all: Vec<_> = self
            .shards
            .iter()
            .flat_map(|shard| {
                crate::locks::read(shard)
                    .values()
                    .flatten()
                    .map(|m| Arc::clone(&m.breaker))
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all.extend(self.overflow.get().cloned());
        all
    }

    /// The group's numbers and every key's breaker.
    pub fn snapshot(&self) -> KeyedSnapshot {
        let breakers = self.breakers();
        KeyedSnapshot {
            name: self.name.to_string(),
            keys: self.len(),
            max_keys: self.max_keys(),
            open: breakers.iter().filter(|b| b.is_tripped()).count(),
            evicted: self.evicted(),
            dropped_keys: self.dropped_keys(),
            breakers: breakers.iter().map(|b| b.snapshot()).collect(),
        }
    }

    /// `(tripped breakers, breakers)`, the overflow breaker included, counted under the shards'
    /// read locks without copying or sorting (the readiness probes call it).
    fn tripped_and_total(&self) -> (usize, usize) {
        let overflow = self.overflow.get();
        let mut tripped = overflow.is_some_and(|b| b.is_tripped()) as usize;
        let mut total = overflow.is_some() as usize;
        for shard in &self.shards {
            for member in crate::locks::read(shard).values().flatten() {
                tripped += member.breaker.is_tripped() as usize;
                total += 1;
            }
        }
        (tripped, total)
    }

    fn clear(&self) {
        for breaker in self.breakers() {
            breaker.clear();
        }
        self.evicted.store(0, Relaxed);
        self.dropped.store(0, Relaxed);
    }
}

static GROUPS: LazyLock<Capped<KeyedBreakers>> =
    LazyLock::new(|| Capped::new("keyed breaker group", DEFAULT_MAX_GROUPS));

/// The keyed group called `name`: created with `config` on first use, reconfigured if it
/// exists with another configuration. Names past [`DEFAULT_MAX_GROUPS`] share one overflow
/// group.
pub fn keyed(name: &str, config: BreakerConfig) -> Result<Arc<KeyedBreakers>, BreakerConfigError> {
    GROUPS.get_with(name, config)
}

impl Configurable for KeyedBreakers {
    type Config = BreakerConfig;
    type Error = BreakerConfigError;
    /// The overflow group takes the configuration of the call that made it.
    const OVERFLOW_GETS_DEFAULT: bool = false;

    fn validate(config: &BreakerConfig) -> Result<(), BreakerConfigError> {
        config.validate()
    }

    fn make(name: Arc<str>, config: BreakerConfig) -> Self {
        KeyedBreakers::unchecked(name, config)
    }

    fn configure(&self, config: BreakerConfig) -> Result<(), BreakerConfigError> {
        KeyedBreakers::configure(self, config)
    }
}

/// The keyed group of a layer (a keyed `#[circuit_breaker]` call site, a tower layer's
/// operation), resolved like [`super::registry::for_layer`]'s breaker.
pub(crate) fn keyed_for_layer(
    name: &str,
    config: impl FnOnce() -> BreakerConfig,
) -> Arc<KeyedBreakers> {
    let config = match super::registry::file_config(name) {
        Some(from_file) => from_file,
        None => match find_keyed(name) {
            Some(existing) => return existing,
            None => config(),
        },
    };
    keyed(name, config)
        .or_else(|error| {
            super::registry::ignored(name, &error);
            keyed(name, BreakerConfig::default())
        })
        .unwrap_or_else(|_| {
            Arc::new(KeyedBreakers::unchecked(
                Arc::from(name),
                BreakerConfig::default(),
            ))
        })
}

/// The keyed group called `name`, if it exists.
pub fn find_keyed(name: &str) -> Option<Arc<KeyedBreakers>> {
    GROUPS.find(name)
}

/// Every keyed group's numbers, sorted by name.
pub fn keyed_groups() -> Vec<KeyedSnapshot> {
    GROUPS.all().iter().map(|g| g.snapshot()).collect()
}

/// Every keyed group's breakers, for [`super::all`].
pub(crate) fn snapshots() -> Vec<BreakerSnapshot> {
    GROUPS
        .all()
        .iter()
        .flat_map(|g| g.breakers())
        .map(|b| b.snapshot())
        .collect()
}

pub(crate) fn open_count() -> usize {
    GROUPS.all().iter().map(|g| g.tripped_and_total().0).sum()
}

/// Every keyed group with open keys: `(open keys, keys)` (the overflow breaker counts as a
/// key), for the health score, which weighs a group by its share of open keys.
pub(crate) fn open_shares() -> Vec<(usize, usize)> {
    GROUPS
        .all()
        .iter()
        .filter_map(|g| {
            let (open, keys) = g.tripped_and_total();
            (open > 0).then_some((open, keys))
        })
        .collect()
}

/// Lookups of a new group name that found the registry of keyed groups full, since start or
/// the last reset (for `coord_dropped_names_total`).
pub(crate) fn dropped_group_names() -> u64 {
    GROUPS.dropped()
}

pub(crate) fn reset_all() {
    GROUPS.reset_all(KeyedBreakers::clear);
}
