//! A name-keyed registry with a cap: names past it share one overflow entry and are counted,
//! so run-time names never grow memory without bound. A leaf: imports nothing else of coord.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, PoisonError, RwLock};

/// The name of the entry shared by every name past a registry's cap.
pub(crate) const OVERFLOW_NAME: &str = "coord.overflow";

/// Longest name a registry keeps, in bytes. Longer names are cut to this length on a character
/// boundary (so two names that agree on their first 256 bytes share one entry). Any content is
/// accepted as it is; every output escapes control characters.
pub(crate) const MAX_NAME_BYTES: usize = 256;

/// `name` cut to at most [`MAX_NAME_BYTES`] on a character boundary.
pub(crate) fn clamp_name(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

pub(crate) struct Capped<T> {
    /// What the registry holds, for the one-time warning ("circuit breaker").
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

impl<T> Lookup<T> {
    /// The entry, however it was found.
    pub(crate) fn entry(self) -> Arc<T> {
        match self {
            Self::Found(entry) | Self::Created(entry) | Self::Overflow(entry) => entry,
        }
    }
}

/// An entry a registry makes and reconfigures by name, for [`Capped::get`] and
/// [`Capped::get_with`] (the breakers and the entries of every [`registry!`] invocation).
pub(crate) trait Configurable {
    /// Its configuration; new entries of [`Capped::get`] get the default.
    type Config: Default;
    /// A configuration out of range.
    type Error;
    /// Whether the shared overflow entry is made with the default configuration (`true`) or with
    /// the configuration of the lookup that made it.
    const OVERFLOW_GETS_DEFAULT: bool = true;
    /// Checks `config` before anything is made or changed.
    fn validate(config: &Self::Config) -> Result<(), Self::Error>;
    /// A new entry called `name` with a checked `config`.
    fn make(name: Arc<str>, config: Self::Config) -> Self;
    /// Applies `config` to an existing entry (the last configuration applied wins).
    fn configure(&self, config: Self::Config) -> Result<(), Self::Error>;
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
    /// Names longer than [`MAX_NAME_BYTES`] are cut first.
    pub(crate) fn get_or_make(&self, name: &str, make: impl FnOnce(Arc<str>) -> T) -> Lookup<T> {
        let name = clamp_name(name);
        {
            let entries = self.read();
            if let Some(found) = entries.by_name.get(name) {
                return Lookup::Found(Arc::clone(found));
            }
            // A full registry answers a new name under the read lock once the overflow entry
            // exists, so high-cardinality names never queue on the write lock.
            if entries.by_name.len() >= self.cap.load(Relaxed)
                && let Some(overflow) = &entries.overflow
            {
                self.dropped.fetch_add(1, Relaxed);
                return Lookup::Overflow(Arc::clone(overflow));
            }
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
        let name = clamp_name(name);
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

    /// Runs `f` on every entry, the overflow entry included, in no particular order and without
    /// collecting them (for resets).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        let entries = self.read();
        entries
            .by_name
            .values()
            .chain(entries.overflow.as_ref())
            .for_each(|entry| f(entry));
    }

    /// Runs `reset` on every entry and zeroes the dropped-name count. The entries are collected
    /// first, so `reset` runs outside the registry's lock.
    pub(crate) fn reset_all(&self, reset: impl Fn(&T)) {
        for entry in self.all() {
            reset(&entry);
        }
        self.reset_dropped();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries<T>> {
        // Every update is one map insertion, consistent even after a panic.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Configurable> Capped<T> {
    /// The entry called `name`, made with the default configuration on first use (past the cap:
    /// the overflow entry).
    pub(crate) fn get(&self, name: &str) -> Arc<T> {
        self.get_or_make(name, |name| T::make(name, T::Config::default()))
            .entry()
    }

    /// The entry called `name` with `config`: made with it if new, reconfigured if it exists. A
    /// name past the cap gets the overflow entry, which keeps its own configuration.
    pub(crate) fn get_with(&self, name: &str, config: T::Config) -> Result<Arc<T>, T::Error> {
        T::validate(&config)?;
        let mut fresh = Some(config);
        let lookup = self.get_or_make(name, |name| {
            let config = fresh.take().unwrap_or_default();
            if T::OVERFLOW_GETS_DEFAULT && &*name == OVERFLOW_NAME {
                T::make(name, T::Config::default())
            } else {
                T::make(name, config)
            }
        });
        match lookup {
            Lookup::Found(found) => {
                if let Some(config) = fresh {
                    found.configure(config)?;
                }
                Ok(found)
            }
            Lookup::Created(made) | Lookup::Overflow(made) => Ok(made),
        }
    }

    /// The entry of a layer (an attribute's call site, a tower layer's operation): the
    /// registered one, else made with `config`. A configuration the registry refuses (a tower
    /// layer's is checked only here) is reported as a `tracing` error and the defaults are used.
    pub(crate) fn for_layer(&self, name: &str, config: T::Config) -> Arc<T>
    where
        T::Error: std::fmt::Display,
    {
        self.find(name).unwrap_or_else(|| {
            self.get_with(name, config).unwrap_or_else(|error| {
                tracing::error!(target: "coord::config", registry = self.kind, name, %error, "invalid {} configuration ignored", self.kind);
                self.get(name)
            })
        })
    }
}

/// A registry of named, configurable entries and its public functions, for a mechanism whose
/// entries are made only by the registry's lookups: a `static`
/// [`Capped`] registry, the entry's [`Configurable`] impl, and `$get` / `$get_with` (get or
/// make an entry), `find`, `$max` / `$set_max` (the cap), `dropped_names`, `snapshots` and
/// `reset_all` (with the doc comments given before `reset`), each documented for `$noun`.
///
/// `$make` makes an entry from its name and a checked configuration; `$reset` resets one entry
/// for [`crate::reset`]. It also declares the default cap (`$default_cap = N`) and
/// `OVERFLOW_NAME`.
macro_rules! registry {
    (
        $entry:ident { config: $config:ty, error: $error:ty, snapshot: $snapshot:ty }
        noun: $noun:literal, default_cap: $default_cap:ident = $cap:literal,
        get: $get:ident, get_with: $get_with:ident, max: $max:ident, set_max: $set_max:ident,
        make: $make:expr,
        $(#[$reset_doc:meta])* reset: $reset:expr $(,)?
    ) => {
        #[doc = concat!("Default cap on the number of named ", $noun, "s in the registry (see [`", stringify!($get), "`]).")]
        pub const $default_cap: usize = $cap;

        #[doc = concat!("The name of the one ", $noun, " shared by every name past the registry's cap.")]
        pub const OVERFLOW_NAME: &str = $crate::capped::OVERFLOW_NAME;

        impl $crate::capped::Configurable for $entry {
            type Config = $config;
            type Error = $error;

            fn validate(config: &$config) -> Result<(), $error> {
                config.validate()
            }

            fn make(name: ::std::sync::Arc<str>, config: $config) -> Self {
                ($make)(name, config)
            }

            fn configure(&self, config: $config) -> Result<(), $error> {
                $entry::configure(self, config)
            }
        }

        static REGISTRY: ::std::sync::LazyLock<$crate::capped::Capped<$entry>> =
            ::std::sync::LazyLock::new(|| $crate::capped::Capped::new($noun, $default_cap));

        #[doc = concat!("The ", $noun, " called `name`, created with [`", stringify!($config), "::default`] on first use.")]
        ///
        #[doc = concat!("The registry holds at most [`", stringify!($max), "`] names ([`", stringify!($default_cap), "`] unless [`", stringify!($set_max), "`] changed it); a new name past the cap gets the one shared ", $noun, " [`OVERFLOW_NAME`] (with the default configuration), and is counted in [`dropped_names`].")]
        pub fn $get(name: &str) -> ::std::sync::Arc<$entry> {
            REGISTRY.get(name)
        }

        #[doc = concat!("The ", $noun, " called `name` with `config`: created with it, or reconfigured if it exists (the last configuration applied wins). A name past the registry's cap gets the shared overflow ", $noun, ", which keeps its own configuration.")]
        pub fn $get_with(name: &str, config: $config) -> Result<::std::sync::Arc<$entry>, $error> {
            REGISTRY.get_with(name, config)
        }

        #[doc = concat!("The ", $noun, " of a layer called `name`: the registered one, else made with `config` (the defaults, with a `tracing` error, if `config` is refused).")]
        pub(crate) fn for_layer(name: &str, config: $config) -> ::std::sync::Arc<$entry> {
            REGISTRY.for_layer(name, config)
        }

        #[doc = concat!("The ", $noun, " called `name`, if it has been created (the overflow one is found by [`OVERFLOW_NAME`]).")]
        pub fn find(name: &str) -> Option<::std::sync::Arc<$entry>> {
            REGISTRY.find(name)
        }

        /// The registry's cap on distinct names.
        pub fn $max() -> usize {
            REGISTRY.cap()
        }

        /// Sets the registry's cap on distinct names. Names already registered stay; a lower cap
        /// only stops new ones.
        pub fn $set_max(cap: usize) {
            REGISTRY.set_cap(cap);
        }

        #[doc = concat!("How many lookups of a new name found the registry full and got the overflow ", $noun, ".")]
        pub fn dropped_names() -> u64 {
            REGISTRY.dropped()
        }

        #[doc = concat!("Every registered ", $noun, "'s numbers, sorted by name, the overflow ", $noun, " last.")]
        pub fn snapshots() -> Vec<$snapshot> {
            REGISTRY.all().iter().map(|entry| entry.snapshot()).collect()
        }

        $(#[$reset_doc])*
        pub fn reset_all() {
            REGISTRY.reset_all($reset);
        }
    };
}
pub(crate) use registry;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_past_the_cap_share_the_overflow_entry_and_are_counted() {
        let capped: Capped<String> = Capped::new("test", 2);
        for name in ["a", "b", "c", "d"] {
            let _ = capped.get_or_make(name, |n| n.to_string());
        }
        assert_eq!(capped.dropped(), 2);
        let names: Vec<_> = capped.all().iter().map(|e| e.to_string()).collect();
        assert_eq!(names, ["a", "b", OVERFLOW_NAME]);
        assert!(matches!(
            capped.get_or_make("a", |n| n.to_string()),
            Lookup::Found(_)
        ));
        assert!(capped.find("c").is_none());
        assert!(capped.find(OVERFLOW_NAME).is_some());
    }

    #[test]
    fn long_names_are_cut_on_a_char_boundary_and_any_content_is_kept() {
        assert_eq!(clamp_name(""), "");
        let long = "x".repeat(1 << 20);
        assert_eq!(clamp_name(&long).len(), MAX_NAME_BYTES);
        // 'é' is two bytes: after 255 ASCII bytes it would straddle the limit.
        let straddling = format!("{}é", "x".repeat(MAX_NAME_BYTES - 1));
        assert_eq!(clamp_name(&straddling), "x".repeat(MAX_NAME_BYTES - 1));
        let capped: Capped<String> = Capped::new("test", 10);
        let _ = capped.get_or_make(&long, |n| n.to_string());
        assert_eq!(capped.find(&long).unwrap().len(), MAX_NAME_BYTES);
        let control = "a\n\u{0}\u{1b}[31m";
        let _ = capped.get_or_make(control, |n| n.to_string());
        assert_eq!(capped.find(control).unwrap().as_str(), control);
        let _ = capped.get_or_make("", |n| n.to_string());
        assert!(capped.find("").is_some());
    }
}
