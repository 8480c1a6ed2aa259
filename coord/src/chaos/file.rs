//! The chaos section of the configuration file, which is also the body of `POST /chaos`:
//!
//! ```yaml
//! chaos:
//!   seed: 42                                   # optional: draws that repeat
//!   operations:                                # by operation name
//!     payments:
//!       error: 0.1                             # needs a factory registered in code
//!       latency: { rate: 0.5, fixed: 100ms }   # or between: [10ms, 50ms], one_of: [10ms, 1s]
//!   breakers:                                  # by circuit breaker name
//!     db: { reject: 0.2 }
//! ```
//!
//! Every rule is checked before any is armed; a refusal names its place
//! (`chaos.operations.payments.error: ...`). Rules add to those armed (a rule of the same name
//! and kind is replaced).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ChaosError, Fault, Latency};
use crate::contract::FileSection;
use crate::contract::file::{DurationValue, Rate};

/// The section as serde reads it (the file's YAML, or `POST /chaos`'s JSON).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChaosModel {
    seed: Option<u64>,
    #[serde(default)]
    operations: BTreeMap<String, OperationModel>,
    #[serde(default)]
    breakers: BTreeMap<String, BreakerModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationModel {
    error: Option<Rate>,
    latency: Option<LatencyModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyModel {
    rate: Option<Rate>,
    fixed: Option<DurationValue>,
    between: Option<[DurationValue; 2]>,
    one_of: Option<Vec<DurationValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakerModel {
    reject: Rate,
}

/// A checked section: the seed, and each rule with its place for messages.
pub(crate) struct ChaosPlan {
    seed: Option<u64>,
    places: Vec<String>,
    rules: Vec<(String, Fault)>,
}

impl LatencyModel {
    fn latency(self) -> Result<(f64, Latency), String> {
        let rate = self.rate.map_or(1.0, |rate| rate.0);
        let latency = match (self.fixed, self.between, self.one_of) {
            (Some(fixed), None, None) => Latency::Fixed(fixed.0),
            (None, Some([low, high]), None) => Latency::Between(low.0, high.0),
            (None, None, Some(choices)) => {
                Latency::OneOf(choices.into_iter().map(|choice| choice.0).collect())
            }
            _ => return Err("give exactly one of `fixed`, `between` or `one_of`".to_owned()),
        };
        Ok((rate, latency))
    }
}

impl ChaosModel {
    /// The rules, each with its place (`<key>.operations.payments.error`), checked as
    /// `coord::chaos::arm` would (a factory registered for each error fault).
    pub(crate) fn plan(self, key: &str) -> Result<ChaosPlan, String> {
        let mut places = Vec::new();
        let mut rules = Vec::new();
        for (name, model) in self.operations {
            if let Some(rate) = model.error {
                places.push(format!("{key}.operations.{name}.error"));
                rules.push((name.clone(), Fault::Error { rate: rate.0 }));
            }
            if let Some(latency) = model.latency {
                let place = format!("{key}.operations.{name}.latency");
                let (rate, latency) = latency.latency().map_err(|why| format!("{place}: {why}"))?;
                places.push(place);
                rules.push((name, Fault::Latency { rate, latency }));
            }
        }
        for (name, model) in self.breakers {
            places.push(format!("{key}.breakers.{name}.reject"));
            rules.push((
                name,
                Fault::Reject {
                    rate: model.reject.0,
                },
            ));
        }
        let plan = ChaosPlan {
            seed: self.seed,
            places,
            rules,
        };
        super::check_all(&plan.rules).map_err(|refused| plan.refusal(refused))?;
        Ok(plan)
    }
}

impl ChaosPlan {
    fn refusal(&self, (at, error): (usize, ChaosError)) -> String {
        let place = self.places.get(at).map_or("chaos", String::as_str);
        format!("{place}: {error}")
    }

    /// Arms every rule (or none) and applies the seed: the names armed.
    pub(crate) fn arm(self) -> Result<Vec<String>, String> {
        let mut names: Vec<String> = self.rules.iter().map(|(name, _)| name.clone()).collect();
        let places = self.places;
        super::arm_all(self.rules).map_err(|(at, error)| {
            let place = places.get(at).map_or("chaos", String::as_str);
            format!("{place}: {error}")
        })?;
        if let Some(seed) = self.seed {
            super::set_seed(seed);
        }
        // A name may be under both `operations` and `breakers`, apart in the list.
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }
}

/// The section, for the list in `crate::mechanisms`.
pub(crate) struct ChaosFile;

impl FileSection for ChaosFile {
    type Model = ChaosModel;
    type Checked = ChaosPlan;
    type Loaded = Vec<String>;
    type Error = String;

    fn check(key: &str, model: ChaosModel) -> Result<ChaosPlan, String> {
        model.plan(key)
    }

    fn apply(_: &str, plan: ChaosPlan) -> Result<Vec<String>, String> {
        plan.arm()
    }
}
