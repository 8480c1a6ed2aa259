//! The rate limiters' section of the configuration file: `rate_limits: { sms: { rate: 100,
//! per: 1s, burst: 10, max_wait: 0ms } }`, by name, applied like [`crate::rate_limiter_with`].
//! A fleet-wide limiter adds `shared`: `true` (Redis from `COORD_REDIS_URL`), a Redis URL, or
//! `{ url, instances, on_failure: open | closed, timeout, batch }`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{OnFailure, RateLimitConfig, SharedConfig};
use crate::contract::file::{Bounded, DurationValue, named_section, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitModel {
    rate: Option<Bounded<u64, 1, { u64::MAX }>>,
    per: Option<DurationValue>,
    burst: Option<Bounded<u64, 1, { u64::MAX }>>,
    max_wait: Option<DurationValue>,
    shared: Option<SharedValue>,
}

impl RateLimitModel {
    fn config(self) -> RateLimitConfig {
        let shared = self.shared;
        let config = set_keys!(
            RateLimitConfig::default(),
            self,
            [rate, per, burst, max_wait]
        );
        match shared {
            None | Some(SharedValue(None)) => config,
            Some(SharedValue(Some(shared))) => config.shared_with(shared),
        }
    }
}

/// `shared:` as written: `false`, `true`, a URL or a map of [`SharedConfig`]'s keys.
struct SharedValue(Option<SharedConfig>);

/// A Redis URL, checked where it is written (so its error has a line and column).
struct UrlValue(String);

impl<'de> Deserialize<'de> for UrlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let url = String::deserialize(d)?;
        super::shared::check_url(&url).map_err(de::Error::custom)?;
        Ok(UrlValue(url))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedModel {
    url: Option<UrlValue>,
    instances: Option<Bounded<u64, 1, { u64::MAX }>>,
    on_failure: Option<OnFailureValue>,
    timeout: Option<DurationValue>,
    batch: Option<Bounded<u64, 1, { u64::MAX }>>,
}

struct OnFailureValue(OnFailure);

impl<'de> Deserialize<'de> for OnFailureValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "open" => Ok(Self(OnFailure::Open)),
            "closed" => Ok(Self(OnFailure::Closed)),
            other => Err(de::Error::custom(format!(
                "unknown on_failure `{other}`; expected open or closed"
            ))),
        }
    }
}

impl SharedModel {
    fn config(self) -> SharedConfig {
        set_keys!(
            SharedConfig::default(),
            self,
            [url, instances, on_failure, timeout, batch]
        )
    }
}

impl<'de> Deserialize<'de> for SharedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SharedVisitor;

        impl<'de> Visitor<'de> for SharedVisitor {
            type Value = SharedValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "true, false, a Redis URL (redis://host:port/db) or a map of url, \
                     instances, on_failure, timeout, batch",
                )
            }

            fn visit_bool<E: de::Error>(self, shared: bool) -> Result<SharedValue, E> {
                Ok(SharedValue(shared.then(SharedConfig::default)))
            }

            fn visit_str<E: de::Error>(self, url: &str) -> Result<SharedValue, E> {
                super::shared::check_url(url).map_err(E::custom)?;
                Ok(SharedValue(Some(SharedConfig::default().url(url))))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SharedValue, A::Error> {
                let model = SharedModel::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SharedValue(Some(model.config())))
            }
        }

        d.deserialize_any(SharedVisitor)
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
