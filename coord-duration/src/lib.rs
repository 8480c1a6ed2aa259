//! The duration text of coord, parsed one way everywhere: by the attributes of `coord-macros`
//! at compile time (`#[retry(base_delay = "250ms")]`) and by `coord`'s configuration file at run
//! time (`base_delay: 250ms`). Both crates depend on this one so that they agree on units,
//! rounding and limits; each words its own errors from [`DurationError`].
//!
//! A duration is a non-negative decimal number and a unit: `ns`, `us` (or `µs`), `ms`, `s`,
//! `m`, `h`. Surrounding whitespace and whitespace before the unit are allowed. The value is
//! rounded to the nearest nanosecond and must fit in `u64` nanoseconds (about 584 years).
//!
//! ```
//! use std::time::Duration;
//!
//! assert_eq!(coord_duration::parse("250ms"), Ok(Duration::from_millis(250)));
//! assert_eq!(coord_duration::parse("1.5 s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(
//!     coord_duration::parse("10"),
//!     Err(coord_duration::DurationError::NoUnit)
//! );
//! ```

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

/// The units, as written, with their length in nanoseconds.
pub const UNITS: [(&str, f64); 7] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Why a text is not a duration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationError {
    /// It starts with `-`.
    Negative,
    /// A number without a unit (`"10"`).
    NoUnit,
    /// A unit that is not one of [`UNITS`]; holds the unit as written.
    UnknownUnit(String),
    /// The part before the unit is not a decimal number.
    NotANumber,
    /// More than `u64::MAX` nanoseconds.
    TooLarge,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Negative => f.write_str("a duration must not be negative"),
            Self::NoUnit => f.write_str("a duration needs a unit (ns, us, ms, s, m, h)"),
            Self::UnknownUnit(unit) => {
                write!(
                    f,
                    "unknown duration unit `{unit}`; expected ns, us, ms, s, m or h"
                )
            }
            Self::NotANumber => f.write_str("not a duration such as \"250ms\""),
            Self::TooLarge => f.write_str("the duration is too large"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses a duration such as `"250ms"`, `"1.5s"`, `"2m"` or `"500us"`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim();
    if unit.is_empty() {
        return Err(DurationError::NoUnit);
    }
    let Some(&(_, nanos_per_unit)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(DurationError::UnknownUnit(unit.to_owned()));
    };
    let value: f64 = number.parse().map_err(|_| DurationError::NotANumber)?;
    let nanos = (value * nanos_per_unit).round();
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(DurationError::TooLarge);
    }
    // In range and non-negative: the cast is exact up to f64's precision.
    Ok(Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit() {
        let cases = [
            ("10ns", Duration::from_nanos(10)),
            ("500us", Duration::from_micros(500)),
            ("500µs", Duration::from_micros(500)),
            ("250ms", Duration::from_millis(250)),
            ("2s", Duration::from_secs(2)),
            ("1m", Duration::from_secs(60)),
            ("1h", Duration::from_secs(3600)),
            (" 1.5 s ", Duration::from_millis(1500)),
            ("0ms", Duration::ZERO),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rounds_to_the_nearest_nanosecond() {
        assert_eq!(parse("1.4ns"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse("1.6ns"), Ok(Duration::from_nanos(2)));
        assert_eq!(parse("0.1s"), Ok(Duration::from_millis(100)));
    }

    #[test]
    fn bad_text_says_why() {
        assert_eq!(parse("-5ms"), Err(DurationError::Negative));
        assert_eq!(parse("10"), Err(DurationError::NoUnit));
        assert_eq!(parse(""), Err(DurationError::NoUnit));
        assert_eq!(
            parse("5 parsecs"),
            Err(DurationError::UnknownUnit("parsecs".into()))
        );
        assert_eq!(parse("1.2.3s"), Err(DurationError::NotANumber));
        assert_eq!(parse("ms"), Err(DurationError::NotANumber));
        assert_eq!(
            parse("1e300h"),
            Err(DurationError::UnknownUnit("e300h".into()))
        );
        assert_eq!(parse("99999999999999h"), Err(DurationError::TooLarge));
    }
}
