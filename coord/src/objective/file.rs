//! The objectives' section of the configuration file, by name:
//!
//! ```yaml
//! objectives:
//!   checkout:
//!     success_rate: 0.999
//!     latency: { below: 500ms, target: 0.99 }
//!     period: 30d
//! ```
//!
//! Every value is checked while it is read, so a bad one is reported at its line and column.
//! An objective configured here keeps this configuration over one declared in code.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{Indicator, Objective, check_period, check_target, check_threshold};
use crate::contract::file::{named_section, parse_duration, parsed_text};

#[derive(Deserialize)]
#[serde(try_from = "RawModel")]
pub(crate) struct ObjectiveModel {
    success_rate: Option<f64>,
    latency: Option<(Duration, f64)>,
    period: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    success_rate: Option<Target<true>>,
    latency: Option<LatencyModel>,
    period: Option<Period>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyModel {
    below: Threshold,
    target: Target<false>,
}

impl TryFrom<RawModel> for ObjectiveModel {
    type Error = String;

    fn try_from(raw: RawModel) -> Result<Self, String> {
        if raw.success_rate.is_none() && raw.latency.is_none() {
            return Err(super::ObjectiveError::NoTarget.to_string());
        }
        Ok(Self {
            success_rate: raw.success_rate.map(|t| t.0),
            latency: raw.latency.map(|l| (l.below.0, l.target.0)),
            period: raw.period.map(|p| p.0),
        })
    }
}

/// A target in `0.0..1.0` (`SUCCESS`: the success rate's, else the latency's).
struct Target<const SUCCESS: bool>(f64);

impl<'de, const SUCCESS: bool> Deserialize<'de> for Target<SUCCESS> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        let indicator = if SUCCESS {
            Indicator::Success
        } else {
            Indicator::Latency
        };
        check_target(indicator, value)
            .map(|()| Target(value))
            .map_err(de::Error::custom)
    }
}

/// A latency threshold: a duration that is an exported bucket bound.
struct Threshold(Duration);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let threshold = parsed_text(d, parse_duration)?;
        check_threshold(threshold)
            .map(|()| Threshold(threshold))
            .map_err(de::Error::custom)
    }
}

/// A period: a duration, also in days (`30d`), in the allowed range.
struct Period(Duration);

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let period = parsed_text(d, |text| {
            let trimmed = text.trim();
            match trimmed.strip_suffix('d').map(str::parse::<u64>) {
                Some(Ok(days)) => Ok(Duration::from_secs(days.saturating_mul(86_400))),
                _ => parse_duration(trimmed)
                    .map_err(|e| format!("{e} (a period is also written in days: \"30d\")")),
            }
        })?;
        check_period(period)
            .map(|()| Period(period))
            .map_err(de::Error::custom)
    }
}

impl ObjectiveModel {
    fn objective(self, name: &str) -> Objective {
        let mut objective = Objective::new(name);
        if let Some(target) = self.success_rate {
            objective = objective.success_rate(target);
        }
        if let Some((threshold, target)) = self.latency {
            objective = objective.latency_below(threshold, target);
        }
        if let Some(period) = self.period {
            objective = objective.period(period);
        }
        objective
    }
}

named_section! {
    /// The section, for the list in `crate::mechanisms`.
    ObjectivesFile {
        model: ObjectiveModel,
        config: Objective,
        build: |name: &str, model: ObjectiveModel| model.objective(name),
        check: Objective::validate,
        apply: super::registry::configure_from_file,
    }
}
