//! Checks the parsed input and turns it into the model (`model`) that `expand` consumes. Only
//! a checked model reaches code generation; every literal mistake becomes a spanned error here.

use quote::format_ident;
use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, Lit, PathArguments, Type};

use super::Errors;
use super::ast::{FieldList, Input, Shape, Style};
use super::attr::{RawKind, RawRule};
use super::model::{CField, CFields, CRule, CShape, Checked, Segment};

/// What the macro can tell about a type from its spelling; `Other` leaves it to trait bounds.
#[derive(Clone, Copy)]
enum TyKind<'a> {
    Str,
    Int,
    Float,
    Bool,
    Seq(Option<&'a Type>),
    Map(Option<&'a Type>),
    Option(&'a Type),
    Other,
}

impl TyKind<'_> {
    fn describe(self) -> &'static str {
        match self {
            TyKind::Str => "a string",
            TyKind::Int => "an integer",
            TyKind::Float => "a float",
            TyKind::Bool => "a bool",
            TyKind::Seq(_) => "a sequence",
            TyKind::Map(_) => "a map",
            TyKind::Option(_) => "an Option",
            TyKind::Other => "this type",
        }
    }
}

fn generic_arg(args: &PathArguments, n: usize) -> Option<&Type> {
    let PathArguments::AngleBracketed(a) = args else {
        return None;
    };
    a.args
        .iter()
        .filter_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(n)
}

fn classify(ty: &Type) -> TyKind<'_> {
    match ty {
        Type::Reference(r) => classify(&r.elem),
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        Type::Array(a) => TyKind::Seq(Some(&a.elem)),
        Type::Slice(s) => TyKind::Seq(Some(&s.elem)),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return TyKind::Other;
            };
            match last.ident.to_string().as_str() {
                "String" | "str" => TyKind::Str,
                "Cow"
                    if generic_arg(&last.arguments, 0)
                        .is_some_and(|t| matches!(classify(t), TyKind::Str)) =>
                {
                    TyKind::Str
                }
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
                | "i128" | "isize" => TyKind::Int,
                "f32" | "f64" => TyKind::Float,
                "bool" => TyKind::Bool,
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" => {
                    TyKind::Seq(generic_arg(&last.arguments, 0))
                }
                "HashMap" | "BTreeMap" => TyKind::Map(generic_arg(&last.arguments, 1)),
                "Option" => match generic_arg(&last.arguments, 0) {
                    Some(t) => TyKind::Option(t),
                    None => TyKind::Other,
                },
                _ => TyKind::Other,
            }
        }
        _ => TyKind::Other,
    }
}

/// The name a nested type is registered under (its last path segment) and how many
/// collection levels wrap it (`Vec<Address>` is `("Address", 1)`): the rule model says
/// `each(nested Address)` for it. `Option`, `Box`, `Arc` and `Rc` are transparent.
fn type_name(ty: &Type) -> (String, usize) {
    match classify(ty) {
        TyKind::Seq(Some(item)) | TyKind::Map(Some(item)) => {
            let (name, depth) = type_name(item);
            return (name, depth + 1);
        }
        TyKind::Option(inner) => return type_name(inner),
        _ => {}
    }
    match ty {
        Type::Reference(r) => type_name(&r.elem),
        Type::Path(p) => match p.path.segments.last() {
            Some(last)
                if matches!(last.ident.to_string().as_str(), "Box" | "Arc" | "Rc")
                    && generic_arg(&last.arguments, 0).is_some() =>
            {
                generic_arg(&last.arguments, 0).map_or(("?".into(), 0), type_name)
            }
            Some(last) => (last.ident.to_string(), 0),
            None => ("?".into(), 0),
        },
        _ => ("?".into(), 0),
    }
}

fn message(rule: &RawRule) -> Option<String> {
    rule.message.as_ref().map(|m| m.value())
}

struct FieldCx<'f> {
    /// `(rust name, binding)` of the sibling fields, for `must_match`.
    siblings: &'f [(String, Ident)],
    own: String,
    /// The type's generic type parameters: a `nested` type naming one needs a `Validate` bound.
    params: &'f [Ident],
}

/// Whether `ty` names one of `params` anywhere in its tokens.
fn mentions_param(ty: &Type, params: &[Ident]) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, params: &[Ident]) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => params.contains(&i),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(ty), params)
}

pub(crate) fn check<'a>(input: Input<'a>, errors: &mut Errors) -> Checked<'a> {
    let mut bounds = Vec::new();
    let params: Vec<Ident> = input
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .collect();
    let shape = match input.shape {
        Shape::Struct(fields) => CShape::Struct(check_fields(fields, &params, &mut bounds, errors)),
        Shape::Enum(variants) => CShape::Enum(
            variants
                .into_iter()
                .map(|v| {
                    (
                        v.ident,
                        check_fields(v.fields, &params, &mut bounds, errors),
                    )
                })
                .collect(),
        ),
    };
    Checked {
        ident: input.ident,
        generics: input.generics,
        shape,
        schemas: input.schemas,
        nested: bounds,
    }
}

