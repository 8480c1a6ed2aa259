//! `#[bulkhead(max_concurrent = 10, max_wait = "0ms", name = "db")]`.

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{LitStr, Signature};

use coord_limits::bulkhead::MAX_CONCURRENT;

use crate::common::{Errors, duration_tokens, parse_keys};
use crate::compose::{GateKind, Guard};

const KEYS: &[&str] = &["name", "max_concurrent", "max_wait"];

/// The checked arguments of one `#[bulkhead(...)]`.
#[derive(Default)]
pub(crate) struct BulkheadArgs {
    name: Option<LitStr>,
    max_concurrent: Option<u32>,
    max_wait: Option<Duration>,
}

impl BulkheadArgs {
    fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        parse_keys("bulkhead", KEYS, tokens, |key| {
            match key.name.as_str() {
                "name" => args.name = Some(key.name("\"db\"")?),
                "max_concurrent" => {
                    args.max_concurrent = Some(key.integer(1, MAX_CONCURRENT, "10")?.0);
                }
                _ => args.max_wait = Some(key.duration("\"10ms\"")?.0),
            }
            Ok(())
        })?;
        Ok(args)
    }

    /// The expression building the call site's configuration.
    fn config_tokens(&self) -> TokenStream {
        let mut config =
            quote!(<::coord::__private::BulkheadConfig as ::core::default::Default>::default());
        if let Some(n) = self.max_concurrent {
            let n = n as usize;
            config = quote!(#config.max_concurrent(#n));
        }
        if let Some(d) = self.max_wait {
            let d = duration_tokens(d);
            config = quote!(#config.max_wait(#d));
        }
        config
    }
}

/// Checks `#[bulkhead(...)]` on a function: its arguments, and a `Result` return.
pub(crate) fn check(
    args: TokenStream,
    sig: &Signature,
    errors: &mut Errors,
) -> Option<Box<dyn Guard>> {
    KIND.check(args, sig, errors, |args| {
        let args = BulkheadArgs::parse(args)?;
        let config = args.config_tokens();
        Ok((args.name, config))
    })
}

const KIND: GateKind = GateKind {
    attribute: "bulkhead",
    rejection: "coord::BulkheadFull",
    site: "__COORD_BULKHEAD",
    layer: "Bulkhead",
    gate: "BulkheadGate",
};
