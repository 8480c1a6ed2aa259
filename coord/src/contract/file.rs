//! Building blocks of the configuration file's sections: value types checked while serde reads
//! them (so every error carries its line and column), and the check and apply loops of a
//! section that maps names to configurations (`circuit_breakers: { db: {...} }`).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// A duration written like `250ms` or `2s`.
pub(crate) struct DurationValue(pub(crate) Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_text(d, parse_duration).map(DurationValue)
    }
}

/// An integer in `MIN..=MAX`, as the `T` its builder method takes (the bounds fit in `T`).
pub(crate) struct Bounded<T, const MIN: u64, const MAX: u64>(pub(crate) T);

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
pub(crate) struct Rate(pub(crate) f64);

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

/// A number that `accept`s, else the error `refusal` writes.
pub(crate) fn checked_f64<'de, D: Deserializer<'de>>(
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

/// Text that `parse` reads, else its error (to which serde adds the line and column).
pub(crate) fn parsed_text<'de, D: Deserializer<'de>, T, E: Display>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(de::Error::custom)
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
pub(crate) use set_keys;

/// Each entry of the named-map section `key`, built by `build` (given its name) and checked by
/// `check`; the first refusal is reported as `key.name: reason`.
pub(crate) fn check_each<M, C, E: Display>(
    key: &str,
    models: BTreeMap<String, M>,
    build: impl Fn(&str, M) -> C,
    check: impl Fn(&C) -> Result<(), E>,
) -> Result<Vec<(String, C)>, String> {
    let mut checked = Vec::with_capacity(models.len());
    for (name, model) in models {
        let config = build(&name, model);
        check(&config).map_err(|e| format!("{key}.{name}: {e}"))?;
        checked.push((name, config));
    }
    Ok(checked)
}

/// Creates or reconfigures each checked entry of section `key` with `apply`, returning their
/// names; a refusal (a race with another `configure`) is reported as `key.name: reason`.
pub(crate) fn apply_each<C, T, E: Display>(
    key: &str,
    entries: Vec<(String, C)>,
    apply: impl Fn(&str, C) -> Result<T, E>,
) -> Result<Vec<String>, String> {
    let mut names = Vec::with_capacity(entries.len());
    for (name, config) in entries {
        apply(&name, config).map_err(|e| format!("{key}.{name}: {e}"))?;
        names.push(name);
    }
    Ok(names)
}

/// A section that maps names to configurations (`circuit_breakers: { db: {...} }`): the unit struct
/// `$section` and its [`FileSection`](crate::contract::FileSection), whose entries are read as
/// `$model`, built into a `$config` by `$build(name, model)`, checked by `$check(&config)` and
/// applied by `$apply(name, config)`; it reports the names it applied.
macro_rules! named_section {
    (
        $(#[$doc:meta])*
        $section:ident {
            model: $model:ty,
            config: $config:ty,
            build: $build:expr,
            check: $check:expr,
            apply: $apply:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        pub(crate) struct $section;

        impl $crate::contract::FileSection for $section {
            type Model = ::std::collections::BTreeMap<String, $model>;
            type Checked = Vec<(String, $config)>;
            type Loaded = Vec<String>;
            type Error = String;

            fn check(key: &str, model: Self::Model) -> Result<Self::Checked, String> {
                $crate::contract::file::check_each(key, model, $build, $check)
            }

            fn apply(key: &str, checked: Self::Checked) -> Result<Vec<String>, String> {
                $crate::contract::file::apply_each(key, checked, $apply)
            }
        }
    };
}
pub(crate) use named_section;
