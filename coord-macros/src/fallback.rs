//! `#[fallback(path::to::f)]`: `f` is `fn(E) -> Result<T, E>` (on an `async fn`, it may also
//! be an `async fn`).

use proc_macro2::{Span, TokenStream};
use syn::Path;
use syn::parse::{ParseStream, Parser};

/// The checked argument: the fallback's path.
pub(crate) struct FallbackArgs {
    pub(crate) path: Path,
}

impl FallbackArgs {
    pub(crate) fn parse(tokens: TokenStream, span: Span) -> syn::Result<Self> {
        let usage = "#[fallback] expects the path of a function `fn(E) -> Result<T, E>`: `#[fallback(path::to::recover)]`";
        Parser::parse2(
            |input: ParseStream| {
                if input.is_empty() {
                    return Err(syn::Error::new(span, usage));
                }
                let expr: syn::Expr = input
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), usage))?;
                let path = match crate::common::ungroup(expr) {
                    syn::Expr::Path(path) if path.qself.is_none() => path.path,
                    other => return Err(syn::Error::new_spanned(other, usage)),
                };
                if !input.is_empty() {
                    return Err(input.error(usage));
                }
                Ok(Self { path })
            },
            tokens,
        )
    }
}
