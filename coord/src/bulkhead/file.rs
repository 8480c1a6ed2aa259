//! The bulkheads' section of the configuration file: `bulkheads: { db: { max_concurrent: 10,
//! max_wait: 5ms, adaptive: vegas } }`, by name, applied like [`crate::bulkhead_with`].

use serde::Deserialize;

use super::{AdaptiveLimit, Algorithm, BulkheadConfig, MAX_CONCURRENT};
use crate::contract::file::{Bounded, DurationValue, named_section, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkheadModel {
    max_concurrent: Option<Bounded<usize, 1, { MAX_CONCURRENT as u64 }>>,
    max_wait: Option<DurationValue>,
    /// `vegas`, `gradient2` or `aimd`: the limit adapts, up to `max_concurrent`.
    adaptive: Option<Algorithm>,
}

impl BulkheadModel {
    fn config(self) -> BulkheadConfig {
        let adaptive = self.adaptive.map(AdaptiveLimit::of);
        let config = set_keys!(BulkheadConfig::default(), self, [max_concurrent, max_wait]);
        match adaptive {
            Some(adaptive) => config.adaptive(adaptive),
            None => config,
        }
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
