//! Files named by the user are read with a bound: a FIFO fed past the cap and `/dev/zero` are
//! refused with a typed error after reading one byte past the cap, never read whole.
#![cfg(unix)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use coord::RuleLoadError;
use coord::config::{ConfigErrorKind, MAX_CONFIG_BYTES};
use coord::validate::MAX_RULE_DOCUMENT_BYTES;

/// What the writer offers: far more than either cap, so a reader that reads everything is seen.
const FED: usize = 64 << 20;

fn fifo(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coord-bounded-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fifo.yaml");
    let _ = std::fs::remove_file(&path);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
    path
}

/// Writes up to `FED` bytes of valid YAML text into the FIFO until the reader hangs up;
/// returns how many bytes the reader took (at most one pipe buffer more).
fn feed(path: &Path) -> JoinHandle<usize> {
    let path = path.to_owned();
    std::thread::spawn(move || {
        // Blocks until the reader opens its end.
        let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let chunk = vec![b'#'; 64 << 10];
        let mut written = 0;
        while written < FED {
            match w.write(&chunk) {
                Ok(n) => written += n,
                // The reader closed its end: it stopped reading.
                Err(_) => break,
            }
        }
        written
    })
}

/// Loads a FIFO fed far past `cap` with `load`, and asserts that the error names the cap and
/// that the reader stopped near it; returns the error and the FIFO's path.
fn load_fed_fifo<E: std::fmt::Display>(
    name: &str,
    cap: usize,
    load: impl FnOnce(&Path) -> E,
) -> (E, PathBuf) {
    let path = fifo(name);
    let writer = feed(&path);
    let err = load(&path);
    let written = writer.join().unwrap();
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    assert!(
        err.to_string().contains(&format!("more than {cap} bytes")),
        "{err}"
    );
    assert!(
        written < 2 * cap,
        "the FIFO was read past the cap: {written} bytes"
    );
    (err, path)
}

#[test]
fn bounded_reads_rules_load_file_stops_a_fifo_at_the_cap() {
    let (err, path) = load_fed_fifo("rules", MAX_RULE_DOCUMENT_BYTES, |path| {
        coord::rules().load_file(path).unwrap_err()
    });
    let RuleLoadError::InFile { path: named, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(named, &path);
    assert!(
        matches!(**error, RuleLoadError::TooLarge { limit, .. } if limit == MAX_RULE_DOCUMENT_BYTES),
        "{err:?}"
    );
}

#[test]
fn bounded_reads_rules_load_file_refuses_dev_zero() {
    let err = coord::rules().load_file("/dev/zero").unwrap_err();
    assert!(
        matches!(&err, RuleLoadError::InFile { error, .. }
            if matches!(**error, RuleLoadError::TooLarge { .. })),
        "{err:?}"
    );
}

#[test]
fn bounded_reads_config_load_file_stops_a_fifo_at_the_cap() {
    let (err, path) = load_fed_fifo("config", MAX_CONFIG_BYTES, |path| {
        coord::config::load_file(path).unwrap_err()
    });
    assert!(
        matches!(err.kind, ConfigErrorKind::TooLarge { .. }),
        "{err:?}"
    );
    assert_eq!(err.file.as_deref(), Some(path.as_path()));
}

#[test]
fn bounded_reads_config_load_file_refuses_dev_zero() {
    let err = coord::config::load_file("/dev/zero").unwrap_err();
    assert!(
        matches!(err.kind, ConfigErrorKind::TooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn bounded_reads_regular_files_report_their_real_size() {
    let dir = std::env::temp_dir().join(format!("coord-bounded-{}-big", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.yaml");
    std::fs::write(&big, vec![b'#'; 3 << 20]).unwrap();
    let err = coord::rules().load_file(&big).unwrap_err();
    assert!(
        matches!(&err, RuleLoadError::InFile { error, .. }
            if matches!(**error, RuleLoadError::TooLarge { bytes, .. } if bytes == 3 << 20)),
        "{err:?}"
    );
    let err = coord::config::load_file(&big).unwrap_err();
    assert!(
        matches!(err.kind, ConfigErrorKind::TooLarge { bytes } if bytes == 3 << 20),
        "{err:?}"
    );
    let not_utf8 = dir.join("latin1.yaml");
    std::fs::write(&not_utf8, b"a: caf\xe9\n").unwrap();
    let err = coord::rules().load_file(&not_utf8).unwrap_err();
    assert!(matches!(&err, RuleLoadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("offset 6"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
