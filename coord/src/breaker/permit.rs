//! [`Permit`]: permission to run one call, finished with its outcome (or released on drop).

use std::fmt;

use super::CircuitBreaker;
use super::machine::{DISABLED, GEN_MASK};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PermitKind {
    Closed = 0,
    Probe = 1,
    Disabled = 2,
}

impl PermitKind {
    #[inline]
    pub(super) fn of(kind: u8) -> Self {
        if kind == DISABLED {
            PermitKind::Disabled
        } else {
            PermitKind::Closed
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Success,
    Failure,
    Ignore,
}

/// Permission to run one call, from [`CircuitBreaker::try_acquire`]. Finish it with the
/// call's outcome; slow calls are measured from the permit's creation.
///
/// Dropped unfinished it is released without counting (a cancelled future), or counted as a
/// failure if the thread is panicking. An outcome reported after the breaker changed state is
/// ignored.
#[must_use = "a permit records nothing until it is finished; drop it only to release it"]
pub struct Permit<'a> {
    pub(super) breaker: &'a CircuitBreaker,
    /// start (µs since the breaker's creation, 0 when slow calls are not measured) << 32 |
    /// generation << 3 | kind << 1 | finished.
    pub(super) tag: u64,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.breaker.name())
            .field("generation", &self.generation())
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl Permit<'_> {
    /// Records a success (slow if it took at least the `slow_call` threshold).
    #[inline]
    pub fn success(mut self) {
        self.finish(Verdict::Success);
    }

    /// Records a failure.
    pub fn failure(mut self) {
        self.finish(Verdict::Failure);
    }

    /// Releases the permit without counting the call either way.
    pub fn ignore(mut self) {
        self.finish(Verdict::Ignore);
    }

    /// Records `result`: `Ok` is a success, `Err` a failure unless the configured classifier
    /// says it counts as neither.
    #[inline]
    pub fn record<T, E: 'static>(self, result: &Result<T, E>) {
        match result {
            Ok(_) => self.success(),
            Err(error) => match self.breaker.classify(error) {
                Some(false) => self.ignore(),
                _ => self.failure(),
            },
        }
    }

    /// `true` when this permit is one of the half-open probes.
    pub fn is_probe(&self) -> bool {
        self.kind() == PermitKind::Probe
    }

    #[inline]
    pub(super) fn kind(&self) -> PermitKind {
        match (self.tag >> 1) & 0b11 {
            0 => PermitKind::Closed,
            1 => PermitKind::Probe,
            _ => PermitKind::Disabled,
        }
    }

    /// The breaker generation the call was admitted in.
    pub fn generation(&self) -> u64 {
        (self.tag >> 3) & GEN_MASK
    }

    #[inline]
    fn finish(&mut self, verdict: Verdict) {
        self.tag |= 1;
        self.breaker.finish(self, verdict);
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.tag & 1 == 0 {
            let verdict = if std::thread::panicking() {
                Verdict::Failure
            } else {
                Verdict::Ignore
            };
            self.finish(verdict);
        }
    }
}
