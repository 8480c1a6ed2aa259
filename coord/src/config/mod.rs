//! One YAML file for everything coord can be told at run time: named retry policies, circuit
//! breaker configurations, validation rule sets, monitor settings and the configurations of the
//! other resilience layers, by name.
//!
//! The file has one section per mechanism, each optional; [`Loaded`] lists them and shows a
//! complete file.
//!
//! Loading is all or nothing: the whole file is parsed and checked before anything is applied.
//! A breaker configured here keeps this configuration even when a `#[circuit_breaker]` call
//! site with other keys resolves it later: the file is the operator's word.
//!
//! If the environment variable `COORD_CONFIG` names a file, coord loads it on first use: the
//! first time a door is used (`coord::monitor()`, `coord::report()`, `coord::rules()`, every
//! registry lookup at the crate root such as `coord::breaker()`, or an instrumented function's
//! first call), see
//! [`ensure_env_loaded`]. A file that fails to load is reported as a `tracing` error event (target
//! `coord::config`) and by [`env_status`]; nothing of it is applied. [`load_from_env`] does the
//! same load explicitly, returning the error.
//!
//! ```
//! let loaded = coord::config::load_str(
//!     "retry_policies:\n  docs.api:\n    max_retries: 2\n    base_delay: 10ms\n",
//! ).unwrap();
//! assert_eq!(loaded.retry_policies, ["docs.api"]);
//! assert_eq!(coord::retry_policy("docs.api").unwrap().settings().max_retries, 2);
//!
//! let err = coord::config::load_str("retry_policies:\n  api:\n    max_retry: 2\n").unwrap_err();
//! assert_eq!(err.to_string(),
//!     "<string>:3:5: unknown key `max_retry` in retry_policies.api; did you mean `max_retries`?");
//! ```

mod model;

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::validate::RuleLoadError;

/// The environment variable [`load_from_env`] reads.
pub const ENV_VAR: &str = "COORD_CONFIG";

/// Largest configuration file accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

pub use crate::mechanisms::Loaded;

/// Why a configuration file was refused. Nothing of it was applied.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file, or `None` for [`load_str`].
    pub file: Option<PathBuf>,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// The kinds of [`ConfigError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file is larger than [`MAX_CONFIG_BYTES`]. Reading stops one byte past the limit, so
    /// a FIFO or a device such as `/dev/zero` is refused without being read whole.
    TooLarge {
        /// Its size when the system knows it (a regular file), else `MAX_CONFIG_BYTES + 1`:
        /// what was read before stopping.
        bytes: usize,
    },
    /// Not YAML, a key that does not exist, a value of the wrong type or out of range.
    Invalid {
        /// What the parser or the check said.
        message: String,
    },
    /// The `rules` section broke the rule language.
    Rules(Box<RuleLoadError>),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => f.write_str("<string>")?,
        }
        if let Some((line, column)) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        match &self.kind {
            ConfigErrorKind::Io(e) => write!(f, ": cannot read: {e}"),
            // A stream (FIFO, device) is read one byte past the limit and no further, so
            // that count means "more than the limit", not the stream's size.
            ConfigErrorKind::TooLarge { bytes } if *bytes == MAX_CONFIG_BYTES + 1 => write!(
                f,
                ": more than {MAX_CONFIG_BYTES} bytes is over the {MAX_CONFIG_BYTES}-byte limit"
            ),
            ConfigErrorKind::TooLarge { bytes } => {
                write!(
                    f,
                    ": {bytes} bytes is over the {MAX_CONFIG_BYTES}-byte limit"
                )
            }
            ConfigErrorKind::Invalid { message } => write!(f, ": {message}"),
            ConfigErrorKind::Rules(e) => write!(f, ": in `rules`: {e}"),
        }
    }
}

