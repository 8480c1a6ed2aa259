//! `#[retry(max_retries = 3, base_delay = "1s", multiplier = 2.0, max_delay = "30s",
//! jitter = "full", when = path, policy = "name")]`: parse and check the keys and the
//! signature; `compose` expands the checked model.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, LitStr, Path, ReturnType, Signature, Type};

use coord_limits::retry::MAX_RETRIES;

use crate::common::{Errors, Setters, parse_keys, unknown};

const KEYS: &[&str] = &[
    "max_retries",
    "base_delay",
    "multiplier",
    "max_delay",
    "jitter",
    "when",
    "policy",
];
const JITTERS: [(&str, &str); 4] = [
    ("none", "None"),
    ("full", "Full"),
    ("equal", "Equal"),
    ("decorrelated", "Decorrelated"),
];

/// The checked arguments of one `#[retry(...)]`.
#[derive(Default)]
pub(crate) struct Retry {
    max_retries: Option<u32>,
    base_delay: Option<Duration>,
    multiplier: Option<f64>,
    max_delay: Option<Duration>,
    jitter: Option<&'static str>,
    pub(crate) when: Option<Path>,
    policy: Option<LitStr>,
}

impl Retry {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Retry::default();
        let mut base_span = Span::call_site();
        let mut errors = Errors::default();
        parse_keys("retry", KEYS, tokens, |key| {
            match key.name.as_str() {
                "max_retries" => {
                    args.max_retries = Some(key.integer(0, MAX_RETRIES, "3")?.0);
                }
                "base_delay" => {
                    let (d, span) = key.duration("\"200ms\"")?;
                    base_span = span;
                    args.base_delay = Some(d);
                }
                "max_delay" => args.max_delay = Some(key.duration("\"30s\"")?.0),
                "multiplier" => {
                    let (m, span) = key.number("2.0")?;
                    if m < 1.0 {
                        errors.push(key.error(
                            span,
                            format!("must be at least 1.0 (1.0 = constant delay), found {m}"),
                        ));
                    }
                    args.multiplier = Some(m);
                }
                "jitter" => {
                    let lit = key.string("\"full\"")?;
                    let name = lit.value();
                    let names: Vec<&str> = JITTERS.iter().map(|(n, _)| *n).collect();
                    match JITTERS.iter().find(|(n, _)| *n == name) {
                        Some((_, variant)) => args.jitter = Some(variant),
                        None => errors.push(syn::Error::new(
                            lit.span(),
                            unknown(&format!("jitter `{name}` in #[retry]"), &name, &names),
                        )),
                    }
                }
                "when" => args.when = Some(key.path("path::to::is_transient")?),
                "policy" => args.policy = Some(key.name("\"payments\"")?),
                // `parse_keys` passes only KEYS.
                _ => {}
            }
            Ok(())
        })?;
        if let (Some(base), Some(max)) = (args.base_delay, args.max_delay)
            && base > max
        {
            errors.push(syn::Error::new(
                base_span,
                format!("#[retry] `base_delay` ({base:?}) is longer than `max_delay` ({max:?})"),
            ));
        }
        errors.finish(args)
    }

    /// The expression building the call site's policy, given the operation's name in
    /// `operation`: the policy registered under `policy = "name"` or else under the operation's
    /// name (so a configuration file's `retry_policies:` entry of that name applies), or
    /// defaults, with the attribute's keys on top.
    pub(crate) fn policy_tokens(&self, operation: &Ident) -> TokenStream {
        let start = match &self.policy {
            Some(name) => quote!(::coord::__private::named_or_default(#name)),
            None => quote!(::coord::__private::named_or_default(#operation)),
        };
        let jitter = self.jitter.map(|variant| {
            let variant = Ident::new(variant, Span::call_site());
            quote!(::coord::__private::Jitter::#variant)
        });
        Setters::on(start)
            .set("max_retries", self.max_retries)
            .duration("base_delay", self.base_delay)
            .set("multiplier", self.multiplier)
            .duration("max_delay", self.max_delay)
            .set("jitter", jitter)
            .finish()
    }
}

/// What a retried function's signature must satisfy.
pub(crate) fn check_signature(sig: &Signature, errors: &mut Errors) {
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.ident.span(),
            "#[retry] needs a function returning `Result<T, E>`; this one returns `()`",
        ));
    }
    let mut unique_borrow = false;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => match &receiver.kind {
                syn::ReceiverKind::Reference(_, _, mutability) => {
                    unique_borrow |= mutability.is_some();
                }
                // `self: Arc<Self>` and friends: each attempt borrows it.
                syn::ReceiverKind::Typed(_, ty) => {
                    unique_borrow |= matches!(&**ty, Type::Reference(r) if r.mutability.is_some());
                }
                _ => errors.push(syn::Error::new_spanned(
                    receiver,
                    "#[retry] cannot take `self` by value: the body runs once per attempt; take `&self`, `&mut self` or `self: Arc<Self>`",
                )),
            },
            FnArg::Typed(arg) => {
                if let Type::Reference(reference) = &*arg.ty {
                    unique_borrow |= reference.mutability.is_some();
                    continue;
                }
                crate::compose::check_plain_by_value(&arg.pat, "retry", errors);
            }
        }
    }
    if unique_borrow
        && let ReturnType::Type(_, ty) = &sig.output
        && borrows(ty)
    {
        errors.push(syn::Error::new(
            ty.span(),
            "#[retry] cannot return a borrow when the function takes `&mut self` or a `&mut` parameter: each attempt reborrows it, so a result borrowed from it cannot outlive the attempt; return an owned value (or retry a helper and borrow afterwards)",
        ));
    }
}

/// Whether a type holds a reference or a lifetime other than `'static`.
fn borrows(ty: &Type) -> bool {
    fn scan(tokens: TokenStream) -> bool {
        let mut tokens = tokens.into_iter().peekable();
        while let Some(token) = tokens.next() {
            match token {
                proc_macro2::TokenTree::Punct(p) if p.as_char() == '&' => return true,
                proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'' => {
                    if let Some(proc_macro2::TokenTree::Ident(name)) = tokens.peek()
                        && name != "static"
                    {
                        return true;
                    }
                }
                proc_macro2::TokenTree::Group(g) if scan(g.stream()) => return true,
                _ => {}
            }
        }
        false
    }
    scan(quote!(#ty))
}
