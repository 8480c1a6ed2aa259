//! [`FieldPath`]: a location inside the validated value, rendered only when a check fails.

use std::fmt::{self, Write as _};

use super::ErrorText;

/// A location inside the validated value, built on the stack while validating and rendered to a
/// string only when a check fails (so valid input costs no allocation).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum FieldPath<'a> {
    /// The value itself.
    Root,
    /// A named field of the parent.
    Field(&'a FieldPath<'a>, &'a str),
    /// An item of a sequence.
    Index(&'a FieldPath<'a>, usize),
    /// An entry of a map, by key.
    Key(&'a FieldPath<'a>, &'a dyn fmt::Display),
}

impl fmt::Debug for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldPath({:?})", self.render())
    }
}

impl<'a> FieldPath<'a> {
    /// The path of field `name` below this one.
    pub fn field(&'a self, name: &'a str) -> FieldPath<'a> {
        FieldPath::Field(self, name)
    }

    /// The path of item `index` below this one.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath::Index(self, index)
    }

    /// The path of map entry `key` below this one.
    pub fn key(&'a self, key: &'a dyn fmt::Display) -> FieldPath<'a> {
        FieldPath::Key(self, key)
    }

    /// The path as text: `address.zip`, `tags[1]`, `limits["eu"]`.
    pub fn render(&self) -> String {
        self.to_text().into_string()
    }

    /// The path as an [`ErrorText`]: inline (no allocation) when it is short.
    pub fn to_text(&self) -> ErrorText {
        let mut out = ErrorText::inline();
        self.write_to(&mut out);
        out
    }

    /// Appends the path to `out`.
    pub(crate) fn write_to(&self, out: &mut ErrorText) {
        match self {
            FieldPath::Root => {}
            FieldPath::Field(parent, name) => {
                parent.write_to(out);
                if !out.is_empty() {
                    out.push(".");
                }
                out.push(name);
            }
            FieldPath::Index(parent, i) => {
                parent.write_to(out);
                out.push("[");
                out.push_u64(*i as u64);
                out.push("]");
            }
            FieldPath::Key(parent, key) => {
                parent.write_to(out);
                out.push("[\"");
                let _ = write!(Escaped(out), "{key}");
                out.push("\"]");
            }
        }
    }
}

/// Writes map keys with `"` and `\` escaped.
struct Escaped<'a>(&'a mut ErrorText);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(['"', '\\']) {
            self.0.push(&rest[..i]);
            self.0.push("\\");
            self.0.push(&rest[i..=i]);
            rest = &rest[i + 1..];
        }
        self.0.push(rest);
        Ok(())
    }
}
