//! Fault injection ("chaos"): an operator makes named operations fail or slow down, and named
//! circuit breakers reject, at run time and at a rate, to see how the rest of the system copes
//! before a real outage shows it.
//!
//! Three kinds of fault:
//!
//! - **error** ([`error`]): a call of the operation returns an error made by a factory that
//!   code registered for the operation, typed by its error type, instead of running;
//! - **latency** ([`latency`]): a wait (a [`Latency`]: fixed, uniform in a range, or one of a
//!   few choices) before the call runs: `thread::sleep` on a synchronous call, the chaos
//!   clock's timer on an async one (so a [`FakeClock`](crate::FakeClock) or tokio's paused
//!   time applies: see [`set_clock`]);
//! - **rejection** ([`reject`]): the circuit breaker of that name rejects a call as if open,
//!   with its normal [`CircuitOpen`](crate::CircuitOpen) (whose
//!   [`is_injected`](crate::CircuitOpen::is_injected) says so).
//!
//! A named operation is one that `#[track_performance]` or the tower layer (`tower::CoordLayer`,
//! feature `tower`) times: faults reach it by its operation name.
//!
//! ```
//! #[derive(Debug, PartialEq)]
//! enum PayError {
//!     Declined,
//!     Injected,
//! }
//!
//! impl std::fmt::Display for PayError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         write!(f, "{self:?}")
//!     }
//! }
//!
//! // Fault injection may make up this error type (see `Injectable`).
//! impl coord::chaos::Injectable for PayError {}
//!
//! #[coord::track_performance(name = "docs.chaos.pay")]
//! fn pay() -> Result<u32, PayError> {
//!     Ok(7)
//! }
//!
//! // Every call fails with the factory's error, until disarmed.
//! coord::chaos::error("docs.chaos.pay", 1.0, || PayError::Injected).unwrap();
//! assert_eq!(pay(), Err(PayError::Injected));
//! coord::chaos::disarm("docs.chaos.pay");
//! assert_eq!(pay(), Ok(7));
//!
//! let injected = coord::chaos::injected();
//! assert!(injected.iter().any(|c| c.name == "docs.chaos.pay" && c.injected == 1));
//! // The injected call is not one of the operation's calls: its error rate stays clean.
//! let stats = coord::operation("docs.chaos.pay").unwrap();
//! assert_eq!((stats.calls, stats.failures), (1, 0));
//! # let _ = PayError::Declined;
//! ```
//!
//! # Injected, never confused with real failures
//!
//! Faults are injected before the operation's own timing starts, from outside all of its
//! layers. An injected error is the call's value as if the whole operation had failed, and no
//! layer sees it (no retry, no breaker window, no fallback). The call is **counted apart**: in
//! `coord_chaos_injected_total{name, kind}` (and the report's `chaos` section), never in the
//! operation's calls, failures, last error or error rows, so success rates, objectives and
//! breaker windows keep measuring the real system, while the callers feel the fault (their own
//! timed operations included). An injected latency likewise delays the call before its timing
//! starts: callers wait it, the operation's latency histogram stays the real one. An injected
//! rejection is made likewise before the call's timing starts, by the breaker's layer: the
//! call's value is the breaker's usual rejection, marked, counted apart (never in the
//! operation's calls or rejections, its error rows or objectives, nor the breaker's `rejected`
//! count or window), never retried nor given to a fallback. Through the runtime API
//! ([`CircuitBreaker::try_acquire`](crate::CircuitBreaker::try_acquire)) it is that call's
//! rejection. Its span event `rejected` carries `coord.chaos.injected = true`.
//!
//! What callers see, they see: the tower layer's injected error or response (a `503`, say)
//! is what the caller gets, so the layer's HTTP span and OpenTelemetry duration
//! (`http.server.request.duration`, `http.client.request.duration`), like anything outside
//! the layer (an access log), record it as that status, unmarked; the operation's counts,
//! error row and objectives do not.
//!
//! # Off by default, and free when off
//!
//! Nothing is armed until a rule is. While no rule is armed anywhere, a call pays one relaxed
//! atomic load ([`armed`]); names are looked up only while some rule is armed, under a lock
//! the calls share (read), hits counted in atomics and draws taken in one atomic step.
//!
//! An error rule whose factory makes another type than the operation's error type can never
//! hit; after the first call that finds so, [`rules`] (and `GET /chaos`) marks it
//! [`mismatched`](ChaosRule::mismatched).
//!
//! # Three ways in
//!
//! - code: [`error`], [`latency`], [`reject`], [`arm`], [`disarm`], [`disarm_all`];
//! - `coord.yaml`: a `chaos:` section (see [`crate::config::Loaded`]);
//! - HTTP: `POST /chaos` (arm, the body is the file's section as JSON), `GET /chaos` (the
//!   rules and counts), `DELETE /chaos` (disarm everything, or one name's rules with
//!   `?name=`), served only when the server is given a chaos token
//!   (`http::ServeConfig::chaos_token`, feature `http`).
//!
//! A file or an HTTP rule can only switch on an error fault whose factory code registered
//! ([`register_error`]): it cannot make up a value of the operation's error type, and says so
//! ([`ChaosError::NoFactory`]).
//!
//! The draws come from one generator, seeded per process, or by [`set_seed`] for a run that
//! repeats. [`crate::reset`] disarms every rule, zeroes the counts and starts the draws from
//! the last seed again; registered factories, the seed and the clock stay.

