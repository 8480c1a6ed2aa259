//! `#[timeout("2s")]` (per attempt, also `attempt = "2s"`) and `#[timeout(total = "10s")]`
//! (the whole call, retries and back-off sleeps included), on `async fn`s only.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};

use crate::common::{Errors, lone_string, parse_duration, parse_keys, syntax_as};

const KEYS: &[&str] = &["attempt", "total"];

/// The checked arguments of one or two `#[timeout(...)]` on a function.
#[derive(Default)]
pub(crate) struct Timeout {
    pub(crate) attempt: Option<(Duration, Span)>,
    pub(crate) total: Option<(Duration, Span)>,
}

impl Timeout {
    /// Parses one attribute's arguments into `self` (a function may carry one `#[timeout]` per
    /// kind of limit).
    pub(crate) fn parse_into(&mut self, tokens: TokenStream, span: Span) -> syn::Result<()> {
        let parsed = Parser::parse2(|input: ParseStream| Self::parse_inner(input, span), tokens)?;
        let mut errors = Errors::default();
        for (mine, theirs, key) in [
            (&mut self.attempt, parsed.attempt, "attempt"),
            (&mut self.total, parsed.total, "total"),
        ] {
            if let Some((limit, span)) = theirs {
                if mine.is_some() {
                    errors.push(syn::Error::new(
                        span,
                        format!("#[timeout] `{key}` is given twice on one function"),
                    ));
                }
                *mine = Some((limit, span));
            }
        }
        if let (Some((attempt, _)), Some((total, span))) = (self.attempt, self.total)
            && total < attempt
        {
            errors.push(syn::Error::new(
                span,
                format!(
                    "#[timeout] `total` ({total:?}) is shorter than the per-attempt limit ({attempt:?}), which could then never apply"
                ),
            ));
        }
        errors.finish(())
    }

    fn parse_inner(input: ParseStream, span: Span) -> syn::Result<Self> {
        let usage = "#[timeout] expects a time limit: `#[timeout(\"2s\")]` (per attempt) or `#[timeout(total = \"10s\")]` (the whole call)";
        if input.is_empty() {
            return Err(syn::Error::new(span, usage));
        }
        let mut args = Self::default();
        let alone = "#[timeout] takes one limit per attribute: `#[timeout(\"2s\")]`, `#[timeout(total = \"10s\")]` or `#[timeout(attempt = \"2s\", total = \"10s\")]`";
        let lone = lone_string(input, alone, |lit| {
            let limit = parse_duration(&lit.value())
                .map_err(|why| syn::Error::new(lit.span(), format!("#[timeout] limit {why}")))?;
            if limit.is_zero() {
                return Err(syn::Error::new(
                    lit.span(),
                    "#[timeout] limit must be longer than zero",
                ));
            }
            Ok((limit, lit.span()))
        })?;
        if lone.is_some() {
            args.attempt = lone;
            return Ok(args);
        }
        let rest: TokenStream = input.parse()?;
        parse_keys("timeout", KEYS, rest, |key| {
            let (limit, span) = key.duration("\"2s\"")?;
            if limit.is_zero() {
                return Err(key.error(span, "must be longer than zero"));
            }
            if key.name == "total" {
                args.total = Some((limit, span));
            } else {
                args.attempt = Some((limit, span));
            }
            Ok(())
        })
        .map_err(syntax_as(usage))?;
        Ok(args)
    }
}
