//! The rate limiters' section of the configuration file: `rate_limits: { sms: { rate: 100,
//! per: 1s, burst: 10, max_wait: 0ms } }`, by name, applied like [`crate::rate_limiter_with`].

use serde::Deserialize;

use super::RateLimitConfig;
use crate::contract::file::{Bounded, DurationValue, named_section, set_keys};

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

named_section! {
    /// The section, for the list in `crate::mechanisms`.
    RateLimitsFile {
        model: RateLimitModel,
        config: RateLimitConfig,
        build: |_, model: RateLimitModel| model.config(),
        check: RateLimitConfig::validate,
        apply: super::rate_limiter_with,
    }
}
