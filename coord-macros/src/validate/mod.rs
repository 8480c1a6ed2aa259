//! `#[derive(Validate)]`: parse (`ast`, `attr`) → check into a separate model (`check`) →
//! expand (`expand`, cannot fail). Errors are collected so one compile shows every mistake; on
//! error the output is the errors plus a stub impl, so users see those errors and nothing else.

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// Collected errors (serde's `Ctxt` shape).
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: syn::Error) {
        self.0.push(e);
    }

    fn into_result(self) -> Result<(), syn::Error> {
        let mut iter = self.0.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in iter {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let parsed = ast::Input::from_syn(&input, &mut errors);
    let checked = parsed.map(|p| check::check(p, &mut errors));
    match (errors.into_result(), checked) {
        (Ok(()), Some(checked)) => expand::expand(&checked),
        (Err(e), _) => fallback(&input, e),
        (Ok(()), None) => fallback(
            &input,
            syn::Error::new_spanned(&input.ident, "cannot derive `Validate` for this item"),
        ),
    }
}

/// The errors plus an empty impl, so uses of `.validate()` do not add errors of their own.
fn fallback(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #errors
        const _: () = {
            impl #impl_generics ::coord::__private::Validate for #ident #ty_generics #where_clause {
                fn validate_into(
                    &self,
                    _: &::coord::__private::FieldPath<'_>,
                    _: &mut ::coord::__private::Checks,
                ) {
                }
            }
        };
    }
}
