//! A name-keyed registry with a cap: names past it share one overflow entry and are counted,
//! so run-time names never grow memory without bound. A leaf: imports nothing else of coord.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, PoisonError, RwLock};

/// The name of the entry shared by every name past a registry's cap.
pub(crate) const OVERFLOW_NAME: &str = "coord.overflow";

pub(crate) struct Capped<T> {
    /// What the registry holds, for the one-time warning ("bulkhead").
    kind: &'static str,
    entries: RwLock<Entries<T>>,
    cap: AtomicUsize,
    dropped: AtomicU64,
    warned: AtomicBool,
}

struct Entries<T> {
    by_name: HashMap<Arc<str>, Arc<T>>,
    overflow: Option<Arc<T>>,
}

/// How a lookup was answered.
pub(crate) enum Lookup<T> {
    /// The entry existed.
    Found(Arc<T>),
    /// The entry was made by this lookup.
    Created(Arc<T>),
    /// The registry is full: the shared overflow entry.
    Overflow(Arc<T>),
}

impl<T> Capped<T> {
    pub(crate) fn new(kind: &'static str, cap: usize) -> Self {
        Self {
            kind,
            entries: RwLock::new(Entries {
                by_name: HashMap::new(),
                overflow: None,
            }),
            cap: AtomicUsize::new(cap),
            dropped: AtomicU64::new(0),
            warned: AtomicBool::new(false),
        }
    }

    /// The entry called `name`, made by `make` (given the entry's name) if it is new: under the
    /// cap as `name`, past it as the overflow entry (made once).
    pub(crate) fn get_or_make(&self, name: &str, make: impl FnOnce(Arc<str>) -> T) -> Lookup<T> {
        if let Some(found) = self.read().by_name.get(name) {
            return Lookup::Found(Arc::clone(found));
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = entries.by_name.get(name) {
            return Lookup::Found(Arc::clone(found));
        }
        if entries.by_name.len() >= self.cap.load(Relaxed) {
            self.dropped.fetch_add(1, Relaxed);
            if !self.warned.swap(true, Relaxed) {
                tracing::warn!(
                    registry = self.kind,
                    cap = self.cap.load(Relaxed),
                    "coord: {} registry is full; new names share the entry '{OVERFLOW_NAME}'",
                    self.kind
                );
            }
            let overflow = entries
                .overflow
                .get_or_insert_with(|| Arc::new(make(Arc::from(OVERFLOW_NAME))));
            return Lookup::Overflow(Arc::clone(overflow));
        }
        let name: Arc<str> = Arc::from(name);
        let made = Arc::new(make(Arc::clone(&name)));
        entries.by_name.insert(name, Arc::clone(&made));
        Lookup::Created(made)
    }

    /// The entry called `name` if it exists (the overflow entry by [`OVERFLOW_NAME`]).
    pub(crate) fn find(&self, name: &str) -> Option<Arc<T>> {
        let entries = self.read();
        entries.by_name.get(name).cloned().or_else(|| {
            entries
                .overflow
                .as_ref()
                .filter(|_| name == OVERFLOW_NAME)
                .cloned()
        })
    }

    /// Every entry, sorted by name, the overflow entry last.
    pub(crate) fn all(&self) -> Vec<Arc<T>> {
        let entries = self.read();
        let mut named: Vec<_> = entries.by_name.iter().collect();
        named.sort_unstable_by(|a, b| a.0.cmp(b.0));
        named
            .into_iter()
            .map(|(_, entry)| Arc::clone(entry))
            .chain(entries.overflow.clone())
            .collect()
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap.load(Relaxed)
    }

    pub(crate) fn set_cap(&self, cap: usize) {
        self.cap.store(cap, Relaxed);
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    pub(crate) fn reset_dropped(&self) {
        self.dropped.store(0, Relaxed);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries<T>> {
        // Every update is one map insertion, consistent even after a panic.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }
}
