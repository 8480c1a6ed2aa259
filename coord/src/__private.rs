//! The only door macro-generated code uses. Not public API: anything here may change in any
//! release.
//!
//! Every coord attribute on a function expands to one `static` [`Site`] (the call site's
//! operation, retry policy and breaker, each resolved on first use) and one [`Stack`] the
//! body is handed to, with one step per layer already sorted in the documented order; the
//! composition itself lives in the runtime (`stack.rs`). The
//! expansion of the quickstart's `fetch_user` (`#[track_performance("user_api.fetch")]`,
//! `#[retry(max_retries = 3, base_delay = "2ms", multiplier = 2.0, jitter = "full",
//! when = transient)]`, `#[circuit_breaker(name = "user_api", failure_rate = 0.5,
//! minimum_calls = 10, open_for = "30s")]`), formatted, with the `use … as _` lines that bring
//! `is_failure`/`describer` into scope left out:
//!
//! ```text
//! async fn fetch_user(id: u32) -> Result<String, ApiError> {
//!     static __COORD: ::coord::__private::Site = ::coord::__private::Site::new(
//!         "user_api.fetch",
//!         ::core::option::Option::Some("user_api"),
//!         |__coord_operation: &'static str| {
//!             ::coord::__private::named_or_default(__coord_operation)
//!                 .max_retries(3u32).base_delay(::core::time::Duration::new(0u64, 2000000u32))
//!                 .multiplier(2f64).jitter(::coord::__private::Jitter::Full)
//!         },
//!         || ::coord::__private::BreakerConfig::default()
//!             .failure_rate(0.5f64).minimum_calls(10u32)
//!             .open_for(::core::time::Duration::new(30u64, 0u32)),
//!     );
//!     let __coord_site = &__COORD;
//!     let mut id = id;
//!     ::coord::__private::drive_async!(
//!         ::coord::__private::Stack::async_attempts(async move || {
//!             let id = { struct id {} ::coord::__private::retry_arg::<id, _>(&mut id) };
//!             let __coord_ret: Result<String, ApiError> = { /* the original body */ };
//!             __coord_ret
//!         })
//!         .time(|__coord_of| {
//!             ::coord::__private::Track::new(
//!                 &__coord_site.perf,
//!                 __coord_of,
//!                 (&::coord::__private::Kind::of(&__coord_of)).classifier(),
//!                 (&&&&::coord::__private::Kind::of(&__coord_of)).describer(),
//!             )
//!         })
//!         .retry(&__coord_site.retry, &transient, |__coord_error_type| {
//!             (&&&__coord_error_type).describer()
//!         })
//!         .gate(::coord::__private::BreakerGate::new(__coord_site.breaker.breaker()))
//!     )
//! }
//! ```
//!
//! `retry_arg::<id, _>` copies a by-value parameter for each attempt; the marker type named after
//! the parameter lets a missing `Clone` name it. The `__coord_*` names are mixed-site (invisible
//! to the body). Without `#[retry]` the body runs once: `Stack::once(move || …)…run()` for a
//! `fn`, `Stack::future(pin!(async move { … }))…run_future().await` for an `async fn` (pinned
//! in the function's own state: the layers hold a pointer); a sync retried `fn` uses
//! `Stack::attempts(|| …)…run()`. The other layers' steps: `.recover(Fallback(path))` (or
//! `.recover_async(Pick(path).pick())`), `.total(TimeLimit::new(..))`, one
//! `.gate(<its gate>::new(SITE.get(..)))` per gate layer (each a `static`
//! `LayerSite::<its layer>::configured(name, || config)`; gates, layers and configurations come
//! from the list of mechanisms), `.attempt(TimeLimit::new(..))`; each constructor's bounds say what its layer needs of the return type, and it is spanned at
//! its attribute. An async retried function expands
//! [`drive_async!`] in place instead of awaiting an `async fn` of the runtime: that keeps its
//! future `Send` whenever the body's is (see `drive_async!`).
//!
//! The `Site` holds the function's operation name ([`Site::name`]); every layer not given a
//! name of its own takes it: `Site::new` names the breaker (`None`: the operation's name), the
//! retry policy is built from it, and the gate layers and the time-out counter resolve with
//! `SITE.get(|| __coord_site.name())` on their first call.
//!
//! Methods with a receiver use [`MethodSite`] instead, whose default operation name includes
//! the impl's type (`module::Type::method`), read once from `core::any::type_name::<Self>()`:
//! `let __coord_site = __COORD.get(::core::any::type_name::<Self>);`.

