//! One wrapper per function. Whichever coord attribute expands first collects the others on
//! the same item, then: [`parse`] (the item and the raw arguments) → [`check`](check::check)
//! (a [`Checked`](check::Checked) model: arguments and signature) →
//! [`expand_checked`](expand::expand_checked) (pure; each layer appends its step to the
//! runtime `Stack` the body is handed to), in the order held by [`Layer`] (`layer.rs`).
//!
//! - `layer`: which attributes compose, their order, how a sibling attribute is recognised,
//!   and the [`Guard`] interface through which a gate layer's own module checks and emits it;
//! - `check`: the arguments of each layer and what each needs of the signature;
//! - `expand`: the wrapper and its `static`s;
//! - `names`: the one naming rule (every layer takes the operation's name unless given its
//!   own);
//! - `steps`: each layer's step on the pipeline, sync and async;
//! - `span`: the `tracing` span of `#[track_performance(span)]` around the run;
//! - `params`: the parameters a retried body copies or reborrows per attempt;
//! - `tokens`: token helpers the others share.

mod check;
mod expand;
mod layer;
mod names;
mod params;
mod span;
mod steps;
mod tokens;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, ItemFn, Signature};

use crate::common::Errors;
pub(crate) use check::needs_result;
use layer::LayerAttr;
pub(crate) use layer::{GateArgs, GateKind, Layer};
pub(crate) use params::{check_plain_by_value, unique_receiver};
pub(crate) use tokens::option;

/// The hygienic identifiers of the generated code: invisible to the user's body.
struct Idents {
    site: Ident,
    site_ref: Ident,
    ret: Ident,
    describe: Ident,
    timeouts: Ident,
    span: Ident,
    hedge: Ident,
}

impl Idents {
    fn new() -> Self {
        let mixed = Span::mixed_site();
        Self {
            site: Ident::new("__COORD", mixed),
            site_ref: Ident::new("__coord_site", mixed),
            ret: Ident::new("__coord_ret", mixed),
            describe: Ident::new("__coord_error_type", mixed),
            timeouts: Ident::new("__COORD_TIMEOUTS", mixed),
            span: Ident::new("__coord_span", mixed),
            hedge: Ident::new("__COORD_HEDGE", mixed),
        }
    }
}

/// Entry point of every composing attribute macro.
pub(crate) fn expand(first: Layer, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match parse(first, item.clone()) {
        Ok(Some(function)) => function,
        // The body does not parse: rustc reports that error on the untouched item, and only it.
        Ok(None) => return item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut function = function;
    let layers = match collect(first, args, &mut function) {
        Ok(layers) => layers,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #function);
        }
    };
    match check::check(&layers, function.clone()) {
        Ok(checked) => expand::expand_checked(checked),
        // The error and the item without its coord attributes, so the caller sees these
        // errors once, and no cascade of "function not found".
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #function)
        }
    }
}

/// The item as a function; `None` when it is one whose body does not parse.
fn parse(first: Layer, item: TokenStream) -> syn::Result<Option<ItemFn>> {
    let error = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => return Ok(Some(function)),
        Err(error) => error,
    };
    match syn::parse2::<FnShell>(item) {
        Ok(FnShell { body: true, .. }) => Ok(None),
        Ok(FnShell { sig, .. }) => Err(syn::Error::new(
            sig.span(),
            format!(
                "#[{}] needs a function with a body; a declaration without one (`fn f();`) has nothing to wrap",
                first.name()
            ),
        )),
        Err(_) => Err(syn::Error::new(
            error.span(),
            format!(
                "#[{}] can only be applied to a function with a body",
                first.name()
            ),
        )),
    }
}

/// A function whose body is left unparsed.
struct FnShell {
    sig: Signature,
    body: bool,
}

impl Parse for FnShell {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.call(Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        let sig: Signature = input.parse()?;
        let body = if input.peek(syn::token::Brace) {
            input.parse::<proc_macro2::Group>()?;
            true
        } else {
            input.parse::<syn::Token![;]>()?;
            false
        };
        Ok(Self { sig, body })
    }
}

/// The coord attributes of the item, the first one included, taken off the function.
fn collect(first: Layer, args: TokenStream, function: &mut ItemFn) -> syn::Result<Vec<LayerAttr>> {
    let mut layers = vec![LayerAttr {
        layer: first,
        args,
        span: Span::call_site(),
    }];
    let mut errors = Errors::default();
    let mut kept = Vec::with_capacity(function.attrs.len());
    for attr in std::mem::take(&mut function.attrs) {
        match Layer::of_path(attr.path()) {
            Some(layer) => {
                if let Some(found) = errors.take(LayerAttr::from_attribute(layer, &attr)) {
                    layers.push(found);
                }
                // The sibling never expands, so its import would be reported unused; naming
                // its path once in the body (with the user's span) marks it used.
                let path = attr.path();
                function.block.stmts.insert(
                    0,
                    syn::parse_quote!(#[allow(unused_imports)] use #path as _;),
                );
            }
            None => kept.push(attr),
        }
    }
    function.attrs = kept;
    errors.finish(layers)
}