// Written out: the source is chosen by `kind`, and a derive can only name a field as the
// source.
impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ConfigErrorKind::Io(e) => Some(e),
            ConfigErrorKind::Rules(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Parses, checks and applies a configuration document.
pub fn load_str(yaml: &str) -> Result<Loaded, ConfigError> {
    model::parse(yaml)
        .and_then(model::apply)
        .map_err(|(location, kind)| ConfigError {
            file: None,
            location,
            kind,
        })
}

/// Reads, checks and applies the configuration file at `path`.
pub fn load_file(path: impl AsRef<Path>) -> Result<Loaded, ConfigError> {
    let path = path.as_ref();
    let error = |location, kind| ConfigError {
        file: Some(path.to_path_buf()),
        location,
        kind,
    };
    let text = read_limited(path).map_err(|kind| error(None, kind))?;
    model::parse(&text)
        .and_then(model::apply)
        .map_err(|(location, kind)| error(location, kind))
}

/// Loads the file named by `COORD_CONFIG`, if the variable is set; `Ok(None)` otherwise.
pub fn load_from_env() -> Result<Option<Loaded>, ConfigError> {
    match std::env::var_os(ENV_VAR) {
        Some(path) if !path.is_empty() => load_file(PathBuf::from(path)).map(Some),
        _ => Ok(None),
    }
}

static ENV_RESULT: OnceLock<Result<Option<Loaded>, ConfigError>> = OnceLock::new();

thread_local! {
    /// Set on the thread applying `COORD_CONFIG`, so that a door reached while applying it
    /// passes through instead of waiting for itself.
    static LOADING: Cell<bool> = const { Cell::new(false) };
}

/// What the first-use load of `COORD_CONFIG` did: `None` before it ran, `Ok(None)` when the
/// variable is not set.
pub fn env_status() -> Option<&'static Result<Option<Loaded>, ConfigError>> {
    ENV_RESULT.get()
}

/// Loads `COORD_CONFIG` once per process. The doors (`coord::monitor()`, `coord::breaker()`,
/// `coord::rules()`, the macros' call sites, ...) call it before they reach a registry; after
/// the first call it is one atomic load.
///
/// Other threads wait while one thread loads, so nobody sees a half-applied file. If loading
/// panics, nothing is poisoned: the panic reaches that caller and the next caller loads again.
#[inline]
pub fn ensure_env_loaded() {
    if ENV_RESULT.get().is_none() {
        load_env_slow();
    }
}

#[cold]
fn load_env_slow() {
    init_once(&ENV_RESULT, || {
        let result = load_from_env();
        if let Err(error) = &result {
            tracing::error!(target: "coord::config", %error, "COORD_CONFIG not loaded");
        }
        result
    });
}

/// `cell.get_or_init(load)`, except on the thread already running a `load` (applying the file
/// reaches doors again), which gets `None` instead of waiting for itself. A panicking `load`
/// leaves `cell` empty, so the next caller loads again, and nobody waits forever.
fn init_once<T>(cell: &OnceLock<T>, load: impl FnOnce() -> T) -> Option<&T> {
    struct Loading;
    impl Drop for Loading {
        fn drop(&mut self) {
            LOADING.set(false);
        }
    }
    if LOADING.get() {
        return cell.get();
    }
    Some(cell.get_or_init(|| {
        LOADING.set(true);
        let _loading = Loading;
        load()
    }))
}

fn read_limited(path: &Path) -> Result<String, ConfigErrorKind> {
    crate::read::read_capped(path, MAX_CONFIG_BYTES).map_err(|e| match e {
        crate::read::ReadError::Io(e) => ConfigErrorKind::Io(e),
        crate::read::ReadError::TooLarge { bytes } => ConfigErrorKind::TooLarge {
            bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_load_leaves_the_cell_empty_for_the_next_caller() {
        static CELL: OnceLock<u32> = OnceLock::new();
        let panicked = std::thread::spawn(|| init_once(&CELL, || panic!("bad file"))).join();
        assert!(panicked.is_err());
        assert_eq!(CELL.get(), None);
        assert_eq!(init_once(&CELL, || 7), Some(&7));
        assert_eq!(init_once(&CELL, || 8), Some(&7));
    }

    #[test]
    fn the_loading_thread_passes_through_instead_of_waiting_for_itself() {
        static CELL: OnceLock<u32> = OnceLock::new();
        let outer = init_once(&CELL, || {
            assert_eq!(init_once(&CELL, || 1), None);
            2
        });
        assert_eq!(outer, Some(&2));
        assert!(!LOADING.get());
    }
}
