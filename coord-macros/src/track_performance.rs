//! `#[track_performance]`, `#[track_performance("name")]`, `#[track_performance(name = "name")]`.

use proc_macro2::TokenStream;
use syn::LitStr;
use syn::parse::{ParseStream, Parser};

use crate::common::{lone_string, parse_keys, syntax_as};

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
        let alone = "#[track_performance] takes one name: `#[track_performance(\"name\")]` or `#[track_performance(name = \"name\")]`";
        let lone = lone_string(input, alone, |name| {
            if name.value().trim().is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    "#[track_performance] `name` must not be empty",
                ));
            }
            Ok(name.clone())
        })?;
        if lone.is_some() {
            return Ok(Self { name: lone });
        }
        let mut name = None;
        parse_keys("track_performance", KEYS, input.parse()?, |key| {
            name = Some(key.name("\"shop.checkout\"")?);
            Ok(())
        })
        .map_err(syntax_as(
            "#[track_performance] expects an operation name: `#[track_performance(\"name\")]` or `#[track_performance(name = \"name\")]`",
        ))?;
        Ok(Self { name })
    }
}
