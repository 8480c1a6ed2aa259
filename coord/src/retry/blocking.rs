//! A blocking back-off sleep inside an async runtime: told once per policy (per `#[retry]`
//! call site, per handler) and operation name, since the sleep stalls every task of that
//! runtime thread. The name matters too because a handler or policy built anew for every
//! request is a new policy each time: the same warning again would only flood the log.
//!
//! What can be seen: with coord's `tokio` feature (or `http`, which brings tokio),
//! `tokio::runtime::Handle::try_current()` says whether the thread is inside a tokio runtime,
//! which covers `#[tokio::main]`, `block_on` and every task. It cannot tell a task from a
//! `spawn_blocking` closure or a thread that entered a runtime with `Handle::enter()`, where
//! blocking is fine: those warn too (once). Without tokio nothing is seen: the standard
//! library has no notion of an executor, and a future's `poll` looks like any other call
//! (thread names would only guess, and tokio names its blocking-pool threads like its workers).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use super::policy::RetryPolicy;

/// Operation names already warned about. Bounded: past it, each new policy still warns once.
static WARNED: Mutex<Option<HashSet<Box<str>>>> = Mutex::new(None);

/// At most this many names are remembered.
const MAX_WARNED_NAMES: usize = 1024;

/// Whether `operation` has not been warned about yet (and now is).
fn first_for(operation: &str) -> bool {
    let mut warned = crate::locks::lock(&WARNED);
    let names = warned.get_or_insert_with(HashSet::new);
    if names.contains(operation) {
        return false;
    }
    if names.len() < MAX_WARNED_NAMES {
        names.insert(operation.into());
    }
    true
}

/// Whether the current thread is inside an async runtime coord can see.
#[inline]
fn inside_async_runtime() -> bool {
    #[cfg(any(feature = "tokio", feature = "http"))]
    {
        tokio::runtime::Handle::try_current().is_ok()
    }
    #[cfg(not(any(feature = "tokio", feature = "http")))]
    {
        false
    }
}

/// Warns, the first time for `policy` (and its clones) and for `operation`, that a
/// synchronous retry of `operation` is about to block an async runtime's thread for `delay`. A
/// fake clock's sleep blocks nothing and is not reported.
#[cold]
pub(super) fn report(policy: &RetryPolicy, operation: &str, delay: Duration) {
    if policy.clock_ref().is_fake()
        || !inside_async_runtime()
        || !policy.first_blocking_report()
        || !first_for(operation)
    {
        return;
    }
    tracing::warn!(
        target: "coord::retry",
        operation,
        delay_ms = delay.as_secs_f64() * 1e3,
        "synchronous retry of `{operation}` sleeps between attempts on an async runtime's thread, \
         blocking every task on it; make the function an `async fn` (#[retry] then waits \
         without blocking), use `RetryPolicy::call_async` or `ErrorHandler::execute_async`, or \
         run the call in `tokio::task::spawn_blocking` (reported once per operation)"
    );
}
