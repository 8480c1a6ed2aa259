//! The one seam between the rate limiter and time: nanoseconds since the limiter was made, on
//! the real monotonic clock or on an injected one.

use std::time::Instant;

/// The real clock: `std::time::Instant`, or with `fast-clock` a `quanta` TSC clock read
/// directly (its `Instant::now` adds a thread-local lookup per call).
#[derive(Clone)]
pub(super) struct System {
    #[cfg(not(feature = "fast-clock"))]
    origin: Instant,
    #[cfg(feature = "fast-clock")]
    clock: quanta::Clock,
    #[cfg(feature = "fast-clock")]
    origin: u64,
}

impl System {
    fn new() -> Self {
        #[cfg(not(feature = "fast-clock"))]
        return Self {
            origin: Instant::now(),
        };
        #[cfg(feature = "fast-clock")]
        {
            let clock = quanta::Clock::new();
            let origin = clock.raw();
            Self { clock, origin }
        }
    }

    #[inline]
    fn elapsed_nanos(&self) -> u64 {
        #[cfg(not(feature = "fast-clock"))]
        return nanos(self.origin.elapsed());
        #[cfg(feature = "fast-clock")]
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }
}

#[inline]
fn nanos(d: std::time::Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()))
}

#[derive(Clone)]
pub(super) enum Source {
    System(System),
    Injected(crate::clock::Clock, Instant),
}

impl Source {
    pub(super) fn system() -> Self {
        Self::System(System::new())
    }

    pub(super) fn injected(clock: crate::clock::Clock) -> Self {
        let origin = clock.now();
        Self::Injected(clock, origin)
    }

    #[inline]
    pub(super) fn now_nanos(&self) -> u64 {
        let elapsed = match self {
            Self::System(system) => system.elapsed_nanos(),
            Self::Injected(clock, origin) => nanos(clock.now().saturating_duration_since(*origin)),
        };
        // +1: zero is the "never used" arrival time, so a call at the origin sees a full burst.
        elapsed.saturating_add(1)
    }
}
