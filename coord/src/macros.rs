//! Compile-time helpers for every layer, declared first in `lib.rs` with `#[macro_use]` so that
//! any module can use them by name. They expand to plain code and import nothing of coord but
//! the configuration loader the doors call.

/// An enum of unit variants, each with its stable name: generates the enum, `ALL` (every
/// variant in declaration order), `as_str` and a `Display` that writes the name.
///
/// ```text
/// named_enum! {
///     /// How much a failure matters.
///     pub enum Severity {
///         /// Cosmetic.
///         Low = "low",
///     }
/// }
/// ```
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $text:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The stable name, as displayed and serialized.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Builder setters of a configuration type: each `pub fn field(arg: T);` sets the field of the
/// same name to `arg` and returns the value, `#[must_use]`. `= Some` stores `Some(arg)`,
/// `= into` stores `arg.into()`, `= max(floor)` stores `arg.max(floor)`. Each keeps its own
/// doc comment.
///
/// ```text
/// impl BulkheadConfig {
///     setters! {
///         /// Sets how long a call waits for a slot.
///         pub fn max_wait(max_wait: Duration);
///         /// Makes the limit adapt to measured latency.
///         pub fn adaptive(adaptive: AdaptiveLimit) = Some;
///     }
/// }
/// ```
///
/// With a header `in <field>, then <method>;` each setter stores in `self.<field>` and returns
/// `self.<method>()` instead of `self` (the retry policy's numbers live in its settings, and
/// every builder method of the policy makes a new policy).
macro_rules! setters {
    (in $place:ident, then $after:ident; $($setters:tt)+) => {
        setters!(@each [.$place] [.$after()] $($setters)+);
    };
    // One setter at a time, so that the place and the tail repeat with each.
    (@each [$($place:tt)*] [$($after:tt)*]) => {};
    (@each [$($place:tt)*] [$($after:tt)*]
        $(#[$meta:meta])*
        $vis:vis fn $field:ident($arg:ident: $ty:ty) $(= $wrap:ident $(($floor:expr))?)?;
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[must_use]
        $vis fn $field(mut self, $arg: $ty) -> Self {
            self$($place)*.$field = setters!(@store $($wrap $(($floor))?)? $arg);
            self$($after)*
        }
        setters!(@each [$($place)*] [$($after)*] $($rest)*);
    };
    (@store $arg:ident) => { $arg };
    (@store Some $arg:ident) => { Some($arg) };
    (@store into $arg:ident) => { $arg.into() };
    (@store max($floor:expr) $arg:ident) => { $arg.max($floor) };
    ($($setters:tt)+) => {
        setters!(@each [] [] $($setters)+);
    };
}

/// The error of a configuration type's `validate`: the key at fault and why, displayed as
/// ``invalid <what> `<key>`: <why>``. Generates the struct (`key`, `message`), its `key()`
/// accessor, `Display` and `std::error::Error`.
///
/// ```text
/// config_error! {
///     /// A [`HedgeConfig`] refused by [`HedgeConfig::validate`].
///     pub struct HedgeConfigError: "hedge", as in "#[hedge(...)]";
/// }
/// ```
macro_rules! config_error {
    (
        $(#[$meta:meta])*
        pub struct $name:ident: $what:literal, as in $attribute:literal;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            pub(crate) key: &'static str,
            pub(crate) message: String,
        }

        impl $name {
            #[doc = concat!("The configuration key at fault, as in `", $attribute, "`.")]
            pub fn key(&self) -> &'static str {
                self.key
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!("invalid ", $what, " `{}`: {}"), self.key, self.message)
            }
        }

        impl ::std::error::Error for $name {}
    };
}

/// `Debug` for a mechanism with a `name` field: the type's name, `name`, then each listed field
/// read by the method given (the rest is state that reads as noise, hence `..`).
///
/// ```text
/// named_debug!(CircuitBreaker { state: state() });
/// ```
macro_rules! named_debug {
    ($type:ident { $($field:ident: $method:ident()),+ $(,)? }) => {
        impl ::std::fmt::Debug for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($type))
                    .field("name", &self.name)
                    $(.field(stringify!($field), &self.$method()))+
                    .finish_non_exhaustive()
            }
        }
    };
}

/// Doors: public functions that load `COORD_CONFIG` first
/// ([`config::ensure_env_loaded`](crate::config::ensure_env_loaded)), then answer with the
/// expression after `=>`, so that every door loads the configuration the same way. Each keeps
/// its own doc comment.
///
/// ```text
/// doors! {
///     /// The breaker called `name`.
///     pub fn breaker(name: &str) -> Arc<CircuitBreaker> => breaker::breaker(name);
/// }
/// ```
macro_rules! doors {
    (
        $(
            $(#[$meta:meta])*
            pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty => $answer:expr;
        )+
    ) => {
        $(
            $(#[$meta])*
            pub fn $name($($arg: $ty),*) -> $out {
                $crate::config::ensure_env_loaded();
                $answer
            }
        )+
    };
}
