//! Outcomes of a validation: the result, its field errors, and the tally that builds them.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

mod params;
mod path;
mod text;

pub use params::Params;
pub use path::FieldPath;
pub use text::{ErrorText, INLINE_TEXT_BYTES};

/// The outcome of validating one value against one rule set.
///
/// `score` is `passed ÷ applicable × 100` (100 when no check applied); a rule whose optional
/// value is absent is not applicable and does not count.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationResult {
    /// `true` when no check failed.
    pub is_valid: bool,
    /// Percentage of applicable checks that passed, `0.0..=100.0`.
    pub score: f64,
    /// One entry per failed check, in field order.
    pub errors: Vec<FieldError>,
    /// Checks that passed.
    pub passed: u32,
    /// Checks that applied (passed + failed).
    pub applicable: u32,
}

impl ValidationResult {
    /// Checks that failed.
    pub fn failed(&self) -> u32 {
        self.applicable.saturating_sub(self.passed)
    }

    /// The errors reported for `path` (for example `"address.zip"`).
    pub fn errors_at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.path == path)
    }
}

impl fmt::Display for ValidationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_valid { "valid" } else { "invalid" };
        write!(
            f,
            "{verdict} ({:.1}%, {}/{} checks passed)",
            self.score, self.passed, self.applicable
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// One failed check: where, which rule, why, and the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FieldError {
    /// Where the value sits: `"name"`, `"address.zip"`, `"tags[2]"`, `"limits[\"eu\"]"`; empty for
    /// the whole value. Serde renames are honoured.
    pub path: ErrorText,
    /// Stable rule code: `required`, `type`, `email`, `url`, `uuid`, `datetime`, `range`,
    /// `length`, `pattern`, `one_of`, `must_match`, `nested`, `custom` (or a custom code).
    pub rule: Cow<'static, str>,
    /// Human-readable reason; replaced by the rule's `message` when one is set.
    pub message: ErrorText,
    /// The rule's arguments and the offending measure (`min`, `max`, `actual`, ...).
    pub params: Params,
}

impl FieldError {
    /// A field error with no params.
    pub fn new(
        path: impl Into<ErrorText>,
        rule: impl Into<Cow<'static, str>>,
        message: impl Into<ErrorText>,
    ) -> Self {
        FieldError {
            path: path.into(),
            rule: rule.into(),
            message: message.into(),
            params: Params::new(),
        }
    }

    /// Adds one param.
    #[must_use]
    pub fn with_param(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Value>,
    ) -> Self {
        self.params.insert(key.into(), value.into());
        self
    }

    /// An error with an empty inline path, to be filled in place.
    pub(crate) const fn blank() -> Self {
        FieldError {
            path: ErrorText::inline(),
            rule: Cow::Borrowed(""),
            message: ErrorText::new(),
            params: Params::new(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            self.path.as_str()
        };
        write!(f, "{path}: {} [{}]", self.message, self.rule)
    }
}

/// The error a `custom = path` function (or a struct-level `schema = path` function) returns.
///
/// ```
/// fn even(n: &u32) -> Result<(), coord::RuleError> {
///     if n % 2 == 0 { Ok(()) } else { Err(coord::RuleError::new("even", "must be even")) }
/// }
/// assert!(even(&3).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} [{code}]")]
#[non_exhaustive]
pub struct RuleError {
    /// Rule code reported in [`FieldError::rule`].
    pub code: Cow<'static, str>,
    /// Message reported in [`FieldError::message`].
    pub message: Cow<'static, str>,
    /// Params reported in [`FieldError::params`]. Boxed so that a `Result<(), RuleError>`
    /// stays small (`Params` keeps its first entries inline).
    pub params: Box<Params>,
    /// Field below the current path the error belongs to (struct-level functions use it).
    pub field: Option<String>,
}

impl RuleError {
    /// An error with a rule code and a message.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        RuleError {
            code: code.into(),
            message: message.into(),
            params: Box::new(Params::new()),
            field: None,
        }
    }

    /// Adds one param, reported in [`FieldError::params`].
    #[must_use]
    pub fn with_param(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Value>,
    ) -> Self {
        self.params.insert(key, value);
        self
    }

    /// Attributes the error to `field` below the current path.
    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Running tally of one validation: passed and applicable checks plus the failures.
