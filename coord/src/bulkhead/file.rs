//! The bulkheads' section of the configuration file: `bulkheads: { db: { max_concurrent: 10,
//! max_wait: 5ms } }`, by name, applied like [`crate::bulkhead_with`].

use serde::Deserialize;

use super::{BulkheadConfig, MAX_CONCURRENT};
use crate::contract::file::{Bounded, DurationValue, named_section, set_keys};

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

named_section! {
    /// The section, for the list in `crate::mechanisms`.
    BulkheadsFile {
        model: BulkheadModel,
        config: BulkheadConfig,
        build: |_, model: BulkheadModel| model.config(),
        check: BulkheadConfig::validate,
        apply: super::bulkhead_with,
    }
}
