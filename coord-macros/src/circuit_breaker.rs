//! `#[circuit_breaker(name = "db", failure_rate = 0.5, minimum_calls = 10, window = 20,
//! open_for = "30s", half_open_calls = 3, slow_call = "2s", slow_call_rate = 1.0)]`.
//!
//! Parses and checks the literals into [`Breaker`]; `compose` expands it.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{LitInt, LitStr};

use coord_limits::breaker::{
    DEFAULT_MINIMUM_CALLS, DEFAULT_OPEN_FOR, DEFAULT_WINDOW_CALLS, MAX_HALF_OPEN_CALLS,
    MAX_WINDOW_CALLS, MIN_TIME_WINDOW,
};

use crate::common::{Errors, Key, Setters, duration_tokens, parse_keys};

const KEYS: &[&str] = &[
    "name",
    "failure_rate",
    "minimum_calls",
    "window",
    "open_for",
    "half_open_calls",
    "slow_call",
    "slow_call_rate",
    "consecutive_failures",
    "max_open_for",
    "max_half_open_wait",
    "classifier",
    "key",
];

enum WindowArg {
    Calls(u32),
    Time(Duration),
}

/// `window = 20` (calls) or `window = "10s"` (a period), told apart by the literal's kind.
fn window(key: &Key<'_, '_>, errors: &mut Errors) -> syn::Result<Option<(WindowArg, Span)>> {
    let value = key.meta.input.fork();
    let has_value = value.parse::<syn::Token![=]>().is_ok();
    if has_value && value.peek(LitStr) {
        let (period, span) = key.duration("\"10s\"")?;
        if period < MIN_TIME_WINDOW {
            errors.push(key.error(span, format!("must be at least \"{MIN_TIME_WINDOW:?}\"")));
        }
        return Ok(Some((WindowArg::Time(period), span)));
    }
    let mut calls = key.integer(1, MAX_WINDOW_CALLS, "20");
    if has_value && !value.peek(LitInt) {
        calls = calls.map_err(|e| {
            key.error(
                e.span(),
                "is a number of calls (`window = 20`) or a period (`window = \"10s\"`)",
            )
        });
    }
    Ok(errors
        .take(calls)
        .map(|(n, span)| (WindowArg::Calls(n), span)))
}

/// The checked arguments of one `#[circuit_breaker(...)]`.
#[derive(Default)]
pub(crate) struct Breaker {
    pub(crate) name: Option<LitStr>,
    failure_rate: Option<f64>,
    slow_call_rate: Option<f64>,
    minimum_calls: Option<(u32, Span)>,
    window: Option<(WindowArg, Span)>,
    half_open_calls: Option<u32>,
    consecutive_failures: Option<u32>,
    open_for: Option<Duration>,
    max_open_for: Option<(Duration, Span)>,
    slow_call: Option<Duration>,
    max_half_open_wait: Option<Duration>,
    classifier: Option<syn::Path>,
    /// `key = expr`: one breaker per value of `expr` (`Display + Hash`), in the group `name`.
    pub(crate) key: Option<syn::Expr>,
}

