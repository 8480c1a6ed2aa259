//! The mechanism contract: what each mechanism folder provides so that the one list in
//! `crate::mechanisms` can carry it into the doors (`coord::reset()`), the report, the
//! configuration file and `coord::limits`, without any of those naming the mechanism.
//!
//! A mechanism (`breaker/`, `retry/`, ...) owns, in its own folder:
//!
//! - its registry and cap, and its reset (clears measurements and state, keeps configuration);
//! - its metric names, declared once as constants in its `section.rs`, beside the code that
//!   writes them;
//! - its report section: a [`Section`] impl for the type of its `Report` field (the table of the
//!   human report and its Prometheus families; JSON and YAML serialize the field);
//! - its configuration-file section: a [`FileSection`] impl in its `file.rs`;
//! - its dropped-name counts, one [`CappedRegistry`] row per capped registry.
//!
//! A leaf: the writers the sections use ([`exposition`], [`table`], [`file`]) live here, so
//! mechanisms, which import only leaves, can write their own sections.

pub(crate) mod exposition;
pub(crate) mod file;
pub(crate) mod table;

use std::fmt;

use exposition::{Exposition, PerRow};
use table::Column;

/// One section of the report: the type of one `Report` field.
pub(crate) trait Section {
    /// Writes the section for people (`Display`); a section with nothing to show may write
    /// nothing.
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Writes the section's Prometheus families; their names are the mechanism's constants.
    fn export(&self, out: &mut Exposition);
}

/// A section of rows with a name each: one table, and families with one sample per row labelled
/// with its name, both shown once there is a row (reports of programs that do not use the layer
/// stay as they were). The shape of most mechanisms' sections, written once by the [`Section`]
/// impl of `Vec<Self>`.
pub(crate) trait RowSection: Sized + 'static {
    /// The table's title.
    const TITLE: &'static str;
    /// The table's columns.
    const COLUMNS: &'static [Column<Self>];
    /// The label that carries a row's name in the families.
    const LABEL: &'static str;
    /// The families with one sample per row, and the row's value.
    const PER_ROW: &'static [PerRow<Self>];

    /// The row's name.
    fn key(&self) -> &str;

    /// Families written after the per-row ones, for rows that have more to say.
    fn export_more(_rows: &[Self], _out: &mut Exposition) {}
}

impl<T: RowSection> Section for Vec<T> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section_if_any(f, T::TITLE, self, T::COLUMNS)
    }

    fn export(&self, out: &mut Exposition) {
        if !self.is_empty() {
            out.per_row(self, T::LABEL, T::key, T::PER_ROW);
        }
        T::export_more(self, out);
    }
}

/// One section of the configuration file (`coord.yaml`), under the key the list gives it.
pub(crate) trait FileSection {
    /// What the file holds under the key (serde checks types and unknown keys while reading,
    /// so every such error has a line and column).
    type Model: serde::de::DeserializeOwned + Default;
    /// The section checked, ready to apply.
    type Checked;
    /// What `coord::config::Loaded` reports for the section.
    type Loaded;
    /// Why the section was refused.
    type Error;

    /// Checks everything before anything is applied; `key` is the section's key, for messages
    /// (`circuit_breakers.db: ...`).
    fn check(key: &str, model: Self::Model) -> Result<Self::Checked, Self::Error>;

    /// Applies a checked section.
    fn apply(key: &str, checked: Self::Checked) -> Result<Self::Loaded, Self::Error>;
}

/// One registry keyed by run-time names, with a cap: the `registry` label of
/// `coord_dropped_names_total` (and of `coord::limits::dropped_names`) and how to read its count
/// of names sent to the overflow entry.
pub(crate) struct CappedRegistry {
    /// The label value, plural ("operations").
    pub(crate) label: &'static str,
    /// Lookups of a new name that found the registry full, since start or the last reset.
    pub(crate) dropped: fn() -> u64,
}
