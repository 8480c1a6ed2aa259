//! The wrapper around the user's body: the call site's `static`s (the `Site` or `MethodSite`
//! holding the timer, retry policy and breaker; each gate layer's site), the per-attempt rebinds,
//! and the layer stack built by `steps`, run to its result.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, ItemFn, Signature};

use super::Idents;
use super::check::Checked;
use super::names;
use super::params::{Params, Runs};
use super::steps::{body, layers, run};
use super::tokens::option;

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
    let runs = if checked.hedge.is_some() {
        Runs::Hedged
    } else if checked.retry.is_some() {
        Runs::Retried
    } else {
        Runs::Once
    };
    let params = Params::of(sig, runs);
    let rebinds = params.rebinds();
    let body = body(&checked, sig, block, &params, &ids);
    let layers = layers(&checked, sig, &ids);
    let guards = guards(&checked, &ids);
    let stack = run(quote!(#body #layers), &checked, sig);
    let stack = super::span::around(stack, &checked, sig, &ids);
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

/// The `static`s of the layers `Site` does not hold: the hedge's, each gate layer's, the
/// time-out counter.
fn guards(checked: &Checked, ids: &Idents) -> TokenStream {
    let mut statics = TokenStream::new();
    if let Some(hedge) = &checked.hedge {
        let site = &ids.hedge;
        let name = option(hedge.name.as_ref());
        let config = hedge.config_tokens();
        statics.extend(quote! {
            static #site: ::coord::__private::LayerSite<::coord::__private::Hedge> =
                ::coord::__private::LayerSite::<::coord::__private::Hedge>::configured(
                    #name,
                    || #config,
                );
        });
    }
    statics.extend(checked.guards.iter().map(|(_, guard)| guard.site()));
    if checked.timeout.is_some() {
        let timeouts = &ids.timeouts;
        statics.extend(quote! {
            static #timeouts: ::coord::__private::TimeoutSite =
                ::coord::__private::TimeoutSite::new();
        });
    }
    statics
}

/// The call site's `static` and a reference to it, `__coord_site`.
fn site(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let Idents { site, site_ref, .. } = ids;
    let operation = names::operation(checked);
    let breaker = option(names::own(
        checked.breaker.as_ref().and_then(|b| b.name.as_ref()),
    ));
    let policy = match &checked.retry {
        Some(retry) => {
            let name = Ident::new("__coord_operation", Span::mixed_site());
            let policy = retry.policy_tokens(&name);
            quote!(|#name: &'static str| #policy)
        }
        None => quote!(|_: &'static str| {
            <::coord::__private::RetryPolicy as ::core::default::Default>::default()
        }),
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
        let operation = option(operation);
        let self_type = quote!(::core::any::type_name::<Self>);
        quote! {
            static #site: ::coord::__private::MethodSite = ::coord::__private::MethodSite::new(
                ::core::module_path!(), #function, #operation, #breaker, #policy, #config,
            );
            let #site_ref = #site.get(#self_type);
        }
    } else {
        let operation = operation.unwrap_or_else(|| names::function_name(&sig.ident));
        quote! {
            static #site: ::coord::__private::Site =
                ::coord::__private::Site::new(#operation, #breaker, #policy, #config);
            let #site_ref = &#site;
        }
    }
}
