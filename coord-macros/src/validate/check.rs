//! Checks the parsed input and turns it into the model (`model`) that `expand` consumes. Only
//! a checked model reaches code generation; every literal mistake becomes a spanned error here.

use quote::format_ident;
use syn::spanned::Spanned;
use syn::{Ident, Lit, LitInt, LitStr, Type};

use super::Errors;
use super::ast::{FieldList, Input, Shape, Style};
use super::attr::{Num, RawKind, RawRule};
use super::model::{CField, CFields, CRule, CShape, Checked, Segment};
use super::types::{TyKind, classify, mentions_param, type_name};

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
    let mut seen: Vec<&Ident> = Vec::new();
    for rule in raw {
        if seen.contains(&&rule.name) {
            errors.push(syn::Error::new(
                rule.name.span(),
                format!("duplicate rule `{}` {there}", rule.name),
            ));
            continue;
        }
        seen.push(&rule.name);
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

/// Checks one rule other than `required` (which `check_rules` places) on values of type `ty`;
/// each rule family has its own function, and at most one error comes of one rule.
fn check_rule(
    rule: &RawRule,
    ty: &Type,
    cx: &FieldCx<'_>,
    bounds: &mut Vec<(Type, bool)>,
    errors: &mut Errors,
) -> Option<CRule> {
    let kind = classify(ty);
    let msg = message(rule);
    let checked = match &rule.kind {
        RawKind::Required => return None,
        RawKind::Format(variant) => {
            fits(rule, kind.stringy(), kind, "strings").map(|()| CRule::Format { variant, msg })
        }
        RawKind::Pattern(lit) => fits(rule, kind.stringy(), kind, "strings")
            .and_then(|()| pattern(lit))
            .map(|source| CRule::Pattern { source, msg }),
        RawKind::Length { min, max, equal } => {
            let sized = !matches!(kind, TyKind::Int | TyKind::Float | TyKind::Bool);
            fits(rule, sized, kind, "strings and collections")
                .and_then(|()| length(rule, min, max, equal, msg))
        }
        RawKind::Range { min, max } => fits(rule, kind.numeric(), kind, "numbers")
            .and_then(|()| range(rule, min.as_ref(), max.as_ref(), msg)),
        RawKind::OneOf(lits) => one_of(rule, kind, lits, msg),
        RawKind::Nested => Ok(nested(ty, cx, bounds)),
        RawKind::Each(inner) => each(rule, kind, inner, cx, bounds, errors),
        RawKind::Custom(path) => Ok(CRule::Custom {
            path: path.clone(),
            msg,
        }),
        RawKind::MustMatch(other) => must_match(other, cx, msg),
    };
    errors.take(checked)
}

/// `Ok` when the rule applies to values of this kind, else the error saying what it checks.
fn fits(rule: &RawRule, applies: bool, kind: TyKind<'_>, wants: &str) -> syn::Result<()> {
    if applies {
        Ok(())
    } else {
        Err(misfit(rule, kind, wants))
    }
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

/// A pattern must parse as a regex now, so a bad one is a compile error.
fn pattern(lit: &LitStr) -> syn::Result<String> {
    let source = lit.value();
    match regex_syntax::Parser::new().parse(&source) {
        Ok(_) => Ok(source),
        Err(e) => Err(syn::Error::new(
            lit.span(),
            format!("invalid `pattern`: {e}"),
        )),
    }
}

fn length(
    rule: &RawRule,
    min: &Option<LitInt>,
    max: &Option<LitInt>,
    equal: &Option<LitInt>,
    msg: Option<String>,
) -> syn::Result<CRule> {
    let value = |l: &Option<LitInt>| l.as_ref().and_then(|l| l.base10_parse::<u64>().ok());
    let span_of = |l: &Option<LitInt>| l.as_ref().map_or(rule.name.span(), LitInt::span);
    let (lo, hi, eq) = (value(min), value(max), value(equal));
    if lo.is_none() && hi.is_none() && eq.is_none() {
        return Err(syn::Error::new(
            rule.name.span(),
            "`length` needs at least one of `min`, `max`, `equal`",
        ));
    }
    if eq.is_some() && (lo.is_some() || hi.is_some()) {
        return Err(syn::Error::new(
            span_of(equal),
            "`length(equal = ...)` cannot be combined with `min` or `max`",
        ));
    }
    if let (Some(l), Some(h)) = (lo, hi)
        && l > h
    {
        return Err(syn::Error::new(
            span_of(min),
            format!("`length(min = {l})` is greater than `max = {h}`"),
        ));
    }
    Ok(CRule::Length {
        min: lo,
        max: hi,
        equal: eq,
        msg,
    })
}

fn range(
    rule: &RawRule,
    min: Option<&Num>,
    max: Option<&Num>,
    msg: Option<String>,
) -> syn::Result<CRule> {
    if min.is_none() && max.is_none() {
        return Err(syn::Error::new(
            rule.name.span(),
            "`range` needs `min`, `max` or both",
        ));
    }
    if let (Some(l), Some(h)) = (min, max)
        && l.value > h.value
    {
        return Err(syn::Error::new(
            l.span,
            format!(
                "`range(min = {})` is greater than `max = {}`",
                l.value, h.value
            ),
        ));
    }
    Ok(CRule::Range {
        min: min.map(|n| n.value),
        max: max.map(|n| n.value),
        msg,
    })
}

/// `one_of` takes all string literals (for strings) or all number literals (for numbers).
fn one_of(
    rule: &RawRule,
    kind: TyKind<'_>,
    lits: &[Lit],
    msg: Option<String>,
) -> syn::Result<CRule> {
    if lits.is_empty() {
        return Err(syn::Error::new(
            rule.name.span(),
            "`one_of` needs at least one value",
        ));
    }
    let strings: Option<Vec<String>> = lits
        .iter()
        .map(|l| match l {
            Lit::Str(s) => Some(s.value()),
            _ => None,
        })
        .collect();
    if let Some(values) = strings {
        fits(
            rule,
            kind.stringy(),
            kind,
            "strings when given string values",
        )?;
        return Ok(CRule::OneOfStr { values, msg });
    }
    if lits
        .iter()
        .all(|l| matches!(l, Lit::Int(_) | Lit::Float(_)))
    {
        fits(
            rule,
            kind.numeric(),
            kind,
            "numbers when given number values",
        )?;
        let values = lits
            .iter()
            .filter_map(|l| match l {
                Lit::Int(i) => i.base10_parse::<f64>().ok(),
                Lit::Float(f) => f.base10_parse::<f64>().ok(),
                _ => None,
            })
            .collect();
        return Ok(CRule::OneOfNum { values, msg });
    }
    let mixed = lits
        .iter()
        .find(|l| !matches!(l, Lit::Str(_)))
        .map_or(rule.name.span(), Spanned::span);
    Err(syn::Error::new(
        mixed,
        "`one_of` values must be all string literals or all number literals",
    ))
}

/// A nested type is validated through its own `Validate` impl, which a generic one must be
/// bound to.
fn nested(ty: &Type, cx: &FieldCx<'_>, bounds: &mut Vec<(Type, bool)>) -> CRule {
    if !matches!(ty, Type::Infer(_)) {
        bounds.push((ty.clone(), mentions_param(ty, cx.params)));
    }
    let (type_name, depth) = type_name(ty);
    CRule::Nested {
        type_name,
        depth,
        ty: Box::new(ty.clone()),
    }
}

/// `each(...)` checks its rules on the items of a collection (`_` when the macro cannot see
/// the item type).
fn each(
    rule: &RawRule,
    kind: TyKind<'_>,
    inner: &[RawRule],
    cx: &FieldCx<'_>,
    bounds: &mut Vec<(Type, bool)>,
    errors: &mut Errors,
) -> syn::Result<CRule> {
    let item = match kind {
        TyKind::Seq(item) | TyKind::Map(item) => item,
        TyKind::Other => None,
        _ => return Err(misfit(rule, kind, "collections (Vec, arrays, sets, maps)")),
    };
    let (item_optional, item_ty) = match item.map(classify) {
        Some(TyKind::Option(t)) => (true, Some(t)),
        _ => (false, item),
    };
    let placeholder: Type = syn::parse_quote!(_);
    let item_ty = item_ty.unwrap_or(&placeholder);
    let rules = check_rules(
        inner,
        Place::Each,
        item_optional,
        item_ty,
        cx,
        bounds,
        errors,
    );
    Ok(CRule::Each {
        item_optional,
        rules,
    })
}

/// `must_match = "other"` names a sibling field, not the field itself.
fn must_match(other: &LitStr, cx: &FieldCx<'_>, msg: Option<String>) -> syn::Result<CRule> {
    let name = other.value();
    if name == cx.own {
        return Err(syn::Error::new(
            other.span(),
            "`must_match` must name another field, not this one",
        ));
    }
    match cx.siblings.iter().find(|(n, _)| *n == name) {
        Some((_, binding)) => Ok(CRule::MustMatch {
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
            Err(syn::Error::new(other.span(), text))
        }
    }
}
