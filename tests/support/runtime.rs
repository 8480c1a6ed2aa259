//! A current-thread tokio runtime with time and I/O, for tests whose async part runs inside a
//! plain `#[test]` (a runtime of their own, driven where the test chooses). Included with
//! `#[path]`.

/// A current-thread runtime with time and I/O enabled.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}
