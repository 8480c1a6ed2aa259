//! The bulkheads' section of the configuration file: `bulkheads: { db: { max_concurrent: 10,
//! max_wait: 5ms } }`, by name, applied like [`crate::bulkhead_with`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{BulkheadConfig, MAX_CONCURRENT};
use crate::contract::FileSection;
use crate::contract::file::{self, Bounded, DurationValue, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkheadModel {
    max_concurrent: Option<Bounded<usize, 1, { MAX_CONCURRENT as u64 }>>,
    max_wait: Option<DurationValue>,
}

impl BulkheadModel {
    fn config(self) -> BulkheadConfig {
        set_keys!(BulkheadConfig::default(), self, [max_concurrent, max_wait])
    }
}

/// The section, for the list in `crate::mechanisms`.
pub(crate) struct BulkheadsFile;

impl FileSection for BulkheadsFile {
    type Model = BTreeMap<String, BulkheadModel>;
    type Checked = Vec<(String, BulkheadConfig)>;
    type Loaded = Vec<String>;
    type Error = String;

    fn check(key: &str, model: Self::Model) -> Result<Self::Checked, String> {
        file::check_each(key, model, BulkheadModel::config, BulkheadConfig::validate)
    }

    fn apply(key: &str, checked: Self::Checked) -> Result<Vec<String>, String> {
        file::apply_each(key, checked, super::bulkhead_with)
    }
}
