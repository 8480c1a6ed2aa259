//! The traits that turn a layer's rejection (or time-out) into the function's error type, one
//! per rejection so that each bound carries its own message.

use crate::breaker::CircuitOpen;
use crate::bulkhead::BulkheadFull;
use crate::rate_limit::RateLimited;
use crate::timeout::TimedOut;

/// A trait that turns a layer's rejection into the function's error type, implemented for
/// every `E: From<rejection>`. One trait per rejection, so that the bound carries the message
/// users see when their error type cannot hold that rejection.
macro_rules! from_rejection {
    ($(#[$attr:meta])* $name:ident::$method:ident($value:ident: $rejection:ty)) => {
        $(#[$attr])*
        pub trait $name {
            #[doc = concat!("`Self::from(", stringify!($value), ")`.")]
            fn $method($value: $rejection) -> Self;
        }

        impl<E: From<$rejection>> $name for E {
            #[inline]
            fn $method($value: $rejection) -> Self {
                E::from($value)
            }
        }
    };
}

from_rejection! {
    /// Turns a breaker's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[circuit_breaker] functions must return `Result<T, E>` where `E: From<coord::CircuitOpen>`; `{Self}` does not implement `From<coord::CircuitOpen>`",
        label = "`{Self}` cannot hold the `coord::CircuitOpen` a rejected call returns",
        note = "add `impl From<coord::CircuitOpen> for {Self}` (for example a `CircuitOpen` variant of your error enum)"
    )]
    FromCircuitOpen::from_circuit_open(open: CircuitOpen)
}

from_rejection! {
    /// Turns a time-out into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[timeout] functions must return `Result<T, E>` where `E: From<coord::TimedOut>`; `{Self}` does not implement `From<coord::TimedOut>`",
        label = "`{Self}` cannot hold the `coord::TimedOut` a timed-out call returns",
        note = "add `impl From<coord::TimedOut> for {Self}` (for example a `TimedOut` variant of your error enum)"
    )]
    FromTimedOut::from_timed_out(timed_out: TimedOut)
}

from_rejection! {
    /// Turns a bulkhead's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[bulkhead] functions must return `Result<T, E>` where `E: From<coord::BulkheadFull>`; `{Self}` does not implement `From<coord::BulkheadFull>`",
        label = "`{Self}` cannot hold the `coord::BulkheadFull` a rejected call returns",
        note = "add `impl From<coord::BulkheadFull> for {Self}` (for example a `Busy` variant of your error enum)"
    )]
    FromBulkheadFull::from_bulkhead_full(full: BulkheadFull)
}

from_rejection! {
    /// Turns a rate limiter's rejection into the function's error type.
    #[diagnostic::on_unimplemented(
        message = "#[rate_limit] functions must return `Result<T, E>` where `E: From<coord::RateLimited>`; `{Self}` does not implement `From<coord::RateLimited>`",
        label = "`{Self}` cannot hold the `coord::RateLimited` a rejected call returns",
        note = "add `impl From<coord::RateLimited> for {Self}` (for example a `Throttled` variant of your error enum)"
    )]
    FromRateLimited::from_rate_limited(limited: RateLimited)
}
