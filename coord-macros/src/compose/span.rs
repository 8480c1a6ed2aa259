//! `#[track_performance(span)]`: the run inside a `tracing` span at INFO named after the
//! operation. A synchronous run enters it; an async one is a future that follows it
//! (`Instrument`), never entered across an await. Its fields (names in `coord::semconv`):
//! `code.function.name`, `otel.name` where the span's static name is not the operation's (a
//! method's default name includes its type, known only at run time), and `otel.status_code`,
//! `error.type`, `coord.outcome`, left empty for the timer (`Spanned`) to fill in when the call
//! fails, is rejected or is cancelled. Without the key nothing here is emitted.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Signature;

use super::Idents;
use super::check::Checked;
use super::names;

/// `stack` (the run) inside the span, when the function asks for one.
pub(super) fn around(
    stack: TokenStream,
    checked: &Checked,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    if !checked.perf.as_ref().is_some_and(|perf| perf.span) {
        return stack;
    }
    let span = &ids.span;
    let make = make(checked, sig, ids);
    if sig.asyncness.is_some() {
        quote! {
            let #span = #make;
            ::coord::__private::Instrument::instrument(
                async { #stack },
                ::core::clone::Clone::clone(&#span),
            )
            .await
        }
    } else {
        let entered = syn::Ident::new("__coord_entered", proc_macro2::Span::mixed_site());
        quote! {
            let #span = #make;
            let #entered = #span.enter();
            #stack
        }
    }
}

/// The span: its name a constant (the explicit operation name, else `module::function`).
fn make(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let function = sig.ident.to_string();
    let explicit = names::operation(checked);
    let static_name = explicit
        .clone()
        .unwrap_or_else(|| names::function_name(&sig.ident));
    let empty = quote!(::coord::__private::tracing::field::Empty);
    let (code, otel_name) = if sig.receiver().is_some() {
        let site_ref = &ids.site_ref;
        let code = quote! {
            ::coord::__private::tracing::field::display(::core::format_args!(
                "{}::{}", ::core::any::type_name::<Self>(), #function
            ))
        };
        // The default name of a method is `module::Type::method`, known on the first call.
        let otel_name = match explicit {
            Some(_) => quote!(),
            None => quote!("otel.name" = #site_ref.name(),),
        };
        (code, otel_name)
    } else {
        (names::function_name(&sig.ident), quote!())
    };
    quote! {
        ::coord::__private::tracing::info_span!(
            #static_name,
            #otel_name
            "code.function.name" = #code,
            "otel.status_code" = #empty,
            "error.type" = #empty,
            "coord.outcome" = #empty,
        )
    }
}
