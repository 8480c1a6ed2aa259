//! Code generation from the checked model. Cannot fail.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Index, LitStr};

use super::ast::Style;
use super::model::{CField, CFields, CRule, CShape, Checked, Segment};

/// `Some(value)` or `None`, through `coord::__private`.
fn opt(value: Option<impl ToTokens>) -> TokenStream {
    match value {
        Some(value) => quote!(::coord::__private::Some(#value)),
        None => quote!(::coord::__private::None),
    }
}

pub(crate) fn expand(input: &Checked<'_>) -> TokenStream {
    let ident = input.ident;
    let type_name = LitStr::new(&ident.to_string(), ident.span());
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause.cloned().unwrap_or_else(|| syn::WhereClause {
        where_token: Default::default(),
        predicates: Default::default(),
    });
    for (ty, generic) in &input.nested {
        if *generic {
            where_clause
                .predicates
                .push(syn::parse_quote!(#ty: ::coord::__private::Validate));
        }
    }
    let nested_register = input
        .nested
        .iter()
        .map(|(ty, _)| quote!(<#ty as ::coord::__private::Validate>::__coord_register();));
    let body = match &input.shape {
        CShape::Struct(fields) => {
            let pat = pattern(quote!(Self), fields);
            let checks = fields_code(fields);
            quote!(match self { #pat => { #checks } })
        }
        CShape::Enum(variants) => {
            let arms = variants.iter().map(|(v, fields)| {
                let pat = pattern(quote!(Self::#v), fields);
                let checks = fields_code(fields);
                quote!(#pat => { #checks })
            });
            quote!(match self { #(#arms)* })
        }
    };
    let schemas = input.schemas.iter().map(|path| {
        quote! {
            ::coord::__private::custom(__coord_checks, __coord_path, #path(self), ::coord::__private::None);
        }
    });
    let rule_set = rule_set_builder(input);
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::coord::__private::Validate for #ident #ty_generics #where_clause {
                fn validate(&self) -> ::coord::__private::ValidationResult {
                    static __COORD_SITE: ::coord::__private::DerivedSite =
                        ::coord::__private::DerivedSite::new(#type_name);
                    let mut __coord_checks = ::coord::__private::Checks::new();
                    ::coord::__private::Validate::validate_into(
                        self,
                        &::coord::__private::FieldPath::Root,
                        &mut __coord_checks,
                    );
                    __COORD_SITE.finish(__coord_checks, || {
                        <Self as ::coord::__private::Validate>::__coord_register();
                    })
                }

                fn __coord_register() {
                    if ::coord::__private::register_rule_set(__coord_rule_set) {
                        #(#nested_register)*
                    }
                }

                #[allow(unused_variables)]
                fn validate_into(
                    &self,
                    __coord_path: &::coord::__private::FieldPath<'_>,
                    __coord_checks: &mut ::coord::__private::Checks,
                ) {
                    #body
                    #(#schemas)*
                }
            }

            fn __coord_rule_set() -> ::coord::__private::RuleSet {
                #rule_set
            }
        };
    }
}

/// `Self { a: __coord_f0, .. }`, `Self(__coord_f0, ..)` or `Self`, binding only checked fields.
fn pattern(path: TokenStream, fields: &CFields<'_>) -> TokenStream {
    let used: Vec<&CField<'_>> = fields
        .fields
        .iter()
        .filter(|f| needs_binding(f, fields))
        .collect();
    match fields.style {
        Style::Unit => path,
        Style::Named => {
            let binds = used.iter().map(|f| {
                let b = &f.binding;
                let id = f.ident;
                quote!(#id: #b)
            });
            quote!(#path { #(#binds,)* .. })
        }
        Style::Tuple => {
            let binds = used.iter().map(|f| {
                let b = &f.binding;
                let idx = Index::from(f.index);
                quote!(#idx: #b)
            });
            quote!(#path { #(#binds,)* .. })
        }
    }
}

fn needs_binding(f: &CField<'_>, all: &CFields<'_>) -> bool {
    !f.rules.is_empty()
        || all.fields.iter().any(|o| {
            o.rules.iter().any(
            |r| matches!(r, CRule::MustMatch { other_binding, .. } if *other_binding == f.binding),
        )
        })
}

fn fields_code(fields: &CFields<'_>) -> TokenStream {
    let code = fields
        .fields
        .iter()
        .filter(|f| !f.rules.is_empty())
        .map(field_code);
    quote!(#(#code)*)
}

fn field_code(f: &CField<'_>) -> TokenStream {
    let b = &f.binding;
    let path_expr = match &f.segment {
        Segment::Name(n) => quote!(::coord::__private::FieldPath::Field(__coord_path, #n)),
        Segment::Index(i) => quote!(::coord::__private::FieldPath::Index(__coord_path, #i)),
        Segment::Same => quote!(*__coord_path),
    };
    let (outer, inner): (Vec<&CRule>, Vec<&CRule>) = f
        .rules
        .iter()
        .partition(|r| matches!(r, CRule::MustMatch { .. }));
    let outer = outer.iter().map(|r| rule_code(r, &quote!(#b)));
    let body = value_rules(&inner, quote!(__coord_value), f.optional, quote!(#b));
    quote! {
        {
            let __coord_field_path = #path_expr;
            let __coord_path_ref = &__coord_field_path;
            #(#outer)*
            #body
        }
    }
}

/// Rules on one value (`value` is `&T` or `&Option<T>` when `optional`), with the path in
/// `__coord_path_ref`.
fn value_rules(
    rules: &[&CRule],
    value: TokenStream,
    optional: bool,
    source: TokenStream,
) -> TokenStream {
    if !optional {
        let code = rules.iter().map(|r| rule_code(r, &value));
        return quote! {
            let #value = #source;
            #(#code)*
        };
    }
    let required = rules.iter().find_map(|r| match r {
        CRule::Required { msg } => Some(opt(msg.as_ref())),
        _ => None,
    });
    let some_code = rules.iter().map(|r| rule_code(r, &value));
    let none_code = required.map(
        |msg| quote!(::coord::__private::required(__coord_checks, __coord_path_ref, false, #msg);),
    );
    quote! {
        if let ::coord::__private::Some(#value) = #source {
            #(#some_code)*
        } else {
            #none_code
        }
    }
}

fn rule_code(rule: &CRule, v: &TokenStream) -> TokenStream {
    let cx = quote!(__coord_checks, __coord_path_ref);
    let msg = opt(rule.msg().as_ref());
    match rule {
        CRule::Required { .. } => quote!(::coord::__private::required(#cx, true, #msg);),
        CRule::Format { variant, .. } => {
            let variant = format_ident!("{}", variant);
            quote!(::coord::__private::format(#cx, #v, ::coord::__private::ValueType::#variant, #msg);)
        }
        CRule::Length {
            min, max, equal, ..
        } => {
            let (min, max, equal) = (opt(*min), opt(*max), opt(*equal));
            quote!(::coord::__private::length(#cx, #v, #min, #max, #equal, #msg);)
        }
        CRule::Range { min, max, .. } => {
            let (min, max) = (opt(*min), opt(*max));
            quote!(::coord::__private::range(#cx, #v, #min, #max, #msg);)
        }
        CRule::Pattern { source, .. } => quote! {{
            static __COORD_PATTERN: ::coord::__private::LazyPattern =
                ::coord::__private::LazyPattern::new(#source);
            ::coord::__private::pattern(#cx, #v, &__COORD_PATTERN, #msg);
        }},
        CRule::OneOfStr { values, .. } => {
            quote!(::coord::__private::one_of_str(#cx, #v, &[#(#values),*], #msg);)
        }
        CRule::OneOfNum { values, .. } => {
            quote!(::coord::__private::one_of_num(#cx, #v, &[#(#values),*], #msg);)
        }
        CRule::Nested { ty, .. } if !matches!(**ty, syn::Type::Infer(_)) => {
            // Spanned on the type, so a missing `Validate` impl points at the field.
            quote_spanned!(ty.span()=> <#ty as ::coord::__private::Validate>::validate_into(#v, __coord_path_ref, __coord_checks);)
        }
        CRule::Nested { .. } => {
            quote!(::coord::__private::Validate::validate_into(#v, __coord_path_ref, __coord_checks);)
        }
        CRule::Each {
            item_optional,
            rules,
        } => {
            let refs: Vec<&CRule> = rules.iter().collect();
            let body = value_rules(
                &refs,
                quote!(__coord_item),
                *item_optional,
                quote!(__coord_raw_item),
            );
            quote! {
                ::coord::__private::Items::each_item(#v, |__coord_key, __coord_raw_item| {
                    let __coord_item_path = __coord_key.path(__coord_path_ref);
                    let __coord_path_ref = &__coord_item_path;
                    #body
                });
            }
        }
        CRule::Custom { path, .. } => quote!(::coord::__private::custom(#cx, #path(#v), #msg);),
        CRule::MustMatch {
            other_binding,
            other,
            ..
        } => quote!(::coord::__private::must_match(#cx, #v, #other_binding, #other, #msg);),
    }
}

fn rule_set_builder(input: &Checked<'_>) -> TokenStream {
    let name = input.ident.to_string();
    let all_fields: Vec<&CField<'_>> = match &input.shape {
        CShape::Struct(f) => f.fields.iter().collect(),
        CShape::Enum(vs) => vs.iter().flat_map(|(_, f)| f.fields.iter()).collect(),
    };
    let fields = all_fields.iter().filter(|f| !f.rules.is_empty()).map(|f| {
        let data_name = &f.data_name;
        let rules = f.rules.iter().map(|r| {
            let r = rule_model(r);
            quote!(.rule(#r))
        });
        quote!(.field(::coord::__private::FieldRules::new(#data_name) #(#rules)*))
    });
    quote!(::coord::__private::RuleSet::new(#name) #(#fields)*)
}

fn rule_model(rule: &CRule) -> TokenStream {
    let p = quote!(::coord::__private);
    let kind = match rule {
        CRule::Required { .. } => quote!(#p::RuleKind::Required),
        CRule::Format { variant, .. } => {
            let variant = format_ident!("{}", variant);
            quote!(#p::RuleKind::Type(#p::ValueType::#variant))
        }
        CRule::Length {
            min, max, equal, ..
        } => {
            let (min, max, equal) = (opt(*min), opt(*max), opt(*equal));
            quote!(#p::RuleKind::Length { min: #min, max: #max, equal: #equal })
        }
        CRule::Range { min, max, .. } => {
            let (min, max) = (opt(*min), opt(*max));
            quote!(#p::RuleKind::Range { min: #min, max: #max })
        }
        CRule::Pattern { source, .. } => quote!(#p::pattern_kind(#source)),
        CRule::OneOfStr { values, .. } => {
            quote!(#p::RuleKind::OneOf(#p::vec![#(#p::Value::from(#values)),*]))
        }
        CRule::OneOfNum { values, .. } => {
            quote!(#p::RuleKind::OneOf(#p::vec![#(#p::number_value(#values)),*]))
        }
        CRule::Nested {
            type_name, depth, ..
        } => {
            let mut kind =
                quote!(#p::RuleKind::Nested(#p::NestedRules::Named(#p::String::from(#type_name))));
            for _ in 0..*depth {
                kind = quote!(#p::RuleKind::Each(#p::vec![#p::Rule::new(#kind)]));
            }
            kind
        }
        CRule::Each { rules, .. } => {
            let inner = rules.iter().map(rule_model);
            quote!(#p::RuleKind::Each(#p::vec![#(#inner),*]))
        }
        CRule::Custom { path, .. } => {
            let text = quote!(#path).to_string().replace(' ', "");
            quote!(#p::RuleKind::Custom(#p::String::from(#text)))
        }
        CRule::MustMatch { other, .. } => quote!(#p::RuleKind::MustMatch(#p::String::from(#other))),
    };
    match rule.msg() {
        Some(m) => quote!(#p::Rule::new(#kind).message(#m)),
        None => quote!(#p::Rule::new(#kind)),
    }
}
