//! One wrapper per function. Whichever coord attribute expands first collects the others on
//! the same item, then: [`parse`] (the item and the raw arguments) → [`check`] (a [`Checked`]
//! model: arguments and signature) → [`expand`] (pure; each layer appends its step to the
//! runtime `Pipeline` the body is handed to). The order of the layers lives in the runtime:
//! `track_performance` → `fallback` → `timeout(total)` → `retry` → `circuit_breaker` →
//! `rate_limit` → `bulkhead` → `timeout(attempt)` → body.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Block, FnArg, Ident, ItemFn, Pat, ReturnType, Signature, Type};

use crate::bulkhead::BulkheadArgs;
use crate::circuit_breaker::Breaker;
use crate::common::{Errors, Layer, LayerAttr, default_name, duration_tokens, return_span};
use crate::fallback::FallbackArgs;
use crate::rate_limit::RateLimitArgs;
use crate::retry::Retry;
use crate::timeout::Timeout;
use crate::track_performance::Perf;

/// Entry point of every composing attribute macro.
pub(crate) fn expand(first: Layer, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match parse(first, item.clone()) {
        Ok(Some(function)) => function,
        // The body does not parse: rustc reports that error on the untouched item, and only it.
        Ok(None) => return item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut function = function;
    let layers = match collect(first, args, &mut function) {
        Ok(layers) => layers,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #function);
        }
    };
    match check(&layers, function.clone()) {
        Ok(checked) => expand_checked(checked),
        // The error and the item without its coord attributes, so the caller sees these
        // errors once, and no cascade of "function not found".
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #function)
        }
    }
}

/// The item as a function; `None` when it is one whose body does not parse.
fn parse(first: Layer, item: TokenStream) -> syn::Result<Option<ItemFn>> {
    let error = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => return Ok(Some(function)),
        Err(error) => error,
    };
    match syn::parse2::<FnShell>(item) {
        Ok(FnShell { body: true, .. }) => Ok(None),
        Ok(FnShell { sig, .. }) => Err(syn::Error::new(
            sig.span(),
            format!(
                "#[{}] needs a function with a body; a declaration without one (`fn f();`) has nothing to wrap",
                first.name()
            ),
        )),
        Err(_) => Err(syn::Error::new(
            error.span(),
            format!(
                "#[{}] can only be applied to a function with a body",
                first.name()
            ),
        )),
    }
}

/// A function whose body is left unparsed.
struct FnShell {
    sig: Signature,
    body: bool,
}

impl Parse for FnShell {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.call(Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        let sig: Signature = input.parse()?;
        let body = if input.peek(syn::token::Brace) {
            input.parse::<proc_macro2::Group>()?;
            true
        } else {
            input.parse::<syn::Token![;]>()?;
            false
        };
        Ok(Self { sig, body })
    }
}

/// The coord attributes of the item, the first one included, taken off the function.
fn collect(first: Layer, args: TokenStream, function: &mut ItemFn) -> syn::Result<Vec<LayerAttr>> {
    let mut layers = vec![LayerAttr {
        layer: first,
        args,
        span: Span::call_site(),
    }];
    let mut errors = Errors::default();
    let mut kept = Vec::with_capacity(function.attrs.len());
    for attr in std::mem::take(&mut function.attrs) {
        match Layer::of_path(attr.path()) {
            Some(layer) => {
                if let Some(found) = errors.take(LayerAttr::from_attribute(layer, &attr)) {
                    layers.push(found);
                }
                // The sibling never expands, so its import would be reported unused; naming
                // its path once in the body (with the user's span) marks it used.
                let path = attr.path();
                function.block.stmts.insert(
                    0,
                    syn::parse_quote!(#[allow(unused_imports)] use #path as _;),
                );
            }
            None => kept.push(attr),
        }
    }
    function.attrs = kept;
    errors.finish(layers)
}

/// Everything the expansion needs, checked.
struct Checked {
    function: ItemFn,
    perf: Option<Perf>,
    retry: Option<Retry>,
    breaker: Option<Breaker>,
    timeout: Option<Timeout>,
    bulkhead: Option<BulkheadArgs>,
    rate_limit: Option<RateLimitArgs>,
    fallback: Option<FallbackArgs>,
}

fn check(layers: &[LayerAttr], function: ItemFn) -> syn::Result<Checked> {
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
        breaker: None,
        timeout: None,
        bulkhead: None,
        rate_limit: None,
        fallback: None,
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
            Layer::Bulkhead => {
                needs_result(sig, "bulkhead", "coord::BulkheadFull", &mut errors);
                checked.bulkhead = errors.take(BulkheadArgs::parse(attr.args.clone()));
            }
            Layer::RateLimit => {
                needs_result(sig, "rate_limit", "coord::RateLimited", &mut errors);
                checked.rate_limit = errors.take(RateLimitArgs::parse(attr.args.clone()));
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
        }
    }
    if timeout_ok && (timeout.attempt.is_some() || timeout.total.is_some()) {
        checked.timeout = Some(timeout);
    }
    errors.finish(checked)
}

