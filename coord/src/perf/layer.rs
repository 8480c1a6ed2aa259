//! Timing as a layer of the stack: [`Track`] times the whole call on an operation site and
//! records its outcome (a failure as `failed` says).

use std::fmt;

use super::TimedCall;
use crate::layer::{Of, Timer, TimerFor};

/// Times every call on `site`; `failed` tells a failed outcome from a successful one.
pub struct Track<'a, S, F> {
    site: &'a S,
    failed: F,
}

impl<'a, S, Out> Track<'a, S, fn(&Out) -> bool> {
    /// Times calls on `site`; `failed(&out)` tells whether the call failed (the marker of
    /// `Out` lets a closure's body know the type of `out`). A function pointer rather than a
    /// closure type: a closure's type is one per function, and would make every layer's code
    /// generic over it compile once per function.
    #[inline(always)]
    pub fn new(site: &'a S, _: Of<Out>, failed: fn(&Out) -> bool) -> Self {
        Self { site, failed }
    }
}

impl<S: fmt::Debug, F> fmt::Debug for Track<'_, S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

/// Where a timing layer records: a macro call site (resolved in the operation registry by the
/// doors on first use).
pub trait TimedSite {
    /// Starts timing one call.
    fn start(&self) -> TimedCall<'_>;
}

impl<'a, S: TimedSite, F> Timer for Track<'a, S, F> {
    type Started = TimedCall<'a>;
    #[inline(always)]
    fn start(&self) -> TimedCall<'a> {
        self.site.start()
    }
}

impl<Out, S: TimedSite, F: Fn(&Out) -> bool> TimerFor<Out> for Track<'_, S, F> {
    #[inline(always)]
    fn finish(&self, started: TimedCall<'_>, out: &Out) {
        started.finish((self.failed)(out));
    }
}
