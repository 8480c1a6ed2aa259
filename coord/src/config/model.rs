//! The file's shape as serde types, checked while they are read so that every error carries its
//! line and column; then the checked values, applied all at once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{ConfigErrorKind, Loaded, MAX_CONFIG_BYTES};
use crate::breaker::{BreakerConfig, Window};
use crate::bulkhead::BulkheadConfig;
use crate::perf::MonitorConfig;
use crate::rate_limit::RateLimitConfig;
use crate::retry::{BudgetConfig, Jitter, RetryPolicy};
use crate::validate::RuleSet;

type Located = (Option<(usize, usize)>, ConfigErrorKind);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    retry_policies: BTreeMap<String, RetryModel>,
    #[serde(default)]
    circuit_breakers: BTreeMap<String, BreakerModel>,
    #[serde(default)]
    rules: Option<serde_norway::Value>,
    #[serde(default)]
    monitor: Option<MonitorModel>,
    #[serde(default)]
    bulkheads: BTreeMap<String, BulkheadModel>,
    #[serde(default)]
    rate_limits: BTreeMap<String, RateLimitModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkheadModel {
    max_concurrent: Option<Bounded<1, { crate::bulkhead::MAX_CONCURRENT as u64 }>>,
    max_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitModel {
    rate: Option<Bounded<1, { u64::MAX }>>,
    per: Option<DurationValue>,
    burst: Option<Bounded<1, { u64::MAX }>>,
    max_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryModel {
    max_retries: Option<Bounded<0, 1000>>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakerModel {
    failure_rate: Option<Rate>,
    minimum_calls: Option<Bounded<1, { u32::MAX as u64 }>>,
    window: Option<WindowValue>,
    open_for: Option<DurationValue>,
    max_open_for: Option<DurationValue>,
    half_open_calls: Option<Bounded<1, 255>>,
    slow_call: Option<DurationValue>,
    slow_call_rate: Option<Rate>,
    consecutive_failures: Option<Bounded<1, { u32::MAX as u64 }>>,
    max_half_open_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitorModel {
    collection_interval: Option<DurationValue>,
    max_data_points: Option<Bounded<1, { u32::MAX as u64 }>>,
}

/// A duration written like `250ms` or `2s`.
struct DurationValue(Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(DurationValue)
            .map_err(de::Error::custom)
    }
}

/// An integer in `MIN..=MAX`.
struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(d)?;
        if (MIN..=MAX).contains(&value) {
            Ok(Bounded(value))
        } else {
            Err(de::Error::custom(format!(
                "{value} is outside {MIN}..={MAX}"
            )))
        }
    }
}

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    fn get(&self) -> u32 {
        u32::try_from(self.0).unwrap_or(u32::MAX)
    }
}

/// A rate in `0.0..=1.0`.
struct Rate(f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&value) {
            Ok(Rate(value))
        } else {
            Err(de::Error::custom(format!(
                "rate {value} is outside 0.0..=1.0"
            )))
        }
    }
}

/// A back-off multiplier, at least 1.0.
struct Multiplier(f64);

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if value.is_finite() && value >= 1.0 {
            Ok(Multiplier(value))
        } else {
            Err(de::Error::custom(format!(
                "multiplier {value} must be a finite number >= 1.0"
            )))
        }
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