fn check_fields<'a>(
    list: FieldList<'a>,
    params: &[Ident],
    bounds: &mut Vec<(Type, bool)>,
    errors: &mut Errors,
) -> CFields<'a> {
    let siblings: Vec<(String, Ident)> = list
        .fields
        .iter()
        .map(|f| {
            let name = f
                .ident
                .map_or_else(|| f.index.to_string(), |i| i.to_string());
            (name, format_ident!("__coord_f{}", f.index))
        })
        .collect();
    let newtype = list.style == Style::Tuple && list.fields.len() == 1;
    let fields = list
        .fields
        .into_iter()
        .map(|f| {
            let own = siblings[f.index].0.clone();
            let cx = FieldCx {
                siblings: &siblings,
                own,
                params,
            };
            let kind = classify(f.ty);
            let (optional, inner) = match kind {
                TyKind::Option(t) => (true, t),
                _ => (false, f.ty),
            };
            let rules = check_rules(&f.rules, Place::Field, optional, inner, &cx, bounds, errors);
            CField {
                binding: siblings[f.index].1.clone(),
                ident: f.ident,
                index: f.index,
                segment: match (list.style, newtype) {
                    (Style::Named, _) => Segment::Name(f.data_name.clone()),
                    (_, true) => Segment::Same,
                    _ => Segment::Index(f.index),
                },
                data_name: f.data_name,
                optional,
                rules,
            }
        })
        .collect();
    CFields {
        style: list.style,
        fields,
    }
}

/// Where a list of rules stands: on a field, or inside `each` (on the items).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Field,
    Each,
}

/// Checks one list of rules on values of type `ty` (`optional`: of `Option<ty>`): a rule
/// given twice is an error, `required` goes first and needs `Option` values.
fn check_rules(
    raw: &[RawRule],
    place: Place,
    optional: bool,
    ty: &Type,
    cx: &FieldCx<'_>,
    bounds: &mut Vec<(Type, bool)>,
    errors: &mut Errors,
) -> Vec<CRule> {
    let (there, required) = match place {
        Place::Field => (
            "on this field",
            "`required` applies to `Option` fields; this field always has a value",
        ),
        Place::Each => (
            "in `each`",
            "`required` inside `each` applies to `Option` items",
        ),
    };
    let mut rules = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for rule in raw {
        let name = rule.name.to_string();
        if seen.contains(&name) {
            errors.push(syn::Error::new(
                rule.name.span(),
                format!("duplicate rule `{name}` {there}"),
            ));
            continue;
        }
        seen.push(name);
        match &rule.kind {
            RawKind::Required if optional => {
                rules.insert(0, CRule::Required { msg: message(rule) });
            }
            RawKind::Required => errors.push(syn::Error::new(rule.name.span(), required)),
            RawKind::MustMatch(_) if place == Place::Each => errors.push(syn::Error::new(
                rule.name.span(),
                "`must_match` compares sibling fields and cannot be used inside `each`",
            )),
            _ => rules.extend(check_rule(rule, ty, cx, bounds, errors)),
        }
    }
    rules
}

fn misfit(rule: &RawRule, kind: TyKind<'_>, wants: &str) -> syn::Error {
    syn::Error::new(
        rule.name.span(),
        format!(
            "`{}` does not apply to {}; it checks {wants}",
            rule.name,
            kind.describe()
        ),
    )
}

