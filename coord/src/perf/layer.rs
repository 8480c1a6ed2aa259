//! Timing as a layer of the stack: [`Track`] times the whole call on an operation site and
//! records its outcome (as `classify` says), keeping a failure's message as the operation's
//! last error.

use std::fmt;

use super::TimedCall;
use crate::layer::{Of, Timer, TimerFor};
use crate::outcome::Outcome;

/// What a failed call is remembered by: its error's `Display`, else its `Debug`, else its type
/// name (formatted, bounded, only when the call failed).
pub enum FailureMessage<'o> {
    /// The error's `Display` (an HTTP status shows as `502 Bad Gateway`).
    Display(&'o dyn fmt::Display),
    /// The error's `Debug`, for errors without `Display`.
    Debug(&'o dyn fmt::Debug),
    /// The error's type name, for errors with neither.
    Type(&'static str),
    /// An HTTP response's status (shown as `HTTP 502 Bad Gateway`).
    Status(u16),
    /// Nothing to say: the last error is left as it was.
    None,
}

impl fmt::Display for FailureMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Display(error) => error.fmt(f),
            Self::Debug(error) => fmt::Debug::fmt(error, f),
            Self::Type(name) => f.write_str(name),
            Self::Status(status) => {
                write!(f, "HTTP {status}")?;
                match reason(*status) {
                    Some(reason) => write!(f, " {reason}"),
                    None => Ok(()),
                }
            }
            Self::None => Ok(()),
        }
    }
}

fn reason(status: u16) -> Option<&'static str> {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
}

impl fmt::Debug for FailureMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Times every call on `site`; `classify` gives the outcome of a finished call, `message` what
/// a failed one is remembered by.
pub struct Track<'a, S, F, M> {
    site: &'a S,
    classify: F,
    message: M,
}

/// What a failed call of an operation returning `Out` is remembered by.
pub type FailureMessageOf<Out> = for<'o> fn(&'o Out) -> FailureMessage<'o>;

/// How a failed call of an operation returning `Out` is remembered (see [`Track::new`]), and
/// how fault injection (`coord::chaos`) makes one up: the error of a factory registered for the
/// operation's error type, when `Out` is a `Result` (see `coord::chaos::error`).
pub struct DescribeFailure<Out> {
    message: FailureMessageOf<Out>,
    inject: fn(&str) -> Option<Out>,
}

impl<Out> DescribeFailure<Out> {
    /// Remembers failures by `message`; fault injection cannot make up a value of `Out`.
    #[inline(always)]
    pub fn new(message: FailureMessageOf<Out>) -> Self {
        Self {
            message,
            inject: |_| None,
        }
    }

    /// Fault injection makes up a failed call of the operation named by its argument with
    /// `inject` (`None`: no armed error fault hit the call).
    #[inline(always)]
    pub fn injecting(self, inject: fn(&str) -> Option<Out>) -> Self {
        Self { inject, ..self }
    }
}

impl<Out> Clone for DescribeFailure<Out> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Out> Copy for DescribeFailure<Out> {}

impl<'a, S, Out> Track<'a, S, fn(&Out) -> Outcome, DescribeFailure<Out>> {
    /// Times calls on `site`; `classify(&out)` gives the call's outcome, `message` the
    /// message of a failed one (the marker of `Out` lets a closure's body know the type of
    /// `out`). Function pointers rather than closure types: a closure's type is one per
    /// function, and would make every layer's code generic over it compile once per function.
    #[inline(always)]
    pub fn new(
        site: &'a S,
        _: Of<Out>,
        classify: fn(&Out) -> Outcome,
        message: DescribeFailure<Out>,
    ) -> Self {
        Self {
            site,
            classify,
            message,
        }
    }
}

impl<S, F, M> Track<'_, S, F, M> {
    /// The outcome of a finished call, as `classify` says.
    #[inline(always)]
    pub(crate) fn outcome<Out>(&self, out: &Out) -> Outcome
    where
        F: Fn(&Out) -> Outcome,
    {
        (self.classify)(out)
    }
}

impl<S: fmt::Debug, F, M> fmt::Debug for Track<'_, S, F, M> {
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
    /// The operation's name.
    fn name(&self) -> &str;
    /// [`start`](Self::start) when recording is known to be on.
    #[inline(always)]
    fn start_recording(&self) -> TimedCall<'_> {
        self.start()
    }
}

impl<'a, S: TimedSite, F, M> Timer for Track<'a, S, F, M> {
    type Started = TimedCall<'a>;
    #[inline(always)]
    fn start(&self) -> TimedCall<'a> {
        self.site.start()
    }

    #[inline]
    fn chaos_name(&self) -> Option<&str> {
        Some(self.site.name())
    }

    #[inline(always)]
    fn records(&self) -> bool {
        crate::recording::enabled()
    }
    #[inline(always)]
    fn start_recording(&self) -> TimedCall<'a> {
        self.site.start_recording()
    }
}

impl<Out, S, F> TimerFor<Out> for Track<'_, S, F, DescribeFailure<Out>>
where
    S: TimedSite,
    F: Fn(&Out) -> Outcome,
{
    #[inline(always)]
    fn finish(&self, started: TimedCall<'_>, out: &Out) {
        match (self.classify)(out) {
            Outcome::Failure => failed(started, (self.message.message)(out)),
            outcome => started.finish_with(outcome),
        }
    }

    #[inline]
    fn chaos_error(&self, name: &str) -> Option<Out> {
        (self.message.inject)(name)
    }

    #[inline]
    fn finish_rejected(&self, started: TimedCall<'_>, out: &Out) {
        // A fallback may have turned the rejection into a value: that value's outcome stands.
        match (self.classify)(out) {
            Outcome::Failure => started.finish_with(Outcome::Rejected),
            outcome => started.finish_with(outcome),
        }
    }
}

#[cold]
#[inline(never)]
fn failed(started: TimedCall<'_>, message: FailureMessage<'_>) {
    match message {
        FailureMessage::None => started.finish_with(Outcome::Failure),
        message => started.fail_with(&message),
    }
}
