//! A writer for the Prometheus text exposition format (version 0.0.4).
//!
//! Operation latency is the histogram `coord_operation_duration_seconds` with the fixed bucket
//! bounds of [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS) (a 1-2-5 series from
//! 100 µs to 1 h), so buckets from many processes add up and
//! `histogram_quantile(0.99, sum by (le, operation) (rate(coord_operation_duration_seconds_bucket[5m])))`
//! works across a fleet.

use std::fmt::Write as _;

/// The kind of a metric family, as written on its `# TYPE` line.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// The `le` label of each bucket: [`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS) in
/// seconds, then `+Inf`.
const LE: [&str; 25] = [
    "0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2",
    "0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "3600", "+Inf",
];

/// A metric family: its name, kind and help text.
pub(crate) type Family = (&'static str, Kind, &'static str);

/// A family with one sample per row: its name, kind, help and the row's value.
pub(crate) type PerRow<T> = (&'static str, Kind, &'static str, fn(&T) -> f64);

/// Builds one exposition: families with HELP/TYPE lines, then their samples.
#[derive(Default)]
pub(crate) struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a metric family. Every family is written once, before its samples.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// Writes each of `families` with one sample per row, labelled `label="<key of the row>"`.
    pub(crate) fn per_row<T>(
        &mut self,
        rows: &[T],
        label: &str,
        key: fn(&T) -> &str,
        families: &[PerRow<T>],
    ) {
        for &(name, kind, help, value) in families {
            self.family(name, kind, help);
            for row in rows {
                self.sample(name, &[(label, key(row))], value(row));
            }
        }
    }

    /// Writes `family` with one unlabelled sample.
    pub(crate) fn single(&mut self, (name, kind, help): Family, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// Writes `family` with one sample per `(value of label, value)`.
    pub(crate) fn by_label<'a>(
        &mut self,
        (name, kind, help): Family,
        label: &str,
        samples: impl IntoIterator<Item = (&'a str, f64)>,
    ) {
        self.family(name, kind, help);
        for (label_value, value) in samples {
            self.sample(name, &[(label, label_value)], value);
        }
    }

    /// Writes `family` with, for each row, one sample per `(split value, value)` that `split`
    /// returns, labelled `row_label="<key of the row>"` and `split_label="<split value>"`.
    pub(crate) fn per_row_split<T, const N: usize>(
        &mut self,
        (name, kind, help): Family,
        rows: &[T],
        [row_label, split_label]: [&str; 2],
        key: fn(&T) -> &str,
        split: fn(&T) -> [(&'static str, f64); N],
    ) {
        self.family(name, kind, help);
        for row in rows {
            for (split_value, value) in split(row) {
                self.sample(
                    name,
                    &[(row_label, key(row)), (split_label, split_value)],
                    value,
                );
            }
        }
    }

    /// Writes one sample line.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            write_labels(&mut self.out, labels);
            self.out.push('}');
        }
        self.out.push(' ');
        write_number(&mut self.out, value);
        self.out.push('\n');
    }

    /// Writes the samples of one histogram: a `_bucket` line per bound of `cumulative` (counts
    /// at [`LE`] without `+Inf`), the `+Inf` bucket and `_count` from `count`, and `_sum`.
    pub(crate) fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        cumulative: &[u64],
        count: u64,
        sum: f64,
    ) {
        // Thousands of bucket lines per scrape: escape the labels once, format counts as
        // integers.
        let mut rendered = String::new();
        write_labels(&mut rendered, labels);
        let sep = if labels.is_empty() { "" } else { "," };
        for (le, value) in LE.iter().zip(cumulative.iter().chain([&count])) {
            let _ = writeln!(
                self.out,
                "{name}_bucket{{{rendered}{sep}le=\"{le}\"}} {value}"
            );
        }
        let braces = |out: &mut String| {
            if !labels.is_empty() {
                let _ = write!(out, "{{{rendered}}}");
            }
        };
        let _ = write!(self.out, "{name}_sum");
        braces(&mut self.out);
        self.out.push(' ');
        write_number(&mut self.out, sum);
        let _ = write!(self.out, "\n{name}_count");
        braces(&mut self.out);
        let _ = writeln!(self.out, " {count}");
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// One registry keyed by run-time names, with a cap: the `registry` label of
/// `coord_dropped_names_total` and how to read its count of names sent to the overflow entry.
pub(crate) struct CappedRegistry {
    /// The label value, plural ("operations").
    pub(crate) label: &'static str,
    /// Lookups of a new name that found the registry full, since start or the last reset.
    pub(crate) dropped: fn() -> u64,
}

/// Every capped registry, in the order they are exposed. A registry that gains a cap (through
/// `crate::capped`) adds its row here.
pub(crate) const CAPPED_REGISTRIES: &[CappedRegistry] = &[
    CappedRegistry {
        label: "operations",
        dropped: crate::perf::dropped_names,
    },
    CappedRegistry {
        label: "retry_budgets",
        dropped: crate::retry::dropped_budget_names,
    },
    CappedRegistry {
        label: "bulkheads",
        dropped: crate::bulkhead::dropped_names,
    },
    CappedRegistry {
        label: "rate_limiters",
        dropped: crate::rate_limit::dropped_names,
    },
    CappedRegistry {
        label: "error_rows",
        dropped: crate::errors::dropped_names,
    },
    CappedRegistry {
        label: "breakers",
        dropped: crate::breaker::dropped_names,
    },
    CappedRegistry {
        label: "keyed_breaker_groups",
        dropped: crate::breaker::dropped_keyed_group_names,
    },
    CappedRegistry {
        label: "timeout_counters",
        dropped: crate::timeout::dropped_timeout_names,
    },
];

impl Exposition {
    /// The family `coord_dropped_names_total{registry}`: one sample per capped registry, read
    /// now.
    pub(crate) fn dropped_names(&mut self) {
        const NAME: &str = "coord_dropped_names_total";
        self.family(
            NAME,
            Kind::Counter,
            "Lookups of a new name that found the registry full and were given its shared entry coord.overflow.",
        );
        for registry in CAPPED_REGISTRIES {
            self.sample(
                NAME,
                &[("registry", registry.label)],
                (registry.dropped)() as f64,
            );
        }
    }
}

/// `key="value",...` with the values escaped.
fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        push_escaped_label(out, value);
        out.push('"');
    }
}

