//! The coord attributes that compose into one wrapper, their order, and how the first one to
//! expand recognises its siblings on the same function. This is the one file of the composer
//! that names the layers: every other one reaches a layer through [`Layer`] and, for a gate
//! layer, through the [`Guard`] its own module returns.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Path, Signature};

use super::{needs_result, option};
use crate::common::Errors;

/// The coord attributes that compose into one wrapper, in their fixed nesting order
/// (outermost first); the runtime documents the same order (`coord`'s crate docs, "The order
/// of the layers"). A new gate layer is a variant here, its name, and its [`Guard`] check in
/// [`Layer::guard`]; its module (`coord-macros/src/<layer>.rs`) owns its keys, what it needs
/// of the signature and its emission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    TrackPerformance,
    /// Sees the final error, after every other layer gave up.
    Fallback,
    /// `total` wraps the retries; a per-attempt limit sits innermost (in the runtime).
    Timeout,
    Retry,
    /// Inside the retry loop (each attempt it makes is a race), outside the gates (each
    /// attempt of the race is admitted on its own).
    Hedge,
    /// Inside the retry loop: a rejection must happen before the body runs and must not be
    /// retried.
    CircuitBreaker,
    RateLimit,
    Bulkhead,
}

impl Layer {
    pub(crate) const ALL: [Layer; 8] = [
        Layer::TrackPerformance,
        Layer::Fallback,
        Layer::Timeout,
        Layer::Retry,
        Layer::Hedge,
        Layer::CircuitBreaker,
        Layer::RateLimit,
        Layer::Bulkhead,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Layer::TrackPerformance => "track_performance",
            Layer::Fallback => "fallback",
            Layer::Timeout => "timeout",
            Layer::Retry => "retry",
            Layer::Hedge => "hedge",
            Layer::CircuitBreaker => "circuit_breaker",
            Layer::RateLimit => "rate_limit",
            Layer::Bulkhead => "bulkhead",
        }
    }

    /// The layer a sibling attribute's path names. A macro cannot resolve imports, so the rule
    /// is by path: `coord::name` (or `::coord::name`) always, and a bare `name`, which in a
    /// scope can only be one item (coord's, if coord's attributes are imported). Another
    /// crate's attribute of the same name is left alone when written with its own path
    /// (`#[other::retry]`).
    pub(crate) fn of_path(path: &Path) -> Option<Layer> {
        let segments: Vec<_> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let name = match segments.as_slice() {
            [name] if path.leading_colon.is_none() => name,
            [krate, name] if krate == "coord" => name,
            _ => return None,
        };
        Layer::ALL.into_iter().find(|layer| layer.name() == name)
    }

    /// The check of a gate layer: one that admits or rejects each attempt through its own
    /// `static` site, between the breaker and a per-attempt time limit. `None` for the layers
    /// the composer knows by role (timing, recovery, time limits, retries, the breaker, which
    /// share the call site's `Site`).
    pub(crate) fn guard(self) -> Option<CheckGuard> {
        match self {
            Layer::RateLimit => Some(check_gate::<crate::rate_limit::RateLimitArgs>),
            Layer::Bulkhead => Some(check_gate::<crate::bulkhead::BulkheadArgs>),
            _ => None,
        }
    }
}

/// A gate layer's check: its attribute's arguments and what it needs of the signature, each
/// error pushed to `errors`; the checked layer, if its arguments parse.
pub(crate) type CheckGuard = fn(TokenStream, &Signature, &mut Errors) -> Option<Box<dyn Guard>>;

/// What a gate layer's module emits: its call site's `static` and its gate on the stack.
pub(crate) trait Guard {
    /// The `static` the gate reads, emitted once at the top of the wrapper (under a
    /// mixed-site name, invisible to the body).
    fn site(&self) -> TokenStream;

    /// The gate: the argument of `.gate(...)`, spanned at `at` (the layer's attribute), so that
    /// an unmet bound on the return type points there. `operation` is a closure giving the
    /// function's operation name, the layer's name unless its attribute gives its own (see
    /// `names.rs`), called on the first call only.
    fn gate(&self, at: Span, operation: &TokenStream) -> TokenStream;
}