use std::marker::PhantomData;
use std::sync::OnceLock;

use crate::doors::sites::{BreakerSite, RetrySite};
use crate::layer::Of;
use crate::outcome::StatusRule;
use crate::perf::layer::{DescribeFailure, FailureMessage};
use crate::perf::span::ErrorTypeOf;
use crate::retry::layer::Describe;
use crate::semconv::ErrorType;

pub use crate::__drive_async as drive_async;
pub use crate::breaker::layer::{BreakerGate, BreakerReturn, FromCircuitOpen};
/// The macro's cached operation site (the benches build one by hand to time the recorder alone).
pub use crate::doors::sites::OperationSite;

pub use crate::fallback::{Fallback, FallbackFn, Pick, PickAsync, PickSync};
// `Off` is also how diagnostics spell an absent layer (`coord::__private::Off`, in ui snapshots).
pub use crate::layer::{
    Fallible, Gate, GateFor, Limit, LimitFor, Off, Recover, RecoverAsync, Timer,
};

pub use crate::perf::layer::Track;
pub use crate::retry::layer::Retry;
pub use crate::stack::{Stack, finish, rejected, settle};

/// What the expanded async retry loop asks of fault injection (see `coord::chaos`).
pub mod chaos {
    pub use crate::chaos::inject::{armed, delay, error};
}

pub use crate::timeout::layer::{FromTimedOut, TimeLimit};

/// One call site's layers, each resolved in its registry on first use (a layer the function
/// does not have is never resolved, so it costs nothing).
///
/// The naming rule lives here: the site holds the function's operation name (the
/// `#[track_performance]` name, else the default `module::function` or
/// `module::Type::method`), and every layer of the function is named after it unless its own
/// attribute gives a `name`: the operation, the retry policy and budget, the breaker, and
/// (through [`Site::name`]) the gate layers and the time-out counter.
#[derive(Debug)]
pub struct Site {
    /// The operation `#[track_performance]` records into.
    pub perf: OperationSite,
    /// The retry policy and budget of `#[retry]` (failures recorded under the operation name).
    pub retry: RetrySite,
    /// The breaker of `#[circuit_breaker]`.
    pub breaker: BreakerSite,
}

impl Site {
    /// The layers of a call site whose operation is `operation`; the breaker is `breaker` if
    /// its attribute names one, else the operation's name. `policy` builds the retry policy
    /// from the operation's name.
    pub const fn new(
        operation: &'static str,
        breaker: Option<&'static str>,
        policy: fn(&'static str) -> RetryPolicy,
        config: fn() -> BreakerConfig,
    ) -> Self {
        let breaker = match breaker {
            Some(own) => own,
            None => operation,
        };
        Self {
            perf: OperationSite::new(operation),
            retry: RetrySite::new(operation, policy),
            breaker: BreakerSite::new(breaker, config),
        }
    }

    /// The function's operation name: the name of every layer not given its own.
    #[inline]
    pub fn name(&self) -> &'static str {
        self.perf.name()
    }
}