/// Appends `value` with `\`, `"` and newlines escaped as the format requires.
fn push_escaped_label(out: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A label value with `\`, `"` and newlines escaped as the format requires.
#[cfg(test)]
pub(crate) fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_escaped_label(&mut out, value);
    out
}

/// HELP text with `\` and newlines escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn write_number(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut e = Exposition::default();
        e.family("x_total", Kind::Counter, "line one\nline \\ two");
        e.sample("x_total", &[("op", "q\"\n\\")], 1.0);
        assert_eq!(
            e.finish(),
            "# HELP x_total line one\\nline \\\\ two\n# TYPE x_total counter\nx_total{op=\"q\\\"\\n\\\\\"} 1\n"
        );
    }

    #[test]
    fn le_labels_match_the_export_bounds() {
        use crate::perf::histogram::EXPORT_BOUNDS;
        assert_eq!(LE.len(), EXPORT_BOUNDS.len() + 1);
        for (le, bound) in LE.iter().zip(EXPORT_BOUNDS) {
            assert_eq!(le.parse::<f64>().unwrap(), bound.as_secs_f64(), "{le}");
        }
        assert_eq!(LE[LE.len() - 1], "+Inf");
    }

    #[test]
    fn histogram_lines() {
        let mut e = Exposition::default();
        e.family("h_seconds", Kind::Histogram, "h");
        let mut cumulative = [3u64; 24];
        cumulative[0] = 1;
        e.histogram("h_seconds", &[("op", "a")], &cumulative, 4, 0.5);
        let text = e.finish();
        assert!(text.contains("# TYPE h_seconds histogram\n"), "{text}");
        assert!(
            text.contains("h_seconds_bucket{op=\"a\",le=\"0.0001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("h_seconds_bucket{op=\"a\",le=\"3600\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("h_seconds_bucket{op=\"a\",le=\"+Inf\"} 4\n"),
            "{text}"
        );
        assert!(text.ends_with("h_seconds_sum{op=\"a\"} 0.5\nh_seconds_count{op=\"a\"} 4\n"));
    }

    #[test]
    fn every_capped_registry_has_a_dropped_names_sample() {
        let mut e = Exposition::default();
        e.dropped_names();
        let text = e.finish();
        assert!(
            text.contains("# TYPE coord_dropped_names_total counter\n"),
            "{text}"
        );
        for registry in CAPPED_REGISTRIES {
            let line = format!(
                "coord_dropped_names_total{{registry=\"{}\"}} ",
                registry.label
            );
            assert!(text.contains(&line), "{text}");
        }
    }

    #[test]
    fn special_floats() {
        let number = |v| {
            let mut out = String::new();
            write_number(&mut out, v);
            out
        };
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(3.0), "3");
    }
}