impl Breaker {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Breaker::default();
        let mut errors = Errors::default();
        parse_keys("circuit_breaker", KEYS, tokens, |key| {
            match key.name.as_str() {
                "name" => args.name = Some(key.name("\"db\"")?),
                "failure_rate" | "slow_call_rate" => {
                    let (rate, span) = key.number("0.5")?;
                    if !(0.0..=1.0).contains(&rate) {
                        errors.push(key.error(span, format!("must lie in 0.0..=1.0, not {rate}")));
                    }
                    if key.name == "failure_rate" {
                        args.failure_rate = Some(rate);
                    } else {
                        args.slow_call_rate = Some(rate);
                    }
                }
                "half_open_calls" => {
                    args.half_open_calls = errors
                        .take(key.integer(1, MAX_HALF_OPEN_CALLS, "3"))
                        .map(|(n, _)| n);
                }
                "minimum_calls" => args.minimum_calls = errors.take(key.integer(1, u32::MAX, "10")),
                "consecutive_failures" => {
                    args.consecutive_failures =
                        errors.take(key.integer(1, u32::MAX, "5")).map(|(n, _)| n);
                }
                "window" => args.window = window(key, &mut errors)?,
                "open_for" | "max_open_for" | "slow_call" | "max_half_open_wait" => {
                    let (duration, span) = key.duration("\"30s\"")?;
                    if duration.is_zero() {
                        errors.push(key.error(span, "must be longer than zero"));
                    }
                    match key.name.as_str() {
                        "open_for" => args.open_for = Some(duration),
                        "max_open_for" => args.max_open_for = Some((duration, span)),
                        "slow_call" => args.slow_call = Some(duration),
                        _ => args.max_half_open_wait = Some(duration),
                    }
                }
                "classifier" => args.classifier = Some(key.path("path::to::counts_as_failure")?),
                "key" => {
                    let value = key.value(
                        "`key = host` (an expression over the parameters, `Display + Hash`)",
                    )?;
                    args.key = Some(value.parse()?);
                }
                // `parse_keys` passes only KEYS.
                _ => {}
            }
            Ok(())
        })?;
        if args.key.is_some() && args.name.is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[circuit_breaker] `key` needs a `name` for the group of breakers, e.g. `#[circuit_breaker(name = \"db\", key = host)]`",
            ));
        }
        args.check_together(&mut errors);
        errors.finish(args)
    }

    /// Checks between keys, with the runtime defaults for keys left out.
    fn check_together(&self, errors: &mut Errors) {
        if let Some((minimum, span)) = self.minimum_calls {
            let window = match &self.window {
                Some((WindowArg::Calls(n), _)) => Some((*n, "")),
                None => Some((DEFAULT_WINDOW_CALLS, ", the default")),
                Some((WindowArg::Time(_), _)) => None,
            };
            if let Some((calls, default)) = window
                && minimum > calls
            {
                errors.push(
                    syn::Error::new(
                        span,
                        format!(
                            "#[circuit_breaker] `minimum_calls` ({minimum}) is larger than `window` ({calls} calls{default}), so the breaker could never open"
                        ),
                    ),
                );
            }
        } else if let Some((WindowArg::Calls(n), span)) = &self.window
            && *n < DEFAULT_MINIMUM_CALLS
        {
            errors.push(
                syn::Error::new(
                    *span,
                    format!(
                        "#[circuit_breaker] `window` ({n} calls) is smaller than `minimum_calls` ({DEFAULT_MINIMUM_CALLS}, the default); set `minimum_calls` too"
                    ),
                ),
            );
        }
        if let Some((cap, span)) = self.max_open_for {
            let open_for = self.open_for.unwrap_or(DEFAULT_OPEN_FOR);
            if cap < open_for {
                errors.push(
                    syn::Error::new(
                        span,
                        format!(
                            "#[circuit_breaker] `max_open_for` ({cap:?}) is shorter than `open_for` ({open_for:?})"
                        ),
                    ),
                );
            }
        }
    }

    /// The body of a `fn() -> BreakerConfig` building this configuration.
    pub(crate) fn config_tokens(&self) -> TokenStream {
        let rate = |r: f64| syn::LitFloat::new(&format!("{r:?}f64"), Span::call_site());
        let window = self.window.as_ref().map(|(window, _)| match window {
            WindowArg::Calls(n) => quote!(#n),
            WindowArg::Time(d) => duration_tokens(*d),
        });
        Setters::on(quote!(::coord::__private::BreakerConfig::default()))
            .set("failure_rate", self.failure_rate.map(rate))
            .set("slow_call_rate", self.slow_call_rate.map(rate))
            .set("minimum_calls", self.minimum_calls.map(|(n, _)| n))
            .set("window", window)
            .set("half_open_calls", self.half_open_calls)
            .set("consecutive_failures", self.consecutive_failures)
            .duration("open_for", self.open_for)
            .duration("max_open_for", self.max_open_for.map(|(d, _)| d))
            .duration("slow_call", self.slow_call)
            .duration("max_half_open_wait", self.max_half_open_wait)
            .set("classifier", self.classifier.as_ref())
            .finish()
    }
}
