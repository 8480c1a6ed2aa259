//! The file's shape as serde types, checked while they are read so that every error carries its
//! line and column; then the checked values, applied all at once.

use std::collections::BTreeMap;
use std::fmt::Display;
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
    max_concurrent: Option<Bounded<usize, 1, { crate::bulkhead::MAX_CONCURRENT as u64 }>>,
    max_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitModel {
    rate: Option<Bounded<u64, 1, { u64::MAX }>>,
    per: Option<DurationValue>,
    burst: Option<Bounded<u64, 1, { u64::MAX }>>,
    max_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryModel {
    max_retries: Option<Bounded<u32, 0, { coord_limits::retry::MAX_RETRIES as u64 }>>,
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
    minimum_calls: Option<Bounded<u32, 1, { u32::MAX as u64 }>>,
    window: Option<WindowValue>,
    open_for: Option<DurationValue>,
    max_open_for: Option<DurationValue>,
    half_open_calls: Option<Bounded<u32, 1, { coord_limits::breaker::MAX_HALF_OPEN_CALLS as u64 }>>,
    slow_call: Option<DurationValue>,
    slow_call_rate: Option<Rate>,
    consecutive_failures: Option<Bounded<u32, 1, { u32::MAX as u64 }>>,
    max_half_open_wait: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitorModel {
    collection_interval: Option<DurationValue>,
    max_data_points: Option<Bounded<usize, 1, { u32::MAX as u64 }>>,
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

/// An integer in `MIN..=MAX`, as the `T` its builder method takes (the bounds fit in `T`).
struct Bounded<T, const MIN: u64, const MAX: u64>(T);

impl<'de, T: TryFrom<u64>, const MIN: u64, const MAX: u64> Deserialize<'de>
    for Bounded<T, MIN, MAX>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(d)?;
        match T::try_from(value) {
            Ok(n) if (MIN..=MAX).contains(&value) => Ok(Bounded(n)),
            _ => Err(de::Error::custom(format!(
                "{value} is outside {MIN}..={MAX}"
            ))),
        }
    }
}

/// A rate in `0.0..=1.0`.
struct Rate(f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_f64(
            d,
            |v| (0.0..=1.0).contains(&v),
            |v| format!("rate {v} is outside 0.0..=1.0"),
        )
        .map(Rate)
    }
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

/// A number that `accept`s, else the error `refusal` writes.
fn checked_f64<'de, D: Deserializer<'de>>(
    d: D,
    accept: fn(f64) -> bool,
    refusal: fn(f64) -> String,
) -> Result<f64, D::Error> {
    let value = f64::deserialize(d)?;
    if accept(value) {
        Ok(value)
    } else {
        Err(de::Error::custom(refusal(value)))
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

/// Parses `250ms`, `2s`, `1.5s`, `1m`, `1h`, `500us`, `10ns`: the attributes' parser
/// (`coord-duration`), so a file and an attribute agree on units, rounding and limits.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    use coord_duration::DurationError;
    let text = text.trim();
    coord_duration::parse(text).map_err(|error| match error {
        DurationError::Negative => format!("duration `{text}` must not be negative"),
        DurationError::NoUnit => format!("duration `{text}` needs a unit (ns, us, ms, s, m, h)"),
        DurationError::UnknownUnit(other) => {
            format!("unknown duration unit `{other}` in `{text}`; expected ns, us, ms, s, m or h")
        }
        DurationError::TooLarge => format!("duration `{text}` is out of range"),
        _ => format!("`{text}` is not a duration such as \"250ms\""),
    })
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
    let circuit_breakers = check_each(
        "circuit_breakers",
        file.circuit_breakers,
        BreakerModel::config,
        BreakerConfig::validate,
    )?;
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
    let bulkheads = check_each(
        "bulkheads",
        file.bulkheads,
        BulkheadModel::config,
        BulkheadConfig::validate,
    )?;
    let rate_limits = check_each(
        "rate_limits",
        file.rate_limits,
        RateLimitModel::config,
        RateLimitConfig::validate,
    )?;
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
        apply_each(
            "circuit_breakers",
            self.circuit_breakers,
            crate::breaker::configure_from_file,
            &mut loaded.circuit_breakers,
        )?;
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
        apply_each(
            "bulkheads",
            self.bulkheads,
            crate::bulkhead::bulkhead_with,
            &mut loaded.bulkheads,
        )?;
        apply_each(
            "rate_limits",
            self.rate_limits,
            crate::rate_limit::rate_limiter_with,
            &mut loaded.rate_limits,
        )?;
        Ok(loaded)
    }
}

/// The builder `$builder` with each key of `$model` that the file sets applied through the
/// builder method of the same name (every model field is named after its method).
macro_rules! set_keys {
    ($builder:expr, $model:ident, [$($key:ident),* $(,)?]) => {{
        let mut builder = $builder;
        $(
            if let Some(value) = $model.$key {
                builder = builder.$key(value.0);
            }
        )*
        builder
    }};
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

impl MonitorModel {
    fn config(self) -> MonitorConfig {
        set_keys!(
            MonitorConfig::default(),
            self,
            [collection_interval, max_data_points]
        )
    }
}

impl BulkheadModel {
    fn config(self) -> BulkheadConfig {
        set_keys!(BulkheadConfig::default(), self, [max_concurrent, max_wait])
    }
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

/// Each entry of the named-map `section`, built by `build` and checked by `check`; the first
/// refusal is reported as `section.name: reason`.
fn check_each<M, C, E: Display>(
    section: &str,
    models: BTreeMap<String, M>,
    build: impl Fn(M) -> C,
    check: impl Fn(&C) -> Result<(), E>,
) -> Result<Vec<(String, C)>, Located> {
    let mut checked = Vec::with_capacity(models.len());
    for (name, model) in models {
        let config = build(model);
        check(&config).map_err(|e| invalid(None, format!("{section}.{name}: {e}")))?;
        checked.push((name, config));
    }
    Ok(checked)
}

/// Creates or reconfigures each checked entry of `section` with `apply`, adding its name to
/// `names`; a refusal (a race with another `configure`) is reported as `section.name: reason`.
fn apply_each<C, T, E: Display>(
    section: &str,
    entries: Vec<(String, C)>,
    apply: impl Fn(&str, C) -> Result<T, E>,
    names: &mut Vec<String>,
) -> Result<(), Located> {
    for (name, config) in entries {
        apply(&name, config).map_err(|e| invalid(None, format!("{section}.{name}: {e}")))?;
        names.push(name);
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
