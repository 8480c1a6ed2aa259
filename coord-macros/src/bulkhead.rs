//! `#[bulkhead(max_concurrent = 10, max_wait = "0ms", name = "db")]`.

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use coord_limits::bulkhead::MAX_CONCURRENT;

use crate::common::{duration_tokens, parse_keys};

const KEYS: &[&str] = &["name", "max_concurrent", "max_wait"];

/// The checked arguments of one `#[bulkhead(...)]`.
#[derive(Default)]
pub(crate) struct BulkheadArgs {
    pub(crate) name: Option<LitStr>,
    max_concurrent: Option<u32>,
    max_wait: Option<Duration>,
}

impl BulkheadArgs {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
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
    pub(crate) fn config_tokens(&self) -> TokenStream {
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
