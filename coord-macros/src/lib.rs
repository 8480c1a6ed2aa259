//! Procedural macros of [coord](https://docs.rs/coord). Use them through the `coord` crate,
//! which re-exports them and documents them; generated code calls only
//! `::coord::__private`.

mod bulkhead;
mod circuit_breaker;
mod common;
mod compose;
mod fallback;
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

/// The composing attributes: each one, expanding first, collects its siblings on the function
/// and builds the one wrapper (`compose`).
macro_rules! composing_attributes {
    ($($(#[$doc:meta])* $name:ident => $layer:ident;)*) => {$(
        $(#[$doc])*
        #[proc_macro_attribute]
        pub fn $name(args: TokenStream, item: TokenStream) -> TokenStream {
            compose::expand(compose::Layer::$layer, args.into(), item.into()).into()
        }
    )*};
}

composing_attributes! {
    /// Times every call of a function and records its outcome; see `coord::track_performance`.
    track_performance => TrackPerformance;
    /// Retries a function returning `Result` with back-off; see `coord::retry`.
    retry => Retry;
    /// Guards a function returning `Result<T, E>` (with `E: From<CircuitOpen>`) with a named
    /// circuit breaker; see `coord::circuit_breaker`.
    circuit_breaker => CircuitBreaker;
    /// Gives an `async fn` a time limit per attempt (`#[timeout("2s")]`) or for the whole call
    /// (`#[timeout(total = "10s")]`); see `coord::timeout`.
    timeout => Timeout;
    /// Limits the calls of a function in flight at once; see `coord::bulkhead`.
    bulkhead => Bulkhead;
    /// Limits the rate of a function's calls; see `coord::rate_limit`.
    rate_limit => RateLimit;
    /// Recovers from a function's final error; see `coord::fallback`.
    fallback => Fallback;
}
