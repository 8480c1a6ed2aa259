//! Procedural macros of [coord](https://docs.rs/coord). Use them through the `coord` crate,
//! which re-exports them and documents them; generated code calls only
//! `::coord::__private`.

mod circuit_breaker;
mod common;
mod compose;
mod track_performance;

use proc_macro::TokenStream;

/// Times every call of a function and records its outcome; see `coord::track_performance`.
#[proc_macro_attribute]
pub fn track_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(common::Layer::TrackPerformance, args.into(), item.into()).into()
}

/// Guards a function returning `Result<T, E>` (with `E: From<CircuitOpen>`) with a named
/// circuit breaker; see `coord::circuit_breaker`.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(common::Layer::CircuitBreaker, args.into(), item.into()).into()
}
