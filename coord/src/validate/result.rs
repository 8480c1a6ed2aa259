//! Outcomes of a validation: the result, its field errors, and the tally that builds them.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::Value;

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

/// Params stored in a [`Params`] without a heap allocation (every built-in rule fits).
const INLINE_PARAMS: usize = 3;

type Entry = (Cow<'static, str>, Value);

const EMPTY_ENTRY: Entry = (Cow::Borrowed(""), Value::Null);

/// The params of a failure: a small ordered map from name to JSON value (`min`, `max`,
/// `actual`, ...). Index it like a map: `error.params["min"]` (`Null` when absent). The first
/// few entries live inline, so a built-in rule's params cost no allocation.
#[derive(Clone)]
pub struct Params {
    len: usize,
    inline: [Entry; INLINE_PARAMS],
    more: Vec<Entry>,
}

static NULL: Value = Value::Null;

impl Params {
    /// No params (allocates nothing).
    pub const fn new() -> Self {
        Params {
            len: 0,
            inline: [EMPTY_ENTRY; INLINE_PARAMS],
            more: Vec::new(),
        }
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.inline[..self.len.min(INLINE_PARAMS)]
            .iter()
            .chain(self.more.iter())
    }

    fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.inline[..self.len.min(INLINE_PARAMS)]
            .iter_mut()
            .chain(self.more.iter_mut())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.entries_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        self.push_new(key, value);
    }

    /// Appends `key`, known to be absent.
    #[inline]
    pub(crate) fn push_new(&mut self, key: Cow<'static, str>, value: Value) {
        if self.len < INLINE_PARAMS {
            self.inline[self.len] = (key, value);
        } else {
            self.more.push((key, value));
        }
        self.len += 1;
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for Params {
    fn default() -> Self {
        Params::new()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.entries().eq(other.entries())
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Params {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
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

/// Bytes of text an [`ErrorText`] holds without a heap allocation.
pub const INLINE_TEXT_BYTES: usize = 46;

/// The text of a [`FieldError`]'s path or message: a `&'static str`, short text stored inline
/// (up to [`INLINE_TEXT_BYTES`] bytes), or a heap string, so that building an error for a short
/// path or a default message allocates nothing. Reads as a `str` (it derefs to one) and compares
/// with `&str` and `String`: `e.path == "address.zip"`, `e.message.contains("at least")`.
#[derive(Clone)]
pub struct ErrorText(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Inline {
        len: u8,
        bytes: [u8; INLINE_TEXT_BYTES],
    },
    Heap(String),
}

impl ErrorText {
    /// The empty text.
    pub const fn new() -> Self {
        ErrorText(Repr::Static(""))
    }

    /// Static text (never copied).
    pub const fn from_static(text: &'static str) -> Self {
        ErrorText(Repr::Static(text))
    }

    /// A copy of `text`: inline when short, else on the heap.
    pub fn copied(text: &str) -> Self {
        let mut t = ErrorText::inline();
        t.push(text);
        t
    }

    /// Empty inline text, ready for [`push`](Self::push).
    pub(crate) const fn inline() -> Self {
        ErrorText(Repr::Inline {
            len: 0,
            bytes: [0; INLINE_TEXT_BYTES],
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Static(s) => s.len(),
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::Heap(s) => s.len(),
        }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `s`: inline while it fits, else on the heap.
    #[inline]
    pub(crate) fn push(&mut self, s: &str) {
        if let Repr::Inline { len, bytes } = &mut self.0 {
            let at = usize::from(*len);
            let end = at + s.len();
            if end <= INLINE_TEXT_BYTES {
                bytes[at..end].copy_from_slice(s.as_bytes());
                // `end <= INLINE_TEXT_BYTES < 256`.
                *len = end as u8;
                return;
            }
        }
        self.push_slow(s);
    }

    #[cold]
    fn push_slow(&mut self, s: &str) {
        if let Repr::Heap(h) = &mut self.0 {
            h.push_str(s);
            return;
        }
        let mut heap = String::with_capacity((self.len() + s.len()).max(64));
        heap.push_str(self.as_str());
        heap.push_str(s);
        self.0 = Repr::Heap(heap);
    }

    /// Appends `n` in decimal.
    pub(crate) fn push_u64(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(std::str::from_utf8(&digits[i..]).unwrap_or_default());
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            // Only whole `str`s are ever copied in, so the bytes are UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }

    /// The text as a `String`.
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Heap(s) => s,
            _ => self.as_str().to_owned(),
        }
    }
}

impl Default for ErrorText {
    fn default() -> Self {
        ErrorText::new()
    }
}

impl std::ops::Deref for ErrorText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ErrorText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for ErrorText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for ErrorText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for ErrorText {}

impl PartialOrd for ErrorText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ErrorText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for ErrorText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

macro_rules! text_eq {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for ErrorText {
            fn eq(&self, other: &$t) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<ErrorText> for $t {
            fn eq(&self, other: &ErrorText) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
text_eq!(str, &str, String, Cow<'_, str>);

impl From<&str> for ErrorText {
    fn from(text: &str) -> Self {
        ErrorText::copied(text)
    }
}

impl From<&String> for ErrorText {
    fn from(text: &String) -> Self {
        ErrorText::copied(text)
    }
}

impl From<String> for ErrorText {
    fn from(text: String) -> Self {
        ErrorText(Repr::Heap(text))
    }
}

impl From<Cow<'static, str>> for ErrorText {
    fn from(text: Cow<'static, str>) -> Self {
        match text {
            Cow::Borrowed(s) => ErrorText::from_static(s),
            Cow::Owned(s) => ErrorText::from(s),
        }
    }
}

impl From<ErrorText> for String {
    fn from(text: ErrorText) -> String {
        text.into_string()
    }
}

impl Serialize for ErrorText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Write for ErrorText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s);
        Ok(())
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
#[derive(Clone, Debug, PartialEq)]
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

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

impl std::error::Error for RuleError {}

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
        self.applicable = self.applicable.saturating_add(1);
        if self.errors.capacity() == 0 {
            // One allocation for the usual handful of failures.
            self.errors.reserve(8);
        }
        self.errors.push(error);
    }

    /// Counts one failed check whose error is written in place (at the end of the error list,
    /// so the error is never moved): `fill` sets its rule, message and params.
    #[cold]
    pub(crate) fn fail_at(&mut self, path: &FieldPath<'_>, fill: impl FnOnce(&mut FieldError)) {
        self.applicable = self.applicable.saturating_add(1);
        if self.errors.capacity() == 0 {
            // One allocation for the usual handful of failures.
            self.errors.reserve(8);
        }
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
