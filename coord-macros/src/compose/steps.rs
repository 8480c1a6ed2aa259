//! Each layer's step on the runtime `Stack`: the body (once or per attempt, sync or async),
//! then one step per layer, emitted already sorted in the documented order (outermost first),
//! then the run. A step names its place in the stack by role: `time`, `recover`, `total`,
//! `retry`, `gate` (admits every attempt: the breaker, then each gate layer's [`Guard`] in
//! the order of [`Layer`]) and `attempt`. Steps are spanned at the return type, so that type errors about the result point
//! there.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Ident, Signature};

use super::Idents;
use super::check::Checked;
use super::layer::Layer;
use super::names;
use super::params::Params;
use super::tokens::binding_type;
use crate::common::{duration_tokens, return_span};

/// `Stack::<constructor>(the body)`: once or per attempt, sync or async.
pub(super) fn body(
    checked: &Checked,
    sig: &Signature,
    block: &Block,
    params: &Params,
    ids: &Idents,
) -> TokenStream {
    let ret = &ids.ret;
    let ret_ty = binding_type(&sig.output);
    // An `impl IntoResponse` is made a `Response` (through coord's `axum` feature), so that
    // `#[track_performance]` classifies its status; a `Response` is `IntoResponse` too.
    let value = if checked.perf.is_some() && returns_into_response(sig) {
        quote!(::coord::__private::into_response(#ret))
    } else {
        quote!(#ret)
    };
    let evaluated = quote! {
        let #ret: #ret_ty = #block;
        #[allow(unreachable_code)]
        #value
    };
    let per_attempt = params.per_attempt();
    // The output type spelled out (`_` for an `impl Trait` in it): inferred instead from an
    // async body, it stays unknown while the whole chain of steps is checked, and type checking
    // of a function with several layers grew several times over (`scripts/compile-cost.sh`).
    let stack = quote!(::coord::__private::Stack::<#ret_ty, _>);
    if checked.hedge.is_some() {
        // Each attempt's future owns its copies, so that attempts can run side by side.
        let hedge = &ids.hedge;
        let operation = names::of_site(ids);
        return quote! {
            #stack::hedged(#hedge.get(#operation), move || {
                #(#per_attempt)*
                async move { #evaluated }
            })
        };
    }
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, false) => quote!(#stack::once(move || { #evaluated })),
        // Pinned here, in the function's own state: the layers keep a pointer to it.
        (true, false) => {
            quote!(#stack::future(::core::pin::pin!(async move { #evaluated })))
        }
        (false, true) => quote!(#stack::attempts(|| { #(#per_attempt)* #evaluated })),
        (true, true) => {
            quote!(#stack::async_attempts(async move || { #(#per_attempt)* #evaluated }))
        }
    }
}

/// The layers' steps, outermost first.
pub(super) fn layers(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let span = return_span(sig);
    let step = |name: &str, arg: TokenStream| {
        let method = Ident::new(name, span);
        quote!(.#method(#arg))
    };
    let recover = if sig.asyncness.is_some() {
        "recover_async"
    } else {
        "recover"
    };
    let operation = names::of_site(ids);
    let timeouts = &ids.timeouts;
    let count = quote!(::core::option::Option::Some(#timeouts.get(#operation)));
    // The whole call's and each attempt's time limit, counted under the operation's name.
    let time_limit = |limit| {
        let limit = duration_tokens(limit);
        let at = checked.span(Layer::Timeout);
        quote_spanned!(at=> ::coord::__private::TimeLimit::new(#limit, #count))
    };
    let mut steps = TokenStream::new();
    if let Some(perf) = &checked.perf {
        steps.extend(step(
            "time",
            track(
                perf.outcome.as_ref(),
                perf.objective.as_ref(),
                perf.span,
                ids,
            ),
        ));
    }
    if let Some(fallback) = &checked.fallback {
        steps.extend(step(recover, fallback_layer(&fallback.path, sig)));
    }
    if let Some((total, _)) = checked.timeout.as_ref().and_then(|t| t.total) {
        steps.extend(step("total", time_limit(total)));
    }
    if checked.retry.is_some() {
        steps.extend(retry_step(checked, sig, ids));
    }
    if let Some(breaker) = &checked.breaker {
        let breaker = breaker_layer(breaker, ids);
        let at = checked.span(Layer::CircuitBreaker);
        steps.extend(step(
            "gate",
            quote_spanned!(at=> ::coord::__private::BreakerGate::new(#breaker)),
        ));
    }
    for (layer, guard) in &checked.guards {
        steps.extend(step("gate", guard.gate(checked.span(*layer), &operation)));
    }
    if let Some((attempt, _)) = checked.timeout.as_ref().and_then(|t| t.attempt) {
        steps.extend(step("attempt", time_limit(attempt)));
    }
    steps
}

/// track_performance: times the whole call; its outcome is `outcome(&value)` when the
/// attribute names a classifier, else a `Result::Err` or a 5xx response is a failure (a panic
/// always is); a failure's message is kept as the operation's last error (the classifier and
/// the describer become function pointers: see `Track::new`).
fn track(
    outcome: Option<&syn::Path>,
    objective: Option<&syn::LitStr>,
    span: bool,
    ids: &Idents,
) -> TokenStream {
    let Idents { site_ref, .. } = ids;
    // `objective = ".."`: the operation joins it on the first call (one atomic load after).
    let join = objective.map(|objective| {
        let joined = Ident::new("__COORD_OBJECTIVE", Span::mixed_site());
        quote! {
            static #joined: ::coord::__private::ObjectiveSite =
                ::coord::__private::ObjectiveSite::new(#objective);
            #joined.join(#site_ref.name());
        }
    });
    let of = Ident::new("__coord_of", Span::mixed_site());
    // Spanned at the user's path, so a wrong signature is reported there.
    let classify = match outcome {
        // Coerced to a `fn` pointer first, so that a wrong signature is one error at the path
        // (the optimiser calls the constant pointer directly).
        Some(path) => {
            let classify = Ident::new("__coord_classify", Span::mixed_site());
            quote_spanned! {path.span()=>
                {
                    let #classify: fn(&_) -> ::coord::__private::Outcome = #path;
                    #classify
                }
            }
        }
        None => quote! {
            {
                #[allow(unused_imports)]
                use ::coord::__private::{AnyOutcome as _, ResponseOutcome as _, ResultOutcome as _};
                (&::coord::__private::Kind::of(&#of)).classifier()
            }
        },
    };
    // Function pointers chosen once per call site by the output type, to code compiled once per
    // type: a closure here would be one more body per function to check and compile.
    let track = quote! {
        ::coord::__private::Track::new(&#site_ref.perf, #of, #classify, {
            #[allow(unused_imports)]
            use ::coord::__private::{
                FailureDebug as _, FailureDisplay as _, FailureNone as _, FailureType as _,
            };
            (&&&&::coord::__private::Kind::of(&#of)).describer()
        })
    };
    if span {
        let span = &ids.span;
        quote! {
            |#of| { #join ::coord::__private::Spanned::new(#track, &#span, {
                #[allow(unused_imports)]
                use ::coord::__private::{
                    AnyErrorType as _, ResponseErrorType as _, ResultErrorType as _,
                };
                (&::coord::__private::Kind::of(&#of)).error_type()
            }) }
        }
    } else {
        quote!(|#of| { #join #track })
    }
}

/// `-> impl IntoResponse` (any path ending in `IntoResponse`, alone or with other bounds).
fn returns_into_response(sig: &Signature) -> bool {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return false;
    };
    let syn::Type::ImplTrait(bounds) = &**ty else {
        return false;
    };
    bounds.bounds.iter().any(|bound| {
        matches!(bound, syn::TypeParamBound::Trait(t)
            if t.path.segments.last().is_some_and(|s| s.ident == "IntoResponse"))
    })
}

/// fallback: the function at `path`; an async function's may be sync or async.
fn fallback_layer(path: &syn::Path, sig: &Signature) -> TokenStream {
    if sig.asyncness.is_some() {
        quote_spanned! {path.span()=>
            {
                #[allow(unused_imports)]
                use ::coord::__private::{PickAsync as _, PickSync as _};
                ::coord::__private::Pick(#path).pick()
            }
        }
    } else {
        let path = quote_spanned!(path.span()=> #path);
        quote!(::coord::__private::Fallback(#path))
    }
}

/// retry: attempts until success, a permanent error (`when` false, a gate's rejection) or the
/// policy gives up.
fn retry_step(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let Idents {
        site_ref, describe, ..
    } = ids;
    // Spanned at the user's path, so a wrong signature is reported there.
    let when = match checked.retry.as_ref().and_then(|retry| retry.when.as_ref()) {
        Some(when) => quote_spanned!(when.span()=> &#when),
        None => quote!(&::coord::__private::always),
    };
    let method = Ident::new("retry", return_span(sig));
    quote! {
        .#method(&#site_ref.retry, #when, |#describe| {
            #[allow(unused_imports)]
            use ::coord::__private::{DescribeAny as _, DescribeDebug as _, DescribeDisplay as _};
            (&&&#describe).describer()
        })
    }
}

/// circuit_breaker: one permit per attempt; a rejection is returned as `E::from(CircuitOpen)`.
/// With `key = expr`: the breaker of that key value in the group `name`.
fn breaker_layer(breaker: &crate::circuit_breaker::Breaker, ids: &Idents) -> TokenStream {
    let site_ref = &ids.site_ref;
    match (&breaker.key, &breaker.name) {
        (Some(key), Some(name)) => {
            let config = breaker.config_tokens();
            let keyed = Ident::new("__COORD_KEYED", Span::mixed_site());
            let get = quote_spanned!(key.span()=> #keyed.get(&(#key)));
            quote!(&*{
                static #keyed: ::coord::__private::KeyedSite =
                    ::coord::__private::KeyedSite::new(#name, || #config);
                #get
            })
        }
        _ => quote!(#site_ref.breaker.breaker()),
    }
}

/// The run; type errors about the return value point at the return type.
pub(super) fn run(stack: TokenStream, checked: &Checked, sig: &Signature) -> TokenStream {
    let span = return_span(sig);
    if checked.hedge.is_some() {
        let run = Ident::new("run_hedged", span);
        return quote!(#stack.#run().await);
    }
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, _) => {
            let run = Ident::new("run", span);
            quote!(#stack.#run())
        }
        (true, false) => {
            let run = Ident::new("run_future", span);
            quote!(#stack.#run().await)
        }
        // Expanded in place, so that the future is `Send` whenever the body's is (see
        // `coord::__private::drive_async`).
        (true, true) if checked.timeout.is_none() && checked.fallback.is_none() => {
            quote!(::coord::__private::drive_async!(#stack, plain))
        }
        (true, true) => quote!(::coord::__private::drive_async!(#stack)),
    }
}
