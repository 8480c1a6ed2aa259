//! The instrumentation switch: [`set_enabled`]`(false)` stops coord recording measurements
//! (operation timings and outcomes, error rows, validation counts) at run time, for example to
//! shed the last few nanoseconds per call under an incident's load or in a benchmark of the
//! application itself. The resilience layers keep working while it is off: retries still retry,
//! breakers still count their windows and open, bulkheads and rate limits still admit and
//! reject, since they protect the service rather than observe it. A leaf.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns recording on (the default) or off for the whole process, at once for every thread
/// (a relaxed flag: a call already started when it changes may still be recorded).
///
/// While off, a `#[track_performance]` call costs one flag read beside the function itself
/// (no clock read, no counter); the report keeps what was recorded before.
///
/// ```
/// #[coord::track_performance(name = "doc.recording.switch")]
/// fn work() -> u32 {
///     7
/// }
///
/// coord::set_enabled(false);
/// work();
/// coord::set_enabled(true);
/// work();
/// assert_eq!(coord::operation("doc.recording.switch").unwrap().calls, 1);
/// assert!(coord::enabled());
/// ```
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

/// Whether coord records measurements (see [`set_enabled`]).
#[inline(always)]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}