/// Hand-written [`crate::Validate`] impls feed it through [`Checks::pass`] and [`Checks::fail`].
#[derive(Debug, Default)]
pub struct Checks {
    passed: u32,
    applicable: u32,
    errors: Vec<FieldError>,
}

impl Checks {
    /// An empty tally (allocates nothing).
    pub const fn new() -> Self {
        Checks {
            passed: 0,
            applicable: 0,
            errors: Vec::new(),
        }
    }

    /// Counts one applicable check that passed.
    #[inline]
    pub fn pass(&mut self) {
        self.passed = self.passed.saturating_add(1);
        self.applicable = self.applicable.saturating_add(1);
    }

    /// Counts one applicable check that failed.
    #[cold]
    pub fn fail(&mut self, error: FieldError) {
        self.count_failure();
        self.errors.push(error);
    }

    /// Counts one failed check and makes room for its error.
    #[inline]
    fn count_failure(&mut self) {
        self.applicable = self.applicable.saturating_add(1);
        if self.errors.capacity() == 0 {
            // One allocation for the usual handful of failures.
            self.errors.reserve(8);
        }
    }

    /// Counts one failed check whose error is written in place (at the end of the error list,
    /// so the error is never moved): `fill` sets its rule, message and params.
    #[cold]
    pub(crate) fn fail_at(&mut self, path: &FieldPath<'_>, fill: impl FnOnce(&mut FieldError)) {
        self.count_failure();
        self.errors.push(FieldError::blank());
        if let Some(e) = self.errors.last_mut() {
            path.write_to(&mut e.path);
            fill(e);
        }
    }

    /// Counts a check: passes when `ok`, otherwise records the error built by `error`.
    #[inline]
    pub fn check(&mut self, ok: bool, error: impl FnOnce() -> FieldError) {
        if ok {
            self.pass();
        } else {
            self.fail(error());
        }
    }

    /// Counts a check: passes when `ok`, otherwise writes its error in place with `fill`.
    #[inline]
    pub(crate) fn check_at(
        &mut self,
        ok: bool,
        path: &FieldPath<'_>,
        fill: impl FnOnce(&mut FieldError),
    ) {
        if ok {
            self.pass();
        } else {
            self.fail_at(path, fill);
        }
    }

    /// Errors recorded so far.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The final result.
    pub fn finish(self) -> ValidationResult {
        let score = if self.applicable == 0 {
            100.0
        } else {
            f64::from(self.passed) / f64::from(self.applicable) * 100.0
        };
        ValidationResult {
            is_valid: self.errors.is_empty(),
            score,
            errors: self.errors,
            passed: self.passed,
            applicable: self.applicable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_fields_indices_and_keys() {
        let root = FieldPath::Root;
        let a = root.field("address");
        let z = a.field("zip");
        assert_eq!(z.render(), "address.zip");
        let t = root.field("tags");
        assert_eq!(t.index(1).render(), "tags[1]");
        let l = root.field("limits");
        let k = "e\"u";
        assert_eq!(l.key(&k).render(), "limits[\"e\\\"u\"]");
        assert_eq!(root.render(), "");
    }

    #[test]
    fn score_counts_passed_over_applicable() {
        let mut c = Checks::new();
        c.pass();
        c.fail(FieldError::new("a", "required", "is required"));
        let r = c.finish();
        assert!(!r.is_valid);
        assert_eq!((r.passed, r.applicable, r.failed()), (1, 2, 1));
        assert!((r.score - 50.0).abs() < 1e-9);
        assert_eq!(Checks::new().finish().score, 100.0);
    }
}