/// The [`Site`] of a method with a receiver, whose default operation name needs the impl's
/// type: a `static` cannot name `Self`, so the body hands it over on the first call.
#[derive(Debug)]
pub struct MethodSite {
    module: &'static str,
    function: &'static str,
    operation: Option<&'static str>,
    breaker: Option<&'static str>,
    policy: fn(&'static str) -> RetryPolicy,
    config: fn() -> BreakerConfig,
    site: OnceLock<Site>,
}

impl MethodSite {
    /// The layers of method `function` in `module`, with the explicit names given (`None`:
    /// the operation's name, `module::Type::function` unless `operation` is given).
    pub const fn new(
        module: &'static str,
        function: &'static str,
        operation: Option<&'static str>,
        breaker: Option<&'static str>,
        policy: fn(&'static str) -> RetryPolicy,
        config: fn() -> BreakerConfig,
    ) -> Self {
        Self {
            module,
            function,
            operation,
            breaker,
            policy,
            config,
            site: OnceLock::new(),
        }
    }

    /// The site; `self_type` (`core::any::type_name::<Self>`) is called on the first call only.
    #[inline]
    pub fn get(&self, self_type: impl FnOnce() -> &'static str) -> &Site {
        self.site.get_or_init(|| {
            // Computed (and leaked) once per call site, a bounded set: registries key on
            // `&'static str`.
            let operation = self
                .operation
                .unwrap_or_else(|| leaked_method_name(self.module, self_type(), self.function));
            Site::new(operation, self.breaker, self.policy, self.config)
        })
    }
}

/// `module::Type::function`, where `Type` is the last segment of `type_name` without generic
/// arguments (`shop::Cart<u32>` → `Cart`, `&shop::Cart` → `Cart`).
pub fn method_name(module: &str, type_name: &str, function: &str) -> String {
    let without_args = type_name.split('<').next().unwrap_or(type_name);
    let last = without_args.rsplit("::").next().unwrap_or(without_args);
    let ty = last.trim_start_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    if ty.is_empty() {
        format!("{module}::{function}")
    } else {
        format!("{module}::{ty}::{function}")
    }
}

/// The `when` of a `#[retry]` without one: every error is retryable.
#[inline(always)]
pub fn always<E>(_: &E) -> bool {
    true
}

/// Marks a parameter as used mutably, so that an async attempt captures it by unique borrow:
/// `&mut T` is `Send` when `T` is, `&T` only when `T` is `Sync`.
#[inline(always)]
pub fn unique<T: ?Sized>(_: &mut T) {}

/// A marker of an operation's return type `T`, for choosing by method resolution (autoref
/// specialisation) how a value of it is classified and how its failures are remembered:
/// `(&Kind::of(&of)).classifier()` and `(&&&&Kind::of(&of)).describer()`. Each gives a
/// function pointer to code compiled once per type, not a closure per function: a `Result`'s
/// `Err` fails (remembered by `Display`, else `Debug`, else the type name); an HTTP response is
/// classified by status; any other type succeeds.
pub struct Kind<T>(PhantomData<fn() -> T>);

impl<T> Kind<T> {
    /// The marker of the type `of` marks.
    #[inline(always)]
    pub fn of(_: &Of<T>) -> Self {
        Self(PhantomData)
    }
}

pub use crate::outcome::Outcome;

pub use crate::perf::span::Spanned;

pub use tracing;
pub use tracing::Instrument;

/// `error.type` of a `Result`'s failure: the error's type name.
pub trait ResultErrorType<T> {
    /// The function.
    fn error_type(&self) -> ErrorTypeOf<T>;
}

impl<T, E> ResultErrorType<Result<T, E>> for Kind<Result<T, E>> {
    #[inline(always)]
    fn error_type(&self) -> ErrorTypeOf<Result<T, E>> {
        |_| ErrorType::Name(core::any::type_name::<E>())
    }
}

/// `error.type` of a failed HTTP response: its status.
pub trait ResponseErrorType<T> {
    /// The function.
    fn error_type(&self) -> ErrorTypeOf<T>;
}

impl<B> ResponseErrorType<http::Response<B>> for Kind<http::Response<B>> {
    #[inline(always)]
    fn error_type(&self) -> ErrorTypeOf<http::Response<B>> {
        |out| ErrorType::Status(out.status().as_u16())
    }
}

/// `error.type` of any other type a classifier fails: `_OTHER`.
pub trait AnyErrorType<T> {
    /// The function.
    #[inline(always)]
    fn error_type(&self) -> ErrorTypeOf<T> {
        |_| ErrorType::Other
    }
}

impl<T> AnyErrorType<T> for &Kind<T> {}

/// Chosen for a `Result`: `Err` is a failure.
pub trait ResultOutcome<T> {
    /// The classifier.
    fn classifier(&self) -> fn(&T) -> Outcome;
}

impl<T, E> ResultOutcome<Result<T, E>> for Kind<Result<T, E>> {
    #[inline(always)]
    fn classifier(&self) -> fn(&Result<T, E>) -> Outcome {
        |out| match out {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// Chosen for an HTTP response (`http::Response<B>`, axum's `Response`): classified by status
/// with [`StatusRule::DEFAULT`] (5xx fail), whatever coord's features.
pub trait ResponseOutcome<T> {
    /// The classifier.
    fn classifier(&self) -> fn(&T) -> Outcome;
}

impl<B> ResponseOutcome<http::Response<B>> for Kind<http::Response<B>> {
    #[inline(always)]
    fn classifier(&self) -> fn(&http::Response<B>) -> Outcome {
        |out| StatusRule::DEFAULT.classify(out.status().as_u16())
    }
}

/// The fallback for every other type: a success (name a classifier with `outcome = path` to
/// say otherwise).
pub trait AnyOutcome<T> {
    /// The classifier.
    #[inline(always)]
    fn classifier(&self) -> fn(&T) -> Outcome {
        |_| Outcome::Success
    }
}

impl<T> AnyOutcome<T> for &Kind<T> {}

/// A failure's message, first choice: the error's `Display` (or an HTTP response's status).
pub trait FailureDisplay<T> {
    /// The describer.
    fn describer(&self) -> DescribeFailure<T>;
}

/// An error type that opted in to fault injection ([`crate::chaos::Injectable`], which implies
/// `Display` and `'static`): remembered by `Display`, and injectable.
impl<T, E: crate::chaos::Injectable> FailureDisplay<Result<T, E>> for &&&Kind<Result<T, E>> {
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<Result<T, E>> {
        DescribeFailure::new(display::<T, E>).injecting(crate::chaos::inject::result::<T, E>)
    }
}

/// Any other error type with `Display` (chosen after the opted-in ones, through the one free
/// place between the `Display` and `Debug` choices: the autoref of `&&&&Kind`).
impl<T, E: core::fmt::Display> FailureType<Result<T, E>> for &&&&Kind<Result<T, E>> {
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<Result<T, E>> {
        DescribeFailure::new(display::<T, E>)
    }
}

fn display<T, E: core::fmt::Display>(out: &Result<T, E>) -> FailureMessage<'_> {
    match out {
        Err(error) => FailureMessage::Display(error),
        Ok(_) => FailureMessage::None,
    }
}

impl<B> FailureDisplay<http::Response<B>> for &&&Kind<http::Response<B>> {
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<http::Response<B>> {
        DescribeFailure::new(|out| FailureMessage::Status(out.status().as_u16()))
    }
}

/// A failure's message, second choice: the error's `Debug`.
pub trait FailureDebug<T> {
    /// The describer.
    fn describer(&self) -> DescribeFailure<T>;
}

impl<T, E: core::fmt::Debug> FailureDebug<Result<T, E>> for &&Kind<Result<T, E>> {
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<Result<T, E>> {
        DescribeFailure::new(|out| match out {
            Err(error) => FailureMessage::Debug(error),
            Ok(_) => FailureMessage::None,
        })
    }
}

/// A failure's message, third choice: the error's type name.
pub trait FailureType<T> {
    /// The describer.
    fn describer(&self) -> DescribeFailure<T>;
}

impl<T, E> FailureType<Result<T, E>> for &Kind<Result<T, E>> {
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<Result<T, E>> {
        DescribeFailure::new(|_| FailureMessage::Type(core::any::type_name::<E>()))
    }
}

/// Any other type (judged a failure by a user classifier): no message, the last error stays.
pub trait FailureNone<T> {
    /// The describer.
    #[inline(always)]
    fn describer(&self) -> DescribeFailure<T> {
        DescribeFailure::new(|_| FailureMessage::None)
    }
}

impl<T> FailureNone<T> for Kind<T> {}

/// The value of a function declared `-> impl IntoResponse` under `#[track_performance]`, made a
/// `Response` so that its status can be classified (a `Response` is `IntoResponse` too).
#[cfg(feature = "axum")]
#[inline(always)]
pub fn into_response<T: axum::response::IntoResponse>(value: T) -> axum::response::Response {
    value.into_response()
}

/// Without coord's `axum` feature the value stays as it is, so its status cannot be read: the
/// call is a success whatever it answers. Said at the function, as a warning, rather than
/// counted wrong in silence.
#[cfg(not(feature = "axum"))]
#[deprecated(
    note = "`#[track_performance]` cannot read the status of an `impl IntoResponse` without coord's `axum` feature (every call counts as a success): enable `coord/axum`, or return `Response`"
)]
#[inline(always)]
pub fn into_response<T>(value: T) -> T {
    value
}

// `#[derive(Validate)]` support.
pub use crate::doors::sites::register_rule_set;
pub use crate::doors::sites::{KeyedSite, named_or_default};

pub use crate::retry::{Jitter, RetryPolicy};
pub use crate::validate::support::number_value;
pub use crate::validate::support::{
    Items, LazyPattern, custom, format, length, must_match, one_of_num, one_of_str, pattern,
    pattern_kind, range, required,
};
pub use crate::validate::{
    Checks, DerivedSite, FieldPath, FieldRules, NestedRules, Rule, RuleKind, RuleSet, Validate,
    ValidationResult, ValueType,
};
pub use ::core::option::Option::{None, Some};
pub use ::std::string::String;
pub use ::std::vec;
pub use serde_json::Value;

/// Chosen when the error implements `Display` (autoref specialisation on
/// `(&&&Describe::<E>).describer()`).
pub trait DescribeDisplay<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E: core::fmt::Display> DescribeDisplay<E> for &&Describe<E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        crate::compose::retry::bounded_message::<E>
    }
}

