//! [`ErrorText`]: the text of an error's path or message, inline when short.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// Bytes of text an [`ErrorText`] holds without a heap allocation.
pub const INLINE_TEXT_BYTES: usize = 46;

/// The text of a [`FieldError`](super::FieldError)'s path or message: a `&'static str`, short
/// text stored inline (up to [`INLINE_TEXT_BYTES`] bytes), or a heap string, so that building an
/// error for a short path or a default message allocates nothing. Reads as a `str` (it derefs to
/// one) and compares with `&str` and `String`: `e.path == "address.zip"`,
/// `e.message.contains("at least")`.
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
