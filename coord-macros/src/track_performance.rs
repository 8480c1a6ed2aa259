//! `#[track_performance]`, `#[track_performance("name")]`, `#[track_performance(name = "name")]`.

use proc_macro2::TokenStream;
use syn::LitStr;
use syn::parse::{ParseStream, Parser};

use crate::common::Key;

const KEYS: &[&str] = &["name"];

/// The checked arguments: the explicit operation name, if any.
pub(crate) struct Perf {
    pub(crate) name: Option<LitStr>,
}

impl Perf {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        Parser::parse2(Self::parse_inner, tokens)
    }

    fn parse_inner(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Self { name: None });
        }
        if input.peek(LitStr) {
            let name: LitStr = input.parse()?;
            if name.value().trim().is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    "#[track_performance] `name` must not be empty",
                ));
            }
            if !input.is_empty() {
                return Err(input.error(
                    "#[track_performance] takes one name: `#[track_performance(\"name\")]` or `#[track_performance(name = \"name\")]`",
                ));
            }
            return Ok(Self { name: Some(name) });
        }
        let mut name = None;
        let mut seen = Vec::new();
        syn::meta::parser(|meta| {
            let key = Key::read("track_performance", KEYS, &mut seen, &meta)?;
            name = Some(key.name("\"shop.checkout\"")?);
            Ok(())
        })
        .parse2(input.parse()?)
        .map_err(|e| {
            if e.to_string().starts_with("expected") || e.to_string().starts_with("unexpected") {
                syn::Error::new(
                    e.span(),
                    "#[track_performance] expects an operation name: `#[track_performance(\"name\")]` or `#[track_performance(name = \"name\")]`",
                )
            } else {
                e
            }
        })?;
        Ok(Self { name })
    }
}