/// Chosen when the error implements only `Debug`.
pub trait DescribeDebug<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E: core::fmt::Debug> DescribeDebug<E> for &Describe<E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        crate::compose::retry::bounded_debug::<E>
    }
}

/// The fallback: the type name.
pub trait DescribeAny<E> {
    /// The message function.
    fn describer(&self) -> fn(&E) -> String;
}

impl<E> DescribeAny<E> for Describe<E> {
    #[inline]
    fn describer(&self) -> fn(&E) -> String {
        |_| core::any::type_name::<E>().to_owned()
    }
}

/// A by-value parameter of a `#[retry]` function, copied for each attempt. `Param` is a
/// marker type named after the parameter, so the error message can name it.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` runs the body once per attempt, so by-value parameter `{Param}` (of type `{Self}`) must be `Clone`",
    label = "`{Param}` is moved into every attempt, but `{Self}` is not `Clone`",
    note = "take `{Param}` by reference (`&{Self}`), or make `{Self}` `Clone` (wrap it in `Arc` if cloning is costly)"
)]
pub trait RetryArg<Param>: Sized {
    /// The copy one attempt consumes.
    fn for_attempt(&self) -> Self;
}

impl<T: Clone, Param> RetryArg<Param> for T {
    #[inline]
    fn for_attempt(&self) -> Self {
        self.clone()
    }
}