/// The runtime names of a gate layer that resolves its own call site in its registry
/// (`LayerSite<Layer>`) and admits through `Gate::new(layer)`, and what its functions must be
/// able to return.
pub(crate) struct GateKind {
    /// The attribute, for messages.
    pub(crate) attribute: &'static str,
    /// The rejection the function's error type must convert from.
    pub(crate) rejection: &'static str,
    /// The mixed-site name of the call site's `static`.
    pub(crate) site: &'static str,
    /// The layer type and the gate type under `::coord::__private`.
    pub(crate) layer: &'static str,
    pub(crate) gate: &'static str,
}

/// A checked gate layer of a [`GateKind`]: its own `name`, if given, and the expression
/// building its configuration.
pub(crate) struct GateSite {
    kind: &'static GateKind,
    name: Option<LitStr>,
    config: TokenStream,
}

/// The checked arguments of a gate layer's attribute.
pub(crate) trait GateArgs: Sized {
    /// The layer's runtime names.
    const KIND: GateKind;
    /// Parses and checks the attribute's arguments.
    fn parse(args: TokenStream) -> syn::Result<Self>;
    /// The layer's own `name = "..."`, if given.
    fn name(&self) -> Option<LitStr>;
    /// The expression building the call site's configuration.
    fn config(&self) -> TokenStream;
}

/// Checks a gate layer's attribute on a function: a `Result` return and its arguments.
fn check_gate<A: GateArgs>(
    args: TokenStream,
    sig: &Signature,
    errors: &mut Errors,
) -> Option<Box<dyn Guard>> {
    needs_result(sig, A::KIND.attribute, A::KIND.rejection, errors);
    let args = errors.take(A::parse(args))?;
    Some(Box::new(GateSite {
        kind: &A::KIND,
        name: args.name(),
        config: args.config(),
    }))
}

impl GateKind {
    fn idents(&self) -> (Ident, Ident, Ident) {
        let mixed = |name| Ident::new(name, Span::mixed_site());
        let call = |name| Ident::new(name, Span::call_site());
        (mixed(self.site), call(self.layer), call(self.gate))
    }
}

impl Guard for GateSite {
    fn site(&self) -> TokenStream {
        let (site, layer, _) = self.kind.idents();
        let name = option(self.name.as_ref());
        let config = &self.config;
        quote! {
            static #site: ::coord::__private::LayerSite<::coord::__private::#layer> =
                ::coord::__private::LayerSite::<::coord::__private::#layer>::configured(
                    #name,
                    || #config,
                );
        }
    }

    fn gate(&self, at: Span, operation: &TokenStream) -> TokenStream {
        let (site, _, gate) = self.kind.idents();
        quote_spanned!(at=> ::coord::__private::#gate::new(#site.get(#operation)))
    }
}

/// One coord attribute found on the item, with the tokens inside its parentheses.
pub(crate) struct LayerAttr {
    pub(crate) layer: Layer,
    pub(crate) args: TokenStream,
    pub(crate) span: Span,
}

impl LayerAttr {
    /// Reads a sibling attribute (`#[retry(...)]`, `#[retry]`); `name = value` forms are errors.
    pub(crate) fn from_attribute(layer: Layer, attr: &Attribute) -> syn::Result<Self> {
        let args = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(nv) => {
                return Err(syn::Error::new_spanned(
                    nv,
                    format!("expected `#[{0}]` or `#[{0}(...)]`", layer.name()),
                ));
            }
        };
        Ok(Self {
            layer,
            args,
            span: attr.meta.path().span(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn paths_name_layers() {
        let layer = |path: TokenStream| Layer::of_path(&syn::parse2::<syn::Path>(path).unwrap());
        assert_eq!(layer(quote!(retry)), Some(Layer::Retry));
        assert_eq!(layer(quote!(coord::retry)), Some(Layer::Retry));
        assert_eq!(layer(quote!(::coord::retry)), Some(Layer::Retry));
        assert_eq!(layer(quote!(other::retry)), None);
        assert_eq!(layer(quote!(::retry)), None);
    }
}
