//! The circuit breakers' section of the configuration file: `circuit_breakers: { db: {...} }`,
//! by name; a breaker configured here keeps this configuration over a call site's keys.

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{BreakerConfig, Window};
use crate::contract::file::{
    Bounded, DurationValue, Rate, named_section, parse_duration, set_keys,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BreakerModel {
    failure_rate: Option<Rate>,
    minimum_calls: Option<Bounded<u32, 1, { u32::MAX as u64 }>>,
    window: Option<WindowValue>,
    open_for: Option<DurationValue>,
    max_open_for: Option<DurationValue>,
    half_open_calls: Option<Bounded<u32, 1, 255>>,
    slow_call: Option<DurationValue>,
    slow_call_rate: Option<Rate>,
    consecutive_failures: Option<Bounded<u32, 1, { u32::MAX as u64 }>>,
    max_half_open_wait: Option<DurationValue>,
}

/// `window: 20` (calls) or `window: 10s` (a period).
struct WindowValue(Window);

impl<'de> Deserialize<'de> for WindowValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Calls(u64),
            Period(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            de::Error::custom("window is a number of calls (20) or a period (\"10s\")")
        })? {
            Raw::Calls(0) => Err(de::Error::custom("window must hold at least 1 call")),
            Raw::Calls(n) => Ok(WindowValue(Window::Calls(
                u32::try_from(n).unwrap_or(u32::MAX),
            ))),
            Raw::Period(text) => parse_duration(&text)
                .map(|d| WindowValue(Window::Time(d)))
                .map_err(de::Error::custom),
        }
    }
}

impl BreakerModel {
    fn config(self) -> BreakerConfig {
        set_keys!(
            BreakerConfig::default(),
            self,
            [
                failure_rate,
                minimum_calls,
                window,
                open_for,
                max_open_for,
                half_open_calls,
                slow_call,
                slow_call_rate,
                consecutive_failures,
                max_half_open_wait
            ]
        )
    }
}

named_section! {
    /// The section, for the list in `crate::mechanisms`.
    BreakersFile {
        model: BreakerModel,
        config: BreakerConfig,
        build: |_, model: BreakerModel| model.config(),
        check: BreakerConfig::validate,
        apply: super::registry::configure_from_file,
    }
}
