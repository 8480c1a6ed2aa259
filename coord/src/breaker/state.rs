//! The breaker's public values: its [`BreakerState`], the rejection [`CircuitOpen`] and the
//! [`BreakerSnapshot`] reports show.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::machine::{DISABLED, FORCED_OPEN, HALF_OPEN, OPEN};

/// The state of a circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls run; outcomes are recorded in the window.
    Closed,
    /// Calls are rejected until the open period ends.
    Open,
    /// A few probe calls run; their outcomes decide between closed and open.
    HalfOpen,
    /// Rejects every call until [`CircuitBreaker::reset`](super::CircuitBreaker::reset).
    ForcedOpen,
    /// Admits every call and records nothing until [`CircuitBreaker::reset`](super::CircuitBreaker::reset).
    Disabled,
}

impl BreakerState {
    pub(super) fn of(kind: u8) -> Self {
        match kind {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            FORCED_OPEN => BreakerState::ForcedOpen,
            DISABLED => BreakerState::Disabled,
            _ => BreakerState::Closed,
        }
    }

    /// `"closed"`, `"open"`, `"half-open"`, `"forced-open"` or `"disabled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
            BreakerState::ForcedOpen => "forced-open",
            BreakerState::Disabled => "disabled",
        }
    }

    /// The label value in metrics and serialized reports: `as_str` in snake case.
    pub(crate) fn metric_label(self) -> &'static str {
        match self {
            BreakerState::HalfOpen => "half_open",
            BreakerState::ForcedOpen => "forced_open",
            other => other.as_str(),
        }
    }

    /// Every state, in declaration order.
    pub(crate) const ALL: [BreakerState; 5] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
        BreakerState::ForcedOpen,
        BreakerState::Disabled,
    ];
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of a call a breaker rejected without running it.
///
/// Displays like `circuit breaker 'db' is open; next probe in 12.3s`. Retry layers must not
/// retry it: the breaker exists so that nobody calls the failing dependency right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitOpen {
    pub(super) name: Arc<str>,
    pub(super) state: BreakerState,
    pub(super) retry_after: Duration,
    pub(super) injected: bool,
}

impl CircuitOpen {
    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long until the breaker admits a probe: the rest of the open period when open,
    /// zero when half-open with every probe permit taken, `Duration::MAX` when forced open.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The state that rejected the call: `Open`, `HalfOpen` or `ForcedOpen`.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether fault injection made this rejection up (`coord::chaos::reject`): the breaker
    /// itself admits calls, and neither its `rejected` count nor its window counted this one.
    pub fn is_injected(&self) -> bool {
        self.injected
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.injected {
            return write!(
                f,
                "circuit breaker '{}' rejected the call (a rejection injected by coord::chaos)",
                self.name
            );
        }
        match self.state {
            BreakerState::HalfOpen => write!(
                f,
                "circuit breaker '{}' is half-open; every probe permit is in use",
                self.name
            ),
            BreakerState::ForcedOpen => {
                write!(f, "circuit breaker '{}' is forced open", self.name)
            }
            _ => write!(
                f,
                "circuit breaker '{}' is open; next probe in {:.1}s",
                self.name,
                self.retry_after.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// A breaker's numbers at one moment; see [`CircuitBreaker::snapshot`](super::CircuitBreaker::snapshot).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: BreakerState,
    /// Failure rate of the window when closed, of the probes so far when half-open, and the
    /// rate that caused the last transition otherwise.
    pub failure_rate: f64,
    /// Slow-call rate of the window (closed) or of the probes (half-open).
    pub slow_call_rate: f64,
    /// Calls in the window (closed) or probes answered (half-open).
    pub calls_in_window: u32,
    /// Failures among them.
    pub failures_in_window: u32,
    /// Probes running now (half-open only).
    pub half_open_in_flight: u32,
    /// Calls rejected since creation or the last [`crate::reset`].
    pub rejected: u64,
    /// Time until the next probe is admitted, when open (serialized as `next_probe_in_ms`).
    #[serde(
        rename = "next_probe_in_ms",
        serialize_with = "crate::serde_ms::opt_ms"
    )]
    pub next_probe_in: Option<Duration>,
    /// State changes since creation or the last [`crate::reset`].
    pub transitions: u64,
    /// The generation, bumped on every state change.
    pub generation: u64,
}
