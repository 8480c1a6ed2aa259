//! Error messages as coord keeps them: at most [`MAX_MESSAGE_LEN`] bytes, formatted without
//! panicking whatever the error's `Display` does, and the one cell per operation name that holds
//! its latest message (`last_error`), shared by the operation registry (the manual guard) and
//! the error registry (retry loops, macros, `ErrorHandler`). A leaf: imports nothing of coord.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, RwLock};

/// Longest message kept, in bytes: longer ones are cut at the last character boundary at or
/// before it.
pub const MAX_MESSAGE_LEN: usize = 256;

/// What is kept when an error's `Display` panics.
pub const UNAVAILABLE: &str = "<message unavailable>";

/// Cells kept by name before names share one overflow cell: room for the default caps of the
/// operation and error registries together.
pub(crate) const DEFAULT_MAX_CELLS: usize = 20_000;

/// A message of at most [`MAX_MESSAGE_LEN`] bytes, stored inline (no heap).
#[derive(Clone)]
pub(crate) struct Message {
    len: u16,
    bytes: [u8; MAX_MESSAGE_LEN],
}

impl Default for Message {
    fn default() -> Self {
        Self {
            len: 0,
            bytes: [0; MAX_MESSAGE_LEN],
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Message {
    /// `text` cut to [`MAX_MESSAGE_LEN`] bytes on a character boundary.
    pub(crate) fn new(text: &str) -> Self {
        let mut message = Self::default();
        _ = message.write_str(text);
        message
    }

    /// `error`'s `Display`, cut to [`MAX_MESSAGE_LEN`] bytes; formatting stops once the limit
    /// is reached, so a multi-megabyte message costs no more than a short one. A `Display`
    /// that panics gives [`UNAVAILABLE`]; one that returns an error keeps what it wrote.
    pub(crate) fn of(error: &(impl fmt::Display + ?Sized)) -> Self {
        let mut message = Self::default();
        let formatted = catch_unwind(AssertUnwindSafe(|| {
            // `Err` here means the limit was reached (or the impl failed): keep what we have.
            _ = write!(message, "{error}");
        }));
        if formatted.is_err() {
            message = Self::new(UNAVAILABLE);
        }
        message
    }

    /// Replaces the text with `text` cut to [`MAX_MESSAGE_LEN`] (copies only its bytes).
    pub(crate) fn set(&mut self, text: &str) {
        let text = truncated(text);
        self.bytes[..text.len()].copy_from_slice(text.as_bytes());
        // At most MAX_MESSAGE_LEN, which fits in u16.
        self.len = u16::try_from(text.len()).unwrap_or(0);
    }

    pub(crate) fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.len)];
        // Only whole characters are ever copied in (see `write_str`).
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// `text` cut to at most [`MAX_MESSAGE_LEN`] bytes on a character boundary.
pub(crate) fn truncated(text: &str) -> &str {
    let mut end = text.len().min(MAX_MESSAGE_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A cheap fingerprint of `text` (eight bytes a step), never 0 (0 means "no message").
pub(crate) fn fingerprint(text: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = text.as_bytes();
    let mut hash = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut tail = [0; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    (hash ^ (hash >> 29)).max(1)
}

impl fmt::Write for Message {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let len = usize::from(self.len);
        let room = MAX_MESSAGE_LEN - len;
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.bytes[len..len + end].copy_from_slice(&text.as_bytes()[..end]);
        // `len + end <= MAX_MESSAGE_LEN`, which fits in u16.
        self.len = u16::try_from(len + end).unwrap_or(u16::MAX);
        if end < text.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// `error`'s message as a `String` of at most [`MAX_MESSAGE_LEN`] bytes, allocated once, never
/// panicking (see [`Message::of`]).
pub(crate) fn bounded_string(error: &(impl fmt::Display + ?Sized)) -> String {
    Message::of(error).as_str().to_owned()
}

/// The latest error message of one operation. Writing a message equal to the one held costs a
/// fingerprint and one load; otherwise a short critical section on this cell's own lock.
#[derive(Debug, Default)]
pub(crate) struct LastError {
    /// [`Message::fingerprint`] of the message held; 0 when none.
    fingerprint: AtomicU64,
    message: Mutex<Option<Message>>,
}

impl LastError {
    /// Keeps `text` (cut to [`MAX_MESSAGE_LEN`]) as the latest message. The same text as the
    /// one held (by fingerprint) costs one load and no lock.
    pub(crate) fn set_str(&self, text: &str) {
        let text = truncated(text);
        let fingerprint = fingerprint(text);
        if self.fingerprint.load(Relaxed) == fingerprint {
            return;
        }
        let mut held = lock(&self.message);
        held.get_or_insert_with(Message::default).set(text);
        self.fingerprint.store(fingerprint, Relaxed);
    }

    /// Keeps `message` as the latest one.
    pub(crate) fn set(&self, message: &Message) {
        self.set_str(message.as_str());
    }

    /// The latest message, if any.
    pub(crate) fn get(&self) -> Option<String> {
        lock(&self.message).as_ref().map(|m| m.as_str().to_owned())
    }

    /// Forgets the message.
    pub(crate) fn clear(&self) {
        let mut held = lock(&self.message);
        *held = None;
        self.fingerprint.store(0, Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A cell is one assignment: consistent even after a panic elsewhere.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
struct Cells {
    by_name: HashMap<Arc<str>, Arc<LastError>>,
    overflow: Arc<LastError>,
}

static CELLS: LazyLock<RwLock<Cells>> = LazyLock::new(Default::default);
static MAX_CELLS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_CELLS);

/// The cell of the operation `name`, made on first use; names past the cap share one cell.
/// Resolved once per operation or error row, never per call.
pub(crate) fn cell(name: &str) -> Arc<LastError> {
    if let Some(found) = CELLS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .by_name
        .get(name)
    {
        return Arc::clone(found);
    }
    let mut cells = CELLS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cells.by_name.get(name) {
        return Arc::clone(found);
    }
    if cells.by_name.len() >= MAX_CELLS.load(Relaxed) {
        return Arc::clone(&cells.overflow);
    }
    let made = Arc::new(LastError::default());
    cells.by_name.insert(Arc::from(name), Arc::clone(&made));
    made
}

/// Raises the cap on cells to at least `cap` (it follows the registries that use cells).
pub(crate) fn raise_cap(cap: usize) {
    MAX_CELLS.fetch_max(cap, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panics;
    impl fmt::Display for Panics {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("display panicked")
        }
    }

    struct Fails;
    impl fmt::Display for Fails {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("partial")?;
            Err(fmt::Error)
        }
    }

    #[test]
    fn messages_are_bounded_on_char_boundaries() {
        assert_eq!(Message::new("short").as_str(), "short");
        assert_eq!(Message::new("").as_str(), "");
        let s = "ab".to_owned() + &"€".repeat(100); // 2 + 300 bytes
        let m = Message::new(&s);
        assert!(m.as_str().len() <= MAX_MESSAGE_LEN && m.as_str().len() > MAX_MESSAGE_LEN - 3);
        assert!(s.starts_with(m.as_str()));
        let huge = "x".repeat(4 << 20);
        assert_eq!(Message::of(&huge).as_str().len(), MAX_MESSAGE_LEN);
    }

    #[test]
    fn odd_displays_never_panic() {
        assert_eq!(Message::of(&Panics).as_str(), UNAVAILABLE);
        assert_eq!(Message::of(&Fails).as_str(), "partial");
        assert_eq!(
            bounded_string(&"\u{0}\u{fffd}\u{7f}"),
            "\u{0}\u{fffd}\u{7f}"
        );
    }

    #[test]
    fn a_cell_keeps_the_latest_message() {
        let cell = LastError::default();
        assert_eq!(cell.get(), None);
        cell.set_str("a");
        cell.set_str("a");
        assert_eq!(cell.get().as_deref(), Some("a"));
        cell.set_str("b");
        assert_eq!(cell.get().as_deref(), Some("b"));
        cell.clear();
        assert_eq!(cell.get(), None);
        cell.set_str("b");
        assert_eq!(cell.get().as_deref(), Some("b"));
    }
}
