//! Serde helpers for the `_ms` fields of serialized reports: durations and instants as
//! milliseconds in an `f64`. A leaf: every layer that serializes a duration uses these.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Serializes a `SystemTime` as milliseconds since the Unix epoch in an `f64`.
pub(crate) fn unix_ms<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let ms = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64() * 1e3,
        Err(e) => -(e.duration().as_secs_f64() * 1e3),
    };
    s.serialize_f64(ms)
}

/// Serializes an optional `Duration` as milliseconds in an `f64`, or null.
pub(crate) fn opt_ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&millis(*d)),
        None => s.serialize_none(),
    }
}

/// Serializes a `Duration` as milliseconds in an `f64` (`#[serde(with = "crate::serde_ms::ms")]`).
pub(crate) mod ms {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(super::millis(*d))
    }
}

/// From whole nanoseconds, so 30 ns prints as 0.00003 rather than 0.000029999999999999997.
fn millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}