pub(crate) mod file;
pub(crate) mod inject;
pub(crate) mod section;
mod state;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use inject::armed;
pub(crate) use inject::inject_blocking;
pub use state::{arm, disarm, disarm_all, injected, register_error, rules, set_clock, set_seed};
pub(crate) use state::{arm_all, check_all, reset_all};

/// An error type that fault injection may make up for the functions of the coord attributes
/// that return it (`#[track_performance]` and the layers below it): a one-line opt-in,
/// `impl coord::chaos::Injectable for MyError {}`.
///
/// Why an opt-in: finding the factory registered for an error type at run time needs the type
/// to be `'static`, which an attribute cannot ask of every function (a generic `E`, an error
/// borrowing its input). The bound it implies (`Display + 'static`) is checked once, at the
/// impl. A function whose error type has not opted in is never made to fail (a latency still
/// applies). The tower layer needs no opt-in: its service's error type is `'static` already.
///
/// Implemented for `String`, `&'static str`, `std::io::Error` and boxed errors.
pub trait Injectable: fmt::Display + 'static {}

impl Injectable for String {}
impl Injectable for &'static str {}
impl Injectable for std::io::Error {}
impl Injectable for Box<dyn std::error::Error + Send + Sync> {}
impl Injectable for Box<dyn std::error::Error> {}

/// The most rules armed at once (each kind of fault on one name is a rule).
pub const MAX_RULES: usize = 1_000;

/// The most operations with a registered error factory.
pub const MAX_FACTORIES: usize = 1_000;

/// The longest name a rule takes, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// The longest latency a rule injects.
pub const MAX_LATENCY: Duration = Duration::from_secs(600);

/// The most choices of a [`Latency::OneOf`].
pub const MAX_CHOICES: usize = 16;

named_enum! {
    /// A kind of fault.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum FaultKind {
        /// An operation's call returns an injected error.
        Error = "error",
        /// An operation's call waits before it runs.
        Latency = "latency",
        /// A circuit breaker rejects a call as if open.
        Reject = "reject",
    }
}

/// How long an injected latency is, drawn per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Latency {
    /// Always this long.
    Fixed(Duration),
    /// Uniform between the two bounds, both included (the first no larger than the second).
    Between(Duration, Duration),
    /// One of these, each as likely (1 to [`MAX_CHOICES`] of them).
    OneOf(Vec<Duration>),
}

impl Latency {
    /// Why this latency cannot be injected, if it cannot.
    fn check(&self) -> Result<(), String> {
        let longest = match self {
            Latency::Fixed(d) => *d,
            Latency::Between(low, high) if low > high => {
                return Err(format!(
                    "the range {low:?}..={high:?} is empty: its low bound is above its high one"
                ));
            }
            Latency::Between(_, high) => *high,
            Latency::OneOf(choices) if choices.is_empty() || choices.len() > MAX_CHOICES => {
                return Err(format!(
                    "{} choices: give 1 to {MAX_CHOICES}",
                    choices.len()
                ));
            }
            Latency::OneOf(choices) => choices.iter().copied().max().unwrap_or_default(),
        };
        if longest > MAX_LATENCY {
            return Err(format!(
                "{longest:?} is longer than the longest latency injected, {MAX_LATENCY:?}"
            ));
        }
        Ok(())
    }

    /// One draw.
    fn draw(&self, rng: &mut crate::rng::Rng) -> Duration {
        match self {
            Latency::Fixed(d) => *d,
            Latency::Between(low, high) => {
                let nanos = crate::clock::saturating_nanos;
                Duration::from_nanos(rng.between(nanos(*low), nanos(*high)))
            }
            Latency::OneOf(choices) => {
                let last = choices.len().saturating_sub(1) as u64;
                let at = usize::try_from(rng.between(0, last)).unwrap_or(0);
                choices.get(at).copied().unwrap_or_default()
            }
        }
    }
}

/// A fault to arm on a name, with the rate of calls it hits (`0.0..=1.0`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The operation's calls return its registered factory's error ([`register_error`]).
    Error {
        /// The share of calls that fail.
        rate: f64,
    },
    /// The operation's calls wait before they run.
    Latency {
        /// The share of calls that wait.
        rate: f64,
        /// How long they wait.
        latency: Latency,
    },
    /// The circuit breaker rejects calls as if open.
    Reject {
        /// The share of calls rejected.
        rate: f64,
    },
}

