//! The global report: everything the registries hold, for people (`Display`) and for tools
//! (`to_json`, `to_yaml`, `to_prometheus`).
//!
//! # Serialized schema
//!
//! `to_json()` and `to_yaml()` serialize the same tree, documented on [`Report`]. Field names
//! are stable; durations are milliseconds as floats with a `_ms` suffix; rates are ratios in
//! `0.0..=1.0`.
//!
//! Each section is written by the mechanism that owns it (its `section.rs`); the list in
//! `crate::mechanisms` gives their order and the fields of [`Report`].

use std::fmt;

use crate::contract::exposition::{Exposition, Family, Format};
use crate::mechanisms::CAPPED;

pub use crate::mechanisms::Report;
pub use crate::timeout::TimeoutCount;

/// A fresh report of every registry (the door is `crate::report()`).
pub(crate) fn build() -> Report {
    crate::mechanisms::read_report()
}

/// Why a report could not be serialized.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// JSON serialization failed.
    #[error("cannot write the report as JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// YAML serialization failed.
    #[error("cannot write the report as YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
}

impl Report {
    /// The report as pretty-printed JSON (schema on [`Report`]).
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(ReportError::Json)
    }

    /// The report as YAML (same schema as JSON).
    pub fn to_yaml(&self) -> Result<String, ReportError> {
        serde_norway::to_string(self).map_err(ReportError::Yaml)
    }

    /// The report in the Prometheus text exposition format, in base units (seconds, ratios).
    /// Latency is the histogram `coord_operation_duration_seconds` with the fixed bucket bounds
    /// of [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS), so instances aggregate.
    pub fn to_prometheus(&self) -> String {
        self.exposition(Format::Prometheus)
    }

    /// The report in the OpenMetrics 1.0 text format: the families of
    /// [`to_prometheus`](Self::to_prometheus) with OpenMetrics' counter metadata and `# EOF`,
    /// and (feature `otel`) on each latency bucket line the latest call of that bucket that ran
    /// in a sampled span, as an exemplar `# {trace_id="…",span_id="…"} <seconds> <timestamp>`.
    /// What `/metrics` answers a scraper that asks for `application/openmetrics-text`.
    pub fn to_openmetrics(&self) -> String {
        self.exposition(Format::OpenMetrics)
    }

    fn exposition(&self, format: Format) -> String {
        let mut out = Exposition::new(format);
        self.export_sections(&mut out);
        dropped_names(&mut out);
        out.finish()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "coord report")?;
        self.render_sections(f)
    }
}

/// Per capped registry, the names sent to its overflow entry.
pub(crate) const DROPPED_NAMES_TOTAL: Family = Family::counter(
    "coord_dropped_names_total",
    "{name}",
    "Lookups of a new name that found the registry full and were given its shared entry coord.overflow.",
);

/// The family `coord_dropped_names_total{registry}`: one sample per capped registry, read now.
fn dropped_names(out: &mut Exposition) {
    out.family(&DROPPED_NAMES_TOTAL);
    for registry in CAPPED {
        out.sample(
            DROPPED_NAMES_TOTAL.name,
            &[("registry", registry.label)],
            (registry.dropped)() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capped_registry_has_a_dropped_names_sample() {
        let mut e = Exposition::default();
        dropped_names(&mut e);
        let text = e.finish();
        assert!(
            text.contains("# TYPE coord_dropped_names_total counter\n"),
            "{text}"
        );
        for registry in CAPPED {
            let line = format!(
                "coord_dropped_names_total{{registry=\"{}\"}} ",
                registry.label
            );
            assert!(text.contains(&line), "{text}");
        }
    }
}
