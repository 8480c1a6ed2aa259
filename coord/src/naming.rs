//! Names: "did you mean" suggestions for misspelt names (one Levenshtein distance for the rule
//! language, the configuration file and anything else that names things), and [`named_enum!`]
//! for the small enums whose variants have stable names. A leaf.

/// An enum of unit variants, each with its stable name: generates the enum, `ALL` (every
/// variant in declaration order), `as_str` and a `Display` that writes the name.
///
/// ```ignore
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

pub(crate) use named_enum;

/// Levenshtein distance between `a` and `b`, in chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate within a third of the word's length (at least 2 edits).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_within_a_third() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("min_lenght", ["min_length", "max_length"]).as_deref(),
            Some("min_length")
        );
        assert_eq!(closest("zzzzzz", ["min_length"]), None);
    }
}
