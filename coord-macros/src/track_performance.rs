//! `#[track_performance]`, `#[track_performance("name")]`, `#[track_performance(name = "name")]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{LitStr, Token};

/// The parsed arguments.
pub(crate) struct PerfArgs {
    pub(crate) name: Option<LitStr>,
}

impl PerfArgs {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        Parser::parse2(Self::parse_inner, tokens)
    }

    fn parse_inner(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Self { name: None });
        }
        let name = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else if input.peek(syn::Ident) {
            let key: syn::Ident = input.parse()?;
            if key != "name" {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown key `{key}` in #[track_performance]; the only key is `name`"),
                ));
            }
            input.parse::<Token![=]>()?;
            input.parse::<LitStr>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "#[track_performance(name = ...)] expects a string literal",
                )
            })?
        } else {
            return Err(syn::Error::new(
                input.span(),
                "#[track_performance] expects an operation name: \"name\" or name = \"name\"",
            ));
        };
        if name.value().trim().is_empty() {
            return Err(syn::Error::new(
                name.span(),
                "#[track_performance] name must not be empty",
            ));
        }
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens: #[track_performance] takes at most one name, as \"name\" or name = \"name\"",
            ));
        }
        Ok(Self { name: Some(name) })
    }

    /// The operation name as a `&'static str` expression.
    pub(crate) fn name_expr(&self, fn_name: &syn::Ident) -> TokenStream {
        match &self.name {
            Some(name) => quote!(#name),
            None => {
                let fn_name = fn_name.to_string();
                quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
            }
        }
    }
}

impl Parse for PerfArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Self::parse_inner(input)
    }
}
