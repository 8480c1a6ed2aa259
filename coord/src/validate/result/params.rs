//! [`Params`]: a failure's small ordered map of named values, the first entries inline.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

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
