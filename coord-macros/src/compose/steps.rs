//! Each layer's step on the runtime `Pipeline`: the body (once or per attempt, sync or async),
//! then one method call per layer, then the driver. The runtime nests the steps in the
//! documented order whatever the order of these calls. Methods are spanned at the return type,
//! so that type errors about the result point there.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Ident, Signature};

use super::Idents;
use super::check::Checked;
use super::params::Params;
use super::tokens::binding_type;
use crate::circuit_breaker::Breaker;
use crate::common::{default_name, duration_tokens, return_span};
use crate::retry::Retry;

/// `Pipeline::<constructor>(the body)`: once or per attempt, sync or async.
pub(super) fn body(
    checked: &Checked,
    sig: &Signature,
    block: &Block,
    params: &Params,
    ids: &Idents,
) -> TokenStream {
    let ret = &ids.ret;
    let ret_ty = binding_type(&sig.output);
    let evaluated = quote! {
        let #ret: #ret_ty = #block;
        #[allow(unreachable_code)]
        #ret
    };
    let per_attempt = params.per_attempt();
    let pipeline = quote!(::coord::__private::Pipeline);
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, false) => quote!(#pipeline::once(move || { #evaluated })),
        (true, false) => quote!(#pipeline::future(async move { #evaluated })),
        (false, true) => quote!(#pipeline::attempts(|| { #(#per_attempt)* #evaluated })),
        (true, true) => {
            quote!(#pipeline::async_attempts(async move || { #(#per_attempt)* #evaluated }))
        }
    }
}

/// track_performance: times the whole call; a `Result::Err` or a panic is a failure.
pub(super) fn track(inner: TokenStream, ids: &Idents) -> TokenStream {
    let Idents { site_ref, out, .. } = ids;
    quote! {
        #inner.track(&#site_ref.perf, |#out| {
            #[allow(unused_imports)]
            use ::coord::__private::{AnyOutcome as _, ResultOutcome as _};
            (&::coord::__private::Probe(#out)).is_failure()
        })
    }
}

/// retry: attempts until success, a permanent error (`when` false, a breaker's rejection) or
/// the policy gives up.
pub(super) fn retry_layer(
    inner: TokenStream,
    retry: &Retry,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    let Idents {
        site_ref, describe, ..
    } = ids;
    // Spanned at the user's path, so a wrong signature is reported there.
    let when = match &retry.when {
        Some(when) => quote_spanned!(when.span()=> &#when),
        None => quote!(&::coord::__private::always),
    };
    let method = Ident::new("retry", return_span(sig));
    quote! {
        #inner.#method(&#site_ref.retry, #when, |#describe| {
            #[allow(unused_imports)]
            use ::coord::__private::{DescribeAny as _, DescribeDebug as _, DescribeDisplay as _};
            (&&&#describe).describer()
        })
    }
}

/// circuit_breaker: one permit per attempt; a rejection is returned as `E::from(CircuitOpen)`.
/// With `key = expr`: the breaker of that key value in the group `name`.
pub(super) fn breaker_layer(
    inner: TokenStream,
    breaker: &Breaker,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    let site_ref = &ids.site_ref;
    let method = Ident::new("breaker", return_span(sig));
    match (&breaker.key, &breaker.name) {
        (Some(key), Some(name)) => {
            let config = breaker.config_tokens();
            let keyed = Ident::new("__COORD_KEYED", Span::mixed_site());
            let get = quote_spanned!(key.span()=> #keyed.get(&(#key)));
            quote!(#inner.#method(&*{
                static #keyed: ::coord::__private::KeyedSite =
                    ::coord::__private::KeyedSite::new(#name, || #config);
                #get
            }))
        }
        _ => quote!(#inner.#method(#site_ref.breaker.breaker())),
    }
}

/// The function's default name, on the first call of a layer: `module::function`, or
/// `module::Type::method` for a method.
fn default_name_closure(sig: &Signature) -> TokenStream {
    if sig.receiver().is_some() {
        let function = sig.ident.to_string();
        quote!(|| ::coord::__private::leaked_method_name(
            ::core::module_path!(),
            ::core::any::type_name::<Self>(),
            #function,
        ))
    } else {
        let name = default_name(&sig.ident);
        quote!(|| #name)
    }
}

/// fallback, timeout (total and per attempt), rate_limit, bulkhead: each appends its slot;
/// the runtime nests them in the documented order whatever the order of these calls.
pub(super) fn guard_layers(
    mut pipeline: TokenStream,
    checked: &Checked,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    let span = return_span(sig);
    let default = default_name_closure(sig);
    if let Some(fallback) = &checked.fallback {
        let path = &fallback.path;
        pipeline = if sig.asyncness.is_some() {
            let method = Ident::new("fallback_async", span);
            let slot = quote_spanned! {path.span()=>
                {
                    #[allow(unused_imports)]
                    use ::coord::__private::{PickAsync as _, PickSync as _};
                    ::coord::__private::Pick(#path).pick()
                }
            };
            quote!(#pipeline.#method(#slot))
        } else {
            let method = Ident::new("fallback", span);
            let path = quote_spanned!(path.span()=> #path);
            quote!(#pipeline.#method(#path))
        };
    }
    if let Some(timeout) = &checked.timeout {
        let count = &ids.timeouts;
        let count = quote!(::core::option::Option::Some(#count.get(#default)));
        if let Some((total, _)) = timeout.total {
            let total = duration_tokens(total);
            let method = Ident::new("total_timeout", span);
            pipeline = quote!(#pipeline.#method(#total, #count));
        }
        if let Some((attempt, _)) = timeout.attempt {
            let attempt = duration_tokens(attempt);
            let method = Ident::new("attempt_timeout", span);
            pipeline = quote!(#pipeline.#method(#attempt, #count));
        }
    }
    if checked.rate_limit.is_some() {
        let site = &ids.rate_limit;
        let method = Ident::new("rate_limit", span);
        pipeline = quote!(#pipeline.#method(#site.get(#default)));
    }
    if checked.bulkhead.is_some() {
        let site = &ids.bulkhead;
        let method = Ident::new("bulkhead", span);
        pipeline = quote!(#pipeline.#method(#site.get(#default)));
    }
    pipeline
}

/// The driver call; type errors about the return value point at the return type.
pub(super) fn run(pipeline: TokenStream, checked: &Checked, sig: &Signature) -> TokenStream {
    let span = return_span(sig);
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, _) => {
            let run = Ident::new("run", span);
            quote!(#pipeline.#run())
        }
        (true, false) => {
            let run = Ident::new("run_future", span);
            quote!(#pipeline.#run().await)
        }
        // Expanded in place, so that the future is `Send` whenever the body's is (see
        // `coord::__private::drive_async`).
        (true, true) => quote!(::coord::__private::drive_async!(#pipeline)),
    }
}
