//! The one naming rule of a wrapper, decided here and nowhere else: every layer of a function
//! is named after the function's *operation*, unless its own attribute gives a `name`.
//!
//! The operation's name is `#[track_performance]`'s name if it has one, else the default:
//! `module::function`, or `module::Type::method` for a method with a receiver (whose type only
//! the body can name: the runtime's `MethodSite` computes it once, on the first call). It
//! lives in the call site's `Site`; the operation, the retry policy and its budget, the
//! breaker, each gate layer and the time-out counter read it from there. An explicit `name`
//! on `#[circuit_breaker]`, `#[bulkhead]` or `#[rate_limit]` names that layer only.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::LitStr;

use super::Idents;
use super::check::Checked;

/// `#[track_performance]`'s explicit name, if any.
pub(super) fn operation(checked: &Checked) -> Option<TokenStream> {
    checked
        .perf
        .as_ref()
        .and_then(|perf| perf.name.as_ref())
        .map(ToTokens::to_token_stream)
}

/// The default operation name of a function without receiver: `module::function`.
pub(super) fn function_name(function: &syn::Ident) -> TokenStream {
    let function = function.to_string();
    quote!(::core::concat!(::core::module_path!(), "::", #function))
}

/// A layer's own `name`, if its attribute gives one (`None`: the operation's name).
pub(super) fn own(name: Option<&LitStr>) -> Option<TokenStream> {
    name.map(ToTokens::to_token_stream)
}

/// A closure giving the operation's name from the call site (`&'static str`), for the layers
/// resolved on their first call: the gate layers and the time-out counter.
pub(super) fn of_site(ids: &Idents) -> TokenStream {
    let site_ref = &ids.site_ref;
    quote!(|| #site_ref.name())
}
