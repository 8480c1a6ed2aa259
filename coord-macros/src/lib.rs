//! Procedural macros of [coord](https://docs.rs/coord). Use them through the `coord` crate,
//! which re-exports them and documents them; generated code calls only
//! `::coord::__private`.

mod circuit_breaker;
mod common;
mod compose;
mod retry;
mod track_performance;
mod validate;

use proc_macro::TokenStream;

/// Times every call of a function and records its outcome; see `coord::track_performance`.
#[proc_macro_attribute]
pub fn track_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(common::Layer::TrackPerformance, args.into(), item.into()).into()
}

/// Derives `coord::Validate` from `#[validate(...)]` field attributes; see `coord::Validate`.
#[proc_macro_derive(Validate, attributes(validate))]
pub fn derive_validate(input: TokenStream) -> TokenStream {
    validate::derive(input.into()).into()
}

/// Retries a function returning `Result` with back-off; see `coord::retry`.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(common::Layer::Retry, args.into(), item.into()).into()
}

/// Guards a function returning `Result<T, E>` (with `E: From<CircuitOpen>`) with a named
/// circuit breaker; see `coord::circuit_breaker`.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(common::Layer::CircuitBreaker, args.into(), item.into()).into()
}
