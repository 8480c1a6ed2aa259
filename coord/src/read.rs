//! Bounded reads of the files a user names (`config::load_file`, `rules().load_file`): one
//! helper, so no path from outside is ever read whole before its size is known. A FIFO, a
//! character device such as `/dev/zero` or a file that grows while being read stops at the cap
//! instead of exhausting memory, because the reader never asks for more than one byte past it.

use std::io::{self, Read};
use std::path::Path;

/// Why [`read_capped`] gave no text.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Opening or reading failed (including text that is not UTF-8).
    Io(io::Error),
    /// The file holds more than the cap.
    TooLarge {
        /// The size: the file's length when the system knows it (a regular file), else one
        /// byte past the cap, all that was read.
        bytes: u64,
    },
}

/// Reads the UTF-8 text at `path`, refusing it once it is known to exceed `cap` bytes.
///
/// A regular file's reported length refuses it before any byte is read; anything else is read
/// through `take(cap + 1)`, which tells "at the cap" from "over it" without trusting a length
/// the file may not have. Text that is not UTF-8 is an `InvalidData` error naming the offset of
/// the first bad byte.
pub(crate) fn read_capped(path: &Path, cap: usize) -> Result<String, ReadError> {
    let cap = u64::try_from(cap).unwrap_or(u64::MAX);
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > cap
    {
        return Err(ReadError::TooLarge { bytes: meta.len() });
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > cap {
        return Err(ReadError::TooLarge { bytes: read });
    }
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("coord-read-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn at_the_cap_is_read_and_one_past_is_refused_with_its_size() {
        let at = temp("at", b"abcd");
        assert_eq!(read_capped(&at, 4).unwrap(), "abcd");
        let over = temp("over", b"abcde");
        assert!(matches!(
            read_capped(&over, 4),
            Err(ReadError::TooLarge { bytes: 5 })
        ));
        let _ = std::fs::remove_file(at);
        let _ = std::fs::remove_file(over);
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let bad = temp("utf8", b"ok\xff");
        let Err(ReadError::Io(e)) = read_capped(&bad, 16) else {
            panic!("must be refused")
        };
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("offset 2"), "{e}");
        let _ = std::fs::remove_file(bad);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_stops_one_byte_past_the_cap() {
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 1000),
            Err(ReadError::TooLarge { bytes: 1001 })
        ));
    }
}