/// Copies parameter `value` for one attempt; `Param` names the parameter in errors. Taking
/// `&mut` makes an async attempt capture the parameter by unique borrow, which is `Send`
/// whenever the parameter is.
#[inline]
pub fn retry_arg<Param, T: RetryArg<Param>>(value: &mut T) -> T {
    value.for_attempt()
}

pub use crate::breaker::{BreakerConfig, CircuitOpen};

pub use crate::doors::sites::{LayerSite, TimeoutSite};

// Each gate layer's gate, site layer and configuration, from the list of mechanisms.
pub use crate::mechanisms::generated::*;

/// The default operation name of a method, `module::Type::function`, leaked.
fn leaked_method_name(module: &str, self_type: &'static str, function: &str) -> &'static str {
    Box::leak(method_name(module, self_type, function).into_boxed_str())
}

/// A by-value parameter of a `#[hedge]` function, copied for each attempt. `Param` is a
/// marker type named after the parameter, so the error message can name it.
#[diagnostic::on_unimplemented(
    message = "`#[hedge]` runs attempts side by side, so by-value parameter `{Param}` (of type `{Self}`) must be `Clone`",
    label = "`{Param}` is given to every attempt, but `{Self}` is not `Clone`",
    note = "take `{Param}` by reference (`&{Self}`), or make `{Self}` `Clone` (wrap it in `Arc` if cloning is costly)"
)]
pub trait HedgeArg<Param>: Sized {
    /// The copy one attempt owns.
    fn for_hedge(&self) -> Self;
}

impl<T: Clone, Param> HedgeArg<Param> for T {
    #[inline]
    fn for_hedge(&self) -> Self {
        self.clone()
    }
}

/// Copies parameter `value` for one attempt of a hedged call; `Param` names the parameter in
/// errors.
#[inline]
pub fn hedge_arg<Param, T: HedgeArg<Param>>(value: &T) -> T {
    value.for_hedge()
}