/// A layer that turns its own error into `E` needs a function returning `Result<T, E>`.
fn needs_result(sig: &Signature, layer: &str, error: &str, errors: &mut Errors) {
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!("#[{layer}] needs a function returning `Result<T, E>` where `E: From<{error}>`; this one returns `()`"),
        ));
    }
}

/// The hygienic identifiers of the generated code: invisible to the user's body.
struct Idents {
    site: Ident,
    site_ref: Ident,
    ret: Ident,
    out: Ident,
    describe: Ident,
    bulkhead: Ident,
    rate_limit: Ident,
    timeouts: Ident,
}

impl Idents {
    fn new() -> Self {
        let mixed = Span::mixed_site();
        Self {
            site: Ident::new("__COORD", mixed),
            site_ref: Ident::new("__coord_site", mixed),
            ret: Ident::new("__coord_ret", mixed),
            out: Ident::new("__coord_out", mixed),
            describe: Ident::new("__coord_error_type", mixed),
            bulkhead: Ident::new("__COORD_BULKHEAD", mixed),
            rate_limit: Ident::new("__COORD_RATE_LIMIT", mixed),
            timeouts: Ident::new("__COORD_TIMEOUTS", mixed),
        }
    }
}

fn expand_checked(checked: Checked) -> TokenStream {
    let ids = Idents::new();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = &checked.function;
    let (inner, outer): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let site = site(&checked, sig, &ids);
    let params = Params::of(sig, checked.retry.is_some());
    let rebinds = params.rebinds();
    let mut pipeline = body(&checked, sig, block, &params, &ids);
    if checked.perf.is_some() {
        pipeline = track(pipeline, &ids);
    }
    if let Some(retry) = &checked.retry {
        pipeline = retry_layer(pipeline, retry, sig, &ids);
    }
    if let Some(breaker) = &checked.breaker {
        pipeline = breaker_layer(pipeline, breaker, sig, &ids);
    }
    let guards = guards(&checked, &ids);
    pipeline = guard_layers(pipeline, &checked, sig, &ids);
    let pipeline = run(pipeline, &checked, sig);
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #site
            #guards
            #(#rebinds)*
            #pipeline
        }
    }
}

