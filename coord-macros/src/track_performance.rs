//! `#[track_performance]`, `#[track_performance("name")]`,
//! `#[track_performance(name = "name", outcome = path::to::classify, objective = "checkout")]`,
//! `#[track_performance(name = "name", span)]` (a `tracing` span per call).

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Path};

use syn::spanned::Spanned;

use crate::common::{Key, lone_string, parse_keys, syntax_as};

const KEYS: &[&str] = &["name", "outcome", "objective", "span"];

/// The checked arguments: the explicit operation name and the outcome classifier, if any.
#[derive(Default)]
pub(crate) struct Perf {
    pub(crate) name: Option<LitStr>,
    /// `fn(&T) -> coord::Outcome`, called on every return value.
    pub(crate) outcome: Option<Path>,
    /// The objective the operation joins (`objective = "checkout"`).
    pub(crate) objective: Option<LitStr>,
    /// `span`: each call runs in a `tracing` span named after the operation.
    pub(crate) span: bool,
}

impl Perf {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        Parser::parse2(Self::parse_inner, tokens)
    }

    fn parse_inner(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Self::default());
        }
        let alone = "#[track_performance] takes one name: `#[track_performance(\"name\")]`, or keys: `#[track_performance(name = \"name\", outcome = path::to::classify)]`";
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
            return Ok(Self {
                name: lone,
                ..Self::default()
            });
        }
        let mut perf = Self::default();
        parse_keys("track_performance", KEYS, input.parse()?, |key| {
            match key.name.as_str() {
                "outcome" => perf.outcome = Some(key.path("path::to::classify")?),
                "objective" => perf.objective = Some(objective_key(key)?),
                "span" => perf.span = span_key(key)?,
                _ => perf.name = Some(key.name("\"shop.checkout\"")?),
            }
            Ok(())
        })
        .map_err(syntax_as(
            "#[track_performance] expects an operation name or keys: `#[track_performance(\"name\")]` or `#[track_performance(name = \"name\", outcome = path::to::classify)]`",
        ))?;
        Ok(perf)
    }
}

/// `objective = "checkout"`: the objective's name (declared in code or in `coord.yaml`, so
/// only its shape is checked here; its targets, and a latency threshold's bucket, are checked
/// where they are given).
fn objective_key(key: &Key<'_, '_>) -> syn::Result<LitStr> {
    let name = key.string("\"checkout\"")?;
    let value = name.value();
    let max = coord_limits::objective::MAX_NAME_BYTES;
    if value.trim().is_empty() || value.trim() != value || value.len() > max {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "#[track_performance] `objective` is an objective's name: 1 to {max} bytes, no surrounding spaces"
            ),
        ));
    }
    Ok(name)
}

/// `span`: a bare key (`span = true` is refused, so that `span = false` cannot look meaningful).
fn span_key(key: &Key<'_, '_>) -> syn::Result<bool> {
    if key.meta.input.peek(syn::Token![=]) {
        return Err(key.error(
            key.meta.path.span(),
            "takes no value: write `#[track_performance(name = \"..\", span)]`",
        ));
    }
    Ok(true)
}
