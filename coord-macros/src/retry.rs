//! `#[retry(max_retries = 3, base_delay = "1s", multiplier = 2.0, max_delay = "30s",
//! jitter = "full", when = path, policy = "name")]`: parse and check the keys, check the
//! signature, and emit the attempt loop that drives `::coord::__private::RetryLoop`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Block, FnArg, Ident, Lit, LitStr, Pat, Path, ReturnType, Signature, Type};

use crate::common::{duration_tokens, parse_duration};

const KEYS: &str = "max_retries, base_delay, multiplier, max_delay, jitter, when, policy";
const JITTERS: [(&str, &str); 4] = [
    ("none", "None"),
    ("full", "Full"),
    ("equal", "Equal"),
    ("decorrelated", "Decorrelated"),
];
const MAX_RETRIES_LIMIT: u32 = 1000;

/// The checked arguments of one `#[retry(...)]`.
#[derive(Default)]
pub(crate) struct RetryArgs {
    max_retries: Option<u32>,
    base_delay: Option<Duration>,
    multiplier: Option<f64>,
    max_delay: Option<Duration>,
    jitter: Option<&'static str>,
    when: Option<Path>,
    policy: Option<LitStr>,
}

impl RetryArgs {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = RetryArgs::default();
        let mut seen: Vec<String> = Vec::new();
        let mut spans: Vec<(String, Span)> = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            if !KEYS.split(", ").any(|k| k == key) {
                let path = &meta.path;
                return Err(meta.error(format!(
                    "unknown key `{}` in #[retry]; expected one of: {KEYS}",
                    quote!(#path).to_string().replace(' ', "")
                )));
            }
            if seen.contains(&key) {
                return Err(meta.error(format!("duplicate key `{key}` in #[retry]")));
            }
            seen.push(key.clone());
            let value = meta.value().map_err(|_| {
                syn::Error::new_spanned(
                    &meta.path,
                    format!("#[retry] key `{key}` needs a value: `{key} = ...`"),
                )
            })?;
            match key.as_str() {
                "max_retries" => {
                    let lit: syn::LitInt = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "#[retry(max_retries = ...)] expects an integer")
                    })?;
                    let n: u32 = lit.base10_parse().map_err(|_| {
                        syn::Error::new(
                            lit.span(),
                            format!("#[retry] max_retries must be at most {MAX_RETRIES_LIMIT}"),
                        )
                    })?;
                    if n > MAX_RETRIES_LIMIT {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "#[retry] max_retries must be at most {MAX_RETRIES_LIMIT}, found {n}"
                            ),
                        ));
                    }
                    args.max_retries = Some(n);
                }
                "base_delay" | "max_delay" => {
                    let lit: LitStr = value.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            format!(
                                "#[retry({key} = ...)] expects a duration string like \"250ms\""
                            ),
                        )
                    })?;
                    let d = parse_duration(&lit)
                        .map_err(|e| syn::Error::new(lit.span(), format!("#[retry] {key}: {e}")))?;
                    spans.push((key.clone(), lit.span()));
                    if key == "base_delay" {
                        args.base_delay = Some(d);
                    } else {
                        args.max_delay = Some(d);
                    }
                }
                "multiplier" => {
                    let lit: Lit = value.parse()?;
                    let m = match &lit {
                        Lit::Float(f) => f.base10_parse::<f64>()?,
                        Lit::Int(i) => i.base10_parse::<f64>()?,
                        _ => {
                            return Err(syn::Error::new(
                                lit.span(),
                                "#[retry(multiplier = ...)] expects a number like 2.0",
                            ));
                        }
                    };
                    if !(m.is_finite() && m >= 1.0) {
                        return Err(syn::Error::new(
                            lit.span(),
                            "#[retry] multiplier must be a finite number >= 1.0 (1.0 = constant delay)",
                        ));
                    }
                    args.multiplier = Some(m);
                }
                "jitter" => {
                    let lit: LitStr = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "#[retry(jitter = ...)] expects a string")
                    })?;
                    let name = lit.value();
                    let Some((_, variant)) = JITTERS.iter().find(|(n, _)| *n == name) else {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown jitter `{name}` in #[retry]; expected one of: none, full, equal, decorrelated"
                            ),
                        ));
                    };
                    args.jitter = Some(variant);
                }
                "when" => {
                    let path: Path = value.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "#[retry(when = ...)] expects a path to a `fn(&E) -> bool`",
                        )
                    })?;
                    args.when = Some(path);
                }
                "policy" => {
                    let lit: LitStr = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "#[retry(policy = ...)] expects a string literal")
                    })?;
                    if lit.value().trim().is_empty() {
                        return Err(syn::Error::new(
                            lit.span(),
                            "#[retry] policy name must not be empty",
                        ));
                    }
                    args.policy = Some(lit);
                }
                // Every key in KEYS has an arm above; anything else was rejected before.
                _ => {}
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        if let (Some(base), Some(max)) = (args.base_delay, args.max_delay)
            && base > max
        {
            let span = spans
                .iter()
                .find(|(k, _)| k == "base_delay")
                .map_or_else(Span::call_site, |(_, s)| *s);
            return Err(syn::Error::new(
                span,
                format!("#[retry] base_delay ({base:?}) is longer than max_delay ({max:?})"),
            ));
        }
        Ok(args)
    }

    /// The expression building the call site's policy.
    fn policy_tokens(&self) -> TokenStream {
        let mut policy = match &self.policy {
            Some(name) => quote!(::coord::__private::named_or_default(#name)),
            None => {
                quote!(<::coord::__private::RetryPolicy as ::core::default::Default>::default())
            }
        };
        if let Some(n) = self.max_retries {
            policy = quote!(#policy.max_retries(#n));
        }
        if let Some(d) = self.base_delay {
            let d = duration_tokens(d);
            policy = quote!(#policy.base_delay(#d));
        }
        if let Some(m) = self.multiplier {
            policy = quote!(#policy.multiplier(#m));
        }
        if let Some(d) = self.max_delay {
            let d = duration_tokens(d);
            policy = quote!(#policy.max_delay(#d));
        }
        if let Some(variant) = self.jitter {
            let variant = Ident::new(variant, Span::call_site());
            policy = quote!(#policy.jitter(::coord::__private::Jitter::#variant));
        }
        policy
    }

    /// The attempt loop: evaluates `block` once per attempt and yields the final `Result`.
    pub(crate) fn emit_loop(
        &self,
        sig: &Signature,
        block: &Block,
        ret_ty: &TokenStream,
        operation: &TokenStream,
        breaker: Option<&crate::circuit_breaker::BreakerArgs>,
    ) -> TokenStream {
        let is_async = sig.asyncness.is_some();
        let policy = self.policy_tokens();
        let clones = per_attempt_clones(sig);
        let ret_span = match &sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => sig.ident.span(),
        };
        let attempt = if is_async {
            quote!(async {
                let __coord_ret: #ret_ty = #block;
                #[allow(unreachable_code)]
                __coord_ret
            }.await)
        } else {
            quote!((|| {
                let __coord_ret: #ret_ty = #block;
                #[allow(unreachable_code)]
                __coord_ret
            })())
        };
        let into_result = quote_spanned! {ret_span=>
            ::coord::__private::RetryResult::into_result(__coord_attempt)
        };
        let from_result = |value: TokenStream| {
            quote_spanned! {ret_span=> ::coord::__private::RetryResult::from_result(#value) }
        };
        let ok = from_result(quote!(::core::result::Result::Ok(__coord_value)));
        let err = from_result(quote!(::core::result::Result::Err(__coord_error)));
        let classify = match &self.when {
            Some(when) => quote! {
                if #when(&__coord_error) {
                    ::coord::__private::Attempt::retryable(__coord_error)
                } else {
                    ::coord::__private::Attempt::permanent(__coord_error)
                }
            },
            None => quote!(::coord::__private::Attempt::retryable(__coord_error)),
        };
        let sleep = quote!(__coord_retry.sleep_async(__coord_delay).await);
        let describe = quote! {{
            #[allow(unused_imports)]
            use ::coord::__private::{DescribeAny as _, DescribeDebug as _, DescribeDisplay as _};
            (&&&::coord::__private::Describe(&__coord_error)).describer()
        }};
        let site = quote! {
            static __COORD_RETRY: ::coord::__private::RetrySite =
                ::coord::__private::RetrySite::new(#operation, || #policy);
        };
        // One attempt as `Result<T, Attempt<E>>`. With a circuit breaker, each attempt takes its
        // own permit, and a rejection is a permanent error: it is never retried.
        let classified = quote! {
            match #into_result {
                ::core::result::Result::Ok(__coord_value) => ::core::result::Result::Ok(__coord_value),
                ::core::result::Result::Err(__coord_error) => {
                    let __coord_describe = #describe;
                    ::core::result::Result::Err((#classify).describe_with(__coord_describe))
                }
            }
        };
        let (breaker_site, step) = match breaker {
            None => (
                quote!(),
                quote! {{
                    let __coord_attempt: #ret_ty = #attempt;
                    #classified
                }},
            ),
            Some(breaker) => {
                let record = crate::circuit_breaker::BreakerArgs::record(sig);
                let rejected = quote_spanned! {ret_span=>
                    ::coord::__private::breaker_rejected_attempt::<#ret_ty>
                };
                // The breaker's bindings are mixed-site (like its `wrap`), the retry's are not.
                let mixed = proc_macro2::Span::mixed_site();
                let permit = quote_spanned!(mixed=> __coord_permit);
                let ret = quote_spanned!(mixed=> __coord_ret);
                let open = quote_spanned!(mixed=> __coord_open);
                let breaker_handle = quote_spanned!(mixed=> __COORD_BREAKER);
                (
                    breaker.site(sig),
                    quote! {
                        match #breaker_handle.breaker().try_acquire() {
                            ::core::result::Result::Ok(#permit) => {
                                let #ret: #ret_ty = #attempt;
                                #record;
                                let __coord_attempt = #ret;
                                #classified
                            }
                            ::core::result::Result::Err(#open) => {
                                ::core::result::Result::Err(#rejected(#open))
                            }
                        }
                    },
                )
            }
        };
        if !is_async {
            // Sync: the runtime's loop calls this closure once per attempt.
            let result = from_result(quote!(__coord_result));
            return quote! {{
                #site
                #breaker_site
                let __coord_result = __COORD_RETRY.run(|| {
                    #(#clones)*
                    #step
                });
                #result
            }};
        }
        // Async: the loop is inline, so each attempt's future may borrow the function's
        // parameters (`&mut self` included), which a closure returning futures could not.
        quote! {{
            #site
            #breaker_site
            let mut __coord_retry = __COORD_RETRY.start();
            loop {
                #(#clones)*
                let __coord_step: ::core::result::Result<_, ::coord::__private::Attempt<_>> = #step;
                match __coord_step {
                    ::core::result::Result::Ok(__coord_value) => {
                        __coord_retry.succeeded();
                        break #ok;
                    }
                    ::core::result::Result::Err(__coord_attempt) => {
                        match __coord_retry.failed(__coord_attempt) {
                            ::coord::__private::Next::Retry(__coord_delay) => #sleep,
                            ::coord::__private::Next::Stop(__coord_error) => {
                                break #err;
                            }
                        }
                    }
                }
            }
        }}
    }
}

/// Checks what a retried function's signature must satisfy.
pub(crate) fn check_signature(sig: &Signature) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    if let ReturnType::Default = sig.output {
        push(syn::Error::new(
            sig.ident.span(),
            "#[retry] needs a function returning `Result<T, E>`; this one returns `()`",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                let by_reference = match &receiver.kind {
                    syn::ReceiverKind::Reference(..) => true,
                    syn::ReceiverKind::Typed(_, ty) => matches!(**ty, Type::Reference(_)),
                    _ => false,
                };
                if !by_reference {
                    push(syn::Error::new_spanned(
                        receiver,
                        "#[retry] cannot take `self` by value: the body runs once per attempt; take `&self` or `&mut self`",
                    ));
                }
            }
            FnArg::Typed(arg) => {
                if matches!(*arg.ty, Type::Reference(_)) {
                    continue;
                }
                match &*arg.pat {
                    Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {}
                    Pat::Wild(_) => {}
                    pat => push(syn::Error::new_spanned(
                        pat,
                        "#[retry] needs a plain name for a by-value parameter: each attempt gets its own clone of it (or take it by reference)",
                    )),
                }
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `let x = RetryArg::for_attempt(&x);` for every by-value parameter, spanned at the
/// parameter so a missing `Clone` is reported there.
fn per_attempt_clones(sig: &Signature) -> Vec<TokenStream> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(arg) if !matches!(*arg.ty, Type::Reference(_)) => match &*arg.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    let ident = &pat.ident;
                    let mutability = &pat.mutability;
                    // A marker type named after the parameter lets the missing-`Clone` error
                    // name it; braces keep it out of the value namespace.
                    Some(quote_spanned! {arg.span()=>
                        #[allow(unused_mut, unused_variables)]
                        let #mutability #ident = {
                            #[allow(non_camel_case_types, dead_code)]
                            struct #ident {}
                            ::coord::__private::retry_arg::<#ident, _>(&#ident)
                        };
                    })
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}
