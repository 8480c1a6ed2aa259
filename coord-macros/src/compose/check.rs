//! The checked model of one wrapper: each layer's arguments parsed by its own module, what
//! each layer needs of the signature, and one attribute of a kind per function (two
//! `#[timeout]`s may each give one kind of limit).

use proc_macro2::Span;
use syn::{ItemFn, ReturnType, Signature, Type};

use super::layer::{Guard, Layer, LayerAttr};
use crate::circuit_breaker::Breaker;
use crate::common::Errors;
use crate::fallback::FallbackArgs;
use crate::hedge::HedgeArgs;
use crate::retry::Retry;
use crate::timeout::Timeout;
use crate::track_performance::Perf;

/// Everything the expansion needs, checked.
pub(super) struct Checked {
    pub(super) function: ItemFn,
    pub(super) perf: Option<Perf>,
    pub(super) retry: Option<Retry>,
    pub(super) hedge: Option<HedgeArgs>,
    pub(super) breaker: Option<Breaker>,
    pub(super) timeout: Option<Timeout>,
    /// The gate layers, in the order of the stack (outermost first).
    pub(super) guards: Vec<(Layer, Box<dyn Guard>)>,
    pub(super) fallback: Option<FallbackArgs>,
    /// Where each layer's attribute is (the first one: the whole attribute being expanded).
    spans: Vec<(Layer, Span)>,
}

impl Checked {
    /// The span of `layer`'s attribute, so that an error about what that layer needs of the
    /// signature points there (the expanding attribute's when it is not found).
    pub(super) fn span(&self, layer: Layer) -> Span {
        self.spans
            .iter()
            .find(|(l, _)| *l == layer)
            .map_or_else(Span::call_site, |(_, span)| *span)
    }
}

pub(super) fn check(layers: &[LayerAttr], function: ItemFn) -> syn::Result<Checked> {
    let mut errors = Errors::default();
    let first = layers[0].layer.name();
    let sig = &function.sig;
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("#[{first}] cannot wrap a `const fn`: timing and retries need run-time calls"),
        ));
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && matches!(**ty, Type::Never(_))
    {
        errors.push(syn::Error::new_spanned(
            ty,
            format!("#[{first}] cannot wrap a function returning `!`: it never returns, so there is no outcome to record"),
        ));
    }
    let mut checked = Checked {
        function: function.clone(),
        perf: None,
        retry: None,
        hedge: None,
        breaker: None,
        timeout: None,
        guards: Vec::new(),
        fallback: None,
        spans: layers.iter().map(|attr| (attr.layer, attr.span)).collect(),
    };
    let mut timeout = Timeout::default();
    let mut timeout_ok = true;
    for (index, attr) in layers.iter().enumerate() {
        // Two `#[timeout]`s may each give one kind of limit.
        if attr.layer != Layer::Timeout
            && layers[..index]
                .iter()
                .any(|earlier| earlier.layer == attr.layer)
        {
            errors.push(syn::Error::new(
                attr.span,
                format!("duplicate #[{}] on one function", attr.layer.name()),
            ));
            continue;
        }
        match attr.layer {
            Layer::TrackPerformance => checked.perf = errors.take(Perf::parse(attr.args.clone())),
            Layer::Retry => {
                checked.retry = errors.take(Retry::parse(attr.args.clone()));
                crate::retry::check_signature(sig, &mut errors);
            }
            Layer::Hedge => {
                crate::hedge::check_signature(sig, attr.span, &mut errors);
                checked.hedge = errors.take(HedgeArgs::parse(attr.args.clone()));
            }
            Layer::CircuitBreaker => {
                if let ReturnType::Default = sig.output {
                    errors.push(syn::Error::new(
                        sig.ident.span(),
                        "#[circuit_breaker] needs a function returning `Result<T, E>` where `E: From<coord::CircuitOpen>`; this one returns `()`",
                    ));
                }
                checked.breaker = errors.take(Breaker::parse(attr.args.clone()));
            }
            Layer::Timeout => {
                if index
                    == layers
                        .iter()
                        .position(|l| l.layer == Layer::Timeout)
                        .unwrap_or(index)
                {
                    if sig.asyncness.is_none() {
                        errors.push(syn::Error::new(
                            attr.span,
                            "#[timeout] needs an `async fn`: a running thread cannot be interrupted, so a synchronous call cannot be given up when its time is over (the work would go on, unseen); make the function `async`, or bound the blocking call with its own timeout (a socket's read timeout, a query timeout)",
                        ));
                    }
                    needs_result(sig, "timeout", "coord::TimedOut", &mut errors);
                }
                timeout_ok &= errors
                    .take(timeout.parse_into(attr.args.clone(), attr.span))
                    .is_some();
            }
            Layer::Fallback => {
                if let ReturnType::Default = sig.output {
                    errors.push(syn::Error::new(
                        sig.ident.span(),
                        "#[fallback] needs a function returning `Result<T, E>`: the fallback recovers from its error; this one returns `()`",
                    ));
                }
                checked.fallback = errors.take(FallbackArgs::parse(attr.args.clone(), attr.span));
            }
            gate => {
                let guard = gate
                    .guard()
                    .and_then(|check| check(attr.args.clone(), sig, &mut errors));
                checked.guards.extend(guard.map(|guard| (gate, guard)));
            }
        }
    }
    checked.guards.sort_by_key(|(layer, _)| *layer);
    if timeout_ok && (timeout.attempt.is_some() || timeout.total.is_some()) {
        checked.timeout = Some(timeout);
    }
    errors.finish(checked)
}

/// A layer that turns its own error into `E` needs a function returning `Result<T, E>`.
pub(crate) fn needs_result(sig: &Signature, layer: &str, error: &str, errors: &mut Errors) {
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!("#[{layer}] needs a function returning `Result<T, E>` where `E: From<{error}>`; this one returns `()`"),
        ));
    }
}
