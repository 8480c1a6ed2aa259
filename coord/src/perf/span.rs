//! The timer of `#[track_performance(span)]`: [`Track`] plus the call's span, which it marks
//! with how the call ended (a failure, a rejection, a cancellation; a success costs nothing
//! more). The span itself is made, entered or made to follow the future by the expansion.

use tracing::Span;

use super::layer::{DescribeFailure, TimedSite, Track};
use crate::layer::{Timer, TimerFor};
use crate::outcome::Outcome;
use crate::semconv::{self, Ended, ErrorType};

/// What a failed call's `error.type` is, for an operation returning `Out`.
pub type ErrorTypeOf<Out> = fn(&Out) -> ErrorType;

/// [`Track`] that also marks the call's span with its end.
pub struct Spanned<'s, T, K> {
    timer: T,
    span: &'s Span,
    error_type: K,
}

impl<'s, 'a, S, F, M, Out> Spanned<'s, Track<'a, S, F, M>, ErrorTypeOf<Out>>
where
    F: Fn(&Out) -> Outcome,
{
    /// `timer`, marking `span`; `error_type(&out)` says what a failed call's error is.
    #[inline(always)]
    pub fn new(timer: Track<'a, S, F, M>, span: &'s Span, error_type: ErrorTypeOf<Out>) -> Self {
        Self {
            timer,
            span,
            error_type,
        }
    }
}

impl<T, K> std::fmt::Debug for Spanned<'_, T, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spanned")
            .field("span", self.span)
            .finish_non_exhaustive()
    }
}

/// A started call's span, marked cancelled if the call is dropped before it finishes.
pub struct Open<'s>(Option<&'s Span>);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if let Some(span) = self.0 {
            let ended = match Outcome::of_unfinished(Outcome::Cancelled) {
                Outcome::Failure => Ended::Failure(ErrorType::Other),
                _ => Ended::Cancelled,
            };
            semconv::finish(span, ended);
        }
    }
}

impl<'s, 'a, S: TimedSite, F, M, K> Timer for Spanned<'s, Track<'a, S, F, M>, K> {
    type Started = (<Track<'a, S, F, M> as Timer>::Started, Open<'s>);
    #[inline(always)]
    fn start(&self) -> Self::Started {
        (self.timer.start(), Open(Some(self.span)))
    }

    #[inline]
    fn chaos_name(&self) -> Option<&str> {
        self.timer.chaos_name()
    }
}

impl<'s, 'a, S, F, Out> TimerFor<Out>
    for Spanned<'s, Track<'a, S, F, DescribeFailure<Out>>, ErrorTypeOf<Out>>
where
    S: TimedSite,
    F: Fn(&Out) -> Outcome,
{
    #[inline]
    fn chaos_error(&self, name: &str) -> Option<Out> {
        self.timer.chaos_error(name)
    }

    #[inline(always)]
    fn finish(&self, (started, mut open): Self::Started, out: &Out) {
        open.0 = None;
        match self.timer.outcome(out) {
            Outcome::Success => {}
            other => semconv::finish(self.span, ended(other, out, self.error_type)),
        }
        self.timer.finish(started, out);
    }

    #[inline]
    fn finish_rejected(&self, (started, mut open): Self::Started, out: &Out) {
        open.0 = None;
        // A fallback may have turned the rejection into a value: that value's outcome stands.
        match self.timer.outcome(out) {
            Outcome::Failure => {
                semconv::finish(self.span, Ended::Rejected(Some((self.error_type)(out))));
            }
            Outcome::Success => {}
            other => semconv::finish(self.span, ended(other, out, self.error_type)),
        }
        self.timer.finish_rejected(started, out);
    }
}

/// A classifier's other outcomes, as the span shows them.
#[cold]
fn ended<Out>(outcome: Outcome, out: &Out, error_type: ErrorTypeOf<Out>) -> Ended {
    match outcome {
        Outcome::Cancelled => Ended::Cancelled,
        Outcome::Rejected => Ended::Rejected(Some(error_type(out))),
        _ => Ended::Failure(error_type(out)),
    }
}