fn check_rule(
    rule: &RawRule,
    ty: &Type,
    cx: &FieldCx<'_>,
    bounds: &mut Vec<(Type, bool)>,
    errors: &mut Errors,
) -> Option<CRule> {
    let kind = classify(ty);
    let msg = message(rule);
    let stringy = matches!(kind, TyKind::Str | TyKind::Other);
    match &rule.kind {
        RawKind::Required => None,
        RawKind::Format(variant) => {
            if !stringy {
                errors.push(misfit(rule, kind, "strings"));
                return None;
            }
            Some(CRule::Format { variant, msg })
        }
        RawKind::Length { min, max, equal } => {
            if matches!(kind, TyKind::Int | TyKind::Float | TyKind::Bool) {
                errors.push(misfit(rule, kind, "strings and collections"));
                return None;
            }
            let get =
                |l: &Option<syn::LitInt>| l.as_ref().and_then(|l| l.base10_parse::<u64>().ok());
            let (lo, hi, eq) = (get(min), get(max), get(equal));
            if lo.is_none() && hi.is_none() && eq.is_none() {
                errors.push(syn::Error::new(
                    rule.name.span(),
                    "`length` needs at least one of `min`, `max`, `equal`",
                ));
                return None;
            }
            if eq.is_some() && (lo.is_some() || hi.is_some()) {
                errors.push(syn::Error::new(
                    equal.as_ref().map_or(rule.name.span(), syn::LitInt::span),
                    "`length(equal = ...)` cannot be combined with `min` or `max`",
                ));
                return None;
            }
            if let (Some(l), Some(h)) = (lo, hi)
                && l > h
            {
                errors.push(syn::Error::new(
                    min.as_ref().map_or(rule.name.span(), syn::LitInt::span),
                    format!("`length(min = {l})` is greater than `max = {h}`"),
                ));
                return None;
            }
            Some(CRule::Length {
                min: lo,
                max: hi,
                equal: eq,
                msg,
            })
        }
        RawKind::Range { min, max } => {
            if !matches!(kind, TyKind::Int | TyKind::Float | TyKind::Other) {
                errors.push(misfit(rule, kind, "numbers"));
                return None;
            }
            if min.is_none() && max.is_none() {
                errors.push(syn::Error::new(
                    rule.name.span(),
                    "`range` needs `min`, `max` or both",
                ));
                return None;
            }
            if let (Some(l), Some(h)) = (min, max)
                && l.value > h.value
            {
                errors.push(syn::Error::new(
                    l.span,
                    format!(
                        "`range(min = {})` is greater than `max = {}`",
                        l.value, h.value
                    ),
                ));
                return None;
            }
            Some(CRule::Range {
                min: min.as_ref().map(|n| n.value),
                max: max.as_ref().map(|n| n.value),
                msg,
            })
        }
        RawKind::Pattern(lit) => {
            if !stringy {
                errors.push(misfit(rule, kind, "strings"));
                return None;
            }
            let source = lit.value();
            if let Err(e) = regex_syntax::Parser::new().parse(&source) {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!("invalid `pattern`: {e}"),
                ));
                return None;
            }
            Some(CRule::Pattern { source, msg })
        }
        RawKind::OneOf(lits) => {
            if lits.is_empty() {
                errors.push(syn::Error::new(
                    rule.name.span(),
                    "`one_of` needs at least one value",
                ));
                return None;
            }
            if lits.iter().all(|l| matches!(l, Lit::Str(_))) {
                if !stringy {
                    errors.push(misfit(rule, kind, "strings when given string values"));
                    return None;
                }
                let values = lits
                    .iter()
                    .filter_map(|l| match l {
                        Lit::Str(s) => Some(s.value()),
                        _ => None,
                    })
                    .collect();
                Some(CRule::OneOfStr { values, msg })
            } else if lits
                .iter()
                .all(|l| matches!(l, Lit::Int(_) | Lit::Float(_)))
            {
                if !matches!(kind, TyKind::Int | TyKind::Float | TyKind::Other) {
                    errors.push(misfit(rule, kind, "numbers when given number values"));
                    return None;
                }
                let values = lits
                    .iter()
                    .filter_map(|l| match l {
                        Lit::Int(i) => i.base10_parse::<f64>().ok(),
                        Lit::Float(f) => f.base10_parse::<f64>().ok(),
                        _ => None,
                    })
                    .collect();
                Some(CRule::OneOfNum { values, msg })
            } else {
                let bad = lits
                    .iter()
                    .find(|l| !matches!(l, Lit::Str(_)))
                    .map_or(rule.name.span(), Spanned::span);
                errors.push(syn::Error::new(
                    bad,
                    "`one_of` values must be all string literals or all number literals",
                ));
                None
            }
        }
        RawKind::Nested => {
            if !matches!(ty, Type::Infer(_)) {
                bounds.push((ty.clone(), mentions_param(ty, cx.params)));
            }
            let (type_name, depth) = type_name(ty);
            Some(CRule::Nested {
                type_name,
                depth,
                ty: Box::new(ty.clone()),
            })
        }
        RawKind::Each(inner_rules) => {
            let item = match kind {
                TyKind::Seq(item) | TyKind::Map(item) => item,
                TyKind::Other => None,
                _ => {
                    errors.push(misfit(rule, kind, "collections (Vec, arrays, sets, maps)"));
                    return None;
                }
            };
            let (item_optional, item_ty) = match item.map(classify) {
                Some(TyKind::Option(t)) => (true, Some(t)),
                _ => (false, item),
            };
            let placeholder: Type = syn::parse_quote!(_);
            let item_ty = item_ty.unwrap_or(&placeholder);
            let rules = check_rules(
                inner_rules,
                Place::Each,
                item_optional,
                item_ty,
                cx,
                bounds,
                errors,
            );
            Some(CRule::Each {
                item_optional,
                rules,
            })
        }
        RawKind::Custom(path) => Some(CRule::Custom {
            path: path.clone(),
            msg,
        }),
        RawKind::MustMatch(other) => {
            let name = other.value();
            if name == cx.own {
                errors.push(syn::Error::new(
                    other.span(),
                    "`must_match` must name another field, not this one",
                ));
                return None;
            }
            match cx.siblings.iter().find(|(n, _)| *n == name) {
                Some((_, binding)) => Some(CRule::MustMatch {
                    other_binding: binding.clone(),
                    other: name,
                    msg,
                }),
                None => {
                    let names: Vec<&str> = cx.siblings.iter().map(|(n, _)| n.as_str()).collect();
                    let mut text = format!("`must_match`: no field named `{name}`");
                    if let Some(s) = super::closest(&name, &names) {
                        text.push_str(&format!("; did you mean `{s}`?"));
                    }
                    errors.push(syn::Error::new(other.span(), text));
                    None
                }
            }
        }
    }
}
