//! The retry policies' section of the configuration file: `retry_policies: { api: {...} }`,
//! each registered like [`register_policy`](super::register_policy).

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{BudgetConfig, Jitter, RetryPolicy};
use crate::contract::file::{Bounded, DurationValue, checked_f64, named_section, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetryModel {
    max_retries: Option<Bounded<u32, 0, 1000>>,
    base_delay: Option<DurationValue>,
    multiplier: Option<Multiplier>,
    max_delay: Option<DurationValue>,
    jitter: Option<JitterName>,
    deadline: Option<DurationValue>,
    budget: Option<BudgetModel>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BudgetModel {
    Switch(Switch),
    Bucket(BucketModel),
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Switch {
    Off,
    On,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BucketModel {
    capacity: Option<u32>,
    retry_cost: Option<u32>,
    success_refund: Option<u32>,
}

/// A back-off multiplier, at least 1.0.
struct Multiplier(f64);

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_f64(
            d,
            |v| v.is_finite() && v >= 1.0,
            |v| format!("multiplier {v} must be a finite number >= 1.0"),
        )
        .map(Multiplier)
    }
}

struct JitterName(Jitter);

impl<'de> Deserialize<'de> for JitterName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<Jitter>().map(JitterName).map_err(|_| {
            de::Error::custom(format!(
                "unknown jitter `{text}`; expected one of none, full, equal, decorrelated"
            ))
        })
    }
}

impl RetryModel {
    fn policy(self, name: &str) -> RetryPolicy {
        let policy = set_keys!(
            RetryPolicy::default().named(name),
            self,
            [
                max_retries,
                base_delay,
                multiplier,
                max_delay,
                jitter,
                deadline
            ]
        );
        match self.budget {
            None | Some(BudgetModel::Switch(Switch::On)) => policy,
            Some(BudgetModel::Switch(Switch::Off)) => policy.no_budget(),
            Some(BudgetModel::Bucket(bucket)) => {
                let defaults = BudgetConfig::default();
                policy.budget(BudgetConfig {
                    capacity: bucket.capacity.unwrap_or(defaults.capacity),
                    retry_cost: bucket.retry_cost.unwrap_or(defaults.retry_cost),
                    success_refund: bucket.success_refund.unwrap_or(defaults.success_refund),
                })
            }
        }
    }
}

named_section! {
    /// The section, for the list in `crate::mechanisms`. Every policy the file can hold is
    /// valid (serde checked the values), so nothing is refused.
    RetryPoliciesFile {
        model: RetryModel,
        config: RetryPolicy,
        build: |name: &str, model: RetryModel| model.policy(name),
        check: |_: &RetryPolicy| Ok::<(), String>(()),
        apply: |name: &str, policy| {
            super::register_policy(name, policy);
            Ok::<(), String>(())
        },
    }
}
