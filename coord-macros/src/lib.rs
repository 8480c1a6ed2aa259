//! Procedural macros of [coord](https://docs.rs/coord). Use them through the `coord` crate,
//! which re-exports them and documents them; generated code calls only
//! `::coord::__private`.
//!
//! Each entry point is one line into its module. The eight composing attributes all enter
//! `compose::expand`: whichever expands first collects its siblings on the function and builds
//! the one wrapper; the argument keys of each live in its own module (`retry.rs`, ...).

mod bulkhead;
mod circuit_breaker;
mod common;
mod compose;
mod fallback;
mod hedge;
mod rate_limit;
mod retry;
mod timeout;
mod track_performance;
mod validate;

use proc_macro::TokenStream;

/// Derives `coord::Validate` from `#[validate(...)]` field attributes; see `coord::Validate`.
#[proc_macro_derive(Validate, attributes(validate))]
pub fn derive_validate(input: TokenStream) -> TokenStream {
    validate::derive(input.into()).into()
}

/// Times every call of a function and records its outcome; see `coord::track_performance`.
#[proc_macro_attribute]
pub fn track_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::TrackPerformance, args.into(), item.into()).into()
}

/// Retries a function returning `Result` with back-off; see `coord::retry`.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::Retry, args.into(), item.into()).into()
}

/// Races a second attempt of an idempotent `async fn` against a slow first one; see
/// `coord::hedge`.
#[proc_macro_attribute]
pub fn hedge(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::Hedge, args.into(), item.into()).into()
}

/// Guards a function returning `Result<T, E>` (with `E: From<CircuitOpen>`) with a named
/// circuit breaker; see `coord::circuit_breaker`.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::CircuitBreaker, args.into(), item.into()).into()
}

/// Gives an `async fn` a time limit per attempt (`#[timeout("2s")]`) or for the whole call
/// (`#[timeout(total = "10s")]`); see `coord::timeout`.
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::Timeout, args.into(), item.into()).into()
}

/// Limits the calls of a function in flight at once; see `coord::bulkhead`.
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::Bulkhead, args.into(), item.into()).into()
}

/// Limits the rate of a function's calls; see `coord::rate_limit`.
#[proc_macro_attribute]
pub fn rate_limit(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::RateLimit, args.into(), item.into()).into()
}

/// Recovers from a function's final error; see `coord::fallback`.
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    compose::expand(compose::Layer::Fallback, args.into(), item.into()).into()
}
