//! Reads coord's own Prometheus exposition back into samples. The exposition is the one place
//! that says which sample of which family carries which labels and value (each mechanism's
//! `section.rs`), so the instruments mirror it exactly, families added later included, and read
//! the registries exactly as `/metrics` does (a report: never blocking a recorder).

use std::collections::HashMap;

use super::families::FAMILIES;

/// Labels of one sample, in exposition order.
pub(crate) type Labels = Vec<(String, String)>;

/// One histogram series: cumulative counts at each bound (the last one `+Inf`), sum, count.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

/// Every sample of one exposition, per family (indexes of [`FAMILIES`]).
#[derive(Debug, Default)]
pub(crate) struct Samples {
    /// Counter and gauge samples.
    pub(crate) scalars: Vec<Vec<(Labels, f64)>>,
    /// Histogram series by their labels (without `le`).
    pub(crate) histograms: Vec<Vec<(Labels, Series)>>,
}

/// Which family a sample line belongs to, and which part of a histogram it is.
enum Part {
    Scalar,
    Bucket,
    Sum,
    Count,
}

/// Parses `text` (coord's exposition); lines of families not in [`FAMILIES`] and lines that do
/// not parse are skipped (a unit test keeps the two in step).
pub(crate) fn parse(text: &str) -> Samples {
    let by_name: HashMap<&str, usize> = FAMILIES
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name, i))
        .collect();
    let mut samples = Samples {
        scalars: vec![Vec::new(); FAMILIES.len()],
        histograms: vec![Vec::new(); FAMILIES.len()],
    };
    // A histogram's lines for one series are consecutive (`_bucket` lines, `_sum`, `_count`),
    // their labels written the same way: the series of the previous line, by family and label
    // text (without `le`), is found again without parsing the labels (1,000 operations are
    // 27,000 such lines).
    let mut previous: Option<(usize, &str)> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let Some((name, raw, value)) = split_line(line) else {
            continue;
        };
        let Some((index, part)) = family_of(&by_name, name) else {
            continue;
        };
        if let Part::Scalar = part {
            if let Some(labels) = parse_labels(raw) {
                samples.scalars[index].push((labels, value));
            }
            continue;
        }
        let (series_raw, is_bucket) = match part {
            Part::Bucket => match without_le(raw) {
                Some(rest) => (rest, true),
                None => continue,
            },
            _ => (raw, false),
        };
        if previous != Some((index, series_raw)) {
            let Some(labels) = parse_labels(series_raw) else {
                continue;
            };
            samples.histograms[index].push((labels, Series::default()));
            previous = Some((index, series_raw));
        }
        let Some((_, series)) = samples.histograms[index].last_mut() else {
            continue;
        };
        match part {
            Part::Bucket if is_bucket => series.cumulative.push(value as u64),
            Part::Sum => series.sum = value,
            Part::Count => series.count = value as u64,
            _ => {}
        }
    }
    samples
}

fn family_of(by_name: &HashMap<&str, usize>, name: &str) -> Option<(usize, Part)> {
    if let Some(&i) = by_name.get(name) {
        return Some((i, Part::Scalar));
    }
    for (suffix, part) in [
        ("_bucket", Part::Bucket),
        ("_sum", Part::Sum),
        ("_count", Part::Count),
    ] {
        if let Some(&i) = name.strip_suffix(suffix).and_then(|n| by_name.get(n))
            && FAMILIES[i].is_counter().is_none()
        {
            return Some((i, part));
        }
    }
    None
}

/// The label text of a bucket line without its `le` label, which the exposition writes last.
fn without_le(raw: &str) -> Option<&str> {
    if raw.starts_with("le=\"") {
        return Some("");
    }
    raw.rfind(",le=\"").map(|at| &raw[..at])
}

/// `name{labels} value` or `name value`: the name, the text between the braces, the value.
fn split_line(line: &str) -> Option<(&str, &str, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut raw = "";
    if let Some(after) = rest.strip_prefix('{') {
        // The closing brace is the first one outside a quoted value (bytes: every delimiter is
        // ASCII, and a multi-byte character never contains an ASCII byte).
        let (mut quoted, mut escaped) = (false, false);
        let close = after.bytes().position(|b| {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b'}' if !quoted => return true,
                _ => {}
            }
            false
        })?;
        raw = &after[..close];
        rest = &after[close + 1..];
    }
    let value = match rest.trim() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    Some((name, raw, value))
}

/// `k="v",...` with the values unescaped.
fn parse_labels(mut rest: &str) -> Option<Labels> {
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start_matches(',');
        if rest.is_empty() {
            return Some(labels);
        }
        let eq = rest.find("=\"")?;
        let key = rest[..eq].to_owned();
        rest = &rest[eq + 2..];
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                c => value.push(c),
            }
        };
        rest = &rest[end + 1..];
        labels.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::exposition::{Exposition, Family};
    use crate::perf::section::{OPERATION_CALLS_TOTAL, OPERATION_DURATION_SECONDS};

    fn index(family: &Family) -> usize {
        FAMILIES.iter().position(|m| m.name == family.name).unwrap()
    }

    #[test]
    fn reads_back_what_the_exposition_writes() {
        let mut e = Exposition::default();
        e.family(&OPERATION_CALLS_TOTAL);
        e.sample(
            OPERATION_CALLS_TOTAL.name,
            &[("operation", "q\"\n\\,}x"), ("outcome", "success")],
            3.0,
        );
        e.family(&OPERATION_DURATION_SECONDS);
        e.histogram(
            OPERATION_DURATION_SECONDS.name,
            &[("operation", "a")],
            &["0.1", "+Inf"],
            &[2],
            5,
            1.5,
            &[],
        );
        e.sample("not_coord_total", &[], 1.0);
        let samples = parse(&e.finish());
        assert_eq!(
            samples.scalars[index(&OPERATION_CALLS_TOTAL)],
            vec![(
                vec![
                    ("operation".to_owned(), "q\"\n\\,}x".to_owned()),
                    ("outcome".to_owned(), "success".to_owned())
                ],
                3.0
            )]
        );
        assert_eq!(
            samples.histograms[index(&OPERATION_DURATION_SECONDS)],
            vec![(
                vec![("operation".to_owned(), "a".to_owned())],
                Series {
                    cumulative: vec![2, 5],
                    sum: 1.5,
                    count: 5
                }
            )]
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let samples = parse("coord_errors_total{severity=\"x} 1\ncoord_errors_total zz\n");
        assert!(samples.scalars.iter().all(Vec::is_empty));
    }
}
