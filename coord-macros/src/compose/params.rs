//! What a retried or hedged body does with the function's parameters on each attempt:
//! by-value ones are cloned (a missing `Clone` names the parameter); a retried body reborrows
//! `&mut` ones uniquely, a hedged body has none (its attempts run side by side).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, Signature, Type};

use crate::common::Errors;

/// The by-value parameters a retried body copies per attempt, and the `&mut` ones an async
/// attempt must borrow uniquely (so that it is `Send` whenever the function was).
pub(super) struct Params {
    /// `(name, declared mut)` of by-value parameters.
    by_value: Vec<(Ident, bool, Span)>,
    /// Parameters (and `self`) of type `&mut T`.
    unique: Vec<TokenStream>,
    /// Attempts run side by side: each clones through `&` inside a `Fn` closure.
    hedged: bool,
}

/// How often, and how, the body runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Runs {
    Once,
    Retried,
    Hedged,
}

impl Params {
    pub(super) fn of(sig: &Signature, runs: Runs) -> Self {
        let mut params = Self {
            by_value: Vec::new(),
            unique: Vec::new(),
            hedged: runs == Runs::Hedged,
        };
        if runs == Runs::Once {
            return params;
        }
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    if unique_receiver(receiver) {
                        let this = receiver.self_token;
                        params.unique.push(quote!(#this));
                    }
                }
                FnArg::Typed(arg) => {
                    let Pat::Ident(pat) = &*arg.pat else { continue };
                    if pat.by_ref.is_some() || pat.subpat.is_some() {
                        continue;
                    }
                    match &*arg.ty {
                        Type::Reference(reference) => {
                            if reference.mutability.is_some() {
                                let ident = &pat.ident;
                                params.unique.push(quote!(#ident));
                            }
                        }
                        _ => params.by_value.push((
                            pat.ident.clone(),
                            pat.mutability.is_some(),
                            arg.span(),
                        )),
                    }
                }
            }
        }
        params
    }

    /// `let mut x = x;` for by-value parameters not declared `mut`: each attempt clones them
    /// through `&mut`, so that an async attempt holds a `&mut T` (`Send` when `T` is).
    pub(super) fn rebinds(&self) -> Vec<TokenStream> {
        if self.hedged {
            return Vec::new();
        }
        self.by_value
            .iter()
            .filter(|(_, declared_mut, _)| !declared_mut)
            .map(|(ident, _, _)| quote!(let mut #ident = #ident;))
            .collect()
    }

    /// The first statements of each attempt.
    pub(super) fn per_attempt(&self) -> Vec<TokenStream> {
        let mut statements: Vec<TokenStream> = self
            .by_value
            .iter()
            .map(|(ident, declared_mut, span)| {
                let mutability = declared_mut.then(|| quote!(mut));
                let marker = format_ident!("{}", ident, span = *span);
                if self.hedged {
                    return quote_spanned! {*span=>
                        #[allow(unused_mut, unused_variables)]
                        let #mutability #ident = {
                            #[allow(non_camel_case_types, dead_code)]
                            struct #marker {}
                            ::coord::__private::hedge_arg::<#marker, _>(&#ident)
                        };
                    };
                }
                // The marker type named after the parameter lets a missing `Clone` name it;
                // braces keep it out of the value namespace.
                quote_spanned! {*span=>
                    #[allow(unused_mut, unused_variables)]
                    let #mutability #ident = {
                        #[allow(non_camel_case_types, dead_code)]
                        struct #marker {}
                        ::coord::__private::retry_arg::<#marker, _>(&mut #ident)
                    };
                }
            })
            .collect();
        statements.extend(
            self.unique
                .iter()
                .map(|param| quote!(::coord::__private::unique(&mut *#param);)),
        );
        statements
    }
}

/// Checks that a by-value parameter of a function whose body runs once per attempt (`#[retry]`,
/// `#[hedge]`) is a plain name (or `_`), so that each attempt can get its own clone of it.
pub(crate) fn check_plain_by_value(pat: &Pat, attribute: &str, errors: &mut Errors) {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {}
        Pat::Wild(_) => {}
        pat => errors.push(syn::Error::new_spanned(
            pat,
            format!(
                "#[{attribute}] needs a plain name for a by-value parameter: each attempt gets its own clone of it (or take it by reference)"
            ),
        )),
    }
}

/// `&mut self` (or `self: &mut Self`).
pub(crate) fn unique_receiver(receiver: &syn::Receiver) -> bool {
    match &receiver.kind {
        syn::ReceiverKind::Reference(_, _, mutability) => mutability.is_some(),
        syn::ReceiverKind::Typed(_, ty) => {
            matches!(&**ty, Type::Reference(r) if r.mutability.is_some())
        }
        _ => false,
    }
}
