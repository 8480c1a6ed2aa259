//! `#[derive(Validate)]`: parse (`ast`, `attr`) → check (`check`) into a separate model
//! (`model`) → expand (`expand`, cannot fail). Errors are collected so one compile shows every
//! mistake; on error the output is the errors plus a stub impl, so users see those errors and
//! nothing else.

mod ast;
mod attr;
mod check;
mod expand;
mod model;
mod types;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub(crate) use crate::common::{Errors, did_you_mean as closest};

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let parsed = ast::Input::from_syn(&input, &mut errors);
    let checked = parsed.map(|p| check::check(p, &mut errors));
    match (errors.finish(()), checked) {
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
                fn validate(&self) -> ::coord::__private::ValidationResult {
                    ::coord::__private::Checks::new().finish()
                }
            }
        };
    }
}
