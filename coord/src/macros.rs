//! Compile-time helpers for every layer, declared first in `lib.rs` with `#[macro_use]` so that
//! any module can use them by name. They expand to plain code and import nothing of coord.

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
