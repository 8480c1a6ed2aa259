//! `#[circuit_breaker(name = "db", failure_rate = 0.5, minimum_calls = 10, window = 20,
//! open_for = "30s", half_open_calls = 3, slow_call = "2s", slow_call_rate = 1.0)]`.
//!
//! Parses and checks the literals; the composed wrapper (compose.rs) calls [`BreakerArgs::wrap`]
//! to put the breaker around the body.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::{Expr, ExprLit, ExprPath, Lit, LitStr};

use crate::common::{duration_tokens, parse_duration};

const KEYS: &str = "name, failure_rate, minimum_calls, window, open_for, half_open_calls, \
                    slow_call, slow_call_rate, consecutive_failures, max_open_for, \
                    max_half_open_wait, classifier";

/// Mirrors the runtime's limits (`coord::BreakerConfig::validate`).
const MAX_WINDOW_CALLS: u32 = 1024;
const MAX_HALF_OPEN_CALLS: u32 = 255;
const MIN_TIME_WINDOW: Duration = Duration::from_millis(10);
const DEFAULT_WINDOW_CALLS: u32 = 20;
const DEFAULT_MINIMUM_CALLS: u32 = 10;
const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);

enum WindowArg {
    Calls(u32),
    Time(Duration),
}

/// The checked arguments of one `#[circuit_breaker(...)]`.
#[derive(Default)]
pub(crate) struct BreakerArgs {
    name: Option<LitStr>,
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
    classifier: Option<ExprPath>,
}

