//! A report section's row found by its name, for the tests that read one row (hedges,
//! objectives, rate limiters...). Included with `#[macro_use] #[path]`.

/// The row of `$rows` (a section of `coord::report()`) whose `name` is `$name`; panics naming
/// the row when the section has none, so a failing test says which row it missed.
macro_rules! row {
    ($rows:expr, $name:expr) => {{
        let name = $name;
        $rows
            .iter()
            .find(|row| row.name == name)
            .unwrap_or_else(|| panic!("no row named {name:?} in the report"))
    }};
}
