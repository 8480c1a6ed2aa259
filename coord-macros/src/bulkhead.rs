//! `#[bulkhead(max_concurrent = 10, max_wait = "0ms", name = "db")]`.

use std::time::Duration;

use proc_macro2::Span;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, LitStr};

use coord_limits::bulkhead::MAX_CONCURRENT;

use crate::common::{Setters, parse_keys};
use crate::compose::{GateArgs, GateKind};

const KEYS: &[&str] = &["name", "max_concurrent", "max_wait", "adaptive"];

/// The algorithms of `adaptive = "..."`, as `coord::bulkheads::Algorithm` names them.
const ALGORITHMS: &[(&str, &str)] = &[
    ("vegas", "Vegas"),
    ("gradient2", "Gradient2"),
    ("aimd", "Aimd"),
];

/// The checked arguments of one `#[bulkhead(...)]`.
#[derive(Default)]
pub(crate) struct BulkheadArgs {
    name: Option<LitStr>,
    max_concurrent: Option<u32>,
    max_wait: Option<Duration>,
    /// The variant of `coord::bulkheads::Algorithm`.
    adaptive: Option<&'static str>,
}

impl GateArgs for BulkheadArgs {
    const KIND: GateKind = GateKind {
        attribute: "bulkhead",
        rejection: "coord::BulkheadFull",
        site: "__COORD_BULKHEAD",
        layer: "Bulkhead",
        gate: "BulkheadGate",
    };

    fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        parse_keys(Self::KIND.attribute, KEYS, tokens, |key| {
            match key.name.as_str() {
                "name" => args.name = Some(key.name("\"db\"")?),
                "max_concurrent" => {
                    args.max_concurrent = Some(key.integer(1, MAX_CONCURRENT, "10")?.0);
                }
                "adaptive" => args.adaptive = Some(algorithm(key.string("\"vegas\"")?)?),
                _ => args.max_wait = Some(key.duration("\"10ms\"")?.0),
            }
            Ok(())
        })?;
        Ok(args)
    }

    fn name(&self) -> Option<LitStr> {
        self.name.clone()
    }

    fn config(&self) -> TokenStream {
        let adaptive = self.adaptive.map(|variant| {
            let variant = Ident::new(variant, Span::call_site());
            quote!(::coord::bulkheads::AdaptiveLimit::of(
                ::coord::bulkheads::Algorithm::#variant
            ))
        });
        Setters::default_of("BulkheadConfig")
            .set("max_concurrent", self.max_concurrent.map(|n| n as usize))
            .duration("max_wait", self.max_wait)
            .set("adaptive", adaptive)
            .finish()
    }
}

/// The `Algorithm` variant named by `adaptive = "..."`.
fn algorithm(name: LitStr) -> syn::Result<&'static str> {
    let value = name.value();
    match ALGORITHMS.iter().find(|(n, _)| *n == value) {
        Some((_, variant)) => Ok(variant),
        None => {
            let names: Vec<&str> = ALGORITHMS.iter().map(|(n, _)| *n).collect();
            Err(syn::Error::new(
                name.span(),
                crate::common::unknown(
                    &format!("#[bulkhead] `adaptive` algorithm `{value}`"),
                    &value,
                    &names,
                ),
            ))
        }
    }
}
