//! `#[rate_limit(rate = 100, per = "1s", burst = 10, max_wait = "0ms", name = "api")]`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{LitStr, Signature};

use coord_limits::rate_limit::DEFAULT_RATE;

use crate::common::{Errors, duration_tokens, parse_keys};
use crate::compose::{GateKind, Guard};

const KEYS: &[&str] = &["name", "rate", "per", "burst", "max_wait"];

/// The checked arguments of one `#[rate_limit(...)]`.
#[derive(Default)]
pub(crate) struct RateLimitArgs {
    name: Option<LitStr>,
    rate: Option<u32>,
    per: Option<(Duration, Span)>,
    burst: Option<u32>,
    max_wait: Option<Duration>,
}

impl RateLimitArgs {
    fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let mut errors = Errors::default();
        parse_keys("rate_limit", KEYS, tokens, |key| {
            match key.name.as_str() {
                "name" => args.name = Some(key.name("\"api\"")?),
                "rate" => args.rate = Some(key.integer(1, u32::MAX, "100")?.0),
                "burst" => args.burst = Some(key.integer(1, u32::MAX, "10")?.0),
                "per" => {
                    let (per, span) = key.duration("\"1s\"")?;
                    if per.is_zero() {
                        errors.push(key.error(span, "must be longer than zero"));
                    }
                    args.per = Some((per, span));
                }
                _ => args.max_wait = Some(key.duration("\"10ms\"")?.0),
            }
            Ok(())
        })?;
        let rate = args.rate.unwrap_or(DEFAULT_RATE);
        if let Some((per, span)) = args.per
            && !per.is_zero()
            && per.as_nanos() < u128::from(rate)
        {
            errors.push(syn::Error::new(
                span,
                format!(
                    "#[rate_limit] `per` ({per:?}) for {rate} calls spaces them less than 1ns apart"
                ),
            ));
        }
        errors.finish(args)
    }

    /// The expression building the call site's configuration.
    fn config_tokens(&self) -> TokenStream {
        let mut config =
            quote!(<::coord::__private::RateLimitConfig as ::core::default::Default>::default());
        if let Some(n) = self.rate {
            let n = u64::from(n);
            config = quote!(#config.rate(#n));
        }
        if let Some((d, _)) = self.per {
            let d = duration_tokens(d);
            config = quote!(#config.per(#d));
        }
        if let Some(n) = self.burst {
            let n = u64::from(n);
            config = quote!(#config.burst(#n));
        }
        if let Some(d) = self.max_wait {
            let d = duration_tokens(d);
            config = quote!(#config.max_wait(#d));
        }
        config
    }
}

/// Checks `#[rate_limit(...)]` on a function: its arguments, and a `Result` return.
pub(crate) fn check(
    args: TokenStream,
    sig: &Signature,
    errors: &mut Errors,
) -> Option<Box<dyn Guard>> {
    KIND.check(args, sig, errors, |args| {
        let args = RateLimitArgs::parse(args)?;
        let config = args.config_tokens();
        Ok((args.name, config))
    })
}

const KIND: GateKind = GateKind {
    attribute: "rate_limit",
    rejection: "coord::RateLimited",
    site: "__COORD_RATE_LIMIT",
    layer: "RateLimiter",
    gate: "RateGate",
};
