//! The rate limiters' section of the configuration file: `rate_limits: { sms: { rate: 100,
//! per: 1s, burst: 10, max_wait: 0ms } }`, by name, applied like [`crate::rate_limiter_with`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::RateLimitConfig;
use crate::contract::FileSection;
use crate::contract::file::{self, Bounded, DurationValue, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitModel {
    rate: Option<Bounded<u64, 1, { u64::MAX }>>,
    per: Option<DurationValue>,
    burst: Option<Bounded<u64, 1, { u64::MAX }>>,
    max_wait: Option<DurationValue>,
}

impl RateLimitModel {
    fn config(self) -> RateLimitConfig {
        set_keys!(
            RateLimitConfig::default(),
            self,
            [rate, per, burst, max_wait]
        )
    }
}

/// The section, for the list in `crate::mechanisms`.
pub(crate) struct RateLimitsFile;

impl FileSection for RateLimitsFile {
    type Model = BTreeMap<String, RateLimitModel>;
    type Checked = Vec<(String, RateLimitConfig)>;
    type Loaded = Vec<String>;
    type Error = String;

    fn check(key: &str, model: Self::Model) -> Result<Self::Checked, String> {
        file::check_each(
            key,
            model,
            RateLimitModel::config,
            RateLimitConfig::validate,
        )
    }

    fn apply(key: &str, checked: Self::Checked) -> Result<Vec<String>, String> {
        file::apply_each(key, checked, super::rate_limiter_with)
    }
}
