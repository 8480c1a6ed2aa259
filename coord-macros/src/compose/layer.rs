//! The coord attributes that compose into one wrapper, and how the first one to expand
//! recognises its siblings on the same function.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Attribute, Path};

/// The coord attributes that compose into one wrapper, in their fixed nesting order
/// (outermost first). A new layer is a variant here, a module with its `parse`/`check`, a
/// step in `compose/steps.rs` (at its place in the order) and a layer type in the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    TrackPerformance,
    /// Sees the final error, after every other layer gave up.
    Fallback,
    /// `total` wraps the retries; a per-attempt limit sits innermost (in the runtime).
    Timeout,
    Retry,
    /// Inside the retry loop: a rejection must happen before the body runs and must not be
    /// retried.
    CircuitBreaker,
    RateLimit,
    Bulkhead,
}

impl Layer {
    pub(crate) const ALL: [Layer; 7] = [
        Layer::TrackPerformance,
        Layer::Fallback,
        Layer::Timeout,
        Layer::Retry,
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
