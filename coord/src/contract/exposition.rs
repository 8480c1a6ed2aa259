//! A writer for the Prometheus text exposition format (version 0.0.4) and for OpenMetrics 1.0
//! text: families with their HELP and TYPE lines, samples with escaped labels, histograms. Each
//! mechanism writes its own families with it (its `section.rs`); the report only orders the
//! sections. The two formats differ only here, by [`Format`]: OpenMetrics names a counter's
//! family without its `_total`, escapes `"` in HELP, writes the histograms' exemplars and ends
//! with `# EOF`.

use std::fmt::Write as _;

/// The kind of a metric family, as written on its `# TYPE` line.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// A metric family: its name, kind, unit and help text. Each is declared once, as a constant
/// beside what it measures (the `section.rs` of its mechanism, which lists them for the
/// OpenTelemetry instruments); the `metrics` bridge takes its name.
#[derive(Clone, Copy)]
pub(crate) struct Family {
    /// The family's name (`coord_..._total`).
    pub(crate) name: &'static str,
    kind: Kind,
    /// The OpenTelemetry unit of its values (UCUM; `{annotation}` for counts): Prometheus
    /// carries it in the name's suffix instead.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    unit: &'static str,
    help: &'static str,
}

impl Family {
    const fn new(name: &'static str, kind: Kind, unit: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind,
            unit,
            help,
        }
    }

    /// A counter, its unit and its help.
    pub(crate) const fn counter(
        name: &'static str,
        unit: &'static str,
        help: &'static str,
    ) -> Self {
        Self::new(name, Kind::Counter, unit, help)
    }

    /// A gauge, its unit and its help.
    pub(crate) const fn gauge(name: &'static str, unit: &'static str, help: &'static str) -> Self {
        Self::new(name, Kind::Gauge, unit, help)
    }

    /// A histogram, its unit and its help.
    pub(crate) const fn histogram(
        name: &'static str,
        unit: &'static str,
        help: &'static str,
    ) -> Self {
        Self::new(name, Kind::Histogram, unit, help)
    }

    /// Whether the family is a counter (`Some(true)`), a gauge (`Some(false)`) or a histogram
    /// (`None`): for the OpenTelemetry instruments, which mirror the families.
    #[cfg(feature = "otel")]
    pub(crate) const fn is_counter(&self) -> Option<bool> {
        match self.kind {
            Kind::Counter => Some(true),
            Kind::Gauge => Some(false),
            Kind::Histogram => None,
        }
    }

    /// The help text, for the OpenTelemetry instruments' descriptions.
    #[cfg(feature = "otel")]
    pub(crate) const fn help(&self) -> &'static str {
        self.help
    }

    /// The OpenTelemetry unit.
    #[cfg(feature = "otel")]
    pub(crate) const fn unit(&self) -> &'static str {
        self.unit
    }
}

/// A family with one sample per row, and the row's value.
pub(crate) type PerRow<T> = (Family, fn(&T) -> f64);

/// The text format an exposition is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text format 0.0.4.
    #[default]
    Prometheus,
    /// OpenMetrics 1.0 text, with exemplars.
    OpenMetrics,
}

/// One call's trace link, written after its bucket's line in OpenMetrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exemplar {
    /// The W3C trace id, 16 bytes.
    pub(crate) trace_id: [u8; 16],
    /// The span id, 8 bytes.
    pub(crate) span_id: [u8; 8],
    /// The call's exact latency, in nanoseconds.
    pub(crate) nanos: u64,
    /// When the call finished, nanoseconds since the Unix epoch.
    pub(crate) unix_nanos: u64,
}

/// Builds one exposition: families with HELP/TYPE lines, then their samples.
#[derive(Default)]
pub(crate) struct Exposition {
    out: String,
    format: Format,
}

impl Exposition {
    /// An empty exposition in `format`.
    pub(crate) fn new(format: Format) -> Self {
        Self {
            out: String::new(),
            format,
        }
    }

    /// Starts a metric family. Every family is written once, before its samples.
    pub(crate) fn family(&mut self, family: &Family) {
        let Family {
            name, kind, help, ..
        } = family;
        let (kind, name) = match kind {
            // OpenMetrics names the family, and its samples add `_total`.
            Kind::Counter if self.format == Format::OpenMetrics => {
                ("counter", name.strip_suffix("_total").unwrap_or(name))
            }
            Kind::Counter => ("counter", *name),
            Kind::Gauge => ("gauge", *name),
            Kind::Histogram => ("histogram", *name),
        };
        let help = match self.format {
            Format::Prometheus => escape_help(help),
            Format::OpenMetrics => escape_help(help).replace('"', "\\\""),
        };
        let _ = writeln!(self.out, "# HELP {name} {help}");
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
        for (family, value) in families {
            self.family(family);
            for row in rows {
                self.sample(family.name, &[(label, key(row))], value(row));
            }
        }
    }

    /// Writes `family` with one unlabelled sample.
    pub(crate) fn single(&mut self, family: &Family, value: f64) {
        self.family(family);
        self.sample(family.name, &[], value);
    }

    /// Writes `family` with one sample per `(value of label, value)`.
    pub(crate) fn by_label<'a>(
        &mut self,
        family: &Family,
        label: &str,
        samples: impl IntoIterator<Item = (&'a str, f64)>,
    ) {
        self.family(family);
        for (label_value, value) in samples {
            self.sample(family.name, &[(label, label_value)], value);
        }
    }

