//! The wrapper around the user's body: the call site's `static`s (the `Site` or `MethodSite`
//! holding the timer, retry policy and breaker; each gate layer's site), the per-attempt rebinds,
//! and the layer stack built by `steps`, run to its result.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{ItemFn, Signature};

use super::Idents;
use super::check::Checked;
use super::params::Params;
use super::steps::{body, layers, run};
use super::tokens::option;
use crate::common::default_name;

/// The function with its body wrapped in every layer of `checked`.
pub(super) fn expand_checked(checked: Checked) -> TokenStream {
    let ids = Idents::new();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = &checked.function;
    let (inner, outer): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let site = site(&checked, sig, &ids);
    let params = Params::of(sig, checked.retry.is_some());
    let rebinds = params.rebinds();
    let body = body(&checked, sig, block, &params, &ids);
    let layers = layers(&checked, sig, &ids);
    let guards = guards(&checked, &ids);
    let stack = run(quote!(#body #layers), &checked, sig);
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #site
            #guards
            #(#rebinds)*
            #stack
        }
    }
}

/// The `static`s of the layers `Site` does not hold: each gate layer's, the time-out counter.
fn guards(checked: &Checked, ids: &Idents) -> TokenStream {
    let mut statics: TokenStream = checked
        .guards
        .iter()
        .map(|(_, guard)| guard.site())
        .collect();
    if checked.timeout.is_some() {
        let name = option(checked.perf.as_ref().and_then(|perf| perf.name.as_ref()));
        let timeouts = &ids.timeouts;
        statics.extend(quote! {
            static #timeouts: ::coord::__private::TimeoutSite =
                ::coord::__private::TimeoutSite::new(#name);
        });
    }
    statics
}

/// The call site's `static` and a reference to it, `__coord_site`.
fn site(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let Idents { site, site_ref, .. } = ids;
    let operation = checked
        .perf
        .as_ref()
        .and_then(|perf| perf.name.as_ref())
        .map(ToTokens::to_token_stream);
    let breaker = checked
        .breaker
        .as_ref()
        .and_then(|breaker| breaker.name.as_ref())
        .map(ToTokens::to_token_stream);
    let policy = match &checked.retry {
        Some(retry) => {
            let policy = retry.policy_tokens();
            quote!(|| #policy)
        }
        None => quote!(<::coord::__private::RetryPolicy as ::core::default::Default>::default),
    };
    let config = match &checked.breaker {
        Some(breaker) => {
            let config = breaker.config_tokens();
            quote!(|| #config)
        }
        None => quote!(<::coord::__private::BreakerConfig as ::core::default::Default>::default),
    };
    if sig.receiver().is_some() {
        let function = sig.ident.to_string();
        let (operation, breaker) = (option(operation), option(breaker));
        let self_type = quote!(::core::any::type_name::<Self>);
        quote! {
            static #site: ::coord::__private::MethodSite = ::coord::__private::MethodSite::new(
                ::core::module_path!(), #function, #operation, #breaker, #policy, #config,
            );
            let #site_ref = #site.get(#self_type);
        }
    } else {
        let default = default_name(&sig.ident);
        let operation = operation.unwrap_or_else(|| default.clone());
        let breaker = breaker.unwrap_or(default);
        quote! {
            static #site: ::coord::__private::Site =
                ::coord::__private::Site::new(#operation, #breaker, #policy, #config);
            let #site_ref = &#site;
        }
    }
}
