//! Where the layers ask fault injection, each time behind one relaxed load ([`armed`]): the
//! stack at the start of a call (a latency, then an error), the timers for the operation's
//! error value, the circuit breaker for a rejection.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;

use super::state;
use crate::layer::{Timer, TimerFor};

/// Whether any fault is armed anywhere: one relaxed load, all that a call pays while none is.
#[inline(always)]
pub fn armed() -> bool {
    state::ARMED.load(Relaxed)
}

/// The wait of an injected latency.
pub type Delay = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The injected latency's wait for this call of `timer`'s operation, if a latency fault hits it.
// Inlined into the armed branch, with the out-of-line part taking only the name: a reference
// to the timer passed out of line would make a synchronous caller build the timer in memory on
// every call, armed or not.
#[inline(always)]
pub fn delay<P: Timer>(timer: &P) -> Option<Delay> {
    latency_async(timer.chaos_name()?)
}

#[cold]
#[inline(never)]
fn latency_async(name: &str) -> Option<Delay> {
    let (delay, clock) = state::latency_for(name)?;
    Some(Box::pin(clock.sleep_async(delay)))
}

/// The injected error for this call of `timer`'s operation, if an error fault hits it.
#[inline(always)]
pub fn error<Out, P: TimerFor<Out>>(timer: &P) -> Option<Out> {
    timer.chaos_error(timer.chaos_name()?)
}

/// A synchronous call's faults: waits an injected latency on this thread, then the injected
/// error, if an error fault hits the call.
#[inline(always)]
pub(crate) fn inject_blocking<Out, P: TimerFor<Out>>(timer: &P) -> Option<Out> {
    let name = timer.chaos_name()?;
    latency_blocking(name);
    timer.chaos_error(name)
}

#[cold]
#[inline(never)]
fn latency_blocking(name: &str) {
    if let Some((delay, clock)) = state::latency_for(name) {
        clock.sleep(delay);
    }
}

/// The injected `Err` of a call of the operation `name` returning `Result<T, E>`: what a timer
/// of such an operation answers to [`TimerFor::chaos_error`].
pub fn result<T, E: 'static>(name: &str) -> Option<Result<T, E>> {
    state::error_for::<E>(name).map(Err)
}

/// The injected error of a call of `name` as an `A`, or else as a `B` (by the type its
/// factory makes), if an error fault hits it.
#[cfg(feature = "tower")]
pub(crate) fn error_of_either<A: 'static, B: 'static>(name: &str) -> Option<Result<A, B>> {
    state::error_for_either::<A, B>(name)
}

/// Whether a rejection fault hits this call through the breaker `name`.
#[cold]
#[inline(never)]
pub(crate) fn rejects(name: &str) -> bool {
    state::rejects(name)
}