    /// Writes `family` with, for each row, one sample per `(split value, value)` that `split`
    /// returns, labelled `row_label="<key of the row>"` and `split_label="<split value>"`.
    pub(crate) fn per_row_split<T, const N: usize>(
        &mut self,
        family: &Family,
        rows: &[T],
        [row_label, split_label]: [&str; 2],
        key: fn(&T) -> &str,
        split: fn(&T) -> [(&'static str, f64); N],
    ) {
        self.family(family);
        for row in rows {
            for (split_value, value) in split(row) {
                self.sample(
                    family.name,
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
    /// at the bounds `le`, whose last one is `+Inf`), the `+Inf` bucket and `_count` from
    /// `count`, and `_sum`. In OpenMetrics, the bucket lines carry their `exemplars`
    /// (`(index into le, exemplar)`, ascending).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        le: &[&str],
        cumulative: &[u64],
        count: u64,
        sum: f64,
        exemplars: &[(usize, Exemplar)],
    ) {
        // Thousands of bucket lines per scrape: escape the labels once, format counts as
        // integers.
        let mut rendered = String::new();
        write_labels(&mut rendered, labels);
        let sep = if labels.is_empty() { "" } else { "," };
        let mut exemplars = match self.format {
            Format::OpenMetrics => exemplars,
            Format::Prometheus => &[],
        }
        .iter()
        .peekable();
        for (index, (le, value)) in le.iter().zip(cumulative.iter().chain([&count])).enumerate() {
            let _ = write!(
                self.out,
                "{name}_bucket{{{rendered}{sep}le=\"{le}\"}} {value}"
            );
            while exemplars.next_if(|(at, _)| *at < index).is_some() {}
            if let Some((_, exemplar)) = exemplars.next_if(|(at, _)| *at == index) {
                write_exemplar(&mut self.out, exemplar);
            }
            self.out.push('\n');
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

    /// The text; an OpenMetrics exposition ends with `# EOF`.
    pub(crate) fn finish(mut self) -> String {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

/// ` # {trace_id="…",span_id="…"} <seconds> <unix seconds>`: an OpenMetrics exemplar, its ids
/// in W3C lowercase hex, its timestamp exact to the nanosecond.
fn write_exemplar(out: &mut String, exemplar: &Exemplar) {
    out.push_str(" # {trace_id=\"");
    for byte in exemplar.trace_id {
        let _ = write!(out, "{byte:02x}");
    }
    out.push_str("\",span_id=\"");
    for byte in exemplar.span_id {
        let _ = write!(out, "{byte:02x}");
    }
    out.push_str("\"} ");
    write_number(out, exemplar.nanos as f64 / 1e9);
    let _ = write!(
        out,
        " {}.{:09}",
        exemplar.unix_nanos / 1_000_000_000,
        exemplar.unix_nanos % 1_000_000_000
    );
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
        e.family(&Family::counter("x_total", "1", "line one\nline \\ two"));
        e.sample("x_total", &[("op", "q\"\n\\")], 1.0);
        assert_eq!(
            e.finish(),
            "# HELP x_total line one\\nline \\\\ two\n# TYPE x_total counter\nx_total{op=\"q\\\"\\n\\\\\"} 1\n"
        );
    }

    #[test]
    fn histogram_lines() {
        let mut e = Exposition::default();
        e.family(&Family::histogram("h_seconds", "s", "h"));
        let le = ["0.0001", "3600", "+Inf"];
        e.histogram("h_seconds", &[("op", "a")], &le, &[1, 3], 4, 0.5, &[]);
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
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let mut e = Exposition::new(Format::OpenMetrics);
        e.family(&Family::counter("x_total", "1", "say \"hi\""));
        e.sample("x_total", &[("op", "a")], 2.0);
        e.family(&Family::gauge("g_ratio", "1", "g"));
        e.sample("g_ratio", &[], 0.5);
        assert_eq!(
            e.finish(),
            "# HELP x say \\\"hi\\\"\n# TYPE x counter\nx_total{op=\"a\"} 2\n\
             # HELP g_ratio g\n# TYPE g_ratio gauge\ng_ratio 0.5\n# EOF\n"
        );
    }

    #[test]
    fn exemplars_only_in_openmetrics_on_their_bucket() {
        let exemplar = Exemplar {
            trace_id: u128::to_be_bytes(0x4bf92f3577b34da6a3ce929d0e0e4736),
            span_id: u64::to_be_bytes(0x00f067aa0ba902b7),
            nanos: 1_500_000,
            unix_nanos: 1_765_000_000_012_345_678,
        };
        let le = ["0.001", "0.002", "+Inf"];
        let write = |format| {
            let mut e = Exposition::new(format);
            e.family(&Family::histogram("h_seconds", "s", "h"));
            e.histogram(
                "h_seconds",
                &[("op", "a")],
                &le,
                &[0, 1],
                1,
                0.0015,
                &[(1, exemplar)],
            );
            e.finish()
        };
        let om = write(Format::OpenMetrics);
        assert!(
            om.contains(
                "h_seconds_bucket{op=\"a\",le=\"0.002\"} 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"} 0.0015 1765000000.012345678\n"
            ),
            "{om}"
        );
        assert!(
            om.contains("h_seconds_bucket{op=\"a\",le=\"0.001\"} 0\n"),
            "{om}"
        );
        assert!(
            om.contains("h_seconds_bucket{op=\"a\",le=\"+Inf\"} 1\n"),
            "{om}"
        );
        assert!(om.ends_with("# EOF\n"), "{om}");
        let text = write(Format::Prometheus);
        assert!(!text.contains("trace_id"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
        assert!(
            text.contains("h_seconds_bucket{op=\"a\",le=\"0.002\"} 1\n"),
            "{text}"
        );
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