impl Fault {
    /// The kind of fault.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Error { .. } => FaultKind::Error,
            Fault::Latency { .. } => FaultKind::Latency,
            Fault::Reject { .. } => FaultKind::Reject,
        }
    }

    /// The share of calls it hits.
    pub fn rate(&self) -> f64 {
        match self {
            Fault::Error { rate } | Fault::Latency { rate, .. } | Fault::Reject { rate } => *rate,
        }
    }

    /// Why this fault cannot be armed on `name`, if it cannot (the factory aside).
    fn check(&self, name: &str) -> Result<(), ChaosError> {
        check_name(name)?;
        let rate = self.rate();
        if !(0.0..=1.0).contains(&rate) {
            return Err(ChaosError::Rate {
                name: name.to_owned(),
                kind: self.kind(),
                rate,
            });
        }
        if let Fault::Latency { latency, .. } = self {
            latency.check().map_err(|reason| ChaosError::Latency {
                name: name.to_owned(),
                reason,
            })?;
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), ChaosError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(ChaosError::Name {
            reason: format!(
                "a name has 1 to {MAX_NAME_LEN} bytes, this one {}",
                name.len()
            ),
        });
    }
    Ok(())
}

/// Arms an error fault on the operation `operation`: its calls fail at `rate` with the error
/// `factory` makes, registered for the operation on the way (see [`register_error`]). The
/// factory's type must be the operation's error type `E` (a call of another error type is
/// never hit, and [`rules`] marks the rule [`mismatched`](ChaosRule::mismatched)).
///
/// For a function of the coord attributes, `E` must also be [`Injectable`]; an operation
/// that is not a `Result` (a classifier decides its outcome) cannot be made to fail; a latency
/// still applies.
pub fn error<E: 'static>(
    operation: &str,
    rate: f64,
    factory: impl Fn() -> E + Send + Sync + 'static,
) -> Result<(), ChaosError> {
    let fault = Fault::Error { rate };
    fault.check(operation)?;
    register_error(operation, factory)?;
    arm(operation, fault)
}

/// Arms a latency fault on the operation `operation`: `rate` of its calls wait `latency`
/// before they run.
pub fn latency(operation: &str, rate: f64, latency: Latency) -> Result<(), ChaosError> {
    arm(operation, Fault::Latency { rate, latency })
}

/// Arms a rejection fault on the circuit breaker `breaker`: `rate` of its calls are rejected
/// with its normal [`CircuitOpen`](crate::CircuitOpen), as if it were open.
pub fn reject(breaker: &str, rate: f64) -> Result<(), ChaosError> {
    arm(breaker, Fault::Reject { rate })
}

/// An armed rule, as [`rules`] lists them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChaosRule {
    /// The operation's or the breaker's name.
    pub name: String,
    /// The kind of fault.
    pub kind: FaultKind,
    /// The share of calls it hits.
    pub rate: f64,
    /// For a latency fault, how long (serialized in milliseconds).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "latency_ms")]
    pub latency: Option<Latency>,
    /// For an error fault, whether its factory was found to make another type than the
    /// operation's error type: such a rule can never hit (register a factory of the right
    /// type). Serialized only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mismatched: bool,
}

/// `{fixed_ms: 100}`, `{between_ms: [10, 50]}` or `{one_of_ms: [10, 1000]}`.
fn latency_ms<S: serde::Serializer>(latency: &Option<Latency>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let mut map = s.serialize_map(Some(1))?;
    match latency {
        Some(Latency::Fixed(d)) => map.serialize_entry("fixed_ms", &ms(d))?,
        Some(Latency::Between(low, high)) => {
            map.serialize_entry("between_ms", &[ms(low), ms(high)])?;
        }
        Some(Latency::OneOf(choices)) => {
            map.serialize_entry("one_of_ms", &choices.iter().map(ms).collect::<Vec<_>>())?;
        }
        None => {}
    }
    map.end()
}

/// Faults injected on one name, of one kind, since start or the last [`crate::reset`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChaosCount {
    /// The operation's or the breaker's name.
    pub name: String,
    /// The kind of fault.
    pub kind: FaultKind,
    /// Faults injected.
    pub injected: u64,
}

/// Why a rule was not armed or a factory not registered.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ChaosError {
    /// A rate outside `0.0..=1.0` (or not a number).
    #[error("chaos `{name}`: the {kind} rate {rate} is outside 0.0..=1.0")]
    Rate {
        /// The name of the rule.
        name: String,
        /// The kind of fault.
        kind: FaultKind,
        /// The rate given.
        rate: f64,
    },
    /// A latency that cannot be injected (an empty range, too many choices, too long).
    #[error("chaos `{name}`: latency: {reason}")]
    Latency {
        /// The name of the rule.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An error fault on an operation no factory was registered for: only code can make up a
    /// value of its error type ([`register_error`]).
    #[error(
        "chaos `{name}`: no error factory is registered for this operation; register one in code \
         with coord::chaos::register_error (only code can make its error type)"
    )]
    NoFactory {
        /// The operation's name.
        name: String,
    },
    /// An empty name, or one longer than [`MAX_NAME_LEN`].
    #[error("chaos: {reason}")]
    Name {
        /// What is wrong with it.
        reason: String,
    },
    /// [`MAX_RULES`] rules are armed already.
    #[error("chaos: {} rules are armed already; disarm some first", MAX_RULES)]
    TooManyRules,
    /// [`MAX_FACTORIES`] operations have a factory already.
    #[error("chaos: {} operations have an error factory already", MAX_FACTORIES)]
    TooManyFactories,
}
