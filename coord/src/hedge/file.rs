//! The hedges' section of the configuration file: `hedges: { profile: { after: p95,
//! max_extra: 1 } }` (or `after: 50ms`), by name, applied like [`crate::hedge_with`].

use serde::Deserialize;
use serde::de::Deserializer;

use super::{HedgeAfter, HedgeConfig, MAX_EXTRA};
use crate::contract::file::{Bounded, named_section, parse_duration, parsed_text};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HedgeModel {
    after: Option<AfterValue>,
    max_extra: Option<Bounded<u32, 1, { MAX_EXTRA as u64 }>>,
}

/// `p95`, `p99.9` (a percentile) or a duration (`50ms`).
struct AfterValue(HedgeAfter);

impl<'de> Deserialize<'de> for AfterValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_text(d, parse_after).map(AfterValue)
    }
}

/// The text of `after` in the configuration file.
pub(crate) fn parse_after(text: &str) -> Result<HedgeAfter, String> {
    let text = text.trim();
    if let Some(quantile) = coord_limits::hedge::percentile(text) {
        return quantile.map(HedgeAfter::Percentile).ok_or_else(|| {
            format!(
                "`{text}` is not a percentile: write one strictly between p0 and p100, like p95 or p99.9"
            )
        });
    }
    parse_duration(text)
        .map(HedgeAfter::Fixed)
        .map_err(|why| format!("`{text}` is neither a percentile (p95) nor a duration: {why}"))
}

impl HedgeModel {
    fn config(self) -> HedgeConfig {
        let mut config = HedgeConfig::default();
        if let Some(AfterValue(after)) = self.after {
            config.after = after;
        }
        if let Some(max_extra) = self.max_extra {
            config = config.max_extra(max_extra.0);
        }
        config
    }
}

named_section! {
    /// The section, for the list in `crate::mechanisms`.
    HedgesFile {
        model: HedgeModel,
        config: HedgeConfig,
        build: |_, model: HedgeModel| model.config(),
        check: HedgeConfig::validate,
        apply: super::hedge_with,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn after_reads_percentiles_and_durations() {
        assert_eq!(parse_after("p95"), Ok(HedgeAfter::Percentile(0.95)));
        assert_eq!(
            parse_after("50ms"),
            Ok(HedgeAfter::Fixed(Duration::from_millis(50)))
        );
        for bad in ["p100", "p0", "pfast", "50", "soon"] {
            assert!(parse_after(bad).is_err(), "{bad}");
        }
    }
}
