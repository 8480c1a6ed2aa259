//! The stopwatch that times calls on the hot path: `std::time::Instant` by default, `quanta`
//! (TSC-based) with the `fast-clock` feature. It measures latency only; every policy decision
//! that depends on time (windows, open periods, back-off) reads [`crate::clock::Clock`].

#[cfg(not(feature = "fast-clock"))]
mod imp {
    pub(crate) type Instant = std::time::Instant;

    #[inline]
    pub(crate) fn now() -> Instant {
        Instant::now()
    }
}

#[cfg(feature = "fast-clock")]
mod imp {
    pub(crate) type Instant = quanta::Instant;

    #[inline]
    pub(crate) fn now() -> Instant {
        quanta::Instant::now()
    }
}

pub(crate) use imp::{Instant, now};

/// Nanoseconds since `start`, saturated to `u64`.
#[inline]
pub(crate) fn nanos_since(start: Instant) -> u64 {
    crate::clock::saturating_nanos(start.elapsed())
}
