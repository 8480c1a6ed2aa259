//! Typed checks called by `#[derive(Validate)]` code (through `coord::__private`). Each counts
//! one check and builds its error only on failure, with the same codes, params and messages as
//! the rule-set engine.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Display;
use std::sync::OnceLock;

use super::engine::length_ok;
use super::formats;
use super::result::{Checks, ErrorText, FieldError, FieldPath, RuleError};
use super::rule::{Pattern, RuleKind, ValueType, failure};

/// Something with a length: chars for strings, items for collections.
pub trait HasLength {
    /// `characters` or `items`.
    const UNIT: &'static str;
    /// The length.
    fn length(&self) -> u64;
}

/// The string types: length in chars, and their text for format, pattern and `one_of` checks.
macro_rules! strings {
    ($($t:ty),*) => {$(
        impl HasLength for $t {
            const UNIT: &'static str = "characters";
            #[inline]
            fn length(&self) -> u64 {
                let s: &str = self.as_ref();
                // ASCII is one char per byte; count chars only when needed.
                if s.is_ascii() { s.len() as u64 } else { s.chars().count() as u64 }
            }
        }

        impl AsStr for $t {
            #[inline]
            fn as_text(&self) -> &str {
                self
            }
        }
    )*};
}
strings!(str, String, Cow<'_, str>, Box<str>);

/// The collections: length in items, and their items for `each(...)` (sequences by index, maps
/// by key).
macro_rules! collections {
    (@items seq [$($g:tt)*] $t:ty) => {
        impl<$($g)*> Items for $t {
            type Item = T;
            #[inline]
            fn each_item(&self, mut f: impl FnMut(ItemKey<'_>, &T)) {
                for (i, item) in self.iter().enumerate() {
                    f(ItemKey::Index(i), item);
                }
            }
        }
    };
    (@items map [$($g:tt)*] $t:ty) => {
        impl<$($g)*> Items for $t
        where
            K: Display,
        {
            type Item = V;
            fn each_item(&self, mut f: impl FnMut(ItemKey<'_>, &V)) {
                for (k, v) in self {
                    f(ItemKey::Key(k), v);
                }
            }
        }
    };
    ($($kind:ident [$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<$($g)*> HasLength for $t {
            const UNIT: &'static str = "items";
            #[inline]
            fn length(&self) -> u64 {
                self.len() as u64
            }
        }

        collections!(@items $kind [$($g)*] $t);
    )*};
}
collections!(
    seq [T] [T],
    seq [T] Vec<T>,
    seq [T] VecDeque<T>,
    seq [T, const N: usize] [T; N],
    map [K, V, S] HashMap<K, V, S>,
    map [K, V] BTreeMap<K, V>,
    seq [T, S] HashSet<T, S>,
    seq [T] BTreeSet<T>,
);

impl<T: HasLength + ?Sized> HasLength for &T {
    const UNIT: &'static str = T::UNIT;
    #[inline]
    fn length(&self) -> u64 {
        (**self).length()
    }
}

/// A number, read as `f64` for range checks.
pub trait AsNumber {
    /// The value as `f64` (integers beyond 2^53 round).
    fn as_number(&self) -> f64;
}

macro_rules! as_number {
    ($($t:ty),*) => {$(
        impl AsNumber for $t {
            #[inline]
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn as_number(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}
as_number!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

impl<T: AsNumber + ?Sized> AsNumber for &T {
    #[inline]
    fn as_number(&self) -> f64 {
        (**self).as_number()
    }
}

/// A string value, for format, pattern and `one_of` checks.
pub trait AsStr {
    /// The text.
    fn as_text(&self) -> &str;
}

impl<T: AsStr + ?Sized> AsStr for &T {
    #[inline]
    fn as_text(&self) -> &str {
        (**self).as_text()
    }
}

/// How an item of a collection is addressed in a path.
#[derive(Clone, Copy)]
pub enum ItemKey<'a> {
    /// Position in a sequence.
    Index(usize),
    /// Key of a map entry.
    Key(&'a dyn Display),
}

impl<'a> ItemKey<'a> {
    /// The item's path below `parent`.
    #[inline]
    pub fn path(self, parent: &'a FieldPath<'a>) -> FieldPath<'a> {
        match self {
            ItemKey::Index(i) => FieldPath::Index(parent, i),
            ItemKey::Key(k) => FieldPath::Key(parent, k),
        }
    }
}

/// A collection whose items `each(...)` checks: sequences by index, maps by key (never by
/// iteration order). Sets are addressed by iteration position.
pub trait Items {
    /// The item type.
    type Item: ?Sized;
    /// Calls `f` with every item and its key.
    fn each_item(&self, f: impl FnMut(ItemKey<'_>, &Self::Item));
}

impl<T: Items + ?Sized> Items for &T {
    type Item = T::Item;
    fn each_item(&self, f: impl FnMut(ItemKey<'_>, &Self::Item)) {
        (**self).each_item(f);
    }
}

/// A pattern compiled on first use (its source was already checked when the macro expanded).
#[derive(Debug)]
pub struct LazyPattern {
    source: &'static str,
    compiled: OnceLock<Option<Pattern>>,
}

impl LazyPattern {
    /// A pattern for `source`.
    pub const fn new(source: &'static str) -> Self {
        LazyPattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    fn is_match(&self, s: &str) -> bool {
        self.compiled
            .get_or_init(|| Pattern::new(self.source).ok())
            .as_ref()
            .is_some_and(|p| p.is_match(s))
    }
}

/// `required` on an `Option`.
#[inline]
pub fn required(checks: &mut Checks, path: &FieldPath<'_>, present: bool, message: Option<&str>) {
    checks.check_at(present, path, |e| failure::fill_required(e, message));
}

/// `length(min, max, equal)`.
#[inline]
pub fn length<T: HasLength + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    min: Option<u64>,
    max: Option<u64>,
    equal: Option<u64>,
    message: Option<&str>,
) {
    let len = value.length();
    checks.check_at(length_ok(len, min, max, equal), path, |e| {
        failure::fill_length(e, min, max, equal, len, T::UNIT, message);
    });
}

/// `range(min, max)`.
#[inline]
pub fn range<T: AsNumber + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    min: Option<f64>,
    max: Option<f64>,
    message: Option<&str>,
) {
    let n = value.as_number();
    let ok = min.is_none_or(|lo| n >= lo) && max.is_none_or(|hi| n <= hi);
    checks.check_at(ok, path, |e| failure::fill_range(e, min, max, n, message));
}

/// `email`, `url`, `uuid`, `datetime`.
#[inline]
pub fn format<T: AsStr + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    ty: ValueType,
    message: Option<&str>,
) {
    let s = value.as_text();
    let ok = match ty {
        ValueType::Email => formats::is_email(s),
        ValueType::Url => formats::is_url(s),
        ValueType::Uuid => formats::is_uuid(s),
        ValueType::DateTime => formats::is_datetime(s),
        _ => true,
    };
    checks.check_at(ok, path, |e| {
        failure::fill_type_mismatch(e, ty, "string", message)
    });
}

/// `pattern = "..."`.
#[inline]
pub fn pattern<T: AsStr + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    pattern: &LazyPattern,
    message: Option<&str>,
) {
    let ok = pattern.is_match(value.as_text());
    checks.check_at(ok, path, |e| {
        failure::fill_pattern(e, pattern.source, message)
    });
}

/// `one_of("a", "b")` on a string.
#[inline]
pub fn one_of_str<T: AsStr + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    allowed: &[&str],
    message: Option<&str>,
) {
    let s = value.as_text();
    checks.check_at(allowed.contains(&s), path, |e| {
        let list = allowed
            .iter()
            .map(|a| serde_json::Value::from(*a))
            .collect();
        failure::fill_one_of(e, list, s.into(), message);
    });
}

/// `one_of(1, 2)` on a number.
#[inline]
pub fn one_of_num<T: AsNumber + ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &T,
    allowed: &[f64],
    message: Option<&str>,
) {
    let n = value.as_number();
    checks.check_at(allowed.contains(&n), path, |e| {
        let list = allowed.iter().map(|a| number_value(*a)).collect();
        failure::fill_one_of(e, list, number_value(n), message);
    });
}

/// A number as a JSON value (whole numbers as integers).
pub fn number_value(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Value::from(n)
    }
}

/// `must_match = "other"`.
#[inline]
pub fn must_match<A: PartialEq<B> + ?Sized, B: ?Sized>(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    value: &A,
    other_value: &B,
    other: &str,
    message: Option<&str>,
) {
    checks.check_at(value == other_value, path, |e| {
        failure::fill_must_match(e, other, message);
    });
}

/// `custom = path` and struct-level `schema = path`: a function's verdict.
#[inline]
pub fn custom(
    checks: &mut Checks,
    path: &FieldPath<'_>,
    verdict: Result<(), RuleError>,
    message: Option<&str>,
) {
    match verdict {
        Ok(()) => checks.pass(),
        Err(e) => checks.fail(custom_error(path, e, message)),
    }
}

#[cold]
fn custom_error(path: &FieldPath<'_>, e: RuleError, message: Option<&str>) -> FieldError {
    let path = match &e.field {
        Some(f) => path.field(f).to_text(),
        None => path.to_text(),
    };
    FieldError {
        path,
        rule: e.code,
        message: message.map_or_else(|| e.message.into(), ErrorText::copied),
        params: *e.params,
    }
}

/// The rule-model form of a `pattern` (for the derived type's rule set).
pub fn pattern_kind(source: &str) -> RuleKind {
    match Pattern::new(source) {
        Ok(p) => RuleKind::Pattern(p),
        // Unreachable: the macro compiled the same source.
        Err(_) => RuleKind::Custom(format!("pattern {source:?}")),
    }
}
