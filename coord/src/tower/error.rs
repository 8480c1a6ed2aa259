//! What a [`CoordService`](super::CoordService) answers instead of a response: the inner
//! service's error, or why coord did not let the request through; and what
//! [`CoordLayer::validate`](super::CoordLayer::validate) refuses. The public errors of the tower
//! layer, the one tower file naming each mechanism's error type.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::classify::Counted;
use crate::breaker::{BreakerConfigError, CircuitOpen};
use crate::bulkhead::{BulkheadConfigError, BulkheadFull};
use crate::hedge::HedgeConfigError;
use crate::rate_limit::{RateLimitConfigError, RateLimited};
use crate::timeout::TimedOut;

/// The error of a [`CoordService`](super::CoordService): the inner service's own error `E`, or
/// a rejection or time-out by one of the layers. A response the classifier counts as a failure
/// (a 5xx, say) is not an error: after the last attempt it is returned as the response.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The inner service failed (`poll_ready` or the call).
    Inner(E),
    /// The circuit breaker rejected the request (never retried).
    CircuitOpen(CircuitOpen),
    /// Every bulkhead slot stayed taken for the bulkhead's `max_wait` (never retried).
    BulkheadFull(BulkheadFull),
    /// The rate limiter had no turn within its `max_wait` (never retried).
    RateLimited(RateLimited),
    /// The attempt (`timeout`) or the whole call (`total_timeout`) ran out of time; the inner
    /// future was dropped.
    TimedOut(TimedOut),
}

impl<E> Error<E> {
    /// `true` for a rejection (breaker open, bulkhead full, rate limited): coord answered
    /// without asking the inner service.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            Self::CircuitOpen(_) | Self::BulkheadFull(_) | Self::RateLimited(_)
        )
    }

    /// How long the caller should wait before trying again, when the layer knows: the rest of
    /// an open breaker's open period, the time until the rate limiter's next turn.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::CircuitOpen(open) => Some(open.retry_after()),
            Self::RateLimited(limited) => Some(limited.retry_after()),
            _ => None,
        }
    }

    /// How a server answers this rejection or time-out; `None` for the inner service's error.
    pub(super) fn refusal(&self) -> Option<Refusal> {
        let (status, name, retry_after) = match self {
            Self::Inner(_) => return None,
            Self::RateLimited(limited) => (
                StatusCode::TOO_MANY_REQUESTS,
                "coord::RateLimited",
                Some(limited.retry_after()),
            ),
            Self::CircuitOpen(open) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "coord::CircuitOpen",
                Some(open.retry_after()),
            ),
            // A slot frees as soon as any call finishes: one second is the smallest the header
            // says.
            Self::BulkheadFull(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "coord::BulkheadFull",
                Some(Duration::from_secs(1)),
            ),
            Self::TimedOut(_) => (StatusCode::SERVICE_UNAVAILABLE, "coord::TimedOut", None),
        };
        Some(Refusal {
            status,
            name,
            retry_after,
        })
    }

    /// The inner service's error, if that is what this is.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(error) => Some(error),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inner(error) => error.fmt(f),
            Self::CircuitOpen(open) => open.fmt(f),
            Self::BulkheadFull(full) => full.fmt(f),
            Self::RateLimited(limited) => limited.fmt(f),
            Self::TimedOut(timed_out) => timed_out.fmt(f),
        }
    }
}

impl<E: StdError + 'static> StdError for Error<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Inner(error) => Some(error),
            Self::CircuitOpen(open) => Some(open),
            Self::BulkheadFull(full) => Some(full),
            Self::RateLimited(limited) => Some(limited),
            Self::TimedOut(timed_out) => Some(timed_out),
        }
    }
}

/// How a server answers a rejection or a time-out.
pub(super) struct Refusal {
    /// 429 for a rate limit, 503 otherwise.
    pub(super) status: StatusCode,
    /// The rejection's type name (`error.type` of a client's span).
    pub(super) name: &'static str,
    /// When to come back (`Retry-After`), when the layer knows.
    pub(super) retry_after: Option<Duration>,
}

/// An attempt's failure inside the stack: an error, or a response the classifier counts as a
/// failure (kept, so that the last one can be returned as the response).
pub(super) enum Failed<Resp, E> {
    /// A response classified as a failure, with how it counts.
    Response(Resp, Counted),
    /// An error.
    Error(Error<E>),
}

impl<Resp, E: fmt::Display> fmt::Display for Failed<Resp, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Response(_, counted) => write!(f, "HTTP status {}", counted.status),
            Self::Error(error) => error.fmt(f),
        }
    }
}

/// Each rejection and the time-out as an attempt's failure (what the gates and time limits
/// make of them).
macro_rules! failed_from {
    ($($variant:ident),*) => {$(
        impl<Resp, E> From<$variant> for Failed<Resp, E> {
            fn from(refused: $variant) -> Self {
                Self::Error(Error::$variant(refused))
            }
        }
    )*};
}

failed_from!(CircuitOpen, BulkheadFull, RateLimited, TimedOut);

/// A configuration a [`CoordLayer`](super::CoordLayer) builder method was given that is out of
/// range; see [`CoordLayer::validate`](super::CoordLayer::validate). Each names the builder
/// method and the key.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `.circuit_breaker(..)`.
    Breaker(BreakerConfigError),
    /// `.bulkhead(..)`.
    Bulkhead(BulkheadConfigError),
    /// `.rate_limit(..)`.
    RateLimit(RateLimitConfigError),
    /// `.timeout(..)` or `.total_timeout(..)` (the method's name): a zero limit, which would
    /// end every call before it starts.
    ZeroTimeout(&'static str),
    /// `.hedge(..)`.
    Hedge(HedgeConfigError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (method, error): (&str, &dyn fmt::Display) = match self {
            Self::Breaker(error) => ("circuit_breaker", error),
            Self::Bulkhead(error) => ("bulkhead", error),
            Self::RateLimit(error) => ("rate_limit", error),
            Self::Hedge(error) => ("hedge", error),
            Self::ZeroTimeout(method) => (method, &"a time limit must be above zero"),
        };
        write!(f, "CoordLayer::{method}: {error}")
    }
}

impl StdError for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulkhead::BulkheadConfig;

    #[test]
    fn a_config_error_names_its_builder_method() {
        assert_eq!(
            ConfigError::ZeroTimeout("total_timeout").to_string(),
            "CoordLayer::total_timeout: a time limit must be above zero"
        );
        let Err(zero) = BulkheadConfig::default().max_concurrent(0).validate() else {
            panic!("no slot is out of range")
        };
        assert_eq!(
            ConfigError::Bulkhead(zero.clone()).to_string(),
            format!("CoordLayer::bulkhead: {zero}")
        );
    }
}