fn combine(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

impl BreakerArgs {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = BreakerArgs::default();
        let mut errors: Option<syn::Error> = None;
        let mut seen: Vec<String> = Vec::new();
        syn::meta::parser(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if seen.contains(&key) {
                return Err(meta.error(format!("duplicate key `{key}` in #[circuit_breaker]")));
            }
            let check = |result: Result<(), String>, span: Span| -> Option<syn::Error> {
                result
                    .err()
                    .map(|why| syn::Error::new(span, format!("#[circuit_breaker] `{key}` {why}")))
            };
            let mut problem = None;
            match key.as_str() {
                "name" => {
                    let name: LitStr = meta.value()?.parse()?;
                    if name.value().trim().is_empty() {
                        problem = check(Err("must not be empty".into()), name.span());
                    }
                    args.name = Some(name);
                }
                "failure_rate" | "slow_call_rate" => {
                    let (rate, span) = parse_rate(meta.value()?)?;
                    if !(0.0..=1.0).contains(&rate) {
                        problem = check(Err(format!("must lie in 0.0..=1.0, not {rate}")), span);
                    }
                    if key == "failure_rate" {
                        args.failure_rate = Some(rate);
                    } else {
                        args.slow_call_rate = Some(rate);
                    }
                }
                "minimum_calls" | "half_open_calls" | "consecutive_failures" => {
                    let lit: syn::LitInt = meta.value()?.parse()?;
                    let span = lit.span();
                    let (max, range) = if key == "half_open_calls" {
                        (MAX_HALF_OPEN_CALLS, "a whole number in 1..=255")
                    } else {
                        (u32::MAX, "a whole number, at least 1")
                    };
                    match lit.base10_parse::<u32>() {
                        Ok(n) if (1..=max).contains(&n) => match key.as_str() {
                            "minimum_calls" => args.minimum_calls = Some((n, span)),
                            "half_open_calls" => args.half_open_calls = Some(n),
                            _ => args.consecutive_failures = Some(n),
                        },
                        _ => problem = check(Err(format!("must be {range}")), span),
                    }
                }
                "window" => {
                    let input = meta.value()?;
                    if input.peek(LitStr) {
                        let lit: LitStr = input.parse()?;
                        let period = keyed_duration(&key, &lit)?;
                        if period < MIN_TIME_WINDOW {
                            problem = check(Err("must be at least \"10ms\"".into()), lit.span());
                        }
                        args.window = Some((WindowArg::Time(period), lit.span()));
                    } else {
                        let lit: syn::LitInt = input.parse().map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                "#[circuit_breaker] `window` is a number of calls (`window = 20`) or a period (`window = \"10s\"`)",
                            )
                        })?;
                        match lit.base10_parse::<u32>() {
                            Ok(n) if (1..=MAX_WINDOW_CALLS).contains(&n) => {
                                args.window = Some((WindowArg::Calls(n), lit.span()));
                            }
                            _ => {
                                problem = check(
                                    Err(format!("must be 1..={MAX_WINDOW_CALLS} calls")),
                                    lit.span(),
                                )
                            }
                        }
                    }
                }
                "open_for" | "max_open_for" | "slow_call" | "max_half_open_wait" => {
                    let lit: LitStr = meta.value()?.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            format!(
                                "#[circuit_breaker] `{key}` is a duration string such as \"30s\""
                            ),
                        )
                    })?;
                    let duration = keyed_duration(&key, &lit)?;
                    if duration.is_zero() {
                        problem = check(Err("must be longer than zero".into()), lit.span());
                    }
                    match key.as_str() {
                        "open_for" => args.open_for = Some(duration),
                        "max_open_for" => args.max_open_for = Some((duration, lit.span())),
                        "slow_call" => args.slow_call = Some(duration),
                        _ => args.max_half_open_wait = Some(duration),
                    }
                }
                "classifier" => {
                    let expr: Expr = meta.value()?.parse()?;
                    match expr {
                        Expr::Path(path) => args.classifier = Some(path),
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                "#[circuit_breaker] `classifier` is a path to a `fn(&E) -> bool`",
                            ));
                        }
                    }
                }
                _ => {
                    let path = &meta.path;
                    return Err(meta.error(format!(
                        "unknown key `{}` in #[circuit_breaker]; accepted keys: {KEYS}",
                        quote!(#path).to_string().replace(' ', "")
                    )));
                }
            }
            seen.push(key);
            if let Some(e) = problem {
                combine(&mut errors, e);
            }
            Ok(())
        })
        .parse2(tokens)?;
        args.check_together(&mut errors);
        match errors {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }

    /// Checks between keys, with the runtime defaults for keys left out.
    fn check_together(&self, errors: &mut Option<syn::Error>) {
        if let Some((minimum, span)) = self.minimum_calls {
            let window = match &self.window {
                Some((WindowArg::Calls(n), _)) => Some((*n, "")),
                None => Some((DEFAULT_WINDOW_CALLS, ", the default")),
                Some((WindowArg::Time(_), _)) => None,
            };
            if let Some((calls, default)) = window
                && minimum > calls
            {
                combine(
                    errors,
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
            combine(
                errors,
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
                combine(
                    errors,
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

    /// The breaker name as a `&'static str` expression: the `name` key, or the function's
    /// path like `#[track_performance]`.
    fn name_expr(&self, fn_name: &syn::Ident) -> TokenStream {
        match &self.name {
            Some(name) => quote!(#name),
            None => {
                let fn_name = fn_name.to_string();
                quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
            }
        }
    }

    /// The body of a `fn() -> BreakerConfig` building this configuration.
    fn config_tokens(&self) -> TokenStream {
        let mut calls = Vec::new();
        let rate = |r: f64| {
            let lit = syn::LitFloat::new(&format!("{r:?}f64"), Span::call_site());
            quote!(#lit)
        };
        if let Some(r) = self.failure_rate {
            let r = rate(r);
            calls.push(quote!(.failure_rate(#r)));
        }
        if let Some(r) = self.slow_call_rate {
            let r = rate(r);
            calls.push(quote!(.slow_call_rate(#r)));
        }
        if let Some((n, _)) = self.minimum_calls {
            calls.push(quote!(.minimum_calls(#n)));
        }
        match &self.window {
            Some((WindowArg::Calls(n), _)) => calls.push(quote!(.window(#n))),
            Some((WindowArg::Time(d), _)) => {
                let d = duration_tokens(*d);
                calls.push(quote!(.window(#d)));
            }
            None => {}
        }
        if let Some(n) = self.half_open_calls {
            calls.push(quote!(.half_open_calls(#n)));
        }
        if let Some(n) = self.consecutive_failures {
            calls.push(quote!(.consecutive_failures(#n)));
        }
        for (method, value) in [
            ("open_for", self.open_for),
            ("max_open_for", self.max_open_for.map(|(d, _)| d)),
            ("slow_call", self.slow_call),
            ("max_half_open_wait", self.max_half_open_wait),
        ] {
            if let Some(d) = value {
                let method = syn::Ident::new(method, Span::call_site());
                let d = duration_tokens(d);
                calls.push(quote!(.#method(#d)));
            }
        }
        if let Some(path) = &self.classifier {
            calls.push(quote!(.classifier(#path)));
        }
        quote!(::coord::__private::BreakerConfig::default() #(#calls)*)
    }

    /// Wraps `body` (an expression of the function's `Result` type): one permit per
    /// evaluation, the outcome recorded from the result. `reject` is the expression the
    /// wrapper evaluates to when the breaker rejects the call, with the rejection bound to
    /// `__coord_open`; `None` means `Err(E::from(__coord_open))`. A retry layer passes an
    /// expression that leaves its loop, so that a rejection is never retried.
    ///
    /// `output` is the function's return type: type errors (not a `Result`, no
    /// `From<CircuitOpen>`) point at it.
    /// The per-call-site items: the config function and the `static` handle `__COORD_BREAKER`.
    pub(crate) fn site(&self, sig: &syn::Signature) -> TokenStream {
        let name = self.name_expr(&sig.ident);
        let config = self.config_tokens();
        quote_spanned! {Span::mixed_site()=>
            fn __coord_breaker_config() -> ::coord::__private::BreakerConfig {
                #config
            }
            static __COORD_BREAKER: ::coord::__private::BreakerSite =
                ::coord::__private::BreakerSite::new(#name, __coord_breaker_config);
        }
    }

    /// Records `__coord_ret` (the attempt's return value) on `__coord_permit`.
    pub(crate) fn record(sig: &syn::Signature) -> TokenStream {
        let record = quote_spanned!(output_span(sig)=> ::coord::__private::record_breaker);
        quote_spanned!(Span::mixed_site()=> #record(__coord_permit, &__coord_ret))
    }

    /// Guards `body` (which evaluates to the function's return type) with the breaker; without
    /// retry, a rejection is returned as the function's error.
    pub(crate) fn wrap(&self, sig: &syn::Signature, body: TokenStream) -> TokenStream {
        let site = self.site(sig);
        let rejected = quote_spanned!(output_span(sig)=> ::coord::__private::breaker_rejected);
        let record = Self::record(sig);
        quote_spanned! {Span::mixed_site()=>
            {
                #site
                match __COORD_BREAKER.breaker().try_acquire() {
                    ::core::result::Result::Ok(__coord_permit) => {
                        let __coord_ret = #body;
                        #record;
                        __coord_ret
                    }
                    ::core::result::Result::Err(__coord_open) => #rejected(__coord_open),
                }
            }
        }
    }
}

fn output_span(sig: &syn::Signature) -> Span {
    match &sig.output {
        syn::ReturnType::Type(_, ty) => syn::spanned::Spanned::span(ty),
        syn::ReturnType::Default => Span::call_site(),
    }
}

fn parse_rate(input: syn::parse::ParseStream) -> syn::Result<(f64, Span)> {
    let lit: ExprLit = input.parse().map_err(|e| {
        syn::Error::new(e.span(), "#[circuit_breaker] rates are numbers such as 0.5")
    })?;
    let span = syn::spanned::Spanned::span(&lit);
    let value = match &lit.lit {
        Lit::Float(f) => f.base10_parse::<f64>()?,
        Lit::Int(i) => i.base10_parse::<f64>()?,
        _ => {
            return Err(syn::Error::new(
                span,
                "#[circuit_breaker] rates are numbers such as 0.5",
            ));
        }
    };
    Ok((value, span))
}

/// A duration literal, with errors naming the attribute and key.
fn keyed_duration(key: &str, lit: &LitStr) -> syn::Result<Duration> {
    parse_duration(lit)
        .map_err(|e| syn::Error::new(lit.span(), format!("#[circuit_breaker] `{key}`: {e}")))
}
