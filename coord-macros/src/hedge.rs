//! `#[hedge(after = "p95", max_extra = 1, name = "search")]` (or `after = "50ms"`): its keys
//! and what it needs of the function.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, LitStr, ReturnType, Signature, Type};

use coord_limits::hedge::{MAX_EXTRA, percentile};

use crate::common::{Errors, Setters, duration_tokens, parse_duration, parse_keys};

const KEYS: &[&str] = &["name", "after", "max_extra"];

/// When a hedge starts.
enum After {
    Percentile(f64),
    Fixed(Duration),
}

/// The checked arguments of one `#[hedge(...)]`.
#[derive(Default)]
pub(crate) struct HedgeArgs {
    pub(crate) name: Option<LitStr>,
    after: Option<After>,
    max_extra: Option<u32>,
}

impl HedgeArgs {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        parse_keys("hedge", KEYS, tokens, |key| {
            match key.name.as_str() {
                "name" => args.name = Some(key.name("\"search\"")?),
                "max_extra" => {
                    args.max_extra = Some(key.integer(1, MAX_EXTRA, "1")?.0);
                }
                _ => {
                    let lit = key.string("\"p95\"")?;
                    let text = lit.value();
                    let after = match percentile(&text) {
                        Some(Some(quantile)) => After::Percentile(quantile),
                        Some(None) => {
                            return Err(key.error(
                                lit.span(),
                                format!("`{text}` is not a percentile: write one strictly between p0 and p100, like \"p95\" or \"p99.9\""),
                            ));
                        }
                        None => After::Fixed(parse_duration(&text).map_err(|why| {
                            key.error(
                                lit.span(),
                                format!("`{text}` is neither a percentile (\"p95\") nor a duration (\"50ms\"): {why}"),
                            )
                        })?),
                    };
                    args.after = Some(after);
                }
            }
            Ok(())
        })?;
        Ok(args)
    }

    /// The expression building the hedge's configuration.
    pub(crate) fn config_tokens(&self) -> TokenStream {
        let start = match &self.after {
            None => {
                quote!(<::coord::__private::HedgeConfig as ::core::default::Default>::default())
            }
            Some(After::Percentile(quantile)) => {
                quote!(::coord::__private::HedgeConfig::percentile(#quantile))
            }
            Some(After::Fixed(delay)) => {
                let delay = duration_tokens(*delay);
                quote!(::coord::__private::HedgeConfig::after(#delay))
            }
        };
        Setters::on(start)
            .set("max_extra", self.max_extra.map(|n| quote!(#n)))
            .finish()
    }
}

/// What hedging needs of the function: `async`, a `Result`, and parameters its attempts can
/// hold side by side (no `&mut`, no `self` by value).
pub(crate) fn check_signature(sig: &Signature, at: Span, errors: &mut Errors) {
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            at,
            "#[hedge] needs an `async fn`: a hedge starts another attempt while the first is still running and drops the loser, which a synchronous call can do neither of (a thread cannot be interrupted); make the function `async`",
        ));
    }
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.ident.span(),
            "#[hedge] needs a function returning `Result<T, E>`: the first attempt to return `Ok` wins; this one returns `()`",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                if crate::compose::unique_receiver(receiver) {
                    errors.push(syn::Error::new(
                        receiver.span(),
                        "#[hedge] runs attempts side by side, so they cannot share `&mut self`: take `&self` (with interior mutability where the call needs it)",
                    ));
                } else if !matches!(&receiver.kind, syn::ReceiverKind::Reference(..))
                    && !matches!(&receiver.kind, syn::ReceiverKind::Typed(_, ty) if matches!(&**ty, Type::Reference(_)))
                {
                    errors.push(syn::Error::new(
                        receiver.span(),
                        "#[hedge] needs `&self`: every attempt uses the receiver, so one attempt cannot own it (for `self: Arc<Self>`, hedge a method taking `&self` and call it)",
                    ));
                }
            }
            FnArg::Typed(arg) => {
                if let Type::Reference(reference) = &*arg.ty
                    && reference.mutability.is_some()
                {
                    errors.push(syn::Error::new(
                        arg.ty.span(),
                        "#[hedge] runs attempts side by side, so they cannot share a `&mut` parameter: take `&T` (with interior mutability where the call needs it) or an owned value, cloned for each attempt",
                    ));
                    continue;
                }
                if !matches!(&*arg.ty, Type::Reference(_)) {
                    crate::compose::check_plain_by_value(&arg.pat, "hedge", errors);
                }
            }
        }
    }
}
