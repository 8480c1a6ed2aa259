//! `#[rate_limit(rate = 100, per = "1s", burst = 10, max_wait = "0ms", name = "api", shared = true,
//! instances = 4)]`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::LitStr;

use coord_limits::rate_limit::DEFAULT_RATE;

use crate::common::{Errors, Setters, parse_keys};
use crate::compose::{GateArgs, GateKind};

const KEYS: &[&str] = &[
    "name",
    "rate",
    "per",
    "burst",
    "max_wait",
    "shared",
    "instances",
];

/// The checked arguments of one `#[rate_limit(...)]`.
#[derive(Default)]
pub(crate) struct RateLimitArgs {
    name: Option<LitStr>,
    rate: Option<u32>,
    per: Option<(Duration, Span)>,
    burst: Option<u32>,
    max_wait: Option<Duration>,
    shared: Option<bool>,
    instances: Option<(u32, Span)>,
}

impl GateArgs for RateLimitArgs {
    const KIND: GateKind = GateKind {
        attribute: "rate_limit",
        rejection: "coord::RateLimited",
        site: "__COORD_RATE_LIMIT",
        layer: "RateLimiter",
        gate: "RateGate",
    };

    fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let mut errors = Errors::default();
        parse_keys(Self::KIND.attribute, KEYS, tokens, |key| {
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
                "shared" => args.shared = Some(key.boolean("true")?),
                "instances" => args.instances = Some(key.integer(1, u32::MAX, "4")?),
                _ => args.max_wait = Some(key.duration("\"10ms\"")?.0),
            }
            Ok(())
        })?;
        let rate = args.rate.unwrap_or(DEFAULT_RATE);
        if let Some((_, span)) = args.instances
            && args.shared != Some(true)
        {
            errors.push(syn::Error::new(
                span,
                "#[rate_limit] `instances` is the size of a fleet sharing the quota; add `shared = true`",
            ));
        }
        // A shared limiter's script counts in microseconds since the epoch (a double).
        if let Some((per, span)) = args.per
            && args.shared == Some(true)
            && per.as_nanos() >= u128::from(rate)
            && per.as_nanos() < u128::from(rate) * 1_000
        {
            errors.push(syn::Error::new(
                span,
                format!(
                    "#[rate_limit] `per` ({per:?}) for {rate} calls spaces them less than 1µs apart, finer than a shared limiter counts"
                ),
            ));
        }
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

    fn name(&self) -> Option<LitStr> {
        self.name.clone()
    }

    fn config(&self) -> TokenStream {
        let config = Setters::default_of("RateLimitConfig")
            .set("rate", self.rate.map(u64::from))
            .duration("per", self.per.map(|(per, _)| per))
            .set("burst", self.burst.map(u64::from))
            .duration("max_wait", self.max_wait);
        match self.instances {
            // Parsing refused `instances` without `shared = true`.
            Some((instances, _)) => {
                let instances = u64::from(instances);
                let shared = Setters::default_of("SharedConfig")
                    .set("instances", Some(instances))
                    .finish();
                config.set("shared_with", Some(shared)).finish()
            }
            None => config.set("shared", self.shared).finish(),
        }
    }
}