/// The `static`s of the layers `Site` does not hold: bulkhead, rate limiter, time-out counter.
fn guards(checked: &Checked, ids: &Idents) -> TokenStream {
    let some = |name: Option<&syn::LitStr>| match name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let mut statics = TokenStream::new();
    if let Some(bulkhead) = &checked.bulkhead {
        let static_name = &ids.bulkhead;
        let name = some(bulkhead.name.as_ref());
        let config = bulkhead.config_tokens();
        statics.extend(quote! {
            static #static_name: ::coord::__private::BulkheadSite =
                ::coord::__private::BulkheadSite::new(#name, || #config);
        });
    }
    if let Some(rate_limit) = &checked.rate_limit {
        let static_name = &ids.rate_limit;
        let name = some(rate_limit.name.as_ref());
        let config = rate_limit.config_tokens();
        statics.extend(quote! {
            static #static_name: ::coord::__private::RateLimitSite =
                ::coord::__private::RateLimitSite::new(#name, || #config);
        });
    }
    if checked.timeout.is_some() {
        let static_name = &ids.timeouts;
        let name = some(checked.perf.as_ref().and_then(|perf| perf.name.as_ref()));
        statics.extend(quote! {
            static #static_name: ::coord::__private::TimeoutSite =
                ::coord::__private::TimeoutSite::new(#name);
        });
    }
    statics
}

/// The function's default name, on the first call of a layer: `module::function`, or
/// `module::Type::method` for a method.
fn default_name_closure(sig: &Signature) -> TokenStream {
    if sig.receiver().is_some() {
        let function = sig.ident.to_string();
        quote!(|| ::coord::__private::leaked_method_name(
            ::core::module_path!(),
            ::core::any::type_name::<Self>(),
            #function,
        ))
    } else {
        let name = default_name(&sig.ident);
        quote!(|| #name)
    }
}

/// fallback, timeout (total and per attempt), rate_limit, bulkhead: each appends its slot;
/// the runtime nests them in the documented order whatever the order of these calls.
fn guard_layers(
    mut pipeline: TokenStream,
    checked: &Checked,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    let span = return_span(sig);
    let default = default_name_closure(sig);
    if let Some(fallback) = &checked.fallback {
        let path = &fallback.path;
        pipeline = if sig.asyncness.is_some() {
            let method = Ident::new("fallback_async", span);
            let slot = quote_spanned! {path.span()=>
                {
                    #[allow(unused_imports)]
                    use ::coord::__private::{PickAsync as _, PickSync as _};
                    ::coord::__private::Pick(#path).pick()
                }
            };
            quote!(#pipeline.#method(#slot))
        } else {
            let method = Ident::new("fallback", span);
            let path = quote_spanned!(path.span()=> #path);
            quote!(#pipeline.#method(#path))
        };
    }
    if let Some(timeout) = &checked.timeout {
        let count = &ids.timeouts;
        let count = quote!(::core::option::Option::Some(#count.get(#default)));
        if let Some((total, _)) = timeout.total {
            let total = duration_tokens(total);
            let method = Ident::new("total_timeout", span);
            pipeline = quote!(#pipeline.#method(#total, #count));
        }
        if let Some((attempt, _)) = timeout.attempt {
            let attempt = duration_tokens(attempt);
            let method = Ident::new("attempt_timeout", span);
            pipeline = quote!(#pipeline.#method(#attempt, #count));
        }
    }
    if checked.rate_limit.is_some() {
        let site = &ids.rate_limit;
        let method = Ident::new("rate_limit", span);
        pipeline = quote!(#pipeline.#method(#site.get(#default)));
    }
    if checked.bulkhead.is_some() {
        let site = &ids.bulkhead;
        let method = Ident::new("bulkhead", span);
        pipeline = quote!(#pipeline.#method(#site.get(#default)));
    }
    pipeline
}

/// The call site's `static` and a reference to it, `__coord_site`.
fn site(checked: &Checked, sig: &Signature, ids: &Idents) -> TokenStream {
    let Idents { site, site_ref, .. } = ids;
    let operation = checked
        .perf
        .as_ref()
        .and_then(|perf| perf.name.as_ref())
        .map(ToTokens::to_token_stream);
    let breaker = checked
        .breaker
        .as_ref()
        .and_then(|breaker| breaker.name.as_ref())
        .map(ToTokens::to_token_stream);
    let policy = match &checked.retry {
        Some(retry) => {
            let policy = retry.policy_tokens();
            quote!(|| #policy)
        }
        None => quote!(<::coord::__private::RetryPolicy as ::core::default::Default>::default),
    };
    let config = match &checked.breaker {
        Some(breaker) => {
            let config = breaker.config_tokens();
            quote!(|| #config)
        }
        None => quote!(<::coord::__private::BreakerConfig as ::core::default::Default>::default),
    };
    if sig.receiver().is_some() {
        let function = sig.ident.to_string();
        let some = |name: Option<TokenStream>| match name {
            Some(name) => quote!(::core::option::Option::Some(#name)),
            None => quote!(::core::option::Option::None),
        };
        let (operation, breaker) = (some(operation), some(breaker));
        let self_type = quote!(::core::any::type_name::<Self>);
        quote! {
            static #site: ::coord::__private::MethodSite = ::coord::__private::MethodSite::new(
                ::core::module_path!(), #function, #operation, #breaker, #policy, #config,
            );
            let #site_ref = #site.get(#self_type);
        }
    } else {
        let default = default_name(&sig.ident);
        let operation = operation.unwrap_or_else(|| default.clone());
        let breaker = breaker.unwrap_or(default);
        quote! {
            static #site: ::coord::__private::Site =
                ::coord::__private::Site::new(#operation, #breaker, #policy, #config);
            let #site_ref = &#site;
        }
    }
}

/// The by-value parameters a retried body copies per attempt, and the `&mut` ones an async
/// attempt must borrow uniquely (so that it is `Send` whenever the function was).
struct Params {
    /// `(name, declared mut)` of by-value parameters.
    by_value: Vec<(Ident, bool, Span)>,
    /// Parameters (and `self`) of type `&mut T`.
    unique: Vec<TokenStream>,
}

impl Params {
    fn of(sig: &Signature, retried: bool) -> Self {
        let mut params = Self {
            by_value: Vec::new(),
            unique: Vec::new(),
        };
        if !retried {
            return params;
        }
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    let unique = match &receiver.kind {
                        syn::ReceiverKind::Reference(_, _, mutability) => mutability.is_some(),
                        syn::ReceiverKind::Typed(_, ty) => {
                            matches!(&**ty, Type::Reference(r) if r.mutability.is_some())
                        }
                        _ => false,
                    };
                    if unique {
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
    fn rebinds(&self) -> Vec<TokenStream> {
        self.by_value
            .iter()
            .filter(|(_, declared_mut, _)| !declared_mut)
            .map(|(ident, _, _)| quote!(let mut #ident = #ident;))
            .collect()
    }

    /// The first statements of each attempt.
    fn per_attempt(&self) -> Vec<TokenStream> {
        let mut statements: Vec<TokenStream> = self
            .by_value
            .iter()
            .map(|(ident, declared_mut, span)| {
                let mutability = declared_mut.then(|| quote!(mut));
                let marker = format_ident!("{}", ident, span = *span);
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

/// `Pipeline::<constructor>(the body)`: once or per attempt, sync or async.
fn body(
    checked: &Checked,
    sig: &Signature,
    block: &Block,
    params: &Params,
    ids: &Idents,
) -> TokenStream {
    let ret = &ids.ret;
    let ret_ty = binding_type(&sig.output);
    let evaluated = quote! {
        let #ret: #ret_ty = #block;
        #[allow(unreachable_code)]
        #ret
    };
    let per_attempt = params.per_attempt();
    let pipeline = quote!(::coord::__private::Pipeline);
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, false) => quote!(#pipeline::once(move || { #evaluated })),
        (true, false) => quote!(#pipeline::future(async move { #evaluated })),
        (false, true) => quote!(#pipeline::attempts(|| { #(#per_attempt)* #evaluated })),
        (true, true) => {
            quote!(#pipeline::async_attempts(async move || { #(#per_attempt)* #evaluated }))
        }
    }
}

/// track_performance: times the whole call; a `Result::Err` or a panic is a failure.
fn track(inner: TokenStream, ids: &Idents) -> TokenStream {
    let Idents { site_ref, out, .. } = ids;
    quote! {
        #inner.track(&#site_ref.perf, |#out| {
            #[allow(unused_imports)]
            use ::coord::__private::{AnyOutcome as _, ResultOutcome as _};
            (&::coord::__private::Probe(#out)).is_failure()
        })
    }
}

/// retry: attempts until success, a permanent error (`when` false, a breaker's rejection) or
/// the policy gives up.
fn retry_layer(inner: TokenStream, retry: &Retry, sig: &Signature, ids: &Idents) -> TokenStream {
    let Idents {
        site_ref, describe, ..
    } = ids;
    // Spanned at the user's path, so a wrong signature is reported there.
    let when = match &retry.when {
        Some(when) => quote_spanned!(when.span()=> &#when),
        None => quote!(&::coord::__private::always),
    };
    let method = Ident::new("retry", return_span(sig));
    quote! {
        #inner.#method(&#site_ref.retry, #when, |#describe| {
            #[allow(unused_imports)]
            use ::coord::__private::{DescribeAny as _, DescribeDebug as _, DescribeDisplay as _};
            (&&&#describe).describer()
        })
    }
}

/// circuit_breaker: one permit per attempt; a rejection is returned as `E::from(CircuitOpen)`.
/// With `key = expr`: the breaker of that key value in the group `name`.
fn breaker_layer(
    inner: TokenStream,
    breaker: &Breaker,
    sig: &Signature,
    ids: &Idents,
) -> TokenStream {
    let site_ref = &ids.site_ref;
    let method = Ident::new("breaker", return_span(sig));
    match (&breaker.key, &breaker.name) {
        (Some(key), Some(name)) => {
            let config = breaker.config_tokens();
            let keyed = Ident::new("__COORD_KEYED", Span::mixed_site());
            let get = quote_spanned!(key.span()=> #keyed.get(&(#key)));
            quote!(#inner.#method(&*{
                static #keyed: ::coord::breaker::KeyedSite =
                    ::coord::breaker::KeyedSite::new(#name, || #config);
                #get
            }))
        }
        _ => quote!(#inner.#method(#site_ref.breaker.breaker())),
    }
}

/// The driver call; type errors about the return value point at the return type.
fn run(pipeline: TokenStream, checked: &Checked, sig: &Signature) -> TokenStream {
    let span = return_span(sig);
    match (sig.asyncness.is_some(), checked.retry.is_some()) {
        (false, _) => {
            let run = Ident::new("run", span);
            quote!(#pipeline.#run())
        }
        (true, false) => {
            let run = Ident::new("run_future", span);
            quote!(#pipeline.#run().await)
        }
        // Expanded in place, so that the future is `Send` whenever the body's is (see
        // `coord::__private::drive_async`).
        (true, true) => quote!(::coord::__private::drive_async!(#pipeline)),
    }
}

/// The return type as written in a `let` binding: `impl Trait` becomes `_` (it cannot be named),
/// `()` when there is none.
fn binding_type(output: &ReturnType) -> TokenStream {
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
