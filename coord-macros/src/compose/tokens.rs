//! Token helpers the expansion shares.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, ReturnType};

/// `::core::option::Option::Some(value)`, or `None` (paths the user's code cannot shadow).
pub(crate) fn option(value: Option<impl ToTokens>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// The return type as written in a `let` binding: `impl Trait` becomes `_` (it cannot be named),
/// `()` when there is none.
pub(super) fn binding_type(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => erase_impl_trait(ty.to_token_stream()),
    }
}

/// Replaces every `impl Bounds` in a type by `_`. A token walk instead of syn's `visit-mut`:
/// `impl` can only start an `impl Trait` type here, and its bounds end at the next `,`, `>`,
/// `)`, `]`, `;`, `=` at the same depth.
fn erase_impl_trait(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) if ident == "impl" => {
                out.push(TokenTree::Ident(Ident::new("_", ident.span())));
                let mut depth = 0usize;
                let mut arrow = false;
                while let Some(next) = tokens.peek() {
                    if let TokenTree::Punct(p) = next {
                        match p.as_char() {
                            // The `>` of `->` closes nothing.
                            '>' if arrow => {}
                            '<' => depth += 1,
                            '>' if depth > 0 => depth -= 1,
                            ',' | '>' | ';' | '=' if depth == 0 => break,
                            _ => {}
                        }
                        arrow = p.as_char() == '-' && p.spacing() == proc_macro2::Spacing::Joint;
                    } else {
                        arrow = false;
                    }
                    tokens.next();
                }
            }
            TokenTree::Group(group) => {
                let mut erased = Group::new(group.delimiter(), erase_impl_trait(group.stream()));
                erased.set_span(group.span());
                out.push(TokenTree::Group(erased));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impl_trait_is_erased() {
        let erased = |ty: TokenStream| erase_impl_trait(ty).to_string();
        assert_eq!(
            erased(quote!(Result<impl Iterator<Item = u8>, E>)),
            quote!(Result<_, E>).to_string()
        );
        assert_eq!(erased(quote!(impl Display)), quote!(_).to_string());
        assert_eq!(
            erased(quote!((impl Fn(u8) -> u8, u8))),
            quote!((_, u8)).to_string()
        );
    }
}