/// Parses `250ms`, `2s`, `1.5s`, `1m`, `1h`, `500us`, `10ns`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "" => {
            return Err(format!(
                "duration `{text}` needs a unit (ns, us, ms, s, m, h)"
            ));
        }
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}`; expected ns, us, ms, s, m or h"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as \"250ms\""))?;
    Duration::try_from_secs_f64(value * per_unit)
        .map_err(|_| format!("duration `{text}` is out of range"))
}

/// A checked file, ready to apply.
pub(super) struct Checked {
    retry_policies: Vec<(String, RetryPolicy)>,
    circuit_breakers: Vec<(String, BreakerConfig)>,
    rule_sets: Vec<RuleSet>,
    monitor: Option<MonitorConfig>,
    bulkheads: Vec<(String, BulkheadConfig)>,
    rate_limits: Vec<(String, RateLimitConfig)>,
}

pub(super) fn parse(text: &str) -> Result<Checked, Located> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err((None, ConfigErrorKind::TooLarge { bytes: text.len() }));
    }
    let file: Option<File> = serde_norway::from_str(text).map_err(yaml_error)?;
    let Some(file) = file else {
        return Ok(Checked::empty());
    };
    let retry_policies = file
        .retry_policies
        .into_iter()
        .map(|(name, model)| {
            let policy = model.policy(&name);
            (name, policy)
        })
        .collect();
    let mut circuit_breakers = Vec::new();
    for (name, model) in file.circuit_breakers {
        let config = model.config();
        config
            .validate()
            .map_err(|e| invalid(None, format!("circuit_breakers.{name}: {e}")))?;
        circuit_breakers.push((name, config));
    }
    let rule_sets = match file.rules {
        None | Some(serde_norway::Value::Null) => Vec::new(),
        Some(doc) => crate::validate::parse_document(doc)
            .map_err(|e| (None, ConfigErrorKind::Rules(Box::new(e))))?,
    };
    let monitor = match file.monitor {
        None => None,
        Some(model) => {
            let config = model.config();
            config
                .check()
                .map_err(|e| invalid(None, format!("monitor: {e}")))?;
            Some(config)
        }
    };
    let (bulkheads, rate_limits) = check_resilience(file.bulkheads, file.rate_limits)?;
    Ok(Checked {
        retry_policies,
        circuit_breakers,
        rule_sets,
        monitor,
        bulkheads,
        rate_limits,
    })
}

impl Checked {
    fn empty() -> Self {
        Checked {
            retry_policies: Vec::new(),
            circuit_breakers: Vec::new(),
            rule_sets: Vec::new(),
            monitor: None,
            bulkheads: Vec::new(),
            rate_limits: Vec::new(),
        }
    }

    /// Applies everything; every value was checked, so only a monitor racing another
    /// `configure` could still refuse.
    pub(super) fn apply(self) -> Result<Loaded, Located> {
        let mut loaded = Loaded::default();
        for (name, policy) in self.retry_policies {
            crate::retry::register_policy(&name, policy);
            loaded.retry_policies.push(name);
        }
        for (name, config) in self.circuit_breakers {
            crate::breaker::configure_from_file(&name, config)
                .map_err(|e| invalid(None, format!("circuit_breakers.{name}: {e}")))?;
            loaded.circuit_breakers.push(name);
        }
        for set in self.rule_sets {
            loaded.rule_sets.push(set.name.clone());
            crate::validate::rules().insert(set);
        }
        if let Some(config) = self.monitor {
            crate::compose::health::monitor()
                .configure(config)
                .map_err(|e| invalid(None, format!("monitor: {e}")))?;
            loaded.monitor = true;
        }
        apply_resilience(self.bulkheads, self.rate_limits, &mut loaded)?;
        Ok(loaded)
    }
}

impl RetryModel {
    fn policy(self, name: &str) -> RetryPolicy {
        let mut policy = RetryPolicy::default().named(name);
        if let Some(n) = self.max_retries {
            policy = policy.max_retries(n.get());
        }
        if let Some(d) = self.base_delay {
            policy = policy.base_delay(d.0);
        }
        if let Some(m) = self.multiplier {
            policy = policy.multiplier(m.0);
        }
        if let Some(d) = self.max_delay {
            policy = policy.max_delay(d.0);
        }
        if let Some(j) = self.jitter {
            policy = policy.jitter(j.0);
        }
        if let Some(d) = self.deadline {
            policy = policy.deadline(d.0);
        }
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

impl BreakerModel {
    fn config(self) -> BreakerConfig {
        let mut c = BreakerConfig::default();
        if let Some(r) = self.failure_rate {
            c = c.failure_rate(r.0);
        }
        if let Some(n) = self.minimum_calls {
            c = c.minimum_calls(n.get());
        }
        if let Some(w) = self.window {
            c = c.window(w.0);
        }
        if let Some(d) = self.open_for {
            c = c.open_for(d.0);
        }
        if let Some(d) = self.max_open_for {
            c = c.max_open_for(d.0);
        }
        if let Some(n) = self.half_open_calls {
            c = c.half_open_calls(n.get());
        }
        if let Some(d) = self.slow_call {
            c = c.slow_call(d.0);
        }
        if let Some(r) = self.slow_call_rate {
            c = c.slow_call_rate(r.0);
        }
        if let Some(n) = self.consecutive_failures {
            c = c.consecutive_failures(n.get());
        }
        if let Some(d) = self.max_half_open_wait {
            c = c.max_half_open_wait(d.0);
        }
        c
    }
}

impl MonitorModel {
    fn config(self) -> MonitorConfig {
        let mut c = MonitorConfig::default();
        if let Some(d) = self.collection_interval {
            c = c.collection_interval(d.0);
        }
        if let Some(n) = self.max_data_points {
            c = c.max_data_points(n.get() as usize);
        }
        c
    }
}

/// The `bulkheads:` and `rate_limits:` sections, checked.
type ResilienceSections = (
    Vec<(String, BulkheadConfig)>,
    Vec<(String, RateLimitConfig)>,
);

fn check_resilience(
    bulkheads: BTreeMap<String, BulkheadModel>,
    rate_limits: BTreeMap<String, RateLimitModel>,
) -> Result<ResilienceSections, Located> {
    let mut checked_bulkheads = Vec::new();
    for (name, model) in bulkheads {
        let mut config = BulkheadConfig::default();
        if let Some(n) = model.max_concurrent {
            config = config.max_concurrent(usize::try_from(n.0).unwrap_or(usize::MAX));
        }
        if let Some(d) = model.max_wait {
            config = config.max_wait(d.0);
        }
        config
            .validate()
            .map_err(|e| invalid(None, format!("bulkheads.{name}: {e}")))?;
        checked_bulkheads.push((name, config));
    }
    let mut checked_limits = Vec::new();
    for (name, model) in rate_limits {
        let mut config = RateLimitConfig::default();
        if let Some(n) = model.rate {
            config = config.rate(n.0);
        }
        if let Some(d) = model.per {
            config = config.per(d.0);
        }
        if let Some(n) = model.burst {
            config = config.burst(n.0);
        }
        if let Some(d) = model.max_wait {
            config = config.max_wait(d.0);
        }
        config
            .validate()
            .map_err(|e| invalid(None, format!("rate_limits.{name}: {e}")))?;
        checked_limits.push((name, config));
    }
    Ok((checked_bulkheads, checked_limits))
}

/// Creates or reconfigures each named bulkhead and rate limiter (every value was checked).
fn apply_resilience(
    bulkheads: Vec<(String, BulkheadConfig)>,
    rate_limits: Vec<(String, RateLimitConfig)>,
    loaded: &mut Loaded,
) -> Result<(), Located> {
    for (name, config) in bulkheads {
        crate::bulkhead::bulkhead_with(&name, config)
            .map_err(|e| invalid(None, format!("bulkheads.{name}: {e}")))?;
        loaded.bulkheads.push(name);
    }
    for (name, config) in rate_limits {
        crate::rate_limit::rate_limiter_with(&name, config)
            .map_err(|e| invalid(None, format!("rate_limits.{name}: {e}")))?;
        loaded.rate_limits.push(name);
    }
    Ok(())
}

fn invalid(location: Option<(usize, usize)>, message: String) -> Located {
    (location, ConfigErrorKind::Invalid { message })
}

/// serde_norway's error, rewritten to name the key's place in the file and, for an unknown key,
/// the closest known one.
fn yaml_error(e: serde_norway::Error) -> Located {
    let location = e.location().map(|l| (l.line(), l.column()));
    let text = e.to_string();
    if text.contains("repetition limit exceeded") {
        return invalid(
            location,
            "aliases expand beyond any sensible configuration (refused)".into(),
        );
    }
    if text.contains("recursion limit exceeded") {
        return invalid(location, "the document nests too deeply".into());
    }
    // serde_norway writes "path.to.key: message at line L column C".
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    let (path, message) = match text.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => (Some(path), message),
        _ => (None, text),
    };
    let message = match unknown_field(message) {
        Some((field, expected)) => {
            let place = path.map(|p| format!(" in {p}")).unwrap_or_default();
            let hint = match crate::naming::closest(field, expected.iter().copied()) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; expected one of {}", expected.join(", ")),
            };
            format!("unknown key `{field}`{place}{hint}")
        }
        None => match path {
            Some(path) => format!("{path}: {message}"),
            None => message.to_string(),
        },
    };
    invalid(location, message)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest.split('`').skip(1).step_by(2).collect();
    Some((field, expected))
}
