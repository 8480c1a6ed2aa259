//! One wrapper per function: whichever coord attribute expands first collects the others on the
//! same item and emits one composed body, outermost layer first:
//! `track_performance` → `retry` → `circuit_breaker` → body.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{ItemFn, ReturnType, Type};

use crate::circuit_breaker::BreakerArgs;
use crate::common::{Layer, LayerAttr};
use crate::retry::RetryArgs;
use crate::track_performance::PerfArgs;

/// Entry point of every composing attribute macro.
pub(crate) fn expand(first: Layer, args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(first, args, item.clone()) {
        Ok(tokens) => tokens,
        // The error plus the untouched item, so the caller sees one error instead of a cascade
        // of "function not found" errors.
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(first: Layer, args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut function: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "#[{}] can only be applied to a function with a body",
                first.name()
            ),
        )
    })?;
    let mut layers = vec![LayerAttr {
        layer: first,
        args,
        span: proc_macro2::Span::call_site(),
    }];
    let mut kept = Vec::with_capacity(function.attrs.len());
    let mut sibling_paths = Vec::new();
    for attr in std::mem::take(&mut function.attrs) {
        match Layer::of_path(attr.path()) {
            Some(layer) => {
                layers.push(LayerAttr::from_attribute(layer, &attr)?);
                sibling_paths.push(attr.path().clone());
            }
            None => kept.push(attr),
        }
    }
    function.attrs = kept;
    let composed = Composed::check(&layers, &function)?;
    // ---- sibling attributes count as used ----
    // The attributes collected here never expand, so their `use coord::{...}` imports would be
    // reported unused; naming each path once in the body (with the user's spans) marks it used.
    for path in sibling_paths.iter().rev() {
        function.block.stmts.insert(
            0,
            syn::parse_quote!(#[allow(unused_imports)] use #path as _;),
        );
    }
    Ok(composed.emit(function))
}

/// The checked set of layers on one function.
struct Composed {
    perf: Option<PerfArgs>,
    retry: Option<RetryArgs>,
    breaker: Option<BreakerArgs>,
}

impl Composed {
    fn check(layers: &[LayerAttr], function: &ItemFn) -> syn::Result<Self> {
        let mut errors: Option<syn::Error> = None;
        let mut push = |e: syn::Error| match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        };
        if let Some(constness) = &function.sig.constness {
            push(syn::Error::new_spanned(
                constness,
                format!(
                    "#[{}] cannot wrap a `const fn`: timing and retries need run-time calls",
                    layers[0].layer.name()
                ),
            ));
        }
        let mut composed = Composed {
            perf: None,
            retry: None,
            breaker: None,
        };
        for (index, attr) in layers.iter().enumerate() {
            if layers[..index]
                .iter()
                .any(|earlier| earlier.layer == attr.layer)
            {
                push(syn::Error::new(
                    attr.span,
                    format!("duplicate #[{}] on one function", attr.layer.name()),
                ));
                continue;
            }
            match attr.layer {
                Layer::TrackPerformance => match PerfArgs::parse(attr.args.clone()) {
                    Ok(args) => composed.perf = Some(args),
                    Err(e) => push(e),
                },
                Layer::Retry => {
                    match RetryArgs::parse(attr.args.clone()) {
                        Ok(args) => composed.retry = Some(args),
                        Err(e) => push(e),
                    }
                    if let Err(e) = crate::retry::check_signature(&function.sig) {
                        push(e);
                    }
                }
                // ---- circuit_breaker ----
                Layer::CircuitBreaker => {
                    if let ReturnType::Default = function.sig.output {
                        push(syn::Error::new(
                            attr.span,
                            "#[circuit_breaker] needs a function returning `Result<T, E>` where `E: From<coord::CircuitOpen>`",
                        ));
                    }
                    match BreakerArgs::parse(attr.args.clone()) {
                        Ok(args) => composed.breaker = Some(args),
                        Err(e) => push(e),
                    }
                }
            }
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(composed),
        }
    }

    fn emit(self, function: ItemFn) -> TokenStream {
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
            ..
        } = function;
        let (inner, outer): (Vec<_>, Vec<_>) = attrs
            .into_iter()
            .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
        let is_async = sig.asyncness.is_some();
        let ret_ty = binding_type(&sig.output);
        // The original body, evaluated once: `return` and `?` inside it leave only this block.
        let body = if is_async {
            quote!(async move {
                let __coord_ret: #ret_ty = #block;
                #[allow(unreachable_code)]
                __coord_ret
            }.await)
        } else {
            // `call_once` makes the closure `FnOnce`, so a `&mut self` reborrow may escape it.
            quote!(::coord::__private::call_once(move || {
                let __coord_ret: #ret_ty = #block;
                #[allow(unreachable_code)]
                __coord_ret
            }))
        };
        // retry → body: the attempt loop evaluates the original block once per attempt.
        let body = match &self.retry {
            Some(retry) => {
                let operation = match &self.perf {
                    Some(perf) => perf.name_expr(&sig.ident),
                    None => PerfArgs { name: None }.name_expr(&sig.ident),
                };
                // The breaker sits inside the loop: one permit per attempt.
                retry.emit_loop(&sig, &block, &ret_ty, &operation, self.breaker.as_ref())
            }
            // Innermost: rejects before the body runs.
            None => match &self.breaker {
                Some(breaker) => breaker.wrap(&sig, body),
                None => body,
            },
        };
        let body = match &self.perf {
            Some(perf) => {
                let name = perf.name_expr(&sig.ident);
                quote_spanned! {proc_macro2::Span::mixed_site()=>
                    static __COORD_OPERATION: ::coord::__private::OperationSite =
                        ::coord::__private::OperationSite::new(#name);
                    let __coord_call = __COORD_OPERATION.start();
                    let __coord_ret = #body;
                    {
                        #[allow(unused_imports)]
                        use ::coord::__private::{AnyOutcome as _, ResultOutcome as _};
                        __coord_call.finish((&::coord::__private::Probe(&__coord_ret)).is_failure());
                    }
                    __coord_ret
                }
            }
            None => body,
        };
        quote! {
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #[allow(clippy::redundant_closure_call)]
                { #body }
            }
        }
    }
}

/// The return type as written in a `let` binding: `impl Trait` becomes `_` (it cannot be named),
/// `()` when there is none.
fn binding_type(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            EraseImplTrait.visit_type_mut(&mut ty);
            quote!(#ty)
        }
    }
}

struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: syn::Token![_](syn::spanned::Spanned::span(impl_trait)),
            });
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
