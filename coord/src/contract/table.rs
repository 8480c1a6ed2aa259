//! Plain-text building blocks of the human report: aligned tables and readable durations. Each
//! mechanism writes its own section with them (its `section.rs`).

use std::fmt;
use std::time::Duration;

/// A duration in the unit that keeps three significant digits readable: `850 ns`, `12.3 µs`,
/// `4.56 ms`, `1.20 s`.
pub(crate) fn duration(d: Duration) -> String {
    let nanos = d.as_nanos() as f64;
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    if unit == "ns" {
        format!("{value:.0} {unit}")
    } else if value < 10.0 {
        format!("{value:.2} {unit}")
    } else if value < 100.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// A name made safe for one table cell: control characters are shown escaped.
pub(crate) fn name(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// A ratio in 0..=1 as a percentage with one decimal.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// The mean of `waits` waits that took `total` together, or `-` when there were none.
pub(crate) fn mean_wait(total: Duration, waits: u64) -> String {
    if waits == 0 {
        return "-".into();
    }
    let waits = u32::try_from(waits).unwrap_or(u32::MAX);
    duration(total / waits)
}

/// Column alignment.
#[derive(Clone, Copy)]
pub(crate) enum Align {
    Left,
    Right,
}

/// One column of a table: its header, its alignment and how a row writes its cell.
pub(crate) type Column<T> = (&'static str, Align, fn(&T) -> String);

/// Writes `rows` as a table with `columns`, each column as wide as its widest cell.
pub(crate) fn table<T>(
    f: &mut fmt::Formatter<'_>,
    rows: impl IntoIterator<Item = T>,
    columns: &[Column<T>],
) -> fmt::Result {
    let rows = rows
        .into_iter()
        .map(|row| columns.iter().map(|(_, _, cell)| cell(&row)).collect())
        .collect();
    Table::new(columns, rows).render(f)
}

/// A table whose columns are as wide as their widest cell.
struct Table {
    headers: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new<T>(columns: &[Column<T>], rows: Vec<Vec<String>>) -> Self {
        Self {
            headers: columns.iter().map(|&(h, align, _)| (h, align)).collect(),
            rows,
        }
    }

    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|col| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(col))
                    .map(|cell| cell.chars().count())
                    .chain([self.headers[col].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = self.headers.iter().map(|(h, _)| (*h).to_string()).collect();
        self.line(f, &header, &widths)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        self.line(f, &rule, &widths)?;
        for row in &self.rows {
            self.line(f, row, &widths)?;
        }
        Ok(())
    }

    fn line(&self, f: &mut fmt::Formatter<'_>, cells: &[String], widths: &[usize]) -> fmt::Result {
        let mut line = String::new();
        for (col, width) in widths.iter().enumerate() {
            let cell = cells.get(col).map(String::as_str).unwrap_or("");
            let pad = width.saturating_sub(cell.chars().count());
            if col > 0 {
                line.push_str("  ");
            }
            match self.headers[col].1 {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        writeln!(f, "  {}", line.trim_end())
    }
}

/// Writes a section titled `title` with one table of `rows`, or nothing at all when there are
/// no rows (for the sections that appear only once their layer is used).
pub(crate) fn section_if_any<T>(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    rows: &[T],
    columns: &[Column<T>],
) -> fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    section(f, title)?;
    let rows = rows
        .iter()
        .map(|row| columns.iter().map(|(_, _, cell)| cell(row)).collect())
        .collect();
    Table::new(columns, rows).render(f)
}

/// Writes a section title.
pub(crate) fn section(f: &mut fmt::Formatter<'_>, title: &str) -> fmt::Result {
    writeln!(f)?;
    writeln!(f, "{title}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_nanos(850)), "850 ns");
        assert_eq!(duration(Duration::from_nanos(12_340)), "12.3 µs");
        assert_eq!(duration(Duration::from_micros(4_561)), "4.56 ms");
        assert_eq!(duration(Duration::from_millis(1_200)), "1.20 s");
        assert_eq!(duration(Duration::from_millis(250)), "250 ms");
    }
}
